"""Reusable worker threads, each with a long-lived event loop, that run one coroutine job at a time.

Starting a thread and an event loop for every check cost about 3 s of a 44 s serial libSQL run (mostly
`Thread.start` waiting for the new thread to get the interpreter). A `LoopWorker` keeps its thread and
loop between jobs, but hands the next job a loop with nothing of the last one left on it:

- each job's task runs in a fresh, empty `contextvars.Context` (as on a new thread);
- after the job, every task still pending on the loop is cancelled and drained, and every async
  generator first iterated during the job is closed, within `DRAIN_LIMIT` seconds;
- the loop's exception handler, task factory and debug flag are put back, and a job's `to_thread` /
  `run_in_executor` calls must have finished (the loop's default executor counts them; its threads are
  daemons, so a call stuck in an abandoned check cannot hold the process at exit either).

A worker that cannot be put back so (a task that ignores cancellation, executor work still running,
or a drain that blocks the loop) retires: its loop is closed when it can be and its thread ends, so it is
never reused. A worker whose caller gave up on it (`LoopWorkers.abandon`) retires when, if ever, its job
returns. The threads are daemons: an idle or stuck worker never keeps the process from exiting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import os
import sys
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds a finished job's leftovers (pending tasks, open async generators) get to close.
DRAIN_LIMIT = 1.0
#: Idle workers a process keeps; one more finishing its job then retires.
MAX_IDLE = 4

_Job = tuple[Callable[[], Awaitable[Any]], "concurrent.futures.Future[Any]", str]


class _DaemonExecutor(concurrent.futures.ThreadPoolExecutor):
    """A worker loop's default executor (`to_thread`, `run_in_executor(None, ...)`) on daemon threads.

    A `ThreadPoolExecutor`'s threads are joined at interpreter exit, so one call stuck in a check that
    was abandoned kept the process from ever exiting. These threads are daemons the interpreter does not
    wait for; a thread is started when none is idle (no upper bound: calls never queue behind a stuck
    one), and the executor knows whether any call it was given has not finished (`busy`).
    """

    def __init__(self, name: str) -> None:
        super().__init__(thread_name_prefix=name)  # for the loop's type check; it starts no thread
        self._name = name
        self._calls: SimpleQueue[tuple[concurrent.futures.Future[Any], Callable[[], Any]] | None] = (
            SimpleQueue())
        self._state = threading.Lock()
        self._in_flight = 0
        self._idle = 0
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """Run `fn(*args, **kwargs)` on an idle thread of this executor, or a new one."""
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._state:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._in_flight += 1
            start = self._idle == 0
            if not start:
                self._idle -= 1
            self._calls.put((fut, functools.partial(fn, *args, **kwargs)))
            if start:
                thread = threading.Thread(target=self._run, name=f"{self._name}_{len(self._threads)}",
                                          daemon=True)
                self._threads.append(thread)
        if start:
            thread.start()
        return fut

    def _run(self) -> None:
        while (item := self._calls.get()) is not None:
            fut, call = item
            if fut.set_running_or_notify_cancel():
                try:
                    result = call()
                except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller
                    fut.set_exception(exc)
                else:
                    fut.set_result(result)
            with self._state:
                self._in_flight -= 1
                self._idle += 1

    @property
    def busy(self) -> bool:
        """Whether a call handed to this executor has not finished yet."""
        with self._state:
            return self._in_flight > 0

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the threads end once the calls given so far are done (join them if `wait`)."""
        with self._state:
            first, self._closed = not self._closed, True
            threads = list(self._threads)
        if first:
            for _ in threads:
                self._calls.put(None)
        if wait:
            for thread in threads:
                thread.join()


class LoopWorker:
    """One daemon thread with its own event loop, running the jobs it is given one at a time."""

    def __init__(self, pool: LoopWorkers) -> None:
        self._pool = pool
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self.abandoned = False
        self.jobs_run = 0
        self.thread = threading.Thread(target=self._work, name="conformance: idle worker", daemon=True)
        self.thread.start()

    def submit(self, make: Callable[[], Awaitable[T]], name: str) -> concurrent.futures.Future[T]:
        """Queue `make()` to run on this worker's loop; the future gets its result or exception."""
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((make, fut, name))
        return fut

    def stop(self) -> None:
        """Ask an idle worker to close its loop and end its thread."""
        self._jobs.put(None)

    def _work(self) -> None:
        loop = asyncio.new_event_loop()
        executor = _DaemonExecutor("conformance-executor")
        loop.set_default_executor(executor)
        debug = loop.get_debug()
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    break
                make, fut, name = job
                self.thread.name = f"conformance: {name}"
                self.jobs_run += 1
                if not loop.run_until_complete(self._one(loop, executor, debug, make, fut)):
                    break
        except BaseException:  # noqa: BLE001 - a loop that broke is not reused; the caller has its result
            pass
        finally:
            self._pool._gone(self)
            _refuse_queued(self._jobs)
            # A task that ignored cancellation may block here too: its result is delivered already.
            with contextlib.suppress(BaseException):
                if not loop.is_running():
                    loop.close()

    async def _one(self, loop: asyncio.AbstractEventLoop, executor: _DaemonExecutor, debug: bool,
                   make: Callable[[], Awaitable[Any]], fut: concurrent.futures.Future[Any]) -> bool:
        """Run one job, clear what it left and deliver its outcome; whether the worker is idle again.

        With nothing left (the usual case) the worker is back among the idle ones before the caller
        hears of the result, so the caller's next job finds it; with leftovers the result goes first
        (clearing them may take up to `DRAIN_LIMIT`, or block), and the worker is put back after.
        """
        agens: weakref.WeakSet[AsyncGenerator[Any, Any]] = weakref.WeakSet()
        hooks = sys.get_asyncgen_hooks()  # the loop's own, installed for this run_until_complete

        def firstiter(agen: AsyncGenerator[Any, Any]) -> None:
            agens.add(agen)
            if hooks.firstiter is not None:
                hooks.firstiter(agen)

        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=hooks.finalizer)
        # A fresh, empty context, as a new thread has: nothing a job sets reaches the next one.
        task = contextvars.Context().run(loop.create_task, _capture(make))
        await asyncio.wait({task})
        ok, value = task.result()
        me = asyncio.current_task()
        left = any(t is not me for t in asyncio.all_tasks(loop)) or any(a.ag_frame is not None for a in agens)
        if left:
            _deliver(fut, ok, value)
            clean = await _drain(loop, agens)
        else:
            clean = True
        self.thread.name = "conformance: idle worker"
        loop.set_exception_handler(None)
        loop.set_task_factory(None)
        loop.set_debug(debug)
        back = clean and not executor.busy and self._pool._put_back(self)
        if not left:
            _deliver(fut, ok, value)
        return back


async def _capture(make: Callable[[], Awaitable[Any]]) -> tuple[bool, Any]:
    """Run a job: (True, its result) or (False, what it raised, `BaseException`s included)."""
    try:
        return True, await make()
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller as it is
        return False, exc


def _refuse_queued(jobs: SimpleQueue[_Job | None]) -> None:
    """Fail the jobs queued to a worker that retired (the pool gives jobs to idle workers only)."""
    while not jobs.empty():
        job = jobs.get_nowait()
        if job is not None:
            _deliver(job[1], False, RuntimeError("the worker retired before running this job"))


def _deliver(fut: concurrent.futures.Future[Any], ok: bool, value: Any) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):  # the caller gave up already
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


async def _drain(loop: asyncio.AbstractEventLoop, agens: weakref.WeakSet[AsyncGenerator[Any, Any]]) -> bool:
    """Cancel the tasks a job left, then close its async generators, within `DRAIN_LIMIT`; all done?"""
    me = asyncio.current_task()
    end = loop.time() + DRAIN_LIMIT
    left = {t for t in asyncio.all_tasks(loop) if t is not me}
    for task in left:
        task.cancel()
    if left:
        _, pending = await asyncio.wait(left, timeout=DRAIN_LIMIT)
        _retrieve(left - pending)
        if pending:
            return False
    closing = {loop.create_task(agen.aclose()) for agen in list(agens) if agen.ag_frame is not None}
    if closing:
        _, pending = await asyncio.wait(closing, timeout=max(0.0, end - loop.time()))
        _retrieve(closing - pending)
        if pending:
            return False
    return not {t for t in asyncio.all_tasks(loop) if t is not me}


def _retrieve(done: set[asyncio.Task[Any]]) -> None:
    """Mark done tasks' exceptions as seen: a leftover's error is not logged during a later job."""
    for task in done:
        if not task.cancelled():
            task.exception()


class LoopWorkers:
    """A process's idle `LoopWorker`s: `take` one (or a new one), `abandon` one whose caller gave up."""

    def __init__(self, max_idle: int = MAX_IDLE) -> None:
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[LoopWorker] = []
        self.started = 0

    def take(self) -> LoopWorker:
        """An idle worker, or a new one when none is idle; it is the caller's until its job is done."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.started += 1
        return LoopWorker(self)

    def abandon(self, worker: LoopWorker) -> None:
        """Never reuse `worker` (its job outlived its deadline); it retires if its job ever returns."""
        with self._lock:
            worker.abandoned = True
            if worker in self._idle:  # the job returned just after the deadline
                self._idle.remove(worker)
                worker.stop()

    def idle(self) -> list[LoopWorker]:
        """The workers waiting for a job now."""
        with self._lock:
            return list(self._idle)

    def _put_back(self, worker: LoopWorker) -> bool:
        with self._lock:
            if worker.abandoned or len(self._idle) >= self.max_idle:
                return False
            self._idle.append(worker)
            return True

    def _gone(self, worker: LoopWorker) -> None:
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)

    def _forget(self) -> None:
        """After a fork: the child has none of the parent's threads."""
        self._lock = threading.Lock()
        self._idle = []


#: The process's workers (`stc_harness.safety.hard_timeout` runs every check on one).
WORKERS = LoopWorkers()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WORKERS._forget)
