"""The hunt: a seeded stream of generated cases, run in batches, disagreements shrunk and deduplicated."""

from __future__ import annotations

import contextlib
import gc
import os
import random
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from stc_harness.differences import Registry
from stc_harness.differential.case import Case
from stc_harness.differential.engines import Engine
from stc_harness.differential.expand import Concrete, Expander
from stc_harness.differential.findings import Finding, classify
from stc_harness.differential.generators import AGGREGATES, CATEGORIES, FUNCTIONS, Plan, plans
from stc_harness.differential.runner import DifferentialRunner, Disagreement, Stats, Ticket
from stc_harness.differential.shrink import shrink_disagreement
from stc_harness.differential.signature import signature
from stc_harness.differential.triage import as_case
from stc_harness.outcomes import SQLITE_BACKENDS


class _Stop(BaseException):
    """Ends the hypothesis stream (a BaseException, so hypothesis neither catches nor shrinks it)."""


@dataclass
class HuntConfig:
    """What to hunt: seed, how many cases, on which backends, and the limits."""

    seed: int
    cases: int
    engines: Sequence[Engine]
    reference: str
    registry: Registry
    categories: Sequence[str] = CATEGORIES
    time_cap: float = 60.0
    max_shrinks: int = 40
    shrink_seconds: float | None = None  # stop shrinking after this long (a time budget); None: no limit
    shrink_rounds: int = 80
    isolate: bool = True
    timeout: float = 10.0
    tracked_only: frozenset[str] = frozenset()  # saved cases that document a finding without a replay
    #: Saved cases by the raw disagreement they were shrunk from (position in this seed's stream, key):
    #: re-run instead of shrunk again (`known_cases`).
    known: dict[tuple[int, tuple[str, ...]], dict[str, Any]] = field(default_factory=dict)


@dataclass
class HuntResult:
    """What a hunt found and how fast it went."""

    findings: list[Finding]
    cases: int = 0
    statements: int = 0
    examples: int = 0
    duplicates: int = 0
    disagreements: int = 0
    distinct_raw: int = 0
    unshrunk: int = 0
    truncated: bool = False
    stream_seconds: float = 0.0
    startup_seconds: float = 0.0
    stream_cpu: float = 0.0
    busy: dict[str, float] = field(default_factory=dict)
    backend_cpu: dict[str, float] = field(default_factory=dict)
    shrink_seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    skipped_functions: list[str] = field(default_factory=list)
    per_category: dict[str, int] = field(default_factory=dict)
    per_family: dict[str, int] = field(default_factory=dict)  # query grammar families reached

    @property
    def compared_per_second(self) -> float:
        """Statements run on every backend and compared, per second of stream wall time."""
        return self.statements / self.stream_seconds if self.stream_seconds else 0.0


def reference_functions(reference: Engine) -> set[str]:
    """Function names the reference engine has (PRAGMA function_list), or every name if it cannot say."""
    conn = reference.open()
    try:
        return {str(row[0]).lower() for row in conn.execute("PRAGMA function_list").fetchall()}
    except Exception:  # noqa: BLE001 - any engine that cannot list them: try every function
        return set(FUNCTIONS) | set(AGGREGATES)
    finally:
        conn.close()


def pre_signature(d: Disagreement) -> tuple[str, ...]:
    """A cheap key on the unshrunk case, so only the first of many alike is shrunk."""
    case = d.case.compiled.template if isinstance(d.case, Concrete) else d.case
    stmt = case.statements[min(d.index, len(case.statements) - 1)]
    root = stmt.slots[0].head() if stmt.slots and case.category in ("expr", "agg") else case.tag
    if case.category == "query":
        root = ""  # the statement's kind names the grammar form; its tag (every form used) is too fine
    return (d.backend, case.category, stmt.kind, root, d.kind)


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - platforms without getloadavg
        return -1.0


#: Batches in flight at once: generation runs ahead of the slowest backend instead of waiting for it,
#: and a faster backend always has the next batch queued. Batches are still collected in order.
PIPELINE = 3


class _Stream:
    """Feeds hypothesis examples to the runner, `PIPELINE` batches in flight while more are generated."""

    def __init__(self, config: HuntConfig, runner: DifferentialRunner, result: HuntResult) -> None:
        self.config = config
        self.runner = runner
        self.result = result
        self.expander = Expander()
        self.seen: set[str] = set()
        self.first: dict[tuple[str, ...], tuple[Disagreement, int]] = {}
        self.counts: dict[tuple[str, ...], int] = {}
        self.pending: deque[tuple[Ticket, int]] = deque()
        self.start = time.perf_counter()

    def example(self, plan: Plan) -> None:
        """One hypothesis example: expand, de-duplicate, submit; then collect the batches that are done."""
        res, cfg = self.result, self.config
        if res.cases >= cfg.cases or time.perf_counter() - self.start > cfg.time_cap:
            res.truncated = res.cases < cfg.cases
            raise _Stop
        rng = random.Random(f"{cfg.seed}:{res.examples}")
        res.examples += 1
        batch: list[Concrete] = []
        seen = self.seen
        for case in self.expander.expand_plan(plan, rng):
            script = case.rendered
            if script in seen:
                res.duplicates += 1
                continue
            seen.add(script)
            batch.append(case)
        batch = batch[: cfg.cases - res.cases]
        for case in batch:
            res.per_category[case.category] = res.per_category.get(case.category, 0) + 1
            if case.category == "query":
                for fam in case.compiled.template.tag.split("+"):
                    res.per_family[fam] = res.per_family.get(fam, 0) + 1
        self.pending.append((self.runner.submit(batch), res.cases))
        res.cases += len(batch)
        self.collect(PIPELINE)

    def collect(self, keep: int = 0) -> None:
        """Record the disagreements of finished batches, oldest first; wait while more than `keep` are out."""
        while self.pending and (len(self.pending) > keep or self.runner.done(self.pending[0][0])):
            ticket, offset = self.pending.popleft()
            for d in self.runner.disagreements_packed(ticket.cases, self.runner.wait_packed(ticket)):
                key = pre_signature(d)
                self.counts[key] = self.counts.get(key, 0) + 1
                if key not in self.first and isinstance(d.case, Concrete):
                    at = offset + next(i for i, c in enumerate(ticket.cases) if c is d.case)
                    d.case = d.case.materialise()
                    self.first[key] = (d, at)


def _prepare_generation(strategy: st.SearchStrategy[Plan]) -> None:
    """Do hypothesis's one-off set-up ahead of the stream (validate the strategy): deterministic, and it
    would happen on the first example anyway, so the examples drawn are the same."""
    strategy.validate()


class _EasedCollection:
    """Garbage collection eased while streams run: what exists when the first starts is frozen out of
    collections (hypothesis and the harness, or a whole pytest session) and young objects are collected
    less often; the settings come back when the last stream ends (hunts may run in several threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.streams = 0
        self.threshold = gc.get_threshold()
        self.froze = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        """Ease collection for the duration of the block."""
        with self.lock:
            self.streams += 1
            if self.streams == 1:
                self.threshold = gc.get_threshold()
                self.froze = gc.get_freeze_count() == 0  # never unfreeze what someone else froze
                if self.froze:
                    gc.freeze()
                gc.set_threshold(self.threshold[0] * 20, *self.threshold[1:])
        try:
            yield
        finally:
            with self.lock:
                self.streams -= 1
                if self.streams == 0:
                    gc.set_threshold(*self.threshold)
                    if self.froze:
                        gc.unfreeze()


_fewer_collections = _EasedCollection()


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Keep hypothesis from mixing literals of the loaded project modules into its draws.

    Hypothesis now and then draws a constant found in the source of any "local" module in
    `sys.modules`. Which modules are loaded differs between the CLI, a serial pytest run and an xdist
    worker, and any edit to the project changes their literals, so without this a seed would not name
    one case stream. Uses a private hook; where it is absent (another hypothesis), nothing to do.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a hypothesis without the module
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    if original is None or cache is None:  # pragma: no cover - a hypothesis without the feature
        yield
        return
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


def known_cases(cases: dict[str, dict[str, Any]],
                seed: int) -> dict[tuple[int, tuple[str, ...]], dict[str, Any]]:
    """Saved cases found with `seed`, by every raw disagreement (position, key) they were shrunk from."""
    out = {}
    for case in cases.values():
        found = case.get("found_with", {})
        if found.get("seed") == seed:
            for position, *key in found.get("raw", []):
                out[(int(position), tuple(key))] = case
    return out


def hunt(config: HuntConfig, runner: DifferentialRunner | None = None) -> HuntResult:
    """Run the hunt; deterministic for a given seed and case count (the time cap only truncates).

    `runner`: one already running `config.engines` (a campaign worker keeps its own from seed to seed);
    it is left open. By default the hunt starts its own and closes it.
    """
    owned = runner is None
    if runner is None:
        runner = DifferentialRunner(config.engines, config.reference, config.isolate, config.timeout)
    else:
        runner.stats = Stats()
    cpu_before = runner.cpu()
    try:
        warm_start = time.perf_counter()
        warming = runner.start_warm() if config.cases > 0 else []  # the workers boot meanwhile
        ref = next(e for e in config.engines if e.name == config.reference)
        have = reference_functions(ref)
        functions = sorted(f for f in FUNCTIONS if f in have)
        aggregates = sorted(a for a in AGGREGATES if a in have)
        result = HuntResult([], skipped_functions=sorted({*FUNCTIONS, *AGGREGATES} - have))
        result.load = (_load(), 0.0)
        strategy = plans(functions, aggregates, config.categories)
        _prepare_generation(strategy)
        for fut in warming:
            fut.result()
        result.startup_seconds = time.perf_counter() - warm_start
    except BaseException:
        if owned:
            runner.close()
        raise
    stream = _Stream(config, runner, result)

    @hypothesis_seed(config.seed)
    @settings(max_examples=10**9, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False)
    @given(strategy)
    def generate(plan: Plan) -> None:
        stream.example(plan)

    try:
        cpu_start = time.process_time()
        if config.cases > 0:
            with _fewer_collections(), _no_local_constants():
                with contextlib.suppress(_Stop):
                    generate()
                stream.collect()
        result.stream_seconds = time.perf_counter() - stream.start
        result.stream_cpu = time.process_time() - cpu_start
        result.statements = runner.stats.statements
        result.busy = dict(runner.stats.busy)
        result.backend_cpu = {n: c - cpu_before.get(n, 0.0) for n, c in runner.cpu().items()}
        result.disagreements = sum(stream.counts.values())
        result.distinct_raw = len(stream.first)
        shrink_start = time.perf_counter()
        result.findings = _findings(runner, config, stream.first, stream.counts, result)
        result.shrink_seconds = time.perf_counter() - shrink_start
    finally:
        if owned:
            runner.close()
    classify(result.findings, config.registry, config.tracked_only)
    result.load = (result.load[0], _load())
    return result


def _findings(runner: DifferentialRunner, config: HuntConfig,
              first: dict[tuple[str, ...], tuple[Disagreement, int]],
              counts: dict[tuple[str, ...], int], result: HuntResult) -> list[Finding]:
    by_sig: dict[tuple[str, str], Finding] = {}
    deadline = None if config.shrink_seconds is None else time.perf_counter() + config.shrink_seconds
    # Turso's disagreements first: the shrinking budget goes to them before the SQLite lanes' version gaps
    ordered = sorted(first.items(), key=lambda kv: (kv[0][0] in SQLITE_BACKENDS, kv[1][1]))
    for n, (key, (dis, position)) in enumerate(ordered):
        if n >= config.max_shrinks or (deadline is not None and n and time.perf_counter() > deadline):
            result.unshrunk = len(ordered) - n
            break
        known = _known(runner, config, dis, position, key)
        if known is not None:
            small, sig, rounds, stable = known
        else:
            small, rounds, stable = shrink_disagreement(runner, dis, config.shrink_rounds)
            sig = signature(runner, small)
        found = by_sig.get((small.backend, sig))
        if found is not None:
            found.hits += counts[key]
            found.raw.append((position, key))
            continue
        assert isinstance(small.case, Case)
        by_sig[(small.backend, sig)] = Finding(sig, small.backend, config.reference, small.kind,
                                               small.case, small.index, small.outcomes, counts[key],
                                               position, rounds, stable=stable, raw=[(position, key)])
    return sorted(by_sig.values(), key=lambda f: (f.first_case, f.signature))


def _known(runner: DifferentialRunner, config: HuntConfig, dis: Disagreement, position: int,
           key: tuple[str, ...]) -> tuple[Disagreement, str, int, bool] | None:
    """A raw disagreement a saved case was shrunk from (same seed, position and key): its minimal case
    re-run once instead of shrinking again, if it still disagrees the same way; else None."""
    record = config.known.get((position, key))
    if record is None:
        return None
    case = as_case(record)
    outcomes = runner.run([case], count=False)[0]
    again = [d for d in runner.compare(case, outcomes)
             if d.backend == dis.backend and d.kind == record["kind"] and d.index == record["index"]]
    if not again:
        return None
    return again[0], record["signature"], 0, True
