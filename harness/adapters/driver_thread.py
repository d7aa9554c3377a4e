"""A dedicated thread that runs blocking driver calls for one connection, panics included."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

_STOP = object()


def _settle(fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if fut.done():
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


class DriverThread:
    """Runs callables one at a time on its own thread and hands results back to the event loop.

    Unlike a worker that catches `Exception`, it also catches `BaseException` (a Rust panic in
    pyturso surfaces as `pyo3_runtime.PanicException`, a `BaseException`), so a panic fails the one
    call instead of killing the thread and leaving every later call waiting forever.
    """

    def __init__(self, name: str) -> None:
        self._queue: SimpleQueue[tuple[asyncio.Future[Any] | None, Any]] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            fut, fn = self._queue.get()
            if fn is _STOP:
                return
            if fut is not None and fut.cancelled():
                continue
            try:
                ok, value = True, fn()
            except BaseException as exc:  # noqa: BLE001 - panics must reach the caller
                ok, value = False, exc
            if fut is not None:
                # The loop may have closed while the call ran (a timed-out check): nothing to tell.
                with contextlib.suppress(RuntimeError):
                    fut.get_loop().call_soon_threadsafe(_settle, fut, ok, value)

    async def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the thread and return its result (or raise what it raised)."""
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((fut, fn))
        return await fut

    def stop(self) -> None:
        """Ask the thread to finish after the calls already queued."""
        self._queue.put_nowait((None, _STOP))

    @property
    def alive(self) -> bool:
        """Whether the thread is still running."""
        return self._thread.is_alive()
