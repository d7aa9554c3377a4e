"""Run the user's suite once per engine in child processes; a crash or hang costs one test, then resume."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stc_harness.dropin.folders import EngineFolders
from stc_harness.dropin.records import CRASH, TIMEOUT, read_events
from stc_harness.report.encode import printable
from stc_harness.safety.secrets import redact

ENGINES = ("sqlite", "turso")
#: The id unittest gives its stand-in for a test module that did not import.
FAILED_IMPORT = "unittest.loader._FailedTest."


@dataclass
class EngineRun:
    """What one engine's child runs recorded: per test, and per module that did not import."""

    engine: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    collect_errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    attempts: int = 0
    duration: float = 0.0
    complete: bool = False
    log: str = ""
    #: Why the run ended before every test had a record (the last error line of its log), if it did.
    aborted: str = ""
    #: For a command that reported no tests: the exception line its last traceback ended with, if any.
    stopped_on: str = ""
    #: File of each client library the run imported.
    modules: dict[str, str] = field(default_factory=dict)
    #: Every test the run's attempts collected, in order (the parent collects none itself).
    collected: dict[str, None] = field(default_factory=dict)
    #: Tests the suite's own options deselected (on the first attempt).
    deselected: int = 0
    #: The parent was interrupted (Ctrl-C, SIGTERM) and stopped this run.
    interrupted: bool = False

    def absorb(self, events: list[dict[str, Any]]) -> tuple[str | None, bool]:
        """Take one results file's events in; return (the test started and never finished, run ended)."""
        started: str | None = None
        ended = False
        for event in events:
            kind = event.pop("event")
            nodeid = event.get("nodeid", "")
            if kind == "start":
                started = nodeid
            elif kind == "result" and nodeid.startswith(FAILED_IMPORT):
                # unittest's stand-in for a test module that did not import: its tests fail with it
                self.collect_errors[nodeid.removeprefix(FAILED_IMPORT)] = {
                    **event, "message": event.get("message") or "import failed"}
                started = None
            elif kind == "result":
                self.results[nodeid] = event
                started = None if nodeid == started else started
            elif kind == "collect_error":
                self.collect_errors[nodeid] = event
            elif kind == "modules":
                self.modules.update(event["files"])
            elif kind == "collected":
                self.collected.update(dict.fromkeys(event["nodeids"]))
                self.deselected = self.deselected or int(event.get("deselected", 0))
            elif kind == "end":
                ended = True
        return (started if started not in self.results else None), ended


#: Options a child never gets: they would stop a run early or pick tests from a cache the children lack,
#: so a test could count as "the same" without having run on both engines. (flag, takes a value)
WITHHELD = {"--dropin": True, "--maxfail": True, "--lfnf": True, "--last-failed-no-failures": True,
            "-x": False, "--exitfirst": False, "--sw": False, "--stepwise": False, "--sw-skip": False,
            "--stepwise-skip": False, "--lf": False, "--last-failed": False, "--ff": False,
            "--failed-first": False, "--nf": False, "--new-first": False, "--cache-clear": False,
            "--dropin-raw": False, "--dropin-control": False}
#: Short flags that take no value, so a cluster like `-xvs` can be split.
_SHORT_FLAGS = set("xvqslrR")


def withheld(args: list[str]) -> tuple[list[str], list[str]]:
    """(the arguments a child gets, the ones withheld from it)."""
    kept: list[str] = []
    dropped: list[str] = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
            dropped[-1] += f" {arg}"
            continue
        name = arg.split("=", 1)[0]
        if name in WITHHELD:
            dropped.append(arg)
            skip_next = WITHHELD[name] and "=" not in arg
            continue
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2 and "x" in arg[1:] \
                and set(arg[1:]) <= _SHORT_FLAGS:
            dropped.append("-x")
            kept.append("-" + arg[1:].replace("x", ""))
            continue
        kept.append(arg)
    return kept, [d for d in dropped if not d.startswith("--dropin")]


def same_examples(args: list[str], hypothesis: bool = True) -> list[str]:
    """`--hypothesis-seed=0` unless given: both engines' runs then draw the same examples.

    `hypothesis` says whether the parent has Hypothesis's pytest plugin (an ini file may disable it:
    a child given the option would then refuse to start).
    """
    if not hypothesis or importlib.util.find_spec("hypothesis") is None or \
            any(a.startswith("--hypothesis-seed") for a in args):
        return []
    if any(a in ("no:hypothesispytest", "-pno:hypothesispytest") for a in args):
        return []
    return ["--hypothesis-seed=0"]


def own_basetemp(args: list[str], engine: str, default: Path | None = None) -> list[str]:
    """A `--basetemp` given to the parent becomes one folder per engine (the runs must not share files);
    without one, `default` (the engine's own folder) is given."""
    if default is not None and not any(a == "--basetemp" or a.startswith("--basetemp=") for a in args):
        return [*args, f"--basetemp={default}"]
    out: list[str] = []
    follow = False
    for arg in args:
        if follow:
            out.append(str(Path(arg) / engine))
            follow = False
        elif arg == "--basetemp":
            out.append(arg)
            follow = True
        elif arg.startswith("--basetemp="):
            out.append(f"--basetemp={Path(arg.split('=', 1)[1]) / engine}")
        else:
            out.append(arg)
    return out


#: pytest options whose value is a path resolved from the working folder when pytest reads it: a child
#: works in its engine's own folder, so it gets them made absolute from the folder the user started in.
PATH_OPTIONS = ("--ignore", "--ignore-glob", "--confcutdir", "--rootdir", "--config-file", "--junitxml",
                "--junit-xml", "--log-file", "--report-log", "--debug-file")


def absolute_paths(args: list[str], base: Path) -> list[str]:
    """`args` with the relative values of PATH_OPTIONS made absolute from `base`."""
    out: list[str] = []
    follow = False
    for arg in args:
        name, eq, value = arg.partition("=")
        if follow:
            out.append(str(base / arg))
            follow = False
        elif name in PATH_OPTIONS and eq:
            out.append(f"{name}={base / value}")
        else:
            follow = arg in PATH_OPTIONS
            out.append(arg)
    return out


def child_args(args: list[str], engine: str, folder: Path, attempt: int, timeout: float,
               raw: bool, child_engine: str | None = None, *, hypothesis: bool = True,
               folders: EngineFolders | None = None) -> list[str]:
    """The child's command line: the user's arguments minus --dropin and early stops, plus child options."""
    kept, _ = withheld(args)
    basetemp = folders.basetemp(engine) if folders is not None else None
    kept = own_basetemp(kept, engine, basetemp) + same_examples(kept, hypothesis)
    if folders is not None:
        kept = absolute_paths(kept, folders.project)
        kept.append(f"--dropin-workdir={folders.workdir(engine)}")
    # pytest's long tracebacks cost more than many a test on Turso, where most of a suite may fail; the
    # record keeps the failing line and the exception chain anyway.
    tb = [] if any(a.startswith("--tb") for a in kept) else ["--tb=native"]
    out = [*kept, *tb, f"--dropin-engine={child_engine or engine}",
           f"--dropin-out={folder / f'{engine}.jsonl'}",
           f"--dropin-skip={folder / f'{engine}.skip'}", f"--dropin-timeout={timeout:g}",
           f"--dropin-fault={folder / f'{engine}.fault{attempt}'}",
           *own_cache(kept, folder / f"{engine}.cache")]
    return [*out, "--dropin-raw"] if raw else out


def own_cache(args: list[str], cache: Path) -> list[str]:
    """pytest's cache kept apart per engine, never the project's: a suite's `addopts` may name the cache
    plugin's options (`--failed-first`), so the plugin stays on unless the user turned it off."""
    turned_off = any(a.replace(" ", "") in ("no:cacheprovider", "-pno:cacheprovider") for a in args)
    return [] if turned_off else ["-o", f"cache_dir={cache}"]


def _last_error(log_path: Path, code: int) -> str:
    """The last error line a child printed before it ended outside any test (or its exit status)."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [ln for ln in lines if ln.startswith(("INTERNALERROR>", "ERROR", "E   "))]
    last = errors[-1].split(">", 1)[-1].strip() if errors else ""
    return last[:500] or f"the test process exited with status {code} outside any test"


def clean_log(path: Path) -> None:
    """Rewrite a child's log with known secrets redacted and control characters and odd bytes escaped."""
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8", errors="backslashreplace")
    clean = printable(redact(text))
    if clean != text:
        path.write_text(clean, encoding="utf-8")


def last_exception_line(path: Path) -> str | None:
    """The exception line that ended the last traceback in a child's log (`Class: message`), if any."""
    if not path.exists():
        return None
    lines = path.read_text(encoding="utf-8", errors="backslashreplace").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last):")]
    if not starts:
        return None
    for line in lines[starts[-1] + 1:]:
        if line and not line[0].isspace():
            return line[:400]
    return None


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


#: Why a run has no record of a test when the parent was interrupted.
INTERRUPTED = "the run was interrupted (Ctrl-C or SIGTERM) before this test finished"
#: How long children get to end after the parent forwards an interruption, before they are killed.
STOP_GRACE = 30.0


class Children:
    """The drop-in's child processes: in the parent's process group, and stopped with the parent.

    `stop()` (the parent was interrupted) forwards SIGINT to every running child, so each pytest run ends
    as after Ctrl-C (its finished tests' records are already written), kills one that is still running
    after STOP_GRACE seconds, and keeps any new child from starting.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: set[subprocess.Popen[bytes]] = set()
        self.stopping = False

    def run(self, cmd: list[str], cwd: Path, log: Any, env: dict[str, str] | None = None) -> int | None:
        """Run one child to its end; its exit status, or None when the run is being stopped."""
        with self.lock:
            if self.stopping:
                return None
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env)
            self.running.add(proc)
        try:
            return proc.wait()
        finally:
            with self.lock:
                self.running.discard(proc)

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop every child (SIGINT, then SIGKILL past `grace` seconds); start no more."""
        with self.lock:
            self.stopping = True
            procs = list(self.running)
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass
class Setup:
    """What every child run of one drop-in run shares."""

    args: list[str]
    folder: Path
    cwd: Path
    timeout: float
    raw: bool
    #: The parent has Hypothesis's pytest plugin (so a child takes --hypothesis-seed).
    hypothesis: bool = True
    #: Each engine's working folder and basetemp (None: the folder pytest started in, the user's basetemp).
    folders: EngineFolders | None = None
    children: Children = field(default_factory=Children)


def _environment(setup: Setup, engine: str) -> dict[str, str] | None:
    """The child's environment: the parent's, with a temporary folder of the engine's own (TMPDIR), so a
    file a test makes in `tempfile.gettempdir()` is never the other engine's run's, running at once."""
    if setup.folders is None:
        return None
    return {**os.environ, "TMPDIR": str(setup.folders.tmpdir(engine))}


def run_engine(engine: str, setup: Setup, max_attempts: int = 50,
               child_engine: str | None = None) -> EngineRun:
    """Run the suite on one engine until every test has a record (or attempts run out, or it is stopped)."""
    run = EngineRun(engine)
    folder = setup.folder
    results_file = folder / f"{engine}.jsonl"
    results_file.unlink(missing_ok=True)
    start = time.perf_counter()
    log_path = folder / f"{engine}.log"
    with log_path.open("w", encoding="utf-8") as log:
        while run.attempts < max_attempts:
            run.attempts += 1
            (folder / f"{engine}.skip").write_text("\n".join(run.results), encoding="utf-8")
            cmd = [sys.executable, "-m", "pytest",
                   *child_args(setup.args, engine, folder, run.attempts, setup.timeout, setup.raw,
                               child_engine, hypothesis=setup.hypothesis, folders=setup.folders)]
            log.write(f"$ {' '.join(cmd)}\n")
            log.flush()
            code = setup.children.run(cmd, setup.cwd, log, _environment(setup, engine))
            started, ended = run.absorb(read_events(results_file))
            if code is None or setup.children.stopping:
                run.interrupted, run.aborted = True, INTERRUPTED
                break
            if ended:
                run.complete = True
                break
            if started is None:
                log.flush()
                run.aborted = _last_error(log_path, code)
                log.write(f"child exited with {code} outside any test; giving up\n")
                break
            fault = folder / f"{engine}.fault{run.attempts}"
            run.results[started] = died(started, code, fault, setup.timeout)
            results_file.write_text("", encoding="utf-8")
    clean_log(log_path)
    run.duration = time.perf_counter() - start
    run.log = str(log_path)
    return run


class Interrupted(Exception):
    """The parent was interrupted: the children were stopped; `runs` holds what each had recorded."""

    def __init__(self, runs: dict[str, EngineRun], signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.runs = runs
        self.signum = signum


def died(nodeid: str, code: int, fault_file: Path, timeout: float, resumed: bool = True) -> dict[str, Any]:
    """The record of a test during which the child process died (watchdog timeout, signal or exit)."""
    dump = fault_file.read_text(encoding="utf-8", errors="replace") if fault_file.exists() else ""
    after = "; the run resumed after it" if resumed else "; the tests after it in that process did not run"
    if "Timeout (" in dump:
        return {"nodeid": nodeid, "outcome": TIMEOUT, "exc_type": "Timeout",
                "message": f"did not finish within {timeout:g}s; the test process was ended{after}",
                "chain": [], "line": "", "source": "", "raised_at": "", "longrepr": dump[-4000:]}
    why = f"killed by {_signal_name(code)}" if code < 0 else f"exited with status {code}"
    return {"nodeid": nodeid, "outcome": CRASH, "exc_type": "ProcessDied",
            "message": f"the test process {why} during this test{after}",
            "chain": [], "line": "", "source": "", "raised_at": "", "longrepr": dump[-4000:]}


def different_code(runs: dict[str, EngineRun]) -> list[str]:
    """Client libraries the two engines' runs imported from different files (they must run the same code)."""
    s, t = runs["sqlite"].modules, runs["turso"].modules
    return [f"{name} from {s[name]} on SQLite but {t[name]} on Turso" for name in sorted(s.keys() & t.keys())
            if s[name] != t[name]]


def run_both(setup: Setup, parallel: bool = True, control: bool = False,
             target: str = "turso") -> dict[str, EngineRun]:
    """Run both engines (at once when `parallel`); `control` runs the Turso slot on SQLite too, `target`
    names the engine the Turso slot runs on.

    Ctrl-C or SIGTERM stops both children and raises Interrupted with what each run had recorded.
    """
    setup.folder.mkdir(parents=True, exist_ok=True)
    child = {"turso": "control"} if control else {"turso": target}
    # serial: one thread runs the engines in turn (a stop ends the running one and starts no other)
    pool = ThreadPoolExecutor(len(ENGINES) if parallel else 1)
    futures = {e: pool.submit(run_engine, e, setup, child_engine=child.get(e)) for e in ENGINES}
    stopped = 0
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if _main_thread() else None
    try:
        return {e: f.result() for e, f in futures.items()}
    except KeyboardInterrupt:
        stopped = signal.SIGINT
    except _Terminated:
        stopped = signal.SIGTERM
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if stopped:
            setup.children.stop()
        pool.shutdown(wait=True)
    raise Interrupted({e: f.result() for e, f in futures.items()}, stopped)


class _Terminated(BaseException):
    """SIGTERM reached the parent while it waited for its children."""


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise _Terminated


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
