"""Records of a user's maketest and fixture tests, and known secrets redacted from every test report."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stc_harness.plugin.runner import VerdictFailure
from stc_harness.plugin.state import RECORD_KEY, STATE, state_of
from stc_harness.safety.secrets import redact
from stc_harness.test_records import record_of_test


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Record a user's maketest and fixture tests; redact known secrets from failure text and output."""
    if call.excinfo is not None and isinstance(call.excinfo.value, (VerdictFailure, pytest.xfail.Exception)):
        # a verdict's message says everything: pytest's filter of a ~30-frame asyncio traceback costs ~8 ms
        call.excinfo.traceback = call.excinfo.traceback[-1:]
    outcome = yield
    report = outcome.get_result()
    if STATE in item.config.stash and not any(k == RECORD_KEY for k, _ in report.user_properties):
        record = record_of_test(item, report, call, state_of(item.config).session.selected)
        if record is not None:
            report.user_properties.append((RECORD_KEY, json.dumps(redact(record), default=str)))
    if report.longrepr is not None:
        text = str(report.longrepr)
        if redact(text) != text:
            report.longrepr = redact(text)
    report.sections = [(title, redact(content)) for title, content in report.sections]
