"""The drop-in pytest plugin: `pytest --dropin=turso` runs an existing suite, unchanged, on both engines.

The parent process collects the suite (a suite that does not import is a usage error before any test
runs), then runs it in child processes, one engine each, and writes the merged report. A child for
Turso installs the routing before the suite's conftest files are imported.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stc_harness.differences import Registry, load_registries
from stc_harness.dropin import anyrunner, route_libsql
from stc_harness.dropin.causes import Knowledge
from stc_harness.dropin.child import ChildRun, drop_conformance_report
from stc_harness.dropin.evidence import EvidenceRecorder, load_evidence, shipped_checks
from stc_harness.dropin.folders import EngineFolders, changed, outside_text, snapshot
from stc_harness.dropin.matching import entry_lookup
from stc_harness.dropin.routing import Routing, RoutingError
from stc_harness.dropin.runner import EngineRun, Interrupted, Setup, run_both, withheld
from stc_harness.dropin.section import CATEGORY_LABELS, build_doc, collected_ids, interrupted, merge
from stc_harness.dropin.terminal import summary_lines
from stc_harness.dropin.tracing import Tracing
from stc_harness.errors import UsageError
from stc_harness.report.schema import ReportError, load_report
from stc_harness.report.write import write_all
from stc_harness.safety.secrets import redact

ENGINE_CHOICES = ("turso", route_libsql.ENGINE)
#: The routing a Turso child installed (the child suspends it for tests on the harness's own backends).
ROUTING = pytest.StashKey[Routing]()
DEFAULT_TIMEOUT = 60.0


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the `dropin` group."""
    group = parser.getgroup("dropin", "drop-in mode: your own test suite on SQLite and Turso")
    group.addoption("--dropin", default=None, choices=ENGINE_CHOICES, dest="dropin",
                    help="run this suite unchanged on SQLite and on Turso (sqlite3, aiosqlite and "
                         "SQLAlchemy's SQLite URLs reach pyturso) and report what breaks")
    group.addoption("--dropin-raw", action="store_true", dest="dropin_raw",
                    help="no adaptations (sqlite3's timeout= etc.): reach pyturso exactly as it is")
    group.addoption("--dropin-timeout", type=float, default=None, dest="dropin_timeout", metavar="SECONDS",
                    help=f"per-test limit; a test past it is a `timeout` (default {DEFAULT_TIMEOUT:g})")
    group.addoption("--dropin-registry", default=None, dest="dropin_registry", metavar="DIR",
                    help="registry of known differences to match failures against "
                         "(default: the registry that ships with the harness)")
    group.addoption("--dropin-checks", default=None, dest="dropin_checks", metavar="JSON",
                    help="a compatibility.json whose check records divergences are explained with "
                         "(default: the checks that ship with the harness)")
    group.addoption("--dropin-serial", action="store_true", dest="dropin_serial",
                    help="run the two engines one after the other instead of at once")
    group.addoption("--dropin-control", action="store_true", dest="dropin_control",
                    help="a control run: both engines' runs on SQLite; proves the traces' normalisation (no "
                         "test may show a divergence)")
    group.addoption("--dropin-notrace", action="store_true", dest="dropin_notrace",
                    help="do not record the calls tests make into the database modules (faster; a failure is "
                         "then explained by its message only, never proven)")
    group.addoption("--dropin-evidence", default=None, dest="dropin_evidence", metavar="DIR",
                    help="trace every driver call of this run on every backend into DIR (what "
                         "`python -m stc_harness evidence` runs the suites with)")
    for name in ("engine", "out", "skip", "fault", "workdir"):  # internal: set by the parent on its children
        group.addoption(f"--dropin-{name}", default=None, dest=f"dropin_{name}", help=argparse_suppress())
    parser.addini("dropin", "run the suite in drop-in mode on this engine (as --dropin)", default="")
    parser.addini("dropin_timeout", "per-test limit of drop-in runs, seconds", default="")


def argparse_suppress() -> str:
    """Help text that hides an option from --help."""
    return argparse.SUPPRESS


def _engine(config: pytest.Config) -> str | None:
    return config.getoption("dropin") or (config.getini("dropin") or None)


def _timeout(config: pytest.Config) -> float:
    value = config.getoption("dropin_timeout")
    if value is None:
        value = config.getini("dropin_timeout") or DEFAULT_TIMEOUT
    try:
        timeout = float(value)
    except ValueError:
        raise pytest.UsageError(f"dropin_timeout {value!r} is not a number of seconds") from None
    if timeout <= 0:
        raise pytest.UsageError(f"--dropin-timeout must be a positive number of seconds, got {value!r}")
    return timeout


def load_known(config: pytest.Config) -> Registry:
    """The registry to match against: the built-in one, plus the --dropin-registry folder's entries.

    A folder that does not exist or holds no registry files, or an entry whose id a built-in entry has,
    is a usage error (naming both files).
    """
    value = config.getoption("dropin_registry")
    try:
        return load_registries(Path(value) if value else None)[0]
    except UsageError as exc:
        raise pytest.UsageError(str(exc).replace("--registry", "--dropin-registry", 1)) from None


def load_checks(config: pytest.Config) -> list[dict[str, Any]]:
    """Check records to explain divergences with: --dropin-checks, else those shipped with the package."""
    value = config.getoption("dropin_checks")
    if not value:
        return shipped_checks()
    path = Path(value)
    if not path.exists():
        raise pytest.UsageError(f"--dropin-checks {value}: no such file; give a compatibility.json")
    try:
        return list(load_report(path)["checks"])
    except ReportError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser,
                                  args: list[str]) -> None:
    """In a child, route (Turso) and trace (both engines) before the suite's conftest files import."""
    ns = early_config.known_args_namespace
    engine = getattr(ns, "dropin_engine", None)
    if engine is None:
        return
    adapt = not ns.dropin_raw
    if anyrunner.ACTIVE:
        return  # the command form's bootstrap already routes and traces this process
    if ns.dropin_workdir:
        # The engine's own working folder from the start, collection included: a path a test module makes
        # absolute at import (SQLAlchemy's engine for `sqlite:///test.db`) then names the same file as
        # the relative path a test opens later. pytest resolves its arguments from the invocation folder.
        os.chdir(ns.dropin_workdir)
        early_config.add_cleanup(functools.partial(os.chdir, early_config.invocation_params.dir))
    if engine == route_libsql.ENGINE:
        route_libsql.install_child(early_config, trace=not ns.dropin_notrace)
        return
    if engine == "turso":
        registry = load_known(early_config)
        try:
            routing = Routing(adapt=adapt, lookup=entry_lookup(registry), lazy=True).install()
        except RoutingError as exc:
            raise pytest.UsageError(str(exc)) from None
        early_config.add_cleanup(routing.uninstall)
        early_config.stash[ROUTING] = routing
    if not ns.dropin_notrace:
        tracing = Tracing("sqlite" if engine == "control" else engine, adapt=adapt).install()
        early_config.add_cleanup(tracing.uninstall)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Child: record each test. Parent: check that routing is possible, then take over the run loop."""
    if config.getoption("dropin_evidence"):
        tracing = Tracing("both").install()
        config.add_cleanup(tracing.uninstall)
        config.pluginmanager.register(EvidenceRecorder(config, Path(config.getoption("dropin_evidence"))),
                                      "dropin-evidence")
    if config.getoption("dropin_engine"):
        skip_file = Path(config.getoption("dropin_skip") or "")
        skip = set(skip_file.read_text(encoding="utf-8").split("\n")) - {""} if skip_file.is_file() else set()
        workdir = config.getoption("dropin_workdir")
        config.pluginmanager.register(ChildRun(config, Path(config.getoption("dropin_out")), skip,
                                               _timeout(config), Path(config.getoption("dropin_fault")),
                                               Path(workdir) if workdir else None,
                                               config.stash.get(ROUTING, None)),
                                      "dropin-child")
        return
    engine = _engine(config)
    if engine is None:
        return
    if engine not in ENGINE_CHOICES:
        raise pytest.UsageError(f"ini dropin = {engine!r}: choose one of {', '.join(ENGINE_CHOICES)}")
    if hasattr(config, "workerinput"):  # pragma: no cover - the parent below never starts xdist workers
        raise pytest.UsageError("--dropin: an xdist worker cannot be a drop-in parent")
    if getattr(config.option, "dist", "no") != "no":
        # -n N is for the children (each engine runs under xdist); the parent only collects
        config.option.dist, config.option.numprocesses = "no", None
    _refuse_cache_selection(config)
    load_known(config)  # a wrong --dropin-registry is found before any test runs
    route_libsql.check_routable() if engine == route_libsql.ENGINE else _check_routable()
    config.pluginmanager.register(Parent(config, _timeout(config)), "dropin-parent")


#: Hypothesis's pytest plugin, as registered (the parent reads whether the suite has it, then drops it).
HYPOTHESIS_PLUGIN = "hypothesispytest"
#: Options that pick the tests to run from pytest's cache of the last run (option dest, as typed).
CACHE_SELECTION = (("lf", "--lf"), ("stepwise", "--sw"), ("stepwise_skip", "--sw-skip"))


def _refuse_cache_selection(config: pytest.Config) -> None:
    """--lf and --sw pick tests from a cache the engines' runs do not share: a usage error, never a run."""
    given = [flag for dest, flag in CACHE_SELECTION if config.getoption(dest, default=False)]
    if given:
        raise pytest.UsageError(
            f"{' and '.join(given)} cannot be used with --dropin: they pick tests from pytest's cache of the "
            "last run, which the two engines' runs neither read nor write, and every test must run on both "
            "engines to be compared; fix: leave them out, and name the tests to rerun instead (e.g. "
            "`pytest --dropin=turso tests/test_app.py::test_one`)")


def _check_routable() -> None:
    """Install and undo the routing once, so a missing client library fails before any test runs."""
    try:
        import turso  # noqa: F401
    except ImportError as exc:
        raise pytest.UsageError(f"pyturso does not import ({exc}); "
                                "fix: pip install 'pyturso>=0.8,<0.9'") from None
    try:
        Routing().install().uninstall()
    except RoutingError as exc:
        raise pytest.UsageError(str(exc)) from None


class Parent:
    """The parent of a drop-in run: runs both engines in children (each collects), writes the report."""

    def __init__(self, config: pytest.Config, timeout: float) -> None:
        self.config = config
        self.timeout = timeout
        self.doc: dict[str, Any] | None = None
        self.report_dir: Path | None = None
        self.written = "dropin"
        self.hypothesis = config.pluginmanager.has_plugin(HYPOTHESIS_PLUGIN)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """The parent runs no check: the conformance plugin's report (an interrupted one too) stays out."""
        drop_conformance_report(self.config)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool | None:
        """Collect nothing here (but for --collect-only): each engine's run collects the suite itself.

        The tests the two runs recorded are the list compared. Collecting here as well imported every test
        module a third time, in this process, before either engine's run could start.
        """
        return None if session.config.option.collectonly else True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Run both engines, refuse a suite that does not import on SQLite, merge the two runs."""
        if session.config.option.collectonly:
            return False
        if self.hypothesis:
            # The parent runs no test: Hypothesis's end-of-run summary has nothing to say here, and importing
            # Hypothesis for it costs 0.3-0.7 s (without a bytecode cache) after the engines' runs.
            self.config.pluginmanager.unregister(name=HYPOTHESIS_PLUGIN)
        self.report_dir = self._report_dir()
        folder = self.report_dir / "dropin-runs"  # each engine's results, traces, log and watchdog dumps
        shutil.rmtree(folder, ignore_errors=True)
        args = list(self.config.invocation_params.args)
        project = self.config.invocation_params.dir
        folders = EngineFolders(project, exclude=(self.report_dir,))
        setup = Setup(args, folder, project, self.timeout, self.config.getoption("dropin_raw"),
                      hypothesis=self.hypothesis, folders=folders)
        serial = self.config.getoption("dropin_serial")
        basetemp = self.config.getoption("basetemp", None)
        mine = (self.report_dir, folders.root, *([project / basetemp] if basetemp else []))
        before = snapshot(project, mine)
        stopped: Interrupted | None = None
        try:
            runs = run_both(setup, parallel=not serial, control=self.config.getoption("dropin_control"),
                            target=_engine(self.config) or "turso")
        except Interrupted as exc:
            stopped, runs = exc, exc.runs
        except BaseException:
            folders.remove()
            raise
        # deleting the engines' folders overlaps with explaining and writing (joined before returning)
        cleanup = threading.Thread(target=folders.remove, name="dropin-cleanup", daemon=True)
        cleanup.start()
        try:
            self._finish(session, runs, stopped, folder, args, before, mine, serial)
        finally:
            cleanup.join()
        return True

    def _finish(self, session: pytest.Session, runs: dict[str, EngineRun], stopped: Interrupted | None,
                folder: Path, args: list[str], before: Any, mine: tuple[Path, ...],
                serial: bool) -> None:
        """Merge the engines' runs, explain the Turso-only failures and write the report."""
        project = self.config.invocation_params.dir
        outside = changed(before, snapshot(project, mine))
        if stopped is None:
            _refuse_runs_that_never_started(runs)
            _refuse_suite_that_does_not_import(runs["sqlite"])
        registry, checks = load_known(self.config), load_checks(self.config)
        libsql = _engine(self.config) == route_libsql.ENGINE
        if libsql:
            registry, checks = route_libsql.view(registry, checks)
        knowledge = Knowledge(registry, checks, () if libsql else load_evidence())
        control = self.config.getoption("dropin_control")
        rows = merge(collected_ids(runs), runs, knowledge, folder, control=control)
        known = (f"Divergences explained by {len(registry.entries)} registry entries, {len(checks)} checks "
                 f"and {sum(len(v) for v in knowledge.evidence.values())} traced check divergences.")
        if control:
            known = "Control run: the Turso slot ran on SQLite too. " + known
        _, dropped = withheld(args)
        if dropped:
            known += (f" Not passed to the engines' runs: {' '.join(dropped)} (every test must run on both "
                      "engines to be compared).")
        known += outside_text(outside, serial)
        if stopped is not None:
            sentence, stop = interrupted(rows, _signal(stopped))
            known = sentence + known
        self.doc = build_doc(rows, not self.config.getoption("dropin_raw"), runs, known)
        self.doc = route_libsql.relabel(self.doc) if libsql else self.doc
        self.doc["dropin"]["wrote_outside"] = outside
        if stopped is not None:
            self.doc["interrupted"] = stop
            self.written = "dropin-interrupted"  # beside a complete report, never over it
        write_all(redact(self.doc), self.report_dir, self.written)
        self._count(session, rows, runs["sqlite"].deselected)
        if stopped is not None:
            raise KeyboardInterrupt(_signal(stopped))
        session.testscollected = len(rows)  # what the engines' runs collected (not "no tests ran": exit 5)
        # exit 1 when Turso breaks a test or a test did not run on both engines (never a silent "same")
        session.testsfailed = sum(1 for r in rows if r["category"] in ("turso-only", "did-not-run-on-both")
                                  or "control_divergence" in r)

    def _count(self, session: pytest.Session, rows: list[dict[str, Any]], deselected: int) -> None:
        """pytest's last line counts the drop-in's categories (not "no tests ran") and deselected tests."""
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        by_label: dict[str, list[Any]] = {}
        entries = [(CATEGORY_LABELS[row["category"]], row["nodeid"], row["category"]) for row in rows]
        entries += [("deselected", "", "deselected")] * deselected  # the engines' runs deselected them
        for label, nodeid, outcome in entries:  # report-like: other plugins' summaries read their attributes
            by_label.setdefault(label, []).append(SimpleNamespace(
                nodeid=nodeid, when="call", outcome=outcome, longrepr=None, sections=[],
                user_properties=[], keywords={}, location=(nodeid, None, nodeid)))
        # pytest's own way to add a category (it also recomputes the line's colour); plain stats otherwise
        add = getattr(reporter, "_add_stats", None)
        for label, items in by_label.items():
            if add is not None:
                add(label, items)
            else:
                reporter.stats.setdefault(label, []).extend(items)

    def _report_dir(self) -> Path:
        value = self.config.getoption("conformance_report_dir", default=None)
        base = self.config.invocation_params.dir
        return (base / value) if value else base / "dropin-report"

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        """The headline, each Turso-only failure with its divergent call and cause, the migration list."""
        if self.doc is None:
            return
        tr = terminalreporter
        libsql = self.doc.get("dropin", {}).get("engine") == route_libsql.ENGINE
        tr.section("drop-in: SQLite vs libSQL" if libsql else "drop-in: SQLite vs Turso")
        for line in summary_lines(redact(self.doc)):
            tr.write_line(route_libsql.words(line) if libsql else line)
        stop = self.doc.get("interrupted")
        mark = (f"; interrupted: {stop['ran']} of {stop['total']} tests ran on both engines, so a complete "
                "report beside it was left as it was" if stop else "")
        tr.write_line(f"report: {self.report_dir}/{self.written}.json (.md, .html){mark}")


def _signal(stopped: Interrupted) -> str:
    return "SIGTERM" if stopped.signum == 15 else "SIGINT"


def _refuse_suite_that_does_not_import(sqlite: EngineRun) -> None:
    """A test module that does not import on SQLite: a usage error naming it, never a comparison."""
    if not sqlite.collect_errors:
        return
    names = ", ".join(sorted(n or "<root>" for n in sqlite.collect_errors))
    first = next(iter(sqlite.collect_errors.values())).get("message", "")
    raise pytest.UsageError(
        f"the suite does not import on SQLite ({names}: {first}): fix the import error (run "
        "`pytest --collect-only` to see it whole) or leave the module out with --ignore, then run --dropin "
        "again")


def _refuse_runs_that_never_started(runs: dict[str, EngineRun]) -> None:
    """Neither engine's run started a test (a child refused its command line, a plugin failed): a usage
    error naming why, never a report of tests that "fail on both"."""
    if all(not r.results and not r.collect_errors and r.aborted for r in runs.values()):
        why = "; ".join(f"{e}: {r.aborted} (log: {r.log})" for e, r in runs.items())
        raise pytest.UsageError(f"neither engine's run could start, so nothing was compared: {why}")

