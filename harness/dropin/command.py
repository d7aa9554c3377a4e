"""`python -m stc_harness dropin -- <command...>`: any test command, on SQLite and on Turso, compared.

The command runs twice, with this package's bootstrap first on PYTHONPATH: every Python process it
starts routes (Turso) and traces, and records the tests that report through unittest's result protocol
(unittest, Django's `manage.py test`, a project's own `runtests.py`); a pytest command is recorded by the
pytest plugin (through PYTEST_ADDOPTS). A runner that reports neither way can write JUnit XML: put
`{junit}` in the command where the file name goes and pass --junit-xml.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from stc_harness.differences import builtin_folder, load_registry
from stc_harness.dropin.anyrunner import DIR_VAR, ENGINE_VAR, PROJECT_VAR, RAW_VAR, TIMEOUT_VAR
from stc_harness.dropin.causes import Knowledge
from stc_harness.dropin.evidence import load_evidence, shipped_checks
from stc_harness.dropin.explain import before_any_test
from stc_harness.dropin.folders import EngineFolders, changed, outside_text, snapshot
from stc_harness.dropin.records import ERROR, FAILED, PASSED, SKIPPED, read_events
from stc_harness.dropin.runner import ENGINES, EngineRun, clean_log, died, last_exception_line
from stc_harness.dropin.section import build_doc, interrupted, merge
from stc_harness.dropin.terminal import summary_lines
from stc_harness.errors import UsageError
from stc_harness.report.schema import load_report
from stc_harness.report.write import write_all
from stc_harness.safety.secrets import redact, remember_environment

BOOTSTRAP = Path(__file__).resolve().parent / "bootstrap"
#: The engines' running commands (each in a process group of its own), and the signal that stopped the run.
_RUNNING: set[subprocess.Popen[bytes]] = set()
_STOPPED: list[int] = []
JUNIT = "{junit}"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stc_harness dropin",
        description="Run a test command on SQLite and on Turso and explain what breaks.",
        epilog="example: python -m stc_harness dropin -- python runtests.py",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("dropin-report"),
        help="where dropin.json/.md/.html go (default: ./dropin-report)",
    )
    parser.add_argument("--raw", action="store_true", help="no adaptations: pyturso exactly as it is")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="per-test limit in seconds; a test past it ends its process (default 60)",
    )
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=3600.0,
        help="limit for one engine's whole run in seconds (default 3600)",
    )
    parser.add_argument(
        "--junit-xml",
        action="store_true",
        help=f"the command writes JUnit XML to {JUNIT} (replaced per engine)",
    )
    parser.add_argument("--serial", action="store_true", help="run the engines one after the other")
    parser.add_argument(
        "--registry", type=Path, default=None, help="registry folder (default: the built-in one)"
    )
    parser.add_argument("--checks", type=Path, default=None, help="a compatibility.json to explain with")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the test command")
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error(
            "no command: give it after --, e.g. `python -m stc_harness dropin -- python -m unittest`"
        )
    if args.junit_xml and not any(JUNIT in part for part in args.command):
        parser.error(
            f"--junit-xml: put {JUNIT} in the command where the XML file goes, e.g. "
            f"`-- pytest --junitxml={JUNIT}`"
        )
    if args.timeout <= 0 or args.run_timeout <= 0:
        parser.error("--timeout and --run-timeout must be positive numbers of seconds")
    return args


def _env(engine: str, folder: Path, args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            ENGINE_VAR: engine,
            DIR_VAR: str(folder),
            RAW_VAR: "1" if args.raw else "0",
            TIMEOUT_VAR: f"{args.timeout:g}",
            PROJECT_VAR: str(Path.cwd()),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BOOTSTRAP), env.get("PYTHONPATH", "")) if p)
    pytest_opts = [
        f"--dropin-engine={engine}",
        f"--dropin-out={folder / f'{engine}.jsonl'}",
        f"--dropin-timeout={args.timeout:g}",
        f"--dropin-fault={folder / f'{engine}.fault'}",
        "-p",
        "no:cacheprovider",
        *(["--dropin-raw"] if args.raw else []),
    ]
    env["PYTEST_ADDOPTS"] = " ".join([env.get("PYTEST_ADDOPTS", ""), *map(shlex.quote, pytest_opts)]).strip()
    return env


def run_command(engine: str, args: argparse.Namespace, folder: Path, cwd: Path | None = None) -> EngineRun:
    """Run the command once on `engine` (in `cwd`: its own working folder); read what it recorded."""
    run = EngineRun(engine, attempts=1)
    junit = folder / f"{engine}.junit.xml"
    cmd = [part.replace(JUNIT, str(junit)) for part in args.command]
    log_path = folder / f"{engine}.log"
    start = time.perf_counter()
    with log_path.open("w", encoding="utf-8", errors="backslashreplace") as log:
        log.write(f"$ {shlex.join(cmd)}\n")
        log.flush()
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=_env(engine, folder, args),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise UsageError(f"cannot start {cmd[0]!r}: {exc}; fix: give a command that exists") from None
        _RUNNING.add(proc)
        if _STOPPED:  # stopped while this one was starting
            _stop_group(proc, signal.SIGTERM)
        try:
            code = proc.wait(timeout=args.run_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
            run.aborted = f"the run took longer than --run-timeout={args.run_timeout:g}s and was stopped"
        finally:
            _RUNNING.discard(proc)
        if _STOPPED:
            run.aborted = f"stopped by {signal.Signals(_STOPPED[0]).name}"
    clean_log(log_path)
    run.duration = time.perf_counter() - start
    run.log = str(log_path)
    _read_records(run, folder, engine, code, args.timeout)
    if args.junit_xml and junit.exists():
        for nodeid, rec in read_junit(junit).items():
            run.results.setdefault(nodeid, rec)
    run.complete = bool(run.results) and not run.aborted
    nostart = sorted(folder.glob(f"{engine}.nostart.*"))
    if not run.results:
        run.stopped_on = last_exception_line(log_path) or ""
    if not run.results and not run.aborted:
        run.aborted = f"the command exited with status {code} and reported no tests"
        if run.stopped_on and not nostart:
            run.aborted += f"; it stopped at {run.stopped_on} (the whole output: {log_path})"
        if nostart:
            run.aborted += (
                f"; its Python cannot load the drop-in ({nostart[0].read_text(encoding='utf-8')}): "
                f"fix: run the command with {sys.executable} (the Python stc_harness is installed in)"
            )
    return run


def _stop_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def _on_stop(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM (a CI time limit, `timeout`): stop both engines' commands, keep their records."""
    if not _STOPPED:
        _STOPPED.append(signum)
    for proc in list(_RUNNING):
        _stop_group(proc, signal.SIGTERM)


def _read_records(run: EngineRun, folder: Path, engine: str, code: int, timeout: float) -> None:
    for path in [folder / f"{engine}.jsonl", *sorted(folder.glob(f"{engine}.results.*.jsonl"))]:
        started, _ = run.absorb(read_events(path))
        if started is not None and not _STOPPED:  # the process died in this test (a hang or a crash)
            fault = path.with_name(path.name.replace(".results.", ".fault.").removesuffix(".jsonl"))
            run.results[started] = died(started, code, fault, timeout, resumed=False)


def read_junit(path: Path) -> dict[str, dict[str, Any]]:
    """Per-test records from a JUnit XML file (`classname.name` as the id)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise UsageError(
            f"{path}: not JUnit XML ({exc}); fix: make the command write JUnit XML to {JUNIT}"
        ) from None
    out: dict[str, dict[str, Any]] = {}
    for case in root.iter("testcase"):
        nodeid = ".".join(p for p in (case.get("classname"), case.get("name")) if p)
        rec: dict[str, Any] = {"nodeid": nodeid, "outcome": PASSED, "duration": float(case.get("time") or 0)}
        for child, outcome in (("failure", FAILED), ("error", ERROR), ("skipped", SKIPPED)):
            found = case.find(child)
            if found is not None:
                rec.update(
                    outcome=outcome,
                    exc_type=found.get("type") or "",
                    message=(found.get("message") or found.text or "")[:2000],
                    line="",
                )
                break
        out[nodeid] = rec
    return out


def main(argv: Iterable[str]) -> int:
    """Run the command on both engines, write the report, print the summary; 1 if Turso breaks tests."""
    args = _parse(list(argv)[1:])
    remember_environment()
    try:
        import turso  # noqa: F401 - pyturso must be there before anything runs
    except ImportError as exc:
        print(
            f"dropin: pyturso does not import ({exc}); fix: pip install 'pyturso>=0.8,<0.9'", file=sys.stderr
        )
        return 2
    folder = args.report_dir.resolve() / "dropin-runs"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_stop)
    # each engine's command in a working folder of its own (links to the project's entries), so files a
    # test writes by a relative name do not meet the other engine's
    folders = EngineFolders(Path.cwd(), exclude=(args.report_dir.resolve(),))
    mine = (args.report_dir.resolve(), folders.root)
    before = snapshot(Path.cwd(), mine)
    try:
        if args.serial:
            runs = {e: run_command(e, args, folder, folders.workdir(e)) for e in ENGINES}
        else:
            with ThreadPoolExecutor(len(ENGINES)) as pool:
                futures = {e: pool.submit(run_command, e, args, folder, folders.workdir(e)) for e in ENGINES}
                runs = {e: f.result() for e, f in futures.items()}
        registry = load_registry(args.registry or builtin_folder())
        checks = list(load_report(args.checks)["checks"]) if args.checks else shipped_checks()
    except UsageError as exc:
        print(f"dropin: {exc}", file=sys.stderr)
        return 2
    finally:
        folders.remove()
    outside = changed(before, snapshot(Path.cwd(), mine))
    nodeids = list(dict.fromkeys([*runs["sqlite"].results, *runs["turso"].results]))
    knowledge = Knowledge(registry, checks, load_evidence())
    rows = merge(nodeids, runs, knowledge, folder)
    for run in runs.values():
        if run.stopped_on and (cause := before_any_test(folder, knowledge, run.stopped_on)):
            run.aborted += f"; {cause}"
    known = f"Command: {shlex.join(args.command)}." + outside_text(outside, args.serial)
    name = "dropin"
    if _STOPPED:
        sentence, stop = interrupted(rows, signal.Signals(_STOPPED[0]).name)
        known = sentence + known
        name = "dropin-interrupted"  # beside a complete report, never over it
    doc = redact(build_doc(rows, not args.raw, runs, known))
    if _STOPPED:
        doc["interrupted"] = stop
    write_all(doc, args.report_dir, name)
    for line in summary_lines(doc):
        print(line)
    print(f"report: {args.report_dir}/{name}.json (.md, .html)")
    if _STOPPED:
        return 2
    if not nodeids:
        print(
            "dropin: the command reported no tests on either engine. It is not a unittest or pytest run the "
            "drop-in can read (or its Python lacks stc_harness; see dropin-runs/*.log). Fix: run a "
            "unittest/pytest command with this Python, or make it write JUnit XML to {junit} and pass "
            "--junit-xml.",
            file=sys.stderr,
        )
        return 2
    return 1 if any(r["category"] in ("turso-only", "did-not-run-on-both") for r in rows) else 0
