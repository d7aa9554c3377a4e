"""Timeouts that hold whatever the code blocks on: run a coroutine on a worker thread and abandon it.

`asyncio.wait_for` only fires when the event loop gets control back. A check that blocks the loop
(`time.sleep`, a driver call made on the loop's thread, a C call that never returns) would hold it for
ever. Here the coroutine runs on a worker thread of its own (`stc_harness.safety.loop_workers`: a
thread and event loop kept between jobs, cleared after each) while the caller waits on a future with a
deadline; past the deadline the worker is abandoned (it holds nothing the run needs, and is never given
another job) and the caller gets `HardTimeout`; the next job runs on another worker.
`stc_harness.safety.exit_guard` makes sure such a thread, or a driver thread it left stuck, cannot keep
the process from exiting.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from stc_harness.safety.loop_workers import WORKERS

T = TypeVar("T")

#: Threads given up on: still running code that outlived its deadline.
ABANDONED: list[threading.Thread] = []


class HardTimeout(Exception):
    """The coroutine did not finish within its deadline; its thread was abandoned."""


async def run_on_own_thread(make: Callable[[], Awaitable[T]], deadline: float, name: str) -> T:
    """Await `make()` run on a worker thread's event loop; raise `HardTimeout` after `deadline` seconds."""
    worker = WORKERS.take()
    fut = worker.submit(make, name)
    try:
        return await asyncio.wait_for(asyncio.wrap_future(fut), deadline)
    except asyncio.TimeoutError:
        WORKERS.abandon(worker)
        ABANDONED.append(worker.thread)
        raise HardTimeout(f"did not return within {deadline:g}s (blocked outside the event loop); "
                          "abandoned") from None
