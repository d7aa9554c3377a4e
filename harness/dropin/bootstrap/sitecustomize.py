"""Started by `python -m stc_harness dropin -- <command>` in every Python process of the command.

Routes (on Turso) and traces the process and records its unittest tests (stc_harness.dropin.anyrunner),
then runs the `sitecustomize` this one shadows, if there is one, as Python would have.
"""

import importlib.machinery
import os
import sys
import types

try:
    from stc_harness.dropin.anyrunner import start
except Exception as exc:  # noqa: BLE001 - never break the user's process; tell the parent why
    sys.stderr.write(f"stc_harness drop-in: cannot start in this Python ({sys.executable}): {exc}\n")
    _dir = os.environ.get("STC_DROPIN_DIR")
    if _dir and os.path.isdir(_dir):
        with open(
            os.path.join(_dir, f"{os.environ.get('STC_DROPIN_ENGINE')}.nostart.{os.getpid()}"),
            "w",
            encoding="utf-8",
        ) as _fh:
            _fh.write(f"{sys.executable}: {exc}")
else:
    start()

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.machinery.PathFinder.find_spec(
    "sitecustomize", [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
)
if _spec is not None and _spec.loader is not None:
    _spec.loader.exec_module(types.ModuleType("_shadowed_sitecustomize"))
