"""The child side of a drop-in run: one engine, routing installed early, one record per test."""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import types
from collections.abc import Generator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from stc_harness.dropin import left_open
from stc_harness.dropin.imports_needed import charged
from stc_harness.dropin.records import CRASH, ERROR, FAILED, RecordWriter, failure_details, outcome_of
from stc_harness.dropin.routing import Routing
from stc_harness.dropin.trace import IMPORT_PREFIX, RUN_FOLDERS, TEMP_FOLDERS, TRACER, TraceWriter

#: Libraries whose copy must be the same on both engines (a suite may put its own copy first on sys.path).
CLIENT_LIBRARIES = ("sqlalchemy", "aiosqlite", "alembic", "sqlite_utils", "peewee", "django")

#: The conformance plugin's report writer, as it registers itself (stc_harness.plugin.configure).
CONFORMANCE_COLLECTOR = "conformance-collector"
#: Seconds before a test's timeout at which its calls so far are written (the process then ends in C).
TRACE_BEFORE_TIMEOUT = 2.0
#: The order in which a phase's outcome overrides an earlier one (a failing teardown after a pass).
_RANK = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 2, "failed": 3, "error": 3}


def drop_conformance_report(config: pytest.Config) -> None:
    """Keep the conformance plugin from writing its report in this process: a drop-in parent or child runs
    no check of its own, and an interrupted or failed run would leave a partial report in the user's
    report folder."""
    if config.pluginmanager.get_plugin(CONFORMANCE_COLLECTOR) is not None:
        config.pluginmanager.unregister(name=CONFORMANCE_COLLECTOR)


def harness_backend(item: pytest.Item) -> bool:
    """A test on the harness's own backends (its fixtures, a check): never routed (`[sqlite]` is SQLite)."""
    return "conformance_backend" in getattr(item, "fixturenames", ()) or \
        item.get_closest_marker("conformance_check") is not None


class ChildRun:
    """Per-test timeout (faulthandler ends the process: the parent records `timeout` and resumes)."""

    def __init__(self, config: pytest.Config, out: Path, skip: set[str], timeout: float,
                 fault_file: Path, workdir: Path | None = None, routing: Routing | None = None) -> None:
        self.config = config
        self.root = config.rootpath
        self.skip = skip
        self.timeout = timeout
        self.is_worker = hasattr(config, "workerinput")
        self.writer = None if self.is_worker else RecordWriter(out)
        worker = getattr(config, "workerinput", {}).get("workerid", "main")
        self.traces = TraceWriter(out.with_name(f"{out.stem}.trace.{worker}.jsonl"))
        self.fault = fault_file.open("a", encoding="utf-8")
        self.results: dict[str, dict[str, Any]] = {}
        self._started = False
        self._conftest: list[list[str]] = []
        #: The calls made while each test module was imported (see stc_harness.dropin.imports_needed).
        self._imported: dict[str, list[list[str]]] = {}
        #: Tests the suite's own options deselected (-k, -m, --deselect), not those an earlier attempt ran.
        self.deselected = 0
        basetemp = config.getoption("basetemp", None)
        if basetemp:
            RUN_FOLDERS.append(str(Path(basetemp).resolve()))
        self.routing = routing
        #: This engine's working folder: every test runs in it (see stc_harness.dropin.folders).
        self.workdir = workdir
        if workdir is not None:
            RUN_FOLDERS.append(str(workdir))
            if os.environ.get("TMPDIR"):  # the engine's own, from the drop-in's parent
                TEMP_FOLDERS.append(str(Path(os.environ["TMPDIR"]).resolve()))
            # paths in traces made in the working folder read as from the project folder
            self.traces.detour = os.path.relpath(config.invocation_params.dir, workdir) + os.sep
        self._flush_imports("<conftest>")

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """An engine's run writes no conformance report: its records are the parent's to report."""
        drop_conformance_report(self.config)

    def _flush_imports(self, where: str) -> None:
        """Write the calls made so far under `<import> where`; conftest calls gather until the first test."""
        events, dropped = TRACER.take()
        if where == "<conftest>":
            self._conftest.extend(events)
        elif events or dropped:
            self.traces.write(IMPORT_PREFIX + where, events, dropped)
            self._imported[where] = events

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None]:
        """Calls a test module makes while it is imported belong to every test of that module."""
        self._flush_imports("<conftest>")
        try:
            return (yield)
        finally:
            if isinstance(collector, pytest.Module):
                self._flush_imports(collector.nodeid)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Leave out the tests an earlier attempt of this engine already recorded."""
        if not self.skip:
            return
        kept = [i for i in items if i.nodeid not in self.skip]
        dropped = [i for i in items if i.nodeid in self.skip]
        if dropped:
            self.deselected -= len(dropped)  # counted back in by pytest_deselected below
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Count the tests the suite's options deselected."""
        self.deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Say which tests this engine's run collected, and which copy of each client library it imported."""
        modules = {(i.nodeid.split("::", 1)[0], i.module.__name__) for i in session.items
                   if isinstance(getattr(i, "module", None), types.ModuleType)}
        root = Path(os.path.realpath(self.config.invocation_params.dir))
        for key, events in charged(self._imported, sorted(modules), root).items():
            self.traces.write(IMPORT_PREFIX + key, events, 0)
        if self.writer is not None:
            self.writer.write(event="collected", nodeids=[item.nodeid for item in session.items],
                              deselected=self.deselected)
            self.writer.write(event="modules", files={name: str(getattr(sys.modules[name], "__file__", ""))
                                                      for name in CLIENT_LIBRARIES if name in sys.modules})

    @pytest.hookimpl(optionalhook=True)  # an xdist hook: the engine's run may not use xdist
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """Under xdist (the suite's -n), the tests a worker collected (every worker collects them all)."""
        if self.writer is not None:
            self.writer.write(event="collected", nodeids=list(ids), deselected=0)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A module that does not import on this engine: every test in it fails for that reason."""
        if report.failed and self.writer is not None:
            text = str(report.longrepr)
            lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
            self.writer.write(event="collect_error", nodeid=report.nodeid,
                              message=(lines[-1][2:].strip() if lines else text[-500:]),
                              longrepr=text[-4000:])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
        """Arm a watchdog for the whole test (setup, call, teardown), run in this engine's working folder."""
        faulthandler.dump_traceback_later(self.timeout, exit=True, file=self.fault)
        # a test that hangs is ended with its process: its calls so far are written just before, so the
        # trace shows where it parted from SQLite (a retry loop on an error only Turso raises)
        snapshot = threading.Timer(max(self.timeout - TRACE_BEFORE_TIMEOUT, self.timeout / 2),
                                   self._write_so_far, (item.nodeid,))
        snapshot.daemon = True
        snapshot.start()
        here = os.getcwd()
        if self.workdir is not None:
            os.chdir(self.workdir)
        unrouted = self.routing.suspended() if self.routing and harness_backend(item) else nullcontext()
        unrouted.__enter__()
        if not self._started:  # calls before the first test: conftest and plugin imports
            self._flush_imports("<conftest>")
            self.traces.write(IMPORT_PREFIX + "<conftest>", self._conftest, 0)
            self._started = True
        TRACER.take()  # calls between tests (a session fixture's teardown, a worker's idle time): nobody's
        left_open.start_test()
        try:
            return (yield)
        finally:
            unrouted.__exit__(None, None, None)
            os.chdir(here)
            faulthandler.cancel_dump_traceback_later()
            snapshot.cancel()
            events, dropped = TRACER.take()
            self.traces.write(item.nodeid, events, dropped, left_open.inherited())
            left_open.end_test(item.nodeid)

    def _write_so_far(self, nodeid: str) -> None:
        """Write the running test's calls so far (its trace line; a finished test writes it again)."""
        events, dropped = TRACER.so_far()
        self.traces.write(nodeid, events, dropped, left_open.inherited())

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """Say which test starts, so a crash or a hang can be pinned on it."""
        if self.writer is not None:
            self.writer.write(event="start", nodeid=nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
        """Attach the failure's details to the report (they travel through xdist as report attributes)."""
        report = yield
        if report.failed and call.excinfo is not None:
            report.dropin_failure = failure_details(call.excinfo, self.root)  # type: ignore[attr-defined]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Fold the phases of one test into one record; write it after teardown."""
        if self.writer is None:
            return
        rec = self.results.setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "passed",
                                                      "duration": 0.0})
        rec["duration"] = round(rec["duration"] + report.duration, 4)
        outcome = outcome_of(report)
        if outcome is not None and _RANK.get(outcome, 0) >= _RANK.get(rec["outcome"], 0):
            rec["outcome"] = outcome
            rec["phase"] = report.when
        if report.failed and "exc_type" not in rec:
            details = getattr(report, "dropin_failure", None)
            if details is None:  # e.g. xdist's report for a worker that died while running the test
                text = str(report.longrepr)
                last = text.strip().splitlines()[-1][:2000] if text.strip() else ""
                details = {"exc_type": "", "message": last,
                           "chain": [], "line": "", "source": "", "raised_at": ""}
                if "crashed while running" in text or report.when == "???":
                    rec["outcome"] = CRASH
            rec.update(details)
            rec["longrepr"] = str(report.longrepr)[-4000:]
        if report.when == "teardown" or rec["outcome"] == CRASH:
            if rec["outcome"] in (FAILED, ERROR) and "exc_type" not in rec:
                rec["exc_type"] = ""
            self.writer.write(event="result", **self.results.pop(report.nodeid))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Mark the run complete (a results file without this line ended early)."""
        if self.writer is not None:
            self.writer.write(event="end", exitstatus=int(exitstatus))
            self.writer.close()
        self.traces.close()
        self.fault.close()
