"""The traced wrappers of the drivers' methods, functions and properties.

Each call is recorded with its arguments, its outcome and the line of the user's code that made it;
reads of a statement's rows are marked on their cursor.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from stc_harness.dropin import left_open
from stc_harness.dropin.trace import (
    FILES_LEFT,
    NOT_AWAITED,
    OK,
    RAISE,
    ROW_READS,
    SIDE_FILES,
    SQL_FIRST,
    TRACER,
    adapter_await,
    internal_caller,
    render,
    render_exception,
    render_sql,
    volatile_sql,
)
from stc_harness.dropin.walls import show_walls

_FETCH = (*ROW_READS, "execute_fetchall")

_QUIET = threading.local()


def args_text(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The arguments of a call as normalised text (the statement first for execute-like methods)."""
    parts: list[str] = []
    for i, value in enumerate(args):
        if i == 0 and method in SQL_FIRST:
            parts.append(render_sql(value))
        elif isinstance(value, type):
            parts.append(value.__name__)
        elif callable(value):
            parts.append("<callable>")
        elif isinstance(value, (list, tuple, dict, str, bytes, int, float, type(None))) or _plain(value):
            parts.append(render(value))
        else:
            parts.append(f"<{type(value).__name__}>")
    parts.extend(
        f"{k}={'<callable>' if callable(v) and not isinstance(v, type) else render(v)}"
        for k, v in sorted(kwargs.items())
    )
    return ", ".join(parts)


def _plain(value: Any) -> bool:
    return type(value).__module__ in ("datetime", "decimal", "pathlib", "uuid")


def _result_text(method: str, result: Any, owner: Any) -> str:
    """A call's result as text (a fetch from a clock- or random-dependent statement: its shape only)."""
    if method in _FETCH:
        return render(result, shape_only=bool(getattr(owner, "_stc_volatile", False)))
    return render(result)


def _mark(owner: Any, method: str, args: tuple[Any, ...], result: Any) -> None:
    """Remember on the cursor its statement, and whether its results depend on the clock or randomness."""
    if method not in SQL_FIRST or not args:
        return
    sql = args[0]
    flag = volatile_sql(str(sql))
    for target in (owner, result):
        if target is None or not hasattr(target, "fetchone"):  # cursors only, never a connection
            continue
        try:
            object.__setattr__(target, "_stc_volatile", flag)
            object.__setattr__(target, "_stc_sql", sql)
        except (AttributeError, TypeError):
            pass


def _fetch_args(owner: Any, leaf: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A fetch is shown with the statement whose rows it reads (and its own arguments, if any)."""
    sql = getattr(owner, "_stc_sql", None)
    own = args_text(leaf, args, kwargs)
    head = f"of {render_sql(sql)}" if sql is not None else ""
    return f"{head}, {own}".strip(", ") if own else head


def _quiet() -> bool:
    return getattr(_QUIET, "depth", 0) > 0


def sync_wrapper(qualname: str, fn: Callable[..., Any], method: bool) -> Callable[..., Any]:
    """`fn` recording one event per call from user code (never for the drivers' own calls)."""
    leaf = qualname.rsplit(".", 1)[-1]

    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        if not TRACER.enabled or _quiet() or internal_caller(frame):
            result = fn(*args, **kwargs)
            if method and args:
                _mark(args[0], leaf, args[1:], result)
            elif leaf == "connect":
                _remember_file(result, args, kwargs)
            return result
        shown = args[1:] if method else args
        owner = args[0] if method and args else None
        show_walls(owner, frame)
        reads = leaf in ROW_READS
        text = _fetch_args(owner, leaf, shown, kwargs) if reads else args_text(leaf, shown, kwargs)
        try:
            result = fn(*args, **kwargs)
        except StopIteration:
            TRACER.add(qualname, text, OK, "StopIteration", frame)
            raise
        except BaseException as exc:
            TRACER.add(qualname, text, RAISE, render_exception(exc), frame)
            raise
        if owner is not None:
            _mark(owner, leaf, shown, result)
        elif leaf == "connect":
            _remember_file(result, args, kwargs)
        outcome = _result_text(leaf, result, owner)
        if leaf == "close" and owner is not None:
            outcome += left_beside(owner)
        elif leaf == "connect" and owner is None:
            outcome += left_beside(result)
        TRACER.add(qualname, text, OK, outcome, frame)
        return result

    return traced


def _remember_file(conn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Remember on a connection the database file it opened (not a memory database or a URI)."""
    database = args[0] if args else kwargs.get("database")
    if not isinstance(database, str | os.PathLike):
        return
    path = os.fspath(database)
    if not isinstance(path, str) or path in ("", ":memory:") or path.startswith("file:"):
        return
    with contextlib.suppress(AttributeError, TypeError):
        object.__setattr__(conn, "_stc_file", os.path.abspath(path))
        left_open.track(conn)


def left_beside(conn: Any) -> str:
    """Right after a connection opened or closed: the side files its database has (SQLite has none then:
    it removes its -wal and -shm when the last connection closes), as text for the call's outcome."""
    path = getattr(conn, "_stc_file", None)
    if not path:
        return ""
    left = [suffix for suffix in SIDE_FILES if os.path.exists(path + suffix)]
    return f"{FILES_LEFT}{', '.join(left)})" if left else ""


def async_wrapper(qualname: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine method recording one event when it is called, given its outcome when awaited.

    The event is made at the call, so a coroutine the code never awaits is still in the trace, as never
    awaited: `async with conn.execute(...)` on a driver whose execute() returns a bare coroutine raises
    TypeError before anything awaits it (aiosqlite returns an object that is both awaitable and a context).
    The call still returns a coroutine, as the method does.
    """
    leaf = qualname.rsplit(".", 1)[-1]

    @functools.wraps(fn)
    def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__") == "aiosqlite.context":
            frame = frame.f_back  # aiosqlite's `execute()` makes this call inside its awaitable Result
        event = None
        if TRACER.enabled and not internal_caller(frame) and not adapter_await(frame, leaf):
            show_walls(self, frame)
            reads = leaf in ROW_READS
            text = _fetch_args(self, leaf, args, kwargs) if reads else args_text(leaf, args, kwargs)
            event = TRACER.add(qualname, text, OK, NOT_AWAITED, frame)
        return _completion(fn, self, args, kwargs, leaf, event)

    return traced


async def _completion(fn: Callable[..., Any], owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                      leaf: str, event: list[str] | None) -> Any:
    """Await the method's own coroutine and settle its event with what it returned or raised."""
    try:
        result = await fn(owner, *args, **kwargs)
    except StopAsyncIteration:
        TRACER.settle(event, OK, "StopAsyncIteration")
        raise
    except BaseException as exc:
        TRACER.settle(event, RAISE, render_exception(exc))
        raise
    _mark(owner, leaf, args, result)
    TRACER.settle(event, OK, "await→" + _result_text(leaf, result, owner))
    return result


def property_wrapper(qualname: str, getter: Callable[[Any], Any], setter: Any = None) -> property:
    """A read-only view of `getter` (a descriptor's __get__) that records each read by user code."""

    def get(self: Any) -> Any:
        frame = sys._getframe(1)
        if not TRACER.enabled or internal_caller(frame):
            return getter(self)
        text = _fetch_args(self, "", (), {})
        try:
            value = getter(self)
        except BaseException as exc:
            TRACER.add(qualname, text, RAISE, render_exception(exc), frame)
            raise
        TRACER.add(qualname, text, OK, render(value), frame)
        return value

    return property(get, setter)


class _SADepth:
    def __enter__(self) -> None:
        _QUIET.depth = getattr(_QUIET, "depth", 0) + 1

    def __exit__(self, *exc: object) -> None:
        _QUIET.depth -= 1


def driver_autocommit(dbapi_conn: Any) -> str:
    """Whether the driver's connection under SQLAlchemy's DBAPI connection (async adapters unwrapped to the
    sync connection they drive) is left in autocommit or opens a transaction before a write."""
    conn = getattr(dbapi_conn, "driver_connection", dbapi_conn)
    for inner in ("_conn", "_connection"):  # turso.aio's and aiosqlite's connection drive a sync one
        if type(conn).__module__.startswith(("turso.lib_aio", "aiosqlite")) and hasattr(conn, inner):
            conn = getattr(conn, inner)
    try:
        level = conn.isolation_level
    except Exception:  # noqa: BLE001 - a closed or foreign connection: say so, never fail the test
        return "unknown"
    autocommit = level is None or getattr(conn, "autocommit", None) is True
    return "autocommit" if autocommit else "opens transactions"


def sa_connect_wrapper(fn: Callable[..., Any]) -> Callable[..., Any]:
    """SQLAlchemy opening a DBAPI connection for its pool (`DefaultDialect.connect`): one
    `sqlalchemy.connect` event with the database it opens (what else each dialect passes is its own)."""

    @functools.wraps(fn)
    def traced(self: Any, *cargs: Any, **cparams: Any) -> Any:
        frame = sys._getframe(1)
        database = cargs[0] if cargs else cparams.get("database", "")
        text = render(os.fspath(database) if isinstance(database, os.PathLike) else database)
        try:
            result = fn(self, *cargs, **cparams)
        except BaseException as exc:
            TRACER.add("sqlalchemy.connect", text, RAISE, render_exception(exc), frame)
            raise
        TRACER.add("sqlalchemy.connect", text, OK, "connected", frame)
        return result

    return traced


def sa_isolation_wrapper(fn: Callable[..., Any]) -> Callable[..., Any]:
    """SQLAlchemy setting a connection's isolation level: one `sqlalchemy.isolation_level` event saying
    whether the driver's connection is then in autocommit (a dialect may ignore `AUTOCOMMIT`)."""

    @functools.wraps(fn)
    def traced(self: Any, dbapi_conn: Any, level: Any, *rest: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        try:
            result = fn(self, dbapi_conn, level, *rest, **kwargs)
        except BaseException as exc:
            TRACER.add("sqlalchemy.isolation_level", render(level), RAISE, render_exception(exc), frame)
            raise
        TRACER.add("sqlalchemy.isolation_level", render(level), OK, driver_autocommit(dbapi_conn), frame)
        return result

    return traced


def sa_wrapper(fn: Callable[..., Any]) -> Callable[..., Any]:
    """SQLAlchemy's `do_execute*`: one `sqlalchemy.execute` event; DBAPI calls beneath are not recorded."""

    @functools.wraps(fn)
    def traced(self: Any, cursor: Any, statement: str, *rest: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        params = rest[0] if rest and not hasattr(rest[0], "execution_options") else ()
        args = render_sql(statement) + (", " + render(params) if params else "")
        with _SADepth():
            try:
                result = fn(self, cursor, statement, *rest, **kwargs)
            except BaseException as exc:
                TRACER.add("sqlalchemy.execute", args, RAISE, render_exception(exc), frame)
                raise
        _mark(cursor, "execute", (statement,), None)
        TRACER.add("sqlalchemy.execute", args, OK, "None", frame)
        return result

    return traced
