"""One record per test of a child run: its outcome and, for a failure, where and why (JSON lines)."""

from __future__ import annotations

import json
import linecache
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from stc_harness.dropin.trace import LIBRARY_MARKERS
from stc_harness.errors import exception_chain
from stc_harness.safety.secrets import redact, remember_environment

#: Outcomes of a user's test on one engine; the last three come from the runner, not from pytest.
PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
XFAILED, XPASSED = "xfailed", "xpassed"
CRASH, TIMEOUT, NOT_RUN = "crash", "timeout", "not-run"
#: Outcomes that count as "the test did not pass".
BAD = (FAILED, ERROR, XPASSED, CRASH, TIMEOUT)
GOOD = (PASSED, XFAILED)


def _frames(tb: TracebackType | None) -> list[tuple[str, int]]:
    """(file, 1-based line) of each traceback entry, outermost first.

    Read off the raw traceback: pytest's `Traceback` entries stat every file (~1 ms a failure, where
    most of a suite may fail on Turso).
    """
    frames = []
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        frames.append((name if name.startswith("<") else os.path.abspath(name), tb.tb_lineno))
        tb = tb.tb_next
    return frames


def _user_frame(frames: list[tuple[str, int]], root: Path) -> tuple[str, str]:
    """The innermost traceback frame in the user's project (not a library), as ("path:line", source)."""
    best = None
    for path, line in frames:
        if path.startswith("<") or any(s in path for s in LIBRARY_MARKERS) or "/harness/dropin/" in path:
            continue
        best = (path, line)
    if best is None:
        return "", ""
    path, line = Path(best[0]), best[1]
    try:
        shown = str(path.relative_to(root))
    except ValueError:
        shown = str(path)
    return f"{shown}:{line}", linecache.getline(str(path), line).strip()


def _qualname(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def failure_details(excinfo: pytest.ExceptionInfo[BaseException], root: Path) -> dict[str, Any]:
    """Exception class, message, cause chain, failing line and the frame that raised."""
    exc = excinfo.value
    frames = _frames(excinfo.tb)
    line, source = _user_frame(frames, root)
    last = frames[-1] if frames else None
    return {
        "exc_type": _qualname(exc),
        "message": str(exc)[:2000],
        "chain": [[_qualname(e), str(e)[:1000]] for e in list(exception_chain(exc))[:6]],
        "line": line, "source": source,
        "raised_at": f"{last[0]}:{last[1]}" if last is not None else "",
    }


def outcome_of(report: pytest.TestReport) -> str | None:
    """The test's outcome this phase decides, or None if the phase says nothing new (a passing setup)."""
    if hasattr(report, "wasxfail"):
        return XFAILED if report.skipped else XPASSED
    if report.failed:
        return FAILED if report.when == "call" else ERROR
    if report.skipped:
        return SKIPPED
    if report.when == "call":
        return PASSED
    return None


class RecordWriter:
    """Appends JSON lines to the results file of one child run, flushed each time (a crash keeps them).

    Known secrets (a key in an environment variable named like one) are redacted before they are written.
    """

    def __init__(self, path: Path) -> None:
        remember_environment()
        self.fh = path.open("a", encoding="utf-8")

    def write(self, **record: Any) -> None:
        """Write one event (ASCII JSON: any string, lone surrogates included, is escaped)."""
        self.fh.write(json.dumps(redact(record), default=str) + "\n")
        self.fh.flush()

    def close(self) -> None:
        """Close the file."""
        self.fh.close()


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every complete event of a results file (a line cut short by a crash is dropped)."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events
