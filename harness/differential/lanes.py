"""A lane: one daemon thread per backend that runs blocking calls in order, returning futures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")
_STOP = object()


class Lane:
    """Runs callables one at a time on its own daemon thread (a hung call never blocks exit)."""

    def __init__(self, name: str) -> None:
        self._queue: SimpleQueue[tuple[Future[Any] | None, Any]] = SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            fut, fn = self._queue.get()
            if fn is _STOP:
                return
            assert fut is not None
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - a panic must reach the caller, not kill the lane
                fut.set_exception(exc)

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Queue `fn`; its future settles when the lane has run it."""
        fut: Future[T] = Future()
        self._queue.put((fut, fn))
        return fut

    def stop(self) -> None:
        """Finish after the calls already queued."""
        self._queue.put((None, _STOP))
