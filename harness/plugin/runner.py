"""A check's ruling (from the core) as pytest's outcome: pass, xfail, skip or a failure with its message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stc_harness.checks import Body, CheckSpec
from stc_harness.core.run import run_check
from stc_harness.outcomes import DOCUMENTED, DRIFT, SAME, UNDOCUMENTED, UNSUPPORTED
from stc_harness.plugin.state import RECORD_KEY, state_of


class VerdictFailure(pytest.fail.Exception):
    """Base of the verdict exceptions: a pytest failure shown as its message alone, no traceback.

    (pytest's traceback of a failure parses the source of every frame: ~0.1 s per documented
    difference, most of a run's time; the message already says everything.)
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, pytrace=False)


class DocumentedDifference(VerdictFailure):
    """Raised for a difference the registry documents: pytest reports it as XFAIL."""


class DriftError(VerdictFailure):
    """A registry entry no longer matches what the backend does."""


class UndocumentedDifference(VerdictFailure):
    """The backend differs from the baseline and nothing documents it."""


async def run_check_test(request: pytest.FixtureRequest, spec: CheckSpec, body: Body, sel_id: str,
                         folder: Path, key: str | None = None) -> None:
    """Run one check on one backend (through the core), record its ruling on the test, and rule."""
    st = state_of(request.config)
    ruling = await run_check(st.session, spec, body, sel_id, folder, key, request.node.nodeid)
    verdict = ruling.verdict
    request.node.user_properties.append((RECORD_KEY, json.dumps(ruling.record, default=str)))
    if verdict.outcome in (SAME,):
        return
    if verdict.outcome == DOCUMENTED:
        if request.node.get_closest_marker("xfail") is None:  # the tracked SQLite on a version gap
            pytest.xfail(f"{DOCUMENTED}: {verdict.message}")
        raise DocumentedDifference(f"{DOCUMENTED}: {verdict.message}")
    if verdict.outcome == DRIFT:
        if verdict.gone:
            return  # strict xfail turns this pass into an XPASS failure that names the entry
        raise DriftError(f"{DRIFT}: {verdict.message}")
    if verdict.outcome == UNDOCUMENTED:
        if st.allow_undocumented:
            return
        raise UndocumentedDifference(f"{UNDOCUMENTED}: {verdict.message}")
    if verdict.outcome == UNSUPPORTED:
        pytest.skip(f"unsupported on {sel_id}: {verdict.message}")
    pytest.fail(f"{verdict.outcome}: {verdict.message}", pytrace=False)
