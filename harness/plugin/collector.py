"""The collector: check records gathered on the controller (or the serial process), the report written."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from stc_harness.crash_records import complete_crash_records, crash_record
from stc_harness.outcomes import LOUD, TIMEOUT
from stc_harness.plugin.progress import Progress, is_crash_report
from stc_harness.plugin.state import RECORD_KEY, USAGE_KEY, PluginState, state_of
from stc_harness.report.build import build_report, outcome_counts
from stc_harness.report.facts import RunFacts, backend_facts, tracked_facts
from stc_harness.report.write import STEM, write_all
from stc_harness.safety import watchdog
from stc_harness.safety.output_paths import write_or_fallback
from stc_harness.safety.secrets import redact

#: Added to the report's file names when the run stopped early: `compatibility-interrupted.json`.
INTERRUPTED_SUFFIX = "-interrupted"


def _basetemp(config: pytest.Config) -> Path | None:
    """The run's base temporary folder, if pytest made one (it holds every test's `tmp_path`).

    A hook has no `tmp_path_factory` fixture: pytest's own `config._tmp_path_factory` is the only way.
    """
    factory = getattr(config, "_tmp_path_factory", None)
    try:
        return factory.getbasetemp() if factory is not None else None
    except OSError:
        return None


def run_facts(st: PluginState, config: pytest.Config) -> RunFacts:
    """What the report says about this run beside its records."""
    session = st.session
    return RunFacts(backends=backend_facts(session.selected), reference=session.reference.id,
                    tracked=tracked_facts(session.tracked, session.tracked_why), registry=session.registry,
                    basetemp=_basetemp(config))


def write_report(st: PluginState, config: pytest.Config, interrupted: dict[str, int] | None) -> list[Path]:
    """Write the report: a partial one beside the complete one, never over it; a failed write elsewhere."""
    assert st.report_dir is not None
    doc = redact(build_report(run_facts(st, config), st.records.values()))
    used = {row["entry"]["id"] for row in doc["checks"] if row.get("entry")}
    used |= {eid for row in doc["checks"] for eid in (row.get("entries") or {}).values()}
    doc["registry"] = [e for e in doc["registry"] if e["id"] in used or e["id"] not in st.builtin_ids]
    stem = STEM
    if interrupted:
        doc["interrupted"] = interrupted
        stem = f"{STEM}{INTERRUPTED_SUFFIX}"
    return write_or_fallback(lambda folder: write_all(doc, folder, stem), st.report_dir,
                             lambda message: sys.stderr.write(f"conformance: {message}\n"))


class Collector:
    """Gathers check records on the controller (or the serial process) and writes the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.usage_errors: list[str] = []
        self.progress = Progress()
        self.watchdog_dir: str | None = None
        self.written: list[Path] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """How many tests a serial run will run (under xdist the workers say it)."""
        self.progress.collected(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """How many tests an xdist run will run: every worker collects them all."""
        self.progress.collected(len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take each check's record; a check whose worker crashed becomes a `crash` record."""
        st = state_of(self.config)
        self.progress.saw(report)
        for key, value in report.user_properties:
            if key == RECORD_KEY:
                rec = json.loads(value)
                st.records[(rec["check"], rec["backend"])] = rec
                return
        if is_crash_report(report):
            lines = str(report.longrepr).strip().splitlines() or ["worker crashed"]
            rec = crash_record(report.nodeid, lines[-1][:500], st.session.selected)
            if rec:
                self._watchdog_timeout(report, rec)
                st.records[(rec["check"], rec["backend"])] = rec

    def _watchdog_timeout(self, report: pytest.TestReport, rec: dict[str, Any]) -> None:
        """Mark a crash record as a timeout when the worker's watchdog ended it (see
        stc_harness.safety.watchdog)."""
        worker = getattr(getattr(report, "node", None), "workerinput", {}).get("workerid")
        traceback = watchdog.fired(self.watchdog_dir, worker) if worker and self.watchdog_dir else None
        if traceback:
            rec["watchdog"] = True
            rec["message"] = (f"the worker was still blocked {watchdog.GRACE:g}s past the check's timeout "
                              "(stuck holding the interpreter) and was replaced")
            rec["notes"] = {"traceback": traceback[-2000:]}

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Give each xdist worker the folder of watchdog files (see stc_harness.safety.watchdog)."""
        if self.watchdog_dir is None:
            self.watchdog_dir = tempfile.mkdtemp(prefix="conformance-watchdog-")
        node.workerinput[watchdog.INPUT_KEY] = self.watchdog_dir

    @pytest.hookimpl(optionalhook=True)  # an xdist hook: a serial run may have xdist absent or disabled
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Keep a usage error an xdist worker found while collecting (reported at the end)."""
        message = getattr(node, "workeroutput", {}).get(USAGE_KEY)
        if message and message not in self.usage_errors:
            self.usage_errors.append(message)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Complete crash records and write the report files when a report folder was chosen."""
        st = state_of(self.config)
        if self.usage_errors:
            for message in self.usage_errors:
                sys.stderr.write(f"ERROR: {message}\n")
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        complete_crash_records(st.records, st.session.selected, st.session.registry)
        for rec in st.records.values():
            if rec.pop("watchdog", False):
                rec["outcome"] = TIMEOUT
        interrupted = self.progress.interruption(exitstatus)
        stopped = interrupted is not None and exitstatus == pytest.ExitCode.INTERRUPTED
        if st.report_dir is None or not (st.records or stopped):
            return  # nothing ran and nobody pressed Ctrl-C (a usage or collection error): no report
        self.written = write_report(st, self.config, interrupted)

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        """A short per-outcome summary of the checks."""
        st = state_of(config)
        if not st.records and not self.written:
            return
        terminalreporter.section("conformance")
        for backend, per in outcome_counts(st.records.values()).items():
            terminalreporter.write_line(f"{backend}: " + ", ".join(f"{n} {o}" for o, n in per.items() if n))
        for rec in sorted(st.records.values(), key=lambda r: (r["check"], r["backend"])):
            if rec["outcome"] in LOUD:
                terminalreporter.write_line(f"  {rec['outcome']:<24} {rec['check']} [{rec['backend']}]")
        md = next((p for p in self.written if p.suffix == ".md"), None)
        if md is not None:
            interrupted = self.progress.interruption(exitstatus)
            mark = (f"; interrupted: {interrupted['ran']} of {interrupted['total']} checks ran, so the "
                    "complete report beside it was left as it was" if interrupted else "")
            terminalreporter.write_line(f"report: {md} (.json, .html){mark}")
