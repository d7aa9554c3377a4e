"""The adapted connect() functions: sqlite3's and aiosqlite's signatures on top of turso's."""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import Any

from stc_harness.dropin.shims import MissingFeatureError, missing_message
from stc_harness.dropin.trace import INERT, OK, RAISE, TRACER, render, render_exception
from stc_harness.dropin.uris import UnsupportedUri, path_for_uri
from stc_harness.dropin.wrappers import args_text

_LEGACY: Any = getattr(sqlite3, "LEGACY_TRANSACTION_CONTROL", -1)
_STD_CONNECTION = sqlite3.Connection


def _sqlite3_args(database: Any, timeout: float, detect_types: int, factory: Any, uri: bool) -> str:
    """Validate sqlite3 keywords pyturso cannot honour; return the database as a str."""
    import turso

    if detect_types:
        # made inert: values come back unconverted, and the first one a test reads shows that difference
        TRACER.add("sqlite3.connect(detect_types)", render(detect_types), INERT,
                   "missing on Turso: made inert",
                   sys._getframe(2))
    if uri and str(database).startswith("file:"):
        # pyturso would take the URI for a file name and create a file of that literal name
        try:
            path = path_for_uri(str(database))
        except UnsupportedUri as exc:
            raise MissingFeatureError(missing_message(
                f"sqlite3.connect(uri=True) with {exc}", "SQLite URI filenames (mode=ro, mode=rw, vfs=, ...)",
                ["driver_connect.sqlite3-keywords-refused", "driver_connect.uri-mode-ro-refused"])) from None
        # adapted: pyturso has no uri=; a test that passes only so is not "the same" on plain Turso
        TRACER.add("sqlite3.connect(uri)", render(str(database)), INERT, "missing on Turso: made inert",
                   sys._getframe(2))
        return path
    if factory not in (None, _STD_CONNECTION, turso.Connection):
        raise MissingFeatureError(missing_message(
            "sqlite3.connect(factory=...)", "a Connection subclass as factory",
            ["driver_connect.factory-refused"]))
    return database if isinstance(database, str) and not uri else os.fspath(database)


def _finish(conn: Any, timeout: float, autocommit: Any) -> Any:
    """Apply the busy timeout and autocommit mode sqlite3 would have set."""
    conn.execute(f"PRAGMA busy_timeout = {int(max(timeout, 0) * 1000)}")
    if autocommit is not _LEGACY:
        conn.autocommit = autocommit
    return conn


def adapted_connect(database: Any, timeout: float = 5.0, detect_types: int = 0,
                    isolation_level: str | None = "", check_same_thread: bool = True, factory: Any = None,
                    cached_statements: int = 128, uri: bool = False, *, autocommit: Any = _LEGACY) -> Any:
    """sqlite3.connect's signature, reaching turso.connect (see stc_harness.dropin.adaptations)."""
    import turso

    path = _sqlite3_args(database, timeout, detect_types, factory, uri)
    level = "DEFERRED" if isolation_level == "" else isolation_level
    return _finish(turso.connect(path, isolation_level=level), timeout, autocommit)


def adapted_aio_connect(database: Any, *, iter_chunk_size: int = 64, loop: Any = None,
                        timeout: float = 5.0, detect_types: int = 0, isolation_level: str | None = "",
                        check_same_thread: bool = True,
                        factory: Any = None, cached_statements: int = 128, uri: bool = False,
                        autocommit: Any = _LEGACY) -> Any:
    """aiosqlite.connect's signature, reaching turso.aio.connect; the busy timeout is set on first use."""
    import turso.aio

    if autocommit is not _LEGACY:
        raise MissingFeatureError(missing_message(
            "aiosqlite.connect(autocommit=...)", "sqlite3's autocommit mode through turso.aio", []))
    path = _sqlite3_args(database, timeout, detect_types, factory, uri)
    level = "DEFERRED" if isolation_level == "" else isolation_level
    conn = turso.aio.connect(path, isolation_level=level)
    return AioOpener(conn, timeout, autocommit)


class AioOpener:
    """Awaitable / async context manager like aiosqlite's: opens turso.aio's connection, then adapts it."""

    def __init__(self, conn: Any, timeout: float, autocommit: Any) -> None:
        self._conn = conn
        self._timeout = timeout
        self._autocommit = autocommit

    async def _open(self) -> Any:
        conn = await self._conn
        await conn.execute(f"PRAGMA busy_timeout = {int(max(self._timeout, 0) * 1000)}")
        return conn

    def __await__(self) -> Any:
        return self._open().__await__()

    async def __aenter__(self) -> Any:
        frame = sys._getframe(1)
        try:
            self._opened = await self._open()
        except BaseException as exc:
            TRACER.add("aio.Connection.__aenter__", "", RAISE, render_exception(exc), frame)
            raise
        TRACER.add("aio.Connection.__aenter__", "", OK, "await→<Connection>", frame)
        return self._opened

    async def __aexit__(self, *exc: object) -> None:
        frame = sys._getframe(1)
        await self._opened.close()
        TRACER.add("aio.Connection.__aexit__", args_text("__aexit__", exc, {}), OK, "await→None", frame)
