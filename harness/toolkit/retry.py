"""Retry a unit of work on serialization failures, a bounded number of times, counting every attempt.

A unit of work is an `async def` with no arguments that does the whole transaction (BEGIN ... COMMIT,
e.g. `async with conn.transaction(): ...`), so a retry starts from a clean slate. Only errors whose
kind is retryable (by default `SERIALIZATION_FAILURE`, the signal `001_312a5f9792b0f890.txt` calls
"the same retry signal PostgreSQL emits for 40001") are retried; anything else propagates at once.
Between attempts the helper only yields to the event loop (or runs `before_retry`): it never sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from stc_harness.errors import DatabaseError, ErrorKind, HarnessError

T = TypeVar("T")

#: The error kinds retried unless told otherwise.
RETRYABLE: frozenset[ErrorKind] = frozenset({ErrorKind.SERIALIZATION_FAILURE})

Work = Callable[[], Awaitable[T]]
BeforeRetry = Callable[[int, DatabaseError], Awaitable[None]]


class RetriesExhausted(HarnessError):
    """Every allowed attempt failed with a retryable error; `last` is the final one."""

    def __init__(self, attempts: int, last: DatabaseError) -> None:
        super().__init__(f"gave up after {attempts} attempt(s); last error: {last.kind.value}: "
                         f"{last.raw.message}")
        self.attempts = attempts
        self.last = last


@dataclass(frozen=True)
class Attempted(Generic[T]):
    """A call that succeeded: its value, how many attempts it took, and the retryable errors before."""

    value: T
    attempts: int
    failures: tuple[DatabaseError, ...] = ()

    @property
    def retries(self) -> int:
        """Attempts beyond the first."""
        return self.attempts - 1


async def _yield(_attempt: int, _error: DatabaseError) -> None:
    await asyncio.sleep(0)


def _check_max(max_attempts: int) -> int:
    if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or max_attempts < 1:
        raise ValueError(f"max_attempts must be a whole number of at least 1, got {max_attempts!r}")
    return max_attempts


async def retry(work: Work[T], *, max_attempts: int = 5, kinds: Iterable[ErrorKind] = RETRYABLE,
                before_retry: BeforeRetry | None = None) -> Attempted[T]:
    """Run `work` until it succeeds or `max_attempts` retryable failures; raise `RetriesExhausted` then.

    A `DatabaseError` of another kind, or any other exception, propagates from the attempt it came from.
    `before_retry(attempt_number, error)` runs before each new attempt (default: one event-loop yield).
    """
    limit = _check_max(max_attempts)
    retry_on = frozenset(kinds)
    hook = before_retry or _yield
    failures: list[DatabaseError] = []
    for attempt in range(1, limit + 1):
        try:
            value = await work()
        except DatabaseError as exc:
            if exc.kind not in retry_on:
                raise
            failures.append(exc)
            if attempt == limit:
                raise RetriesExhausted(attempt, exc) from exc
            await hook(attempt, exc)
            continue
        return Attempted(value, attempt, tuple(failures))
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class RetryStats:
    """What a `Retrier` did over all its calls; `accounted` says every attempt has exactly one outcome."""

    calls: int = 0
    succeeded: int = 0
    exhausted: int = 0
    other_errors: int = 0
    attempts: int = 0
    retryable_failures: int = 0
    attempts_per_call: list[int] = field(default_factory=list)

    @property
    def retries(self) -> int:
        """Attempts beyond the first of each call."""
        return self.attempts - self.calls

    @property
    def accounted(self) -> bool:
        """Every attempt either succeeded, failed retryably, or ended its call with another error."""
        return (self.attempts == self.succeeded + self.retryable_failures + self.other_errors
                and self.calls == self.succeeded + self.exhausted + self.other_errors
                and sum(self.attempts_per_call) == self.attempts
                and len(self.attempts_per_call) == self.calls)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (for `ctx.note`): totals, the most attempts one call took, and a histogram."""
        histogram: dict[str, int] = {}
        for n in sorted(self.attempts_per_call):
            histogram[str(n)] = histogram.get(str(n), 0) + 1
        return {"calls": self.calls, "succeeded": self.succeeded, "exhausted": self.exhausted,
                "other_errors": self.other_errors, "attempts": self.attempts, "retries": self.retries,
                "retryable_failures": self.retryable_failures,
                "max_attempts_one_call": max(self.attempts_per_call, default=0),
                "attempts_histogram": histogram}


class Retrier:
    """`retry` with one policy for many calls, recording how many attempts each call took."""

    def __init__(self, *, max_attempts: int = 5, kinds: Iterable[ErrorKind] = RETRYABLE,
                 before_retry: BeforeRetry | None = None) -> None:
        self.max_attempts = _check_max(max_attempts)
        self.kinds = frozenset(kinds)
        self.before_retry = before_retry
        self.stats = RetryStats()

    async def attempt(self, work: Work[T]) -> Attempted[T]:
        """Run `work` with retries; record the call (also when it gives up or fails otherwise)."""
        attempts = 0

        async def counted() -> T:
            nonlocal attempts
            attempts += 1
            return await work()

        stats = self.stats
        stats.calls += 1
        try:
            done = await retry(counted, max_attempts=self.max_attempts, kinds=self.kinds,
                               before_retry=self.before_retry)
        except RetriesExhausted:
            stats.exhausted += 1
            stats.retryable_failures += attempts
            raise
        except BaseException:
            stats.other_errors += 1
            stats.retryable_failures += attempts - 1
            raise
        finally:
            stats.attempts += attempts
            stats.attempts_per_call.append(attempts)
        stats.succeeded += 1
        stats.retryable_failures += done.attempts - 1
        return done

    async def run(self, work: Work[T]) -> T:
        """Run `work` with retries and return its value."""
        return (await self.attempt(work)).value
