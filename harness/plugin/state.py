"""The plugin's state of a run: the core's session, the run's own options, and the records collected."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stc_harness.core.session import CheckSession

#: Key of a test report's `user_properties` entry that holds its record (JSON).
RECORD_KEY = "conformance"

#: Key of `config.workeroutput` under which an xdist worker hands a usage error to the controller.
USAGE_KEY = "conformance_usage_error"


@dataclass
class PluginState:
    """What `pytest_configure` decided (the session, options, registry facts), plus the records collected.

    The session (`stc_harness.core.session`) lives as long as the process and caches its runs; `records`
    fill on the controller (or the serial process) as reports arrive.
    """

    session: CheckSession
    allow_undocumented: bool
    report_dir: Path | None
    builtin_ids: set[str] = field(default_factory=set)
    broken: dict[str, str] = field(default_factory=dict)
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


STATE = pytest.StashKey[PluginState]()


def state_of(config: pytest.Config) -> PluginState:
    """The plugin state of this run."""
    return config.stash[STATE]
