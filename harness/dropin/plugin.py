"""The drop-in pytest plugin: `pytest --dropin=turso` runs an existing suite, unchanged, on both engines.

The parent process collects the suite (a suite that does not import is a usage error before any test
runs), then runs it in child processes, one engine each, and writes the merged report. A child for
Turso installs the routing before the suite's conftest files are imported.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

import pytest

from stc_harness.differences import Registry, builtin_folder, load_registry
from stc_harness.dropin import anyrunner
from stc_harness.dropin.causes import Knowledge
from stc_harness.dropin.child import ChildRun
from stc_harness.dropin.evidence import EvidenceRecorder, load_evidence, shipped_checks
from stc_harness.dropin.matching import entry_lookup
from stc_harness.dropin.routing import Routing, RoutingError
from stc_harness.dropin.runner import run_both, withheld
from stc_harness.dropin.section import build_doc, merge
from stc_harness.dropin.terminal import summary_lines
from stc_harness.dropin.tracing import Tracing
from stc_harness.errors import UsageError
from stc_harness.report.schema import ReportError, load_report
from stc_harness.report.write import write_all
from stc_harness.secrets import redact

ENGINE_CHOICES = ("turso",)
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
    for name in ("engine", "out", "skip", "fault"):  # internal: set by the parent on its children
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


def registry_folder(config: pytest.Config) -> Path:
    """Where the known differences are: --dropin-registry, else the registry that ships with the harness."""
    value = config.getoption("dropin_registry")
    return Path(value) if value else builtin_folder()


def load_known(config: pytest.Config) -> Registry:
    """The registry to match against (empty when the harness's registry is not on this machine)."""
    try:
        return load_registry(registry_folder(config))
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None


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
    if engine == "turso":
        registry = load_known(early_config)
        try:
            routing = Routing(adapt=adapt, lookup=entry_lookup(registry), lazy=True).install()
        except RoutingError as exc:
            raise pytest.UsageError(str(exc)) from None
        early_config.add_cleanup(routing.uninstall)
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
        config.pluginmanager.register(ChildRun(config, Path(config.getoption("dropin_out")), skip,
                                               _timeout(config), Path(config.getoption("dropin_fault"))),
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
    _check_routable()
    config.pluginmanager.register(Parent(config, _timeout(config)), "dropin-parent")


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
    """The parent of a drop-in run: collects once, runs both engines in children, writes the report."""

    def __init__(self, config: pytest.Config, timeout: float) -> None:
        self.config = config
        self.timeout = timeout
        self.doc: dict[str, Any] | None = None
        self.report_dir: Path | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Refuse a suite that does not import; otherwise run both engines and merge them."""
        if session.testsfailed:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            failed = [r for r in (reporter.stats.get("error", []) if reporter else [])
                      if getattr(r, "nodeid", None) is not None]
            names = ", ".join(sorted({r.nodeid or "<root>" for r in failed})) or "some modules"
            raise pytest.UsageError(
                f"the suite does not import on SQLite ({names}): fix the import error (shown above, or run "
                "`pytest --collect-only`) or leave the module out with --ignore, then run --dropin again")
        if session.config.option.collectonly:
            return False
        nodeids = [item.nodeid for item in session.items]
        self.report_dir = self._report_dir()
        folder = self.report_dir / "dropin-runs"  # each engine's results, traces, log and watchdog dumps
        shutil.rmtree(folder, ignore_errors=True)
        args = list(self.config.invocation_params.args)
        runs = run_both(args, folder, self.config.invocation_params.dir, self.timeout,
                        self.config.getoption("dropin_raw"),
                        parallel=not self.config.getoption("dropin_serial"),
                        control=self.config.getoption("dropin_control"))
        registry, checks = load_known(self.config), load_checks(self.config)
        knowledge = Knowledge(registry, checks, load_evidence())
        rows = merge(nodeids, runs, knowledge, folder, control=self.config.getoption("dropin_control"))
        known = (f"Divergences explained by {len(registry.entries)} registry entries, {len(checks)} checks "
                 f"and {sum(len(v) for v in knowledge.evidence.values())} traced check divergences."
                 if registry.entries else
                 "No registry found to explain divergences with: give --dropin-registry=<harness checkout>/"
                 "suites/differences (and --dropin-checks=<its reports/compatibility.json>).")
        if self.config.getoption("dropin_control"):
            known = "Control run: the Turso slot ran on SQLite too. " + known
        _, dropped = withheld(args)
        if dropped:
            known += (f" Not passed to the engines' runs: {' '.join(dropped)} (every test must run on both "
                      "engines to be compared).")
        self.doc = build_doc(rows, not self.config.getoption("dropin_raw"), runs, known)
        write_all(redact(self.doc), self.report_dir, "dropin")
        # exit 1 when Turso breaks a test or a test did not run on both engines (never a silent "same")
        session.testsfailed = sum(1 for r in rows if r["category"] in ("turso-only", "did-not-run-on-both")
                                  or "control_divergence" in r)
        return True

    def _report_dir(self) -> Path:
        value = self.config.getoption("conformance_report_dir", default=None)
        base = self.config.invocation_params.dir
        return (base / value) if value else base / "dropin-report"

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        """The headline, each Turso-only failure with its divergent call and cause, the migration list."""
        if self.doc is None:
            return
        tr = terminalreporter
        tr.section("drop-in: SQLite vs Turso")
        for line in summary_lines(redact(self.doc)):
            tr.write_line(line)
        tr.write_line(f"report: {self.report_dir}/dropin.json (.md, .html)")
