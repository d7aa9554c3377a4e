"""Report records for a user's own tests: `maketest` tests and tests using the backend fixtures.

A check records its own verdict. A plain test on a backend has no baseline to compare with, so its
pytest outcome is the record: passed is `same` (the backend meets the test's assertions), an assertion
failure is `undocumented-difference` (it does not, and nothing documents it), a skip is `unsupported`,
a timeout is `timeout`, and any other failure is `error`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stc_harness.core.records import check_record
from stc_harness.outcomes import ENGINE, ERROR, SAME, TIMEOUT, UNDOCUMENTED, UNSUPPORTED


def _area(item: pytest.Item) -> str:
    stem = Path(str(item.path)).stem
    return stem.removeprefix("test_") or stem


def _backend_and_key(item: Any, selected: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(test name, backend id, other parameters) of a maketest or fixture test, else None."""
    source = getattr(getattr(item, "function", None), "maketest_source", None)
    if source is not None:
        backend = getattr(item.function, "maketest_backend", None)
        sel_id = next((s.id for s in selected.values() if s.backend.name == backend), backend)
        return source.__name__.removeprefix("test_"), str(sel_id), None
    callspec = getattr(item, "callspec", None)
    if callspec is None or "conformance_backend" not in callspec.params:
        return None
    sel_id = str(callspec.params["conformance_backend"])
    rest = [p for p in callspec.id.split("-") if p != sel_id]
    name = getattr(item, "originalname", item.name.split("[")[0]).removeprefix("test_")
    return name, sel_id, "-".join(rest) or None


def _outcome(report: pytest.TestReport, call: pytest.CallInfo[Any]) -> tuple[str, str]:
    if report.passed:
        return SAME, ""
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return UNSUPPORTED, str(reason).removeprefix("Skipped: ")
    text = str(report.longrepr).strip().splitlines()
    last = text[-1] if text else "failed"
    if "timeout: " in last or any(ln.lstrip("E ").startswith("Failed: timeout:") for ln in text):
        return TIMEOUT, next((ln for ln in text if "timeout:" in ln), last).strip()
    if call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
        return UNDOCUMENTED, f"assertion failed: {last.strip()}"[:500]
    return ERROR, last.strip()[:500]


def record_of_test(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[Any],
                selected: dict[str, Any]) -> dict[str, Any] | None:
    """The report record of a user's maketest or fixture test at its deciding phase, else None."""
    if not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return None
    found = _backend_and_key(item, selected)
    if found is None:
        return None
    name, sel_id, key = found
    area = _area(item)
    plain = getattr(item, "function", None)
    function = getattr(plain, "maketest_source", None) or plain
    doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
    outcome, message = _outcome(report, call)
    cid = f"{area}.{name}" + (f"[{key}]" if key else "")
    return check_record(cid, area, sel_id, outcome, layer=ENGINE,
                        title=doc[0] if doc else f"{name} (your test)",
                        source={"document": Path(str(item.path)).name, "section": name}, message=message,
                        duration=report.duration, nodeid=item.nodeid)
