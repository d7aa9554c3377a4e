"""How many tests a run collected and how many finished: an interrupted run writes a partial report."""

from __future__ import annotations

import pytest


def is_crash_report(report: pytest.TestReport) -> bool:
    """Whether xdist made this report for an item whose worker died while running it."""
    return report.failed and (report.when == "???" or "crashed while running" in str(report.longrepr))


class Progress:
    """How many tests the run collected and how many finished: an interrupted run writes a partial report."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.finished: set[str] = set()

    def collected(self, count: int) -> None:
        """Note a collection of `count` tests (the largest count wins: xdist workers each report theirs)."""
        if count:
            self.total = max(self.total or 0, count)

    def saw(self, report: pytest.TestReport) -> None:
        """Count a test once it has a result (its call, or a setup that skipped or failed, or a crash)."""
        done = report.when == "call" or (report.when == "setup" and not report.passed)
        if done or is_crash_report(report):
            self.finished.add(report.nodeid)

    def interruption(self, exitstatus: int) -> dict[str, int] | None:
        """`{"ran": N, "total": M}` when the run stopped before every collected test ran, else None."""
        ran = len(self.finished)
        total = self.total if self.total is not None else ran
        if exitstatus == pytest.ExitCode.INTERRUPTED or ran < total:
            return {"ran": ran, "total": max(total, ran)}
        return None
