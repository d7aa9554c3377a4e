"""The driver suites' one fixture: the default busy wait's observation, started ahead in a child process."""

from __future__ import annotations

from typing import Any

import busy_wait
import pytest


@pytest.fixture(autouse=True)
def busy_wait_ahead(conformance_backend: Any) -> None:
    """At a backend's first driver check in this process, start its busy-wait observation (busy_wait.py)."""
    name = getattr(conformance_backend, "sync_module", None)
    if name:
        busy_wait.start(name)
