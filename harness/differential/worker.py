"""Running an engine in its own worker process, so a driver that aborts or hangs cannot end the hunt.

pyturso 0.8.3 aborts the whole process on some statements (a Rust panic that cannot unwind), which a
thread cannot survive. The worker publishes which case and statement it is on in shared memory; when
it dies or stops answering, the parent records that statement as `CRASH` or `HANG` (with the tail of
the worker's stderr, where the panic message is), starts a fresh worker, and re-runs the rest of the
batch, so the results are the same as if nothing had happened. Separate processes also let the two
engines run in parallel on two cores instead of taking turns on one interpreter lock.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from harness.differential.case import Runnable
from harness.differential.normalise import Outcome

CRASH = "CRASH"
HANG = "HANG"
NOT_RUN = "NOT_RUN"


class WireStmt(NamedTuple):
    """A statement as sent to a worker."""

    text: str
    ordered: bool
    counted: bool

    def sql(self) -> str:
        """The SQL text."""
        return self.text


class WireCase(NamedTuple):
    """A case as sent to a worker."""

    stateful: bool
    statements: tuple[WireStmt, ...]


def to_wire(case: Runnable) -> WireCase:
    """The picklable form of a case."""
    return WireCase(case.stateful, tuple(WireStmt(s.sql(), s.ordered, s.counted) for s in case.statements))


class _SharedProgress:
    """`run_cases` progress written into shared memory (case index, statement index)."""

    def __init__(self, cells: Any) -> None:
        self.cells = cells

    @property
    def index(self) -> int:
        return int(self.cells[0])

    @index.setter
    def index(self, value: int) -> None:
        self.cells[0] = value
        self.cells[1] = -1

    def statement(self, value: int) -> None:
        self.cells[1] = value


def serve(conn: Connection, engine_name: str, cells: Any, stderr_path: str) -> None:
    """Worker main loop: receive batches, run them, send back (obs, message) per statement."""
    from harness.differential.engines import engine, run_cases

    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    eng = engine(engine_name)
    progress = _SharedProgress(cells)
    while True:
        try:
            batch = conn.recv()
        except EOFError:
            return
        if batch is None:
            return
        out = run_cases(eng, batch, progress)
        conn.send((out, time.process_time()))


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        ctx.set_forkserver_preload(["harness.differential.worker", "harness.differential.engines"])
    return ctx


def death_of(exitcode: int | None) -> str:
    """How a process ended, in words (`killed by SIGABRT`, `exited with status 1`)."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-exitcode).name}"
        return f"killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


class ProcessExecutor:
    """One engine in a worker process: `run(cases)` blocks (call it from a lane)."""

    def __init__(self, engine_name: str, timeout: float = 30.0, spec: str = "") -> None:
        self.name = engine_name
        self.spec = spec or engine_name
        self.timeout = timeout
        self.restarts = 0
        self.cpu = 0.0  # CPU seconds of finished workers, plus the live one's last report
        self._cpu_live = 0.0
        self._ctx = _context()
        self._cells = self._ctx.Array("q", 2, lock=False)
        fd, self._stderr = tempfile.mkstemp(prefix=f"hunt-{engine_name}-", suffix=".stderr")
        os.close(fd)
        self._proc: Any = None
        self._conn: Connection | None = None

    def _start(self) -> None:
        self._cpu_live = 0.0
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=serve, args=(child, self.spec, self._cells, self._stderr),
                                       daemon=True, name=f"hunt-{self.name}")
        self._proc.start()
        child.close()
        self._conn = parent

    def _stop(self, kill: bool) -> str:
        proc, self._proc = self._proc, None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if proc is None:
            return ""
        if kill and proc.is_alive():
            proc.kill()
        proc.join(5)
        return death_of(proc.exitcode)

    def _stderr_tail(self) -> str:
        try:
            with open(self._stderr, encoding="utf-8", errors="replace") as fh:
                lines = [ln.strip() for ln in fh.read().splitlines() if ln.strip()]
        except OSError:
            return ""
        start = next((i for i, ln in enumerate(lines) if "panicked at" in ln), None)
        if start is None:
            return " | ".join(lines[-3:])[:400]
        useful = []
        for ln in lines[start:start + 4]:
            if ln.startswith(("stack backtrace", "note:")):
                break
            useful.append(ln)
        return " | ".join(useful)[:400]

    def _attempt(self, wire: list[WireCase]) -> tuple[list[list[Outcome]] | None, int, int, str]:
        """Run a batch once: (outcomes, -1, -1, "") or (None, case, statement, why) when the worker died."""
        if self._proc is None or not self._proc.is_alive():
            self._start()
        assert self._conn is not None
        self._cells[0], self._cells[1] = -1, -1
        try:
            self._conn.send(wire)
            if self._conn.poll(self.timeout):
                raw, cpu = self._conn.recv()
                self.cpu += cpu - self._cpu_live
                self._cpu_live = cpu
                return raw, -1, -1, ""
            case, stmt = int(self._cells[0]), int(self._cells[1])
            why = f"{HANG}: no answer within {self.timeout:g}s; worker {self._stop(kill=True)}"
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            case, stmt = int(self._cells[0]), int(self._cells[1])
            why = f"{CRASH}: worker {self._stop(kill=True)}"
        self.restarts += 1
        tail = self._stderr_tail()
        return None, case, stmt, why + (f": {tail}" if tail else "")

    def run(self, cases: Sequence[Runnable]) -> list[list[Outcome]]:
        """Run a batch; a statement that kills or hangs the worker becomes a CRASH or HANG outcome."""
        wire = [to_wire(c) for c in cases]
        results: dict[int, list[Outcome]] = {}
        todo = list(range(len(wire)))
        while todo:
            out, bad, stmt, why = self._attempt([wire[i] for i in todo])
            if out is not None:
                results.update(zip(todo, out, strict=True))
                break
            if not 0 <= bad < len(todo):
                raise RuntimeError(f"the {self.name} worker died before running any case ({why})")
            victim = todo[bad]
            results[victim] = self._isolate(wire[victim], stmt, why)
            todo = todo[:bad] + todo[bad + 1:]
        return [results[i] for i in range(len(wire))]

    def _isolate(self, case: WireCase, stmt: int, why: str) -> list[Outcome]:
        """Outcomes of a case that killed the worker at statement `stmt`: the prefix re-run, then death."""
        stmt = max(stmt, 0)
        prefix: list[Outcome] = []
        if stmt > 0:
            out, _, _, _ = self._attempt([WireCase(case.stateful, case.statements[:stmt])])
            prefix = out[0] if out is not None else [Outcome({"error": NOT_RUN})] * stmt
        kind = HANG if why.startswith(HANG) else CRASH
        rest = [Outcome({"error": NOT_RUN})] * (len(case.statements) - stmt - 1)
        return [*prefix, Outcome({"error": kind}, why), *rest]

    def close(self) -> None:
        """Stop the worker and remove its stderr file."""
        if self._conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                self._conn.send(None)
        self._stop(kill=False)
        with contextlib.suppress(OSError):
            os.unlink(self._stderr)
