"""Run the user's suite once per engine in child processes; a crash or hang costs one test, then resume."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stc_harness.dropin.records import CRASH, TIMEOUT, read_events

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
    #: File of each client library the run imported.
    modules: dict[str, str] = field(default_factory=dict)

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


def same_examples(args: list[str]) -> list[str]:
    """`--hypothesis-seed=0` unless given: both engines' runs then draw the same examples."""
    if importlib.util.find_spec("hypothesis") is None or any(a.startswith("--hypothesis-seed") for a in args):
        return []
    if any(a in ("no:hypothesispytest", "-pno:hypothesispytest") for a in args):
        return []
    return ["--hypothesis-seed=0"]


def own_basetemp(args: list[str], engine: str) -> list[str]:
    """A `--basetemp` given to the parent becomes one folder per engine (the runs must not share files)."""
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


def child_args(args: list[str], engine: str, folder: Path, attempt: int, timeout: float,
               raw: bool, child_engine: str | None = None) -> list[str]:
    """The child's command line: the user's arguments minus --dropin and early stops, plus child options."""
    kept, _ = withheld(args)
    kept = own_basetemp(kept, engine) + same_examples(kept)
    # pytest's long tracebacks cost more than many a test on Turso, where most of a suite may fail; the
    # record keeps the failing line and the exception chain anyway.
    tb = [] if any(a.startswith("--tb") for a in kept) else ["--tb=native"]
    out = [*kept, *tb, f"--dropin-engine={child_engine or engine}",
           f"--dropin-out={folder / f'{engine}.jsonl'}",
           f"--dropin-skip={folder / f'{engine}.skip'}", f"--dropin-timeout={timeout:g}",
           f"--dropin-fault={folder / f'{engine}.fault{attempt}'}", "-p", "no:cacheprovider"]
    return [*out, "--dropin-raw"] if raw else out


def _last_error(log_path: Path, code: int) -> str:
    """The last error line a child printed before it ended outside any test (or its exit status)."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [ln for ln in lines if ln.startswith(("INTERNALERROR>", "ERROR", "E   "))]
    last = errors[-1].split(">", 1)[-1].strip() if errors else ""
    return last[:500] or f"the test process exited with status {code} outside any test"


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def run_engine(engine: str, args: list[str], folder: Path, cwd: Path, timeout: float, raw: bool,
               max_attempts: int = 50, child_engine: str | None = None) -> EngineRun:
    """Run the suite on one engine until every test has a record (or attempts run out)."""
    run = EngineRun(engine)
    results_file = folder / f"{engine}.jsonl"
    results_file.unlink(missing_ok=True)
    start = time.perf_counter()
    log_path = folder / f"{engine}.log"
    with log_path.open("w", encoding="utf-8") as log:
        while run.attempts < max_attempts:
            run.attempts += 1
            (folder / f"{engine}.skip").write_text("\n".join(run.results), encoding="utf-8")
            cmd = [sys.executable, "-m", "pytest",
                   *child_args(args, engine, folder, run.attempts, timeout, raw, child_engine)]
            log.write(f"$ {' '.join(cmd)}\n")
            log.flush()
            proc = subprocess.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, check=False)
            started, ended = run.absorb(read_events(results_file))
            if ended:
                run.complete = True
                break
            if started is None:
                log.flush()
                run.aborted = _last_error(log_path, proc.returncode)
                log.write(f"child exited with {proc.returncode} outside any test; giving up\n")
                break
            run.results[started] = died(started, proc.returncode, folder / f"{engine}.fault{run.attempts}",
                                         timeout)
            results_file.write_text("", encoding="utf-8")
    run.duration = time.perf_counter() - start
    run.log = str(log_path)
    return run


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


def run_both(args: list[str], folder: Path, cwd: Path, timeout: float, raw: bool,
             parallel: bool = True, control: bool = False, target: str = "turso") -> dict[str, EngineRun]:
    """Run both engines (at once when `parallel`); `control` runs the Turso slot on SQLite too, `target`
    names the engine the Turso slot runs on (`libsql`: stc_harness.dropin.route_libsql)."""
    folder.mkdir(parents=True, exist_ok=True)
    child = {"turso": "control"} if control else {"turso": target}
    if not parallel:
        return {e: run_engine(e, args, folder, cwd, timeout, raw, child_engine=child.get(e)) for e in ENGINES}
    with ThreadPoolExecutor(len(ENGINES)) as pool:
        futures = {e: pool.submit(run_engine, e, args, folder, cwd, timeout, raw, child_engine=child.get(e))
                   for e in ENGINES}
        return {e: f.result() for e, f in futures.items()}
