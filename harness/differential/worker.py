"""Running an engine in its own worker process, so a driver that aborts or hangs cannot end the hunt.

pyturso 0.8.3 aborts the whole process on some statements (a Rust panic that cannot unwind), which a
thread cannot survive. The worker publishes which case and statement it is on in shared memory; when
it dies or stops answering, the parent records that statement as `CRASH` or `HANG` (with the tail of
the worker's stderr, where the panic message is), starts a fresh worker, re-runs the rest of the
batch and sends it the batches that were queued behind, so the results are the same as if nothing had
happened. Separate processes also let the engines run in parallel on two cores instead of taking
turns on one interpreter lock; batches are queued on a worker ahead of time, so it never waits for
this process (and its interpreter lock) to hand it the next one.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from stc_harness.differential.case import Runnable
from stc_harness.differential.engines import Progress, engine, run_packed
from stc_harness.differential.normalise import Outcome
from stc_harness.differential.tuning import tune_worker
from stc_harness.differential.wire import Packed, WireBatch, WireCase, dumps, pack_outcomes, unpack

#: How much lower a worker's priority is once it yields the CPU (`ProcessExecutor.yield_cpu`).
YIELD_NICENESS = 10
CRASH = "CRASH"
HANG = "HANG"
NOT_RUN = "NOT_RUN"


def serve(conn: Connection, engine_name: str, cells: Any, stderr_path: str) -> None:
    """Worker main loop: receive pickled batches of wire cases, send back each case's outcomes packed."""
    tune_worker()
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    eng = engine(engine_name)
    progress = Progress(cells)
    cells[2] = 1  # imports done: from now on the hang timeout applies
    while True:
        try:
            batch = pickle.loads(conn.recv_bytes())
        except EOFError:
            return
        if batch is None:
            return
        out = run_packed(eng, batch, progress)
        cells[0], cells[1] = -1, -1  # between batches: a death now is on no case (batches queue up)
        conn.send_bytes(dumps((out, time.process_time())))


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        ctx.set_forkserver_preload(["stc_harness.differential.worker", "stc_harness.differential.engines"])
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


#: Longest a worker may take to start (imports), on top of the hang timeout that counts from then.
STARTUP_GRACE = 60.0


class ProcessExecutor:
    """One engine in a worker process.

    `send(batch)` queues a batch on the worker at once (from any thread) and `receive()` (from one
    lane) waits for the answers, oldest first, so the worker always has its next batch at hand and
    never waits for this process to hand it over. When the worker dies or hangs on a batch, `receive`
    records the culprit statement, re-runs the rest of that batch on a fresh worker, and sends that
    worker the batches the dead one had queued. `run(cases)` does one batch and blocks.
    """

    def __init__(self, engine_name: str, timeout: float = 30.0, spec: str = "") -> None:
        self.name = engine_name
        self.spec = spec or engine_name
        self.timeout = timeout
        self.restarts = 0
        self.cpu = 0.0  # CPU seconds of finished workers, plus the live one's last report
        self._cpu_live = 0.0
        self._ctx = _context()
        self._cells = self._ctx.Array("q", 3, lock=False)  # case, statement, started
        fd, self._stderr = tempfile.mkstemp(prefix=f"hunt-{engine_name}-", suffix=".stderr")
        os.close(fd)
        self._proc: Any = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()  # sending, and restarting after a death, one at a time
        self._niceness = 0
        self._queued: deque[tuple[bytes, list[WireCase]]] = deque()  # sent to this worker, not yet answered

    def _start(self) -> None:
        self._cpu_live = 0.0
        self._cells[2] = 0
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=serve, args=(child, self.spec, self._cells, self._stderr),
                                       daemon=True, name=f"hunt-{self.name}")
        self._proc.start()
        child.close()
        self._conn = parent
        self._renice()

    def _answered(self, conn: Connection) -> bool:
        """Whether `conn` has an answer (or EOF) within the hang timeout, counted from the end of the
        worker's start-up: importing the engine on a loaded machine must not look like a hang."""
        deadline = time.monotonic() + STARTUP_GRACE
        while not self._cells[2] and time.monotonic() < deadline:
            if conn.poll(0.05):
                return True
            if self._proc is None or not self._proc.is_alive():
                return conn.poll(0)
        return conn.poll(self.timeout)

    def yield_cpu(self) -> None:
        """Run this worker (and any that replaces it) at a lower scheduling priority than the hunt's
        other processes: it still gets every idle cycle, but not those the critical path needs."""
        self._niceness = YIELD_NICENESS
        self._renice()

    def _renice(self) -> None:
        if self._niceness and self._proc is not None:
            with contextlib.suppress(OSError, AttributeError):  # not allowed, or not a Unix
                ours = os.getpriority(os.PRIO_PROCESS, 0)
                os.setpriority(os.PRIO_PROCESS, self._proc.pid, ours + self._niceness)

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

    def _attempt(self, payload: bytes) -> tuple[list[Packed] | None, int, int, str]:
        """Run a pickled batch once, nothing else queued (lock held): (packed, -1, -1, "") or
        (None, case, statement, why) when the worker died."""
        if self._proc is None or not self._proc.is_alive():
            self._start()
        assert self._conn is not None
        self._cells[0], self._cells[1] = -1, -1
        try:
            self._conn.send_bytes(payload)
            if self._answered(self._conn):
                raw, cpu = pickle.loads(self._conn.recv_bytes())
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

    def warm(self) -> None:
        """Start the worker and wait until it answers (an empty batch), so the first batch finds it ready."""
        before = self.cpu
        with self._lock:
            out, _, _, why = self._attempt(dumps([]))
        if out is None:
            raise RuntimeError(f"the {self.name} worker did not start ({why})")
        self.cpu = before  # start-up (imports) is not running cases

    def run(self, cases: Sequence[Runnable]) -> list[list[Outcome]]:
        """Run a batch; a statement that kills or hangs the worker becomes a CRASH or HANG outcome."""
        return [unpack(p) for p in self.run_packed(WireBatch(cases))]

    def run_packed(self, batch: WireBatch) -> list[Packed]:
        """Run a batch in wire form (nothing else may be in flight); each case's outcomes packed."""
        self.send(batch)
        return self.receive()

    def send(self, batch: WireBatch) -> None:
        """Queue a batch on the worker without waiting for it (`receive` collects the answers in order)."""
        with self._lock:
            self._push(batch.payload or dumps(batch.cases), batch.cases)

    def _push(self, payload: bytes, wire: list[WireCase]) -> None:
        """Send a batch (lock held); a worker that died with batches queued is restarted by `receive`."""
        if not self._queued and (self._proc is None or not self._proc.is_alive()):
            self._start()
            self._cells[0], self._cells[1] = -1, -1
        self._queued.append((payload, wire))
        if self._conn is not None:
            with contextlib.suppress(OSError):  # it died: `receive` notices and sends the batch again
                self._conn.send_bytes(payload)

    def receive(self) -> list[Packed]:
        """The outcomes of the oldest batch sent; a statement that kills or hangs the worker becomes a
        CRASH or HANG outcome, and the rest of the batch still runs."""
        _, wire = self._queued[0]
        conn = self._conn
        death = CRASH
        try:
            if conn is not None and self._answered(conn):
                raw, cpu = pickle.loads(conn.recv_bytes())
                self.cpu += cpu - self._cpu_live
                self._cpu_live = cpu
                self._queued.popleft()
                return raw  # type: ignore[no-any-return]
            death = CRASH if conn is None else HANG
        except (EOFError, OSError):
            death = CRASH
        where = int(self._cells[0]), int(self._cells[1])  # read before the kill, as the worker left them
        proc = self._proc
        if proc is not None and proc.is_alive():
            proc.kill()  # first, so a `send` blocked on the hung worker's full socket fails and lets go
        with self._lock:
            self._queued.popleft()
            later = list(self._queued)
            self._queued.clear()
            results = self._recover(wire, death, *where)
            for payload, queued in later:  # what the dead worker had queued, to its successor
                self._push(payload, queued)
        return results

    def _recover(self, wire: list[WireCase], death: str, bad: int, stmt: int) -> list[Packed]:
        """A batch whose worker died (or hung) on case `bad`, statement `stmt`: the culprit isolated,
        the rest re-run on fresh workers."""
        if death == HANG:
            why = f"{HANG}: no answer within {self.timeout:g}s; worker {self._stop(kill=True)}"
        else:
            why = f"{CRASH}: worker {self._stop(kill=True)}"
        self.restarts += 1
        tail = self._stderr_tail()
        why += f": {tail}" if tail else ""
        results: dict[int, Packed] = {}
        todo = list(range(len(wire)))
        while True:
            if not 0 <= bad < len(todo):
                raise RuntimeError(f"the {self.name} worker died before running any case ({why})")
            victim = todo[bad]
            results[victim] = self._isolate(wire[victim], stmt, why)
            todo = todo[:bad] + todo[bad + 1:]
            if not todo:
                break
            out, bad, stmt, why = self._attempt(dumps([wire[i] for i in todo]))
            if out is not None:
                results.update(zip(todo, out, strict=True))
                break
        return [results[i] for i in range(len(wire))]

    def _isolate(self, case: WireCase, stmt: int, why: str) -> Packed:
        """Outcomes of a case that killed the worker at statement `stmt`: the prefix re-run, then death."""
        stateful, statements = case
        stmt = max(stmt, 0)
        prefix: list[Outcome] = []
        if stmt > 0:
            out, _, _, _ = self._attempt(dumps([(stateful, statements[:stmt])]))
            prefix = unpack(out[0]) if out is not None else [Outcome({"error": NOT_RUN})] * stmt
        kind = HANG if why.startswith(HANG) else CRASH
        rest = [Outcome({"error": NOT_RUN})] * (len(statements) - stmt - 1)
        return pack_outcomes([*prefix, Outcome({"error": kind}, why), *rest])

    def close(self) -> None:
        """Stop the worker and remove its stderr file."""
        if self._conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                self._conn.send_bytes(dumps(None))
        self._stop(kill=bool(self._queued))  # batches still queued: nobody waits for them
        with contextlib.suppress(OSError):
            os.unlink(self._stderr)
