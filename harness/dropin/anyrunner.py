"""The drop-in inside any test process: routing, tracing, and per-test records through unittest's results.

`python -m stc_harness dropin -- <command>` starts the command with this package's `bootstrap/` folder
first on PYTHONPATH; its `sitecustomize` calls `start()` in every Python process the command runs. Each
process then routes (on Turso) and traces before the suite imports anything, and records every test that
reports to a `unittest.TestResult` (unittest, Django's and most projects' own runners) in the same record
format the pytest path writes. A pytest command needs none of this: the pytest plugin does it.
"""

from __future__ import annotations

import atexit
import faulthandler
import linecache
import os
import re
import sys
import traceback
import unittest
from pathlib import Path
from types import TracebackType
from typing import Any

from stc_harness.dropin.patches import Patches
from stc_harness.dropin.records import ERROR, FAILED, PASSED, SKIPPED, XFAILED, XPASSED, RecordWriter
from stc_harness.dropin.routing import Routing
from stc_harness.dropin.trace import IMPORT_PREFIX, RUN_FOLDERS, TRACER, TraceWriter
from stc_harness.dropin.tracing import Tracing
from stc_harness.errors import exception_chain
from stc_harness.safety.secrets import remember_environment

ENGINE_VAR, DIR_VAR, RAW_VAR, TIMEOUT_VAR, PROJECT_VAR = (
    "STC_DROPIN_ENGINE",
    "STC_DROPIN_DIR",
    "STC_DROPIN_RAW",
    "STC_DROPIN_TIMEOUT",
    "STC_DROPIN_PROJECT",  # the folder the command was given in (it runs in a working folder of its own)
)
#: Set once this process routes and traces (the pytest plugin then leaves both alone).
ACTIVE = False
_SITE = ("site-packages", "dist-packages", os.sep + "lib" + os.sep + "python3")

#: The id unittest gives a failing class or module fixture: `setUpClass (pkg.module.Class)`.
_FIXTURE = re.compile(r"^(setUpClass|setUpModule|tearDownClass|tearDownModule) \((.+)\)$")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def details(err: ExcInfo, root: Path) -> dict[str, Any]:
    """Exception class, message, cause chain and failing line of a unittest failure."""
    _, exc, tb = err
    frames = traceback.extract_tb(tb) if tb is not None else []
    user = [f for f in frames if not any(s in f.filename for s in _SITE) and "unittest" not in f.filename]
    best = user[-1] if user else None
    line = ""
    if best is not None:
        try:
            shown = os.path.relpath(best.filename, root)
        except ValueError:
            shown = best.filename
        line = f"{shown}:{best.lineno}"
    cls = type(exc)
    name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    return {
        "exc_type": name,
        "message": str(exc)[:2000],
        "chain": [[type(e).__name__, str(e)[:1000]] for e in list(exception_chain(exc))[:6]],
        "line": line,
        "source": linecache.getline(best.filename, best.lineno or 0).strip() if best else "",
        "raised_at": f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "",
    }


class UnittestRecorder:
    """Hooks unittest.TestResult so every test of this process gets a record and a trace."""

    def __init__(self, folder: Path, engine: str, timeout: float) -> None:
        pid = os.getpid()
        self.results = RecordWriter(folder / f"{engine}.results.{pid}.jsonl")
        project = os.environ.get(PROJECT_VAR, "")
        detour = ""
        if project and os.path.realpath(project) != os.path.realpath(os.getcwd()):
            detour = os.path.relpath(project, os.getcwd()) + os.sep
            RUN_FOLDERS.append(os.getcwd())
        self.traces = TraceWriter(folder / f"{engine}.trace.{pid}.jsonl", detour)
        self.fault = (folder / f"{engine}.fault.{pid}").open("a", encoding="utf-8")
        self.timeout = timeout
        self.root = Path(project) if project else Path.cwd()  # failing lines read as from the project
        self.current: dict[str, Any] = {}
        self.started = False
        self.pending: list[list[str]] = []
        self.patches = Patches()

    def install(self) -> None:
        """Patch the result protocol's methods (originals still run)."""
        base = unittest.TestResult
        for name, outcome in (
            ("addSuccess", PASSED),
            ("addFailure", FAILED),
            ("addError", ERROR),
            ("addSkip", SKIPPED),
            ("addExpectedFailure", XFAILED),
            ("addUnexpectedSuccess", XPASSED),
        ):
            self.patches.set(base, name, self._outcome(getattr(base, name), outcome))
        self.patches.set(base, "startTest", self._start(base.startTest))
        self.patches.set(base, "stopTest", self._stop(base.stopTest))
        self.patches.set(base, "addSubTest", self._subtest(base.addSubTest))
        atexit.register(self.close)

    def discovered(self) -> None:
        """At the first test (or set-up failure): what ran so far is discovery, every module's import."""
        if not self.started:
            events, dropped = TRACER.take()
            self.traces.write(IMPORT_PREFIX + "<conftest>", events, dropped)
            self.started = True

    def _start(self, original: Any) -> Any:
        recorder = self

        def startTest(result: Any, test: Any) -> None:
            started = recorder.started
            recorder.discovered()
            if started:  # a class's or module's set-up between two tests: for every test of that class
                events, dropped = TRACER.take()
                if events:
                    recorder.traces.write(IMPORT_PREFIX + test.id().rsplit(".", 1)[0], events, dropped)
                recorder.pending = events  # and, in full, for the test that follows it
            recorder.current = {"nodeid": test.id(), "outcome": PASSED, "duration": 0.0}
            recorder.results.write(event="start", nodeid=test.id())
            faulthandler.dump_traceback_later(recorder.timeout, exit=True, file=recorder.fault)
            original(result, test)

        return startTest

    def _stop(self, original: Any) -> Any:
        recorder = self

        def stopTest(result: Any, test: Any) -> None:
            original(result, test)
            faulthandler.cancel_dump_traceback_later()
            events, dropped = TRACER.take()
            recorder.traces.write(test.id(), [*recorder.pending, *events], dropped)
            recorder.pending = []
            if recorder.current.get("nodeid") == test.id():
                recorder.results.write(event="result", **recorder.current)
            recorder.current = {}

        return stopTest

    def _outcome(self, original: Any, outcome: str) -> Any:
        recorder = self

        def add(result: Any, test: Any, *args: Any) -> None:
            original(result, test, *args)
            rec = recorder.current
            holder = _FIXTURE.match(test.id())
            if holder and outcome in (FAILED, ERROR) and args and isinstance(args[0], tuple):
                # a class's or module's set-up failed: its tests never start; they fail with it
                recorder.discovered()
                events, dropped = TRACER.take()
                recorder.traces.write(IMPORT_PREFIX + holder.group(2), [*recorder.pending, *events], dropped)
                recorder.pending = []
                recorder.results.write(event="collect_error", nodeid=holder.group(2),
                                       **details(args[0], recorder.root))
                return
            if rec.get("nodeid") != test.id():
                return
            rec["outcome"] = outcome
            if outcome in (FAILED, ERROR) and args and isinstance(args[0], tuple):
                rec.update(details(args[0], recorder.root))
            elif outcome == SKIPPED and args:
                rec["message"] = str(args[0])[:500]

        return add

    def _subtest(self, original: Any) -> Any:
        recorder = self

        def addSubTest(result: Any, test: Any, subtest: Any, err: Any) -> None:
            original(result, test, subtest, err)
            rec = recorder.current
            if err is not None and rec.get("nodeid") == test.id() and rec["outcome"] == PASSED:
                failed = isinstance(err[1], test.failureException)
                rec["outcome"] = FAILED if failed else ERROR
                rec.update(details(err, recorder.root))

        return addSubTest

    def close(self) -> None:
        """Mark this process's run complete and close the files."""
        self.discovered()  # a run that stopped before its first test: what it ran is still evidence
        self.results.write(event="end", exitstatus=0)
        self.results.close()
        self.traces.close()
        self.fault.close()


def start() -> None:
    """Route (Turso) and trace this process, and record its unittest tests, as the environment says."""
    global ACTIVE
    engine = os.environ.get(ENGINE_VAR)
    folder = os.environ.get(DIR_VAR)
    if not engine or not folder or ACTIVE:
        return
    remember_environment()
    adapt = os.environ.get(RAW_VAR, "0") != "1"
    if engine == "turso":
        Routing(adapt=adapt, lazy=True).install()
    Tracing(engine, adapt=adapt).install()
    UnittestRecorder(Path(folder), engine, float(os.environ.get(TIMEOUT_VAR, "60"))).install()
    ACTIVE = True
    sys.dont_write_bytecode = True
