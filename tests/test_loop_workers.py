"""The hard timeout's reusable workers: on time past a block, clean between jobs, fresh after a failure."""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import sys
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from stc_harness.safety import loop_workers
from stc_harness.safety.hard_timeout import ABANDONED, HardTimeout, run_on_own_thread
from stc_harness.safety.loop_workers import LoopWorkers

#: A bound on a hang, not a speed limit: what must never block the test for longer than this.
BOUND = 60.0


@pytest.fixture(autouse=True)
def workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopWorkers]:
    """A pool of this test's own (so no other test's worker is reused), short drains."""
    pool = LoopWorkers()
    monkeypatch.setattr("stc_harness.safety.hard_timeout.WORKERS", pool)
    monkeypatch.setattr(loop_workers, "DRAIN_LIMIT", 0.2)
    yield pool
    for worker in pool.idle():
        worker.stop()


def run(coro: Any) -> Any:
    """Run `coro` on a loop of the test's own, as pytest-asyncio would."""
    return asyncio.run(asyncio.wait_for(coro, BOUND))


async def thread_id() -> threading.Thread:
    return threading.current_thread()  # the object: an ended thread's ident may be reused


async def on_one_worker(workers: LoopWorkers, first: Callable[[], Awaitable[Any]],
                        second: Callable[[], Awaitable[Any]]) -> tuple[Any, Any]:
    """Give one worker two jobs back to back; the second starts once the worker has cleared the first."""
    worker = workers.take()
    one, two = worker.submit(first, "first"), worker.submit(second, "second")
    return await asyncio.wrap_future(one), await asyncio.wrap_future(two)


def test_results_and_exceptions_are_delivered_as_they_are(workers: LoopWorkers) -> None:
    class Stop(BaseException):
        pass

    async def fails(exc: BaseException) -> None:
        raise exc

    async def body() -> None:
        assert await run_on_own_thread(lambda: asyncio.sleep(0, "value"), 5, "ok") == "value"
        error = ValueError("from the body")
        with pytest.raises(ValueError, match="from the body") as caught:
            await run_on_own_thread(lambda: fails(error), 5, "raises")
        assert caught.value is error
        with pytest.raises(Stop):  # a BaseException is handed over too, and the worker survives it
            await run_on_own_thread(lambda: fails(Stop()), 5, "stops")
        assert await run_on_own_thread(lambda: asyncio.sleep(0, 2), 5, "after") == 2
        # the loop's executor (its own daemon threads) hands back results and errors too
        assert await run_on_own_thread(lambda: asyncio.to_thread(sum, [1, 2]), 5, "to_thread") == 3
        with pytest.raises(ZeroDivisionError):
            await run_on_own_thread(lambda: asyncio.to_thread(divmod, 1, 0), 5, "to_thread fails")

    run(body())
    assert workers.started == 1  # every job ran on the one worker


def test_the_worker_is_reused_and_is_not_the_callers_thread(workers: LoopWorkers) -> None:
    async def body() -> set[threading.Thread]:
        return {await run_on_own_thread(thread_id, 5, f"job {n}") for n in range(5)}

    ids = run(body())
    assert len(ids) == 1
    assert threading.current_thread() not in ids
    assert workers.started == 1


def test_a_job_blocked_in_c_past_its_deadline_times_out_on_time_and_the_next_runs_on_a_fresh_worker(
        workers: LoopWorkers) -> None:
    release = threading.Event()
    entered = threading.Event()

    async def blocks() -> threading.Thread:
        entered.set()
        release.wait(BOUND)  # blocks the worker's loop in C, as a stuck driver call does
        return threading.current_thread()

    async def body() -> tuple[threading.Thread, threading.Thread, float]:
        first = await run_on_own_thread(thread_id, 5, "before")
        start = time.monotonic()
        with pytest.raises(HardTimeout, match=r"did not return within 0\.3s"):
            await run_on_own_thread(blocks, 0.3, "blocks")
        took = time.monotonic() - start
        after = await run_on_own_thread(thread_id, 5, "after")
        return first, after, took

    try:
        first, after, took = run(body())
        assert entered.is_set()
        assert took < 0.3 + 5  # on time: the deadline, not the block (60 s), ended it
        assert after is not first  # the blocked worker is never handed another job
        stuck = ABANDONED[-1]
        assert stuck is first
        assert stuck.is_alive()
        assert stuck.name == "conformance: blocks"
        assert workers.started == 2
    finally:
        release.set()
    stuck.join(BOUND)  # once unblocked, the abandoned worker retires instead of going back to the pool
    assert not stuck.is_alive()
    assert all(w.thread is not stuck for w in workers.idle())


def test_a_task_left_behind_is_cancelled_before_the_next_job_starts(workers: LoopWorkers) -> None:
    seen: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            seen.append("leftover cancelled")

    async def leaves_a_task() -> threading.Thread:
        task = asyncio.get_running_loop().create_task(forever())
        await asyncio.sleep(0)  # it is running
        assert not task.done()
        seen.append("first job returns")
        return threading.current_thread()

    async def next_job() -> tuple[threading.Thread, list[str], list[str]]:
        others = [t.get_coro().__qualname__ for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return threading.current_thread(), list(seen), others

    first, (second, seen_then, others) = run(on_one_worker(workers, leaves_a_task, next_job))
    assert first is second  # the same worker, cleared
    assert seen_then == ["first job returns", "leftover cancelled"]
    assert others == ["LoopWorker._one"]  # the worker's own, which runs this job


def test_a_task_that_ignores_cancellation_retires_its_worker(workers: LoopWorkers) -> None:
    stop = threading.Event()

    async def stubborn() -> None:
        while not stop.is_set():
            with pytest.raises(asyncio.CancelledError):
                await asyncio.sleep(3600)

    async def leaves() -> threading.Thread:
        asyncio.get_running_loop().create_task(stubborn())
        await asyncio.sleep(0)
        return threading.current_thread()

    async def body() -> threading.Thread:
        with pytest.raises(RuntimeError, match="the worker retired before running this job"):
            await on_one_worker(workers, leaves, thread_id)  # the second job, queued to it, is refused
        return await run_on_own_thread(thread_id, 5, "next")  # and the pool starts another

    try:
        assert run(body()) is not None
    finally:
        stop.set()
    assert workers.started == 2
    assert workers.idle()[0].jobs_run == 1


def test_an_async_generator_left_open_is_closed_before_the_next_job(workers: LoopWorkers) -> None:
    closed: list[bool] = []
    keep: list[AsyncGenerator[int, None]] = []

    async def numbers() -> AsyncGenerator[int, None]:
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    async def opens() -> threading.Thread:
        gen = numbers()
        keep.append(gen)  # still referenced: only the worker's clearing can close it
        assert await gen.__anext__() == 1
        return threading.current_thread()

    async def next_job() -> tuple[threading.Thread, list[bool]]:
        return threading.current_thread(), list(closed)

    first, (second, closed_then) = run(on_one_worker(workers, opens, next_job))
    assert first is second
    assert closed_then == [True]


VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


def test_context_variables_and_loop_settings_do_not_reach_the_next_job(workers: LoopWorkers) -> None:
    async def sets() -> threading.Thread:
        VAR.set("job 1")
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, _context: None)
        loop.set_debug(True)
        return threading.current_thread()

    async def reads() -> tuple[threading.Thread, str, bool, bool]:
        loop = asyncio.get_running_loop()
        return threading.current_thread(), VAR.get(), loop.get_exception_handler() is None, loop.get_debug()

    async def body() -> tuple[threading.Thread, tuple[threading.Thread, str, bool, bool]]:
        VAR.set("the caller's")  # not seen by a job either (a new thread did not see it)
        return await on_one_worker(workers, sets, reads)

    first, (second, value, default_handler, debug) = run(body())
    assert first is second
    assert (value, default_handler, debug) == ("unset", True, False)


def test_executor_work_still_running_retires_the_worker(workers: LoopWorkers) -> None:
    release = threading.Event()

    async def leaves_thread_work() -> threading.Thread:
        asyncio.get_running_loop().run_in_executor(None, release.wait, BOUND)
        return threading.current_thread()

    async def body() -> None:
        with pytest.raises(RuntimeError, match="the worker retired before running this job"):
            await on_one_worker(workers, leaves_thread_work, thread_id)

    try:
        run(body())
    finally:
        release.set()


def test_no_more_than_max_idle_workers_are_kept(workers: LoopWorkers) -> None:
    workers.max_idle = 2
    gate = threading.Event()

    async def waits() -> None:
        await asyncio.get_running_loop().run_in_executor(None, gate.wait, BOUND)

    async def body() -> None:
        jobs = [asyncio.ensure_future(run_on_own_thread(waits, BOUND, f"job {n}")) for n in range(4)]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(*jobs)

    run(body())
    assert workers.started == 4
    deadline = time.monotonic() + BOUND
    while len(workers.idle()) < 2 and time.monotonic() < deadline:  # the workers put themselves back
        time.sleep(0.01)
    assert len(workers.idle()) == 2


EXITS = """
import asyncio, sys, threading
from stc_harness.safety import exit_guard
from stc_harness.safety.hard_timeout import HardTimeout, run_on_own_thread

DRIVER = sys.argv[1] == "driver"

async def stuck():
    # a non-daemon driver thread that never returns (aiosqlite's is not a daemon), a call stuck in the
    # loop's executor (a ThreadPoolExecutor's would be joined at exit, for ever), and a blocked loop
    if DRIVER:
        threading.Thread(target=threading.Event().wait, name="stuck driver", daemon=False).start()
    asyncio.get_running_loop().run_in_executor(None, threading.Event().wait)
    threading.Event().wait()

async def main():
    try:
        await run_on_own_thread(stuck, 0.3, "stuck check")
    except HardTimeout:
        print("timed out")
    print("next:", await run_on_own_thread(lambda: asyncio.sleep(0, 7), 5, "next check"))

asyncio.run(main())
exit_guard.arm(3)
"""


@pytest.mark.parametrize("driver", [True, False], ids=["stuck-driver", "executor-only"])
def test_the_process_still_exits_with_an_abandoned_worker_and_its_stuck_threads(driver: bool) -> None:
    done = subprocess.run([sys.executable, "-c", EXITS, "driver" if driver else "none"], capture_output=True,
                          text=True, timeout=BOUND, check=False)
    assert done.stdout.splitlines() == ["timed out", "next: 7"], done.stderr
    if driver:  # the exit guard ends the process, with the run's status
        assert done.returncode == 3
        assert "1 thread(s) still blocked at exit (stuck driver)" in done.stderr
    else:  # nothing the interpreter waits for: it exits by itself
        assert done.returncode == 0, done.stderr
        assert "still blocked" not in done.stderr
