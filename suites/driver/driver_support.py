"""Shared pieces of the driver-layer suites: sources, bounded threads, and plain observations.

A driver check calls the backend's own modules (`ctx.sync_module()`, `ctx.async_module()`) the same way
on every backend. Blocking calls run in a daemon thread with a bounded wait, so a hung driver costs
its check a `timeout` and never blocks the event loop's shutdown (as `asyncio.to_thread` would).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from stc_harness import CheckContext, Source
from stc_harness.observe import canonical

T = TypeVar("T")

#: The documents that state the driver contract.
PYDOC = "Python sqlite3 documentation"
PEP249 = "PEP 249"
#: The stdlib module every driver check is written against (the reference's contract).
STDLIB = sqlite3

#: A private in-memory database: used where a check observes one connection only (no file involved), since
#: a file database costs ~35 ms of fsyncs per commit on this machine and these checks number hundreds.
MEMORY = ":memory:"

#: The longest any single blocking step of a driver check may take (the issue's bound).
STEP_BOUND = 2.0


def pydoc(section: str) -> Source:
    """A section of the Python `sqlite3` documentation (docs.python.org/3/library/sqlite3.html)."""
    return Source(PYDOC, section)


def pep249(section: str) -> Source:
    """A section of PEP 249, the Python Database API Specification v2.0."""
    return Source(PEP249, section)


def make_table(module: Any, path: str) -> None:
    """A database file at `path` holding an empty table `t (x INTEGER)`, made and closed through `module`."""
    conn = module.connect(path)
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    conn.close()


def db_path(ctx: CheckContext, stem: str | None = None) -> str:
    """A fresh database file path in the check's folder (the folder is created; the file is not)."""
    return ctx.url(stem).split(":", 1)[1]


async def blocking(fn: Callable[..., T], *args: Any, bound: float = STEP_BOUND) -> T:
    """Run `fn(*args)` in a daemon thread; wait at most `bound` seconds (then `TimeoutError`)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def run() -> None:
        try:
            settled: tuple[bool, Any] = (True, fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting check as is
            settled = (False, exc)
        # A call that outlived its bound may finish after the check's loop closed: nobody waits any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *settled)

    threading.Thread(target=run, name=f"driver-check-{getattr(fn, '__name__', 'call')}", daemon=True).start()
    try:
        return await asyncio.wait_for(asyncio.shield(future), bound)
    except asyncio.TimeoutError:
        raise TimeoutError(f"the driver call did not return within {bound:g}s") from None


def plain(value: Any) -> Any:
    """A driver value as a comparable observation: rows as lists, driver objects by their class name."""
    if value is None or isinstance(value, (bool, int, float, str, bytes, bytearray, memoryview)):
        return canonical(value)
    if isinstance(value, (dt.date, dt.time)):
        return f"{type(value).__name__}:{value.isoformat()}"
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    kind = type(value).__name__
    if kind == "Row" or all(hasattr(value, a) for a in ("keys", "__getitem__", "__len__")):
        return [plain(v) for v in tuple(value)]
    return f"<{kind}>"


def raised(exc: BaseException) -> dict[str, Any]:
    """An exception as an observation: its class name (module names differ between drivers by design)."""
    return {"raises": type(exc).__name__}


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """`{"ok": plain(fn(...))}`, or `{"raises": ClassName}` for any `Exception` it raises."""
    try:
        return {"ok": plain(fn(*args, **kwargs))}
    except Exception as exc:  # noqa: BLE001 - what the driver raises is the observation
        return raised(exc)


async def aoutcome(fn: Callable[[], Any]) -> dict[str, Any]:
    """`{"ok": plain(await fn())}` (or of `fn()` when it returns no awaitable), or `{"raises": ClassName}`."""
    try:
        value = fn()
        if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future) or hasattr(value, "__await__"):
            value = await asyncio.wait_for(_awaited(value), STEP_BOUND)
        return {"ok": plain(value)}
    except asyncio.TimeoutError:
        raise
    except Exception as exc:  # noqa: BLE001 - what the driver raises is the observation
        return raised(exc)


async def _awaited(value: Any) -> Any:
    return await value


def closing(module: Any, path: str, fn: Callable[[Any], T], **connect: Any) -> T:
    """Open `path` with `module.connect(path, **connect)`, run `fn(conn)`, and close the connection."""
    conn = module.connect(path, **connect)
    try:
        return fn(conn)
    finally:
        with contextlib.suppress(Exception):  # a failing close is not what these checks observe
            conn.close()
