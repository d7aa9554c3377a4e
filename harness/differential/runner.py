"""The differential runner: a batch of cases on every backend at once, one lane (thread) per backend.

By default each backend runs in its own worker process (`stc_harness.differential.worker`), driven from
its lane, so a driver that aborts or hangs becomes a finding instead of ending the hunt, and the two
engines really run in parallel; `isolate=False` runs the raw drivers in the lane threads themselves.
Either way a batch is one trip per backend, never one hop per statement.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol

from stc_harness.differential.case import Runnable
from stc_harness.differential.compare import first_disagreement
from stc_harness.differential.engines import Engine, Progress, run_packed
from stc_harness.differential.lanes import Lane
from stc_harness.differential.normalise import Outcome
from stc_harness.differential.wire import Packed, WireBatch, unpack
from stc_harness.differential.worker import ProcessExecutor

#: After this many batches, the backends with time to spare get a lower priority (`_yield_fast_backends`).
PRIORITY_AFTER = 4


class BatchTimeout(Exception):
    """A backend running in a thread did not finish a batch in time (a thread cannot be killed)."""

    def __init__(self, backend: str, case: Runnable | None, seconds: float) -> None:
        where = f" on case:\n{case.script()}" if case is not None else ""
        super().__init__(f"{backend} did not finish a batch within {seconds:g}s{where}; "
                         "run with worker processes (the default) to turn hangs into findings")
        self.backend = backend
        self.case = case


class Executor(Protocol):
    """Runs a batch of cases on one backend (blocking; called from the backend's lane)."""

    name: str
    cpu: float

    def send(self, batch: WireBatch) -> None:
        """Queue a batch (from the thread that submits)."""
        ...

    def receive(self) -> list[Packed]:
        """The outcomes of the oldest batch queued, each case's packed (`wire.unpack` reads them)."""
        ...

    def warm(self) -> None:
        """Get ready to run (start a worker process); the first batch would do it otherwise."""
        ...

    def yield_cpu(self) -> None:
        """Run at a lower scheduling priority (a backend with time to spare)."""
        ...

    def close(self) -> None:
        """Release the backend."""
        ...


class ThreadExecutor:
    """The raw driver in the lane thread itself (no isolation: an abort ends the process)."""

    def __init__(self, eng: Engine) -> None:
        self.eng = eng
        self.name = eng.name
        self.progress = Progress()
        self.cpu = 0.0
        self.queued: deque[WireBatch] = deque()

    def send(self, batch: WireBatch) -> None:
        """Queue the batch (it runs in `receive`)."""
        self.queued.append(batch)

    def receive(self) -> list[Packed]:
        """Run the oldest batch queued, in the calling thread."""
        batch = self.queued.popleft()
        start = time.thread_time()
        try:
            return run_packed(self.eng, batch.cases, self.progress)
        finally:
            self.cpu += time.thread_time() - start

    def warm(self) -> None:
        """Nothing to start."""

    def yield_cpu(self) -> None:
        """Nothing to lower: it shares this process."""

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class Disagreement:
    """A case on which a backend disagrees with the reference: the statement and the kind."""

    case: Any
    backend: str
    index: int
    kind: str
    outcomes: dict[str, list[Outcome]]

    @property
    def statement_kind(self) -> str:
        """What the disagreeing statement does (`expr`, `insert`, `affinity-store`...)."""
        stmts = self.case.statements
        return str(stmts[min(self.index, len(stmts) - 1)].kind)


@dataclass
class Stats:
    """Counters for the throughput figure."""

    cases: int = 0
    statements: int = 0
    batches: int = 0
    busy: dict[str, float] = field(default_factory=dict)


@dataclass
class Ticket:
    """A submitted batch: its cases and each backend's pending result."""

    cases: list[Runnable]
    futures: dict[str, Future[tuple[list[Packed], float]]]
    count: bool
    statements: int = 0


class DifferentialRunner:
    """Runs batches on every backend concurrently and compares each backend with the reference."""

    def __init__(self, engines: Sequence[Engine], reference: str, isolate: bool = True,
                 timeout: float = 10.0) -> None:
        names = [e.name for e in engines]
        if reference not in names:
            raise ValueError(f"reference {reference!r} is not among the backends {names}")
        self.reference = reference
        self.timeout = timeout
        self.isolate = isolate
        self.stats = Stats()
        self.executors: dict[str, Executor] = {
            e.name: ProcessExecutor(e.name, timeout, e.spec) if isolate else ThreadExecutor(e)
            for e in engines}
        self.lanes = {name: Lane(f"hunt-{name}") for name in self.executors}

    @staticmethod
    def _timed(ex: Executor) -> tuple[list[Packed], float]:
        start = time.perf_counter()
        out = ex.receive()
        return out, time.perf_counter() - start

    def start_warm(self) -> list[Future[None]]:
        """Start every backend's worker at once (`warm`); wait on the futures before timing a stream."""
        return [self.lanes[name].submit(ex.warm) for name, ex in self.executors.items()]

    def submit(self, cases: Sequence[Runnable], count: bool = True) -> Ticket:
        """Start a batch on every backend (one trip each) without waiting for it."""
        batch = list(cases)
        wire = WireBatch(batch, pickled=self.isolate)
        futures = {}
        for name, ex in self.executors.items():
            ex.send(wire)  # a worker process gets it now; its lane only collects the answer
            futures[name] = self.lanes[name].submit(lambda ex=ex: self._timed(ex))  # type: ignore[misc]
        return Ticket(batch, futures, count, wire.statements)

    @staticmethod
    def done(ticket: Ticket) -> bool:
        """Whether every backend has finished the batch (`wait` would not block)."""
        return all(fut.done() for fut in ticket.futures.values())

    def wait_packed(self, ticket: Ticket) -> dict[str, list[Packed]]:
        """The packed outcomes of a submitted batch, by backend (in backend order), per case."""
        results: dict[str, list[Packed]] = {}
        limit = None if self.isolate else self.timeout * max(1, len(ticket.cases))
        for name, fut in ticket.futures.items():
            try:
                out, took = fut.result(timeout=limit)
            except FutureTimeout:
                ex = self.executors[name]
                idx = ex.progress.index if isinstance(ex, ThreadExecutor) else -1
                raise BatchTimeout(name, ticket.cases[idx] if 0 <= idx < len(ticket.cases) else None,
                                   limit or 0.0) from None
            results[name] = out
            if ticket.count:
                self.stats.busy[name] = self.stats.busy.get(name, 0.0) + took
        if ticket.count:
            self.stats.batches += 1
            self.stats.cases += len(ticket.cases)
            self.stats.statements += ticket.statements
            if self.stats.batches == PRIORITY_AFTER:
                self._yield_fast_backends()
        return results

    def _yield_fast_backends(self) -> None:
        """Backends using well under the slowest one's CPU time yield the CPU to it (and to generation):
        their results are only needed when a batch is compared, so they can wait; the slowest cannot."""
        cpu = self.cpu()
        slowest = max(cpu.values())
        for name, ex in self.executors.items():
            if cpu[name] * 5 < slowest * 4:
                ex.yield_cpu()

    def wait(self, ticket: Ticket) -> list[dict[str, list[Outcome]]]:
        """The outcomes of a submitted batch, by backend, per case."""
        results = self.wait_packed(ticket)
        return [{name: unpack(results[name][i]) for name in results} for i in range(len(ticket.cases))]

    def run(self, cases: Sequence[Runnable], count: bool = True) -> list[dict[str, list[Outcome]]]:
        """Run a batch on every backend and wait for it."""
        return self.wait(self.submit(cases, count))

    def run_backend(self, name: str, cases: Sequence[Runnable]) -> list[list[Outcome]]:
        """Run a batch on one backend only (signature probes)."""
        ex = self.executors[name]
        ex.send(WireBatch(cases, pickled=self.isolate))
        return [unpack(p) for p in self.lanes[name].submit(ex.receive).result()]

    def compare(self, case: Runnable, outcomes: dict[str, list[Outcome]]) -> list[Disagreement]:
        """Every backend's first disagreement with the reference on this case."""
        ref = outcomes[self.reference]
        found = []
        for name, other in outcomes.items():
            if name == self.reference:
                continue
            hit = first_disagreement(ref, other)
            if hit is not None:
                found.append(Disagreement(case, name, hit[0], hit[1], outcomes))
        return found

    def disagreements(self, cases: Sequence[Runnable],
                      results: list[dict[str, list[Outcome]]]) -> list[Disagreement]:
        """Compare a whole batch; every disagreement, in case order."""
        found: list[Disagreement] = []
        for case, outcomes in zip(cases, results, strict=True):
            found.extend(self.compare(case, outcomes))
        return found

    def disagreements_packed(self, cases: Sequence[Runnable],
                             results: dict[str, list[Packed]]) -> list[Disagreement]:
        """`disagreements` on packed outcomes: a case whose observations pickled to the same bytes on
        every backend agrees; any other is unpacked and compared exactly."""
        ref = results[self.reference]
        others = [res for name, res in results.items() if name != self.reference]
        if len(others) == 1:
            differ = [i for i, (a, b) in enumerate(zip(ref, others[0], strict=True)) if a[0] != b[0]]
        else:
            differ = [i for i, packed in enumerate(ref) if any(res[i][0] != packed[0] for res in others)]
        found: list[Disagreement] = []
        for i in differ:
            found.extend(self.compare(cases[i], {name: unpack(res[i]) for name, res in results.items()}))
        return found

    def run_and_compare(self, cases: Sequence[Runnable], count: bool = True) -> list[Disagreement]:
        """Run and compare a batch."""
        batch = list(cases)
        return self.disagreements_packed(batch, self.wait_packed(self.submit(batch, count)))

    def cpu(self) -> dict[str, float]:
        """CPU seconds each backend has used running cases so far (its worker process or its lane)."""
        return {name: ex.cpu for name, ex in self.executors.items()}

    def close(self) -> None:
        """Stop every backend and its lane."""
        for name, ex in self.executors.items():
            self.lanes[name].submit(ex.close)
            self.lanes[name].stop()
