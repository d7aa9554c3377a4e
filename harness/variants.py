"""Neighbourhoods: a check's inputs drawn from a Hypothesis strategy, seeded, bounded, compared per variant.

A check with `variants=` runs its fixed cases (`params`) as always, and then, on every backend but the
reference, a bounded number of variants drawn from the strategy with a fixed seed, each on the backend
and on the reference. The first variant whose observations differ is shrunk (Hypothesis' own shrinking,
within a budget) to a minimal one. Same seed, same count: same variants, same minimal variant.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import random
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stc_harness.errors import UsageError
from stc_harness.observe import canonical

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

#: Variants per check and backend by default (`--variants` changes it): a run stays seconds.
DEFAULT_COUNT = 12
#: The seed by default (`--variant-seed`).
DEFAULT_SEED = 0
#: Extra distinct variants shrinking may run after the first difference, as a multiple of the count.
SHRINK_FACTOR = 3
#: Key added to a check's observation when a variant differs from the reference.
KEY = "neighbourhood"

#: What one variant gives: a comparable outcome (the observation, or `{"status": ...}` when not ok).
Outcome = Any
RunCase = Callable[[Any], Awaitable[Outcome]]


@dataclass(frozen=True)
class VariantSettings:
    """How many variants each check draws, from which seed."""

    count: int = DEFAULT_COUNT
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if self.count < 0:
            raise UsageError(f"--variants must be 0 or more, got {self.count}")


@dataclass
class Probe:
    """One variant: its case and the outcomes on the backend and on the reference."""

    case: Any
    observed: Outcome
    baseline: Outcome

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a record."""
        return {"case": canonical(self.case), "observed": self.observed, "baseline": self.baseline}


@dataclass
class Neighbourhood:
    """What the variants of one check on one backend showed."""

    seed: int
    count: int
    ran: int = 0
    differing: int = 0
    first: Probe | None = None
    minimal: Probe | None = None
    found: Probe | None = None
    seen: list[Any] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The record's `variants` field: seed, budget, how many ran and differed, first and minimal."""
        return {"seed": self.seed, "count": self.count, "ran": self.ran, "differing": self.differing,
                "first": self.first.as_dict() if self.first else None,
                "minimal": self.minimal.as_dict() if self.minimal else None,
                "found": self.found.as_dict() if self.found else None}

    def sentence(self, backend: str, reference: str) -> str:
        """The difference in words a user understands, or '' when every variant agreed."""
        if self.minimal is None:
            return ""
        m = self.minimal
        first = ("" if self.first is None or _key(self.first.case) == _key(m.case)
                 else f" (first differing variant: {canonical(self.first.case)!r})")
        also = ("" if self.found is None or _key(self.found.case) == _key(m.case)
                else f"; this run's search also shrank to {canonical(self.found.case)!r}: {backend} observed "
                     f"{self.found.observed!r}, {reference} {self.found.baseline!r}")
        return (f"{self.ran} variants ran (seed {self.seed}, shrinking included), {self.differing} "
                f"differed; the smallest, {canonical(m.case)!r}{first}: {backend} observed "
                f"{m.observed!r}, {reference} {m.baseline!r}{also}")


def _key(case: Any) -> str:
    return json.dumps(canonical(case), sort_keys=True)


def with_neighbourhood(observation: Any, hood: Neighbourhood) -> Any:
    """The check's compared observation: unchanged when every variant agreed, else with the minimal one."""
    if hood.minimal is None:
        return observation
    extra = {"case": canonical(hood.minimal.case), "observed": hood.minimal.observed}
    if isinstance(observation, dict) and KEY not in observation:
        return {**observation, KEY: extra}
    return {"fixed": observation, KEY: extra}


class _SearchThread:
    """One daemon thread per process that runs the searches, started on first use: Hypothesis sets up each
    new thread's PRNG with a full `gc.collect()` (40-170 ms in a big process), which a fresh thread per
    search paid every time. A daemon, so an idle one never holds the process at exit."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], None], Future[None]]] = queue.SimpleQueue()
        self._started = False
        self._start_lock = threading.Lock()

    def submit(self, fn: Callable[[], None]) -> Future[None]:
        """Queue `fn`; the future completes when it has run."""
        with self._start_lock:
            if not self._started:
                threading.Thread(target=self._work, name="stc-variants", daemon=True).start()
                self._started = True
        done: Future[None] = Future()
        self._jobs.put((fn, done))
        return done

    def _work(self) -> None:
        while True:
            fn, done = self._jobs.get()
            try:
                fn()
                done.set_result(None)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting check
                done.set_exception(exc)


_SEARCHES = _SearchThread()
_SEARCHING = threading.Lock()


async def on_search_thread(fn: Callable[..., None], *args: Any) -> None:
    """Run `fn(*args)` on the process's search thread; on a thread of its own when that one is still busy
    (a search a hard timeout abandoned never returns it)."""
    if not _SEARCHING.acquire(blocking=False):
        await asyncio.to_thread(fn, *args)
        return

    def run() -> None:
        try:
            fn(*args)
        finally:
            _SEARCHING.release()  # by the thread itself: busy for as long as the search runs

    await asyncio.wrap_future(_SEARCHES.submit(run))


def search(strategy: SearchStrategy[Any], differs: Callable[[Any], bool], seed: int, count: int) -> None:
    """Drive Hypothesis: `count` generated cases from `seed`, then shrink the first one `differs` accepts."""
    if count == 0:
        return
    # Hypothesis is imported when a check has variants, not by every process that imports the harness
    # (the drop-in mode starts it in each Python process of a user's command).
    from hypothesis import HealthCheck, Phase, find
    from hypothesis import settings as hypothesis_settings
    from hypothesis.errors import NoSuchExample

    config = hypothesis_settings(max_examples=count, database=None, deadline=None,
                                 phases=(Phase.generate, Phase.shrink),
                                 suppress_health_check=list(HealthCheck))
    with contextlib.suppress(NoSuchExample):
        find(strategy, differs, settings=config, random=random.Random(seed))


async def explore(strategy: SearchStrategy[Any], on_backend: RunCase, on_reference: RunCase,
                  settings: VariantSettings, pinned: Any = None) -> Neighbourhood:
    """Run the variants of one check: each on the backend and the reference; the first and minimal difference.

    `on_reference` should cache (the reference is the same for every backend). Every distinct case runs
    once; shrinking runs at most `SHRINK_FACTOR * count` further distinct cases, after which unseen
    cases count as agreeing (so the minimal variant is the smallest found within the budget).
    `pinned` is a case the registry documents (the minimal variant of an earlier run): it runs first and,
    while it still differs, stays the minimal one, so another seed or count finds more without
    moving what the registry compares (what the search shrank to is then `found`).
    """
    hood = Neighbourhood(settings.seed, settings.count)
    loop = asyncio.get_running_loop()
    results: dict[str, bool] = {}
    limit = settings.count * (1 + SHRINK_FACTOR)

    async def both(case: Any) -> Probe:
        return Probe(case, await on_backend(case), await on_reference(case))

    def differs(case: Any) -> bool:
        key = _key(case)
        if key in results:
            return results[key]
        if len(results) >= limit:
            return False
        probe = asyncio.run_coroutine_threadsafe(both(case), loop).result()
        hood.ran += 1
        hood.seen.append(case)
        found = json.dumps(probe.observed, sort_keys=True) != json.dumps(probe.baseline, sort_keys=True)
        results[key] = found
        if found:
            hood.differing += 1
            hood.first = hood.first or probe
            hood.minimal = probe  # shrinking only ever accepts a smaller failing case
        return found

    pinned_probe: Probe | None = None
    if pinned is not None and await asyncio.to_thread(differs, pinned):
        pinned_probe = hood.minimal
        hood.first = hood.minimal = None
        hood.differing -= 1
    await on_search_thread(search, strategy, differs, settings.seed, settings.count)
    if pinned_probe is not None:
        hood.found, hood.minimal = hood.minimal, pinned_probe
        hood.differing += 1
        hood.first = hood.first or pinned_probe
    return hood
