"""The variation mechanism: seeded, bounded, shrunk, pinned (stc_harness.variants)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from hypothesis import strategies as st

from stc_harness import Source, check, variants
from stc_harness.errors import UsageError
from stc_harness.variants import KEY, Neighbourhood, VariantSettings, explore, with_neighbourhood

INTS = st.integers(min_value=0, max_value=10_000)


def _explore(count: int, seed: int, pinned: Any = None) -> tuple[Neighbourhood, list[int]]:
    calls: list[int] = []

    async def backend(case: int) -> Any:
        calls.append(case)
        return {"big": case >= 37 and case % 2 == 1}

    async def reference(case: int) -> Any:
        return {"big": False}

    return asyncio.run(explore(INTS, backend, reference, VariantSettings(count, seed), pinned)), calls


def test_the_first_difference_is_shrunk_to_the_smallest_and_a_seed_repeats_the_run() -> None:
    hood, calls = _explore(50, 3)
    assert hood.minimal is not None
    assert hood.minimal.case == 37
    assert hood.minimal.observed == {"big": True}
    assert hood.minimal.baseline == {"big": False}
    assert hood.first is not None
    assert hood.first.case >= 37
    again, calls_again = _explore(50, 3)
    assert calls == calls_again
    assert again.as_dict() == hood.as_dict()
    assert hood.ran == len(set(calls)) <= 50 * 4


def test_no_difference_leaves_the_observation_alone_and_zero_runs_nothing() -> None:
    async def same(case: int) -> Any:
        return case

    hood = asyncio.run(explore(INTS, same, same, VariantSettings(12, 0)))
    assert hood.minimal is None
    assert hood.ran == 12
    assert with_neighbourhood({"a": 1}, hood) == {"a": 1}
    assert asyncio.run(explore(INTS, same, same, VariantSettings(0, 0))).ran == 0


def test_a_documented_case_stays_the_minimal_one_while_it_differs() -> None:
    hood, calls = _explore(50, 3, pinned=41)
    assert calls[0] == 41
    assert hood.minimal is not None
    assert hood.minimal.case == 41
    assert hood.found is not None
    assert hood.found.case == 37
    assert with_neighbourhood({"a": 1}, hood) == {"a": 1, KEY: {"case": 41, "observed": {"big": True}}}
    gone, _ = _explore(50, 3, pinned=40)  # 40 no longer differs: the search's minimal is reported
    assert gone.minimal is not None
    assert gone.minimal.case == 37


def test_variants_need_params_and_a_reference_baseline() -> None:
    with pytest.raises(UsageError, match="needs params"):
        check(title="t", source=Source("x", "y"), variants=INTS)
    with pytest.raises(UsageError, match="not params"):
        check(title="t", source=Source("x", "y"), params={"a": 1}, variants={"b": INTS})
    with pytest.raises(UsageError, match="isolated"):
        check(title="t", source=Source("x", "y"), params={"a": 1}, variants=INTS, isolated=True)


def test_searches_share_one_thread_and_never_wait_behind_a_stuck_one() -> None:
    """Searches run on one thread per process (Hypothesis sets up each new thread with a full gc); while that
    thread is held by a search a hard timeout abandoned, the next one runs on a thread of its own."""
    names: list[str] = []
    asyncio.run(variants.on_search_thread(lambda: names.append(threading.current_thread().name)))
    asyncio.run(variants.on_search_thread(lambda: names.append(threading.current_thread().name)))
    assert names[0] == names[1]
    assert names[0] == "stc-variants"
    release = threading.Event()
    stuck = variants._SEARCHES.submit(lambda: release.wait(30))  # the search thread, busy
    assert variants._SEARCHING.acquire(blocking=False)  # as on_search_thread holds it while busy
    try:
        asyncio.run(asyncio.wait_for(variants.on_search_thread(
            lambda: names.append(threading.current_thread().name)), 10))
        assert names[2] != "stc-variants"
    finally:
        release.set()
        stuck.result(10)
        variants._SEARCHING.release()
