"""The differential runner: a batch of cases on every backend at once, one lane (thread) per backend.

By default each backend runs in its own worker process (`harness.differential.worker`), driven from
its lane, so a driver that aborts or hangs becomes a finding instead of ending the hunt, and the two
engines really run in parallel; `isolate=False` runs the raw drivers in the lane threads themselves.
Either way a batch is one trip per backend, never one hop per statement.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.differential.case import Runnable
from harness.differential.compare import first_disagreement
from harness.differential.engines import Engine, Progress, run_cases
from harness.differential.lanes import Lane
from harness.differential.normalise import Outcome
from harness.differential.worker import ProcessExecutor


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

    def run(self, cases: Sequence[Runnable]) -> list[list[Outcome]]:
        """Outcomes of every statement of every case."""
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

    def run(self, cases: Sequence[Runnable]) -> list[list[Outcome]]:
        """Run the batch in the calling thread."""
        start = time.thread_time()
        try:
            return run_cases(self.eng, cases, self.progress)
        finally:
            self.cpu += time.thread_time() - start

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
    futures: dict[str, Future[tuple[list[list[Outcome]], float]]]
    count: bool


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
    def _timed(ex: Executor, cases: list[Runnable]) -> tuple[list[list[Outcome]], float]:
        start = time.perf_counter()
        out = ex.run(cases)
        return out, time.perf_counter() - start

    def submit(self, cases: Sequence[Runnable], count: bool = True) -> Ticket:
        """Start a batch on every backend (one trip each) without waiting for it."""
        batch = list(cases)
        futures = {name: self.lanes[name].submit(lambda ex=ex: self._timed(ex, batch))  # type: ignore[misc]
                   for name, ex in self.executors.items()}
        return Ticket(batch, futures, count)

    def wait(self, ticket: Ticket) -> list[dict[str, list[Outcome]]]:
        """The outcomes of a submitted batch, by backend, per case."""
        results: dict[str, list[list[Outcome]]] = {}
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
            self.stats.statements += sum(len(c.statements) for c in ticket.cases)
        return [{name: results[name][i] for name in results} for i in range(len(ticket.cases))]

    def run(self, cases: Sequence[Runnable], count: bool = True) -> list[dict[str, list[Outcome]]]:
        """Run a batch on every backend and wait for it."""
        return self.wait(self.submit(cases, count))

    def run_backend(self, name: str, cases: Sequence[Runnable]) -> list[list[Outcome]]:
        """Run a batch on one backend only (signature probes)."""
        batch = list(cases)
        return self.lanes[name].submit(lambda: self.executors[name].run(batch)).result()

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

    def run_and_compare(self, cases: Sequence[Runnable], count: bool = True) -> list[Disagreement]:
        """Run and compare a batch."""
        return self.disagreements(cases, self.run(cases, count))

    def cpu(self) -> dict[str, float]:
        """CPU seconds each backend has used running cases so far (its worker process or its lane)."""
        return {name: ex.cpu for name, ex in self.executors.items()}

    def close(self) -> None:
        """Stop every backend and its lane."""
        for name, ex in self.executors.items():
            self.lanes[name].submit(ex.close)
            self.lanes[name].stop()
