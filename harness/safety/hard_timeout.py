"""Timeouts that hold whatever the code blocks on: run a coroutine on its own thread and abandon it.

`asyncio.wait_for` only fires when the event loop gets control back. A check that blocks the loop
(`time.sleep`, a driver call made on the loop's thread, a C call that never returns) would hold it for
ever. Here the coroutine runs on a fresh daemon thread with its own loop while the caller waits on a
future with a deadline; past the deadline the thread is abandoned (it holds nothing the run needs) and
the caller gets `HardTimeout`. `stc_harness.safety.exit_guard` makes sure such a thread, or a driver thread it
left stuck, cannot keep the process from exiting.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

#: Threads given up on: still running code that outlived its deadline.
ABANDONED: list[threading.Thread] = []


class HardTimeout(Exception):
    """The coroutine did not finish within its deadline; its thread was abandoned."""


async def run_on_own_thread(make: Callable[[], Awaitable[T]], deadline: float, name: str) -> T:
    """Await `make()` run on a new thread's own event loop; raise `HardTimeout` after `deadline` seconds."""
    fut: concurrent.futures.Future[T] = concurrent.futures.Future()

    async def main() -> None:
        try:
            result = await make()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller as it is
            with contextlib.suppress(concurrent.futures.InvalidStateError):  # the caller gave up already
                fut.set_exception(exc)
        else:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                fut.set_result(result)

    def target() -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(main())
        finally:
            # Closing tasks a body left behind may itself block on a stuck driver: the result is
            # delivered already, so this thread may take as long as it likes.
            with contextlib.suppress(BaseException):
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

    thread = threading.Thread(target=target, name=f"conformance: {name}", daemon=True)
    thread.start()
    try:
        return await asyncio.wait_for(asyncio.wrap_future(fut), deadline)
    except asyncio.TimeoutError:
        ABANDONED.append(thread)
        raise HardTimeout(f"did not return within {deadline:g}s (blocked outside the event loop); "
                          "abandoned") from None
