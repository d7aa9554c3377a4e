"""The driver suites' one fixture: the default busy wait's observation, started ahead in a child process."""

from __future__ import annotations

from typing import Any

import busy_wait
import pytest


@pytest.fixture(autouse=True)
def busy_wait_ahead(conformance_backend: Any, request: pytest.FixtureRequest) -> None:
    """At a backend's first driver check in this process, start its busy-wait observation (busy_wait.py).

    Not when the checks' calls are being traced (`--dropin-evidence`): a child's calls are not in the trace,
    and the drop-in proves a busy-wait difference by this check's trace, so it is observed in process.
    """
    name = getattr(conformance_backend, "sync_module", None)
    if name and not request.config.getoption("dropin_evidence", default=None):
        busy_wait.start(name)
