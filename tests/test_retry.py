"""Unit tests of harness/toolkit/retry.py: bounded attempts, only retryable kinds retried, every attempt
counted."""

from __future__ import annotations

import asyncio

import pytest

from stc_harness.errors import DatabaseError, ErrorKind, RawError
from stc_harness.toolkit.retry import Retrier, RetriesExhausted, RetryStats, retry

pytestmark = pytest.mark.asyncio


def err(kind: ErrorKind = ErrorKind.SERIALIZATION_FAILURE, message: str = "Write-write conflict"
        ) -> DatabaseError:
    return DatabaseError(kind, RawError("fake.Error", message), "fake")


def failing(times: int, kind: ErrorKind = ErrorKind.SERIALIZATION_FAILURE, value: str = "done"):
    calls = {"n": 0}

    async def work() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise err(kind)
        return value

    return work, calls


async def test_first_try_success_takes_one_attempt():
    work, calls = failing(0)
    done = await retry(work)
    assert (done.value, done.attempts, done.retries, done.failures) == ("done", 1, 0, ())
    assert calls["n"] == 1


async def test_serialization_failures_are_retried_and_counted():
    work, calls = failing(3)
    done = await retry(work, max_attempts=5)
    assert (done.value, done.attempts, done.retries) == ("done", 4, 3)
    assert [f.kind for f in done.failures] == [ErrorKind.SERIALIZATION_FAILURE] * 3
    assert calls["n"] == 4


async def test_gives_up_after_max_attempts_with_the_last_error():
    work, calls = failing(10)
    with pytest.raises(RetriesExhausted) as info:
        await retry(work, max_attempts=3)
    assert info.value.attempts == 3
    assert info.value.last.kind is ErrorKind.SERIALIZATION_FAILURE
    assert "gave up after 3 attempt(s)" in str(info.value)
    assert "Write-write conflict" in str(info.value)
    assert calls["n"] == 3


async def test_other_kinds_propagate_at_once():
    work, calls = failing(1, ErrorKind.UNIQUE_VIOLATION)
    with pytest.raises(DatabaseError) as info:
        await retry(work, max_attempts=5)
    assert info.value.kind is ErrorKind.UNIQUE_VIOLATION
    assert calls["n"] == 1


async def test_non_database_errors_propagate_at_once():
    calls = {"n": 0}

    async def work() -> None:
        calls["n"] += 1
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        await retry(work)
    assert calls["n"] == 1


async def test_custom_kinds_and_before_retry_hook():
    work, _ = failing(2, ErrorKind.READ_ONLY)
    seen: list[tuple[int, ErrorKind]] = []

    async def hook(attempt: int, error: DatabaseError) -> None:
        seen.append((attempt, error.kind))

    done = await retry(work, kinds={ErrorKind.READ_ONLY}, before_retry=hook)
    assert done.attempts == 3
    assert seen == [(1, ErrorKind.READ_ONLY), (2, ErrorKind.READ_ONLY)]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
async def test_max_attempts_must_be_a_positive_whole_number(bad):
    work, _ = failing(0)
    with pytest.raises(ValueError, match="max_attempts"):
        await retry(work, max_attempts=bad)
    with pytest.raises(ValueError, match="max_attempts"):
        Retrier(max_attempts=bad)


async def test_retrier_records_each_call_and_accounts_for_every_attempt():
    retrier = Retrier(max_attempts=3)
    ok_first, _ = failing(0, value="a")
    ok_third, _ = failing(2, value="b")
    never, _ = failing(99)
    other, _ = failing(1, ErrorKind.NOT_NULL_VIOLATION)
    assert await retrier.run(ok_first) == "a"
    assert (await retrier.attempt(ok_third)).attempts == 3
    with pytest.raises(RetriesExhausted):
        await retrier.run(never)
    with pytest.raises(DatabaseError):
        await retrier.run(other)
    stats = retrier.stats
    assert (stats.calls, stats.succeeded, stats.exhausted, stats.other_errors) == (4, 2, 1, 1)
    assert stats.attempts_per_call == [1, 3, 3, 1]
    assert (stats.attempts, stats.retries, stats.retryable_failures) == (8, 4, 5)
    assert stats.accounted
    summary = stats.as_dict()
    assert summary["attempts_histogram"] == {"1": 2, "3": 2}
    assert summary["max_attempts_one_call"] == 3


async def test_stats_accounting_detects_a_missing_attempt():
    stats = RetryStats(calls=1, succeeded=1, attempts=2, retryable_failures=0, attempts_per_call=[2])
    assert not stats.accounted


async def test_concurrent_calls_through_one_retrier_are_all_recorded():
    retrier = Retrier(max_attempts=4)
    gate = asyncio.Event()

    async def task(i: int) -> int:
        work, _ = failing(i % 3, value=str(i))
        await gate.wait()
        return (await retrier.attempt(work)).attempts

    tasks = [asyncio.create_task(task(i)) for i in range(9)]
    gate.set()
    attempts = await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert attempts == [1, 2, 3] * 3
    assert retrier.stats.attempts == 18
    assert retrier.stats.accounted
