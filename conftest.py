"""Loads the conformance plugin for this checkout when the package is not installed, and pytester."""

import importlib.util

pytest_plugins = ["pytester"]

if importlib.util.find_spec("stc_harness") is not None:
    import importlib.metadata as _md

    _installed = any(ep.value == "stc_harness.plugin" for ep in _md.entry_points(group="pytest11"))
    if not _installed:
        pytest_plugins.append("stc_harness.plugin")
