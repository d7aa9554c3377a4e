"""The SQLite backend, on aiosqlite: the reference the report compares every other backend with."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

from stc_backends.options import coerce_busy_timeout, reject_unknown
from stc_harness.adapters.capabilities import CapabilitySet
from stc_harness.adapters.connection import BaseConnection, closed_error
from stc_harness.adapters.pool import Pool
from stc_harness.adapters.protocol import BackendInfo
from stc_harness.adapters.urls import DatabaseURL, parse_url
from stc_harness.errors import DatabaseError, ErrorKind, RawError, Unsupported, kind_from_message

T = TypeVar("T")

#: Result-code names (`sqlite3.Error.sqlite_errorname`, Python 3.11+) mapped to kinds; prefixes match too.
ERRORNAME_KINDS: dict[str, ErrorKind] = {
    "SQLITE_BUSY": ErrorKind.SERIALIZATION_FAILURE,
    "SQLITE_LOCKED": ErrorKind.SERIALIZATION_FAILURE,
    "SQLITE_READONLY": ErrorKind.READ_ONLY,
    "SQLITE_IOERR": ErrorKind.CONNECTION_LOST,
    "SQLITE_CONSTRAINT_UNIQUE": ErrorKind.UNIQUE_VIOLATION,
    "SQLITE_CONSTRAINT_PRIMARYKEY": ErrorKind.UNIQUE_VIOLATION,
    "SQLITE_CONSTRAINT_NOTNULL": ErrorKind.NOT_NULL_VIOLATION,
    "SQLITE_CONSTRAINT_CHECK": ErrorKind.CHECK_VIOLATION,
    "SQLITE_CONSTRAINT_FOREIGNKEY": ErrorKind.FOREIGN_KEY_VIOLATION,
    "SQLITE_CONSTRAINT_DATATYPE": ErrorKind.DATATYPE_MISMATCH,
    "SQLITE_CONSTRAINT": ErrorKind.CONSTRAINT_VIOLATION,
    "SQLITE_MISMATCH": ErrorKind.DATATYPE_MISMATCH,
    "SQLITE_NOTADB": ErrorKind.NOT_A_DATABASE,
    "SQLITE_CANTOPEN": ErrorKind.CANT_OPEN,
    "SQLITE_INTERRUPT": ErrorKind.INTERRUPTED,
    "SQLITE_MISUSE": ErrorKind.MISUSE,
    "SQLITE_RANGE": ErrorKind.PARAMETER,
}


def raw_of(exc: BaseException) -> RawError:
    """The raw error of a sqlite3/aiosqlite exception, with its result-code name where known."""
    code = getattr(exc, "sqlite_errorname", None)
    return RawError(f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc), None, code)


def classify(exc: BaseException, backend: str = "sqlite") -> DatabaseError:
    """Classify a sqlite3 or aiosqlite exception: result-code name first, then the message."""
    raw = raw_of(exc)
    kind: ErrorKind | None = None
    if raw.code:
        kind = ERRORNAME_KINDS.get(raw.code)
        if kind is None:
            kind = next((k for name, k in ERRORNAME_KINDS.items() if raw.code.startswith(name + "_")), None)
    if kind is None and isinstance(exc, ValueError) and "closed" in raw.message.lower():
        kind = ErrorKind.CLOSED
    if kind is None:
        kind = kind_from_message(raw.message)
    if kind is None and isinstance(exc, sqlite3.ProgrammingError):
        kind = ErrorKind.MISUSE
    return DatabaseError(kind or ErrorKind.DRIVER_OPERATION_FAILED, raw, backend)


class SQLiteConnection(BaseConnection):
    """A harness connection over one aiosqlite connection."""

    backend_name = "sqlite"
    batch_reuses_cursor = True  # sqlite3 cursors report rowcount/lastrowid the same either way

    def __init__(self, aconn: aiosqlite.Connection) -> None:
        super().__init__()
        self._aconn = aconn

    @property
    def driver_connection(self) -> aiosqlite.Connection:
        """The aiosqlite connection underneath (for checks that need the raw driver)."""
        return self._aconn

    async def _run(self, fn: Callable[[Any], T]) -> T:
        if self.closed:
            raise closed_error(self.backend_name)
        return await self._aconn._execute(fn, self._aconn._conn)

    def classify(self, exc: BaseException) -> DatabaseError:
        """Classify a sqlite3/aiosqlite exception."""
        return classify(exc, self.backend_name)

    async def interrupt(self) -> None:
        """Abort the running statement (sqlite3's interrupt is safe from any thread)."""
        self._aconn._conn.interrupt()

    async def _close(self) -> None:
        await self._aconn.close()


class SQLiteBackend:
    """SQLite through aiosqlite, with an explicit busy timeout (0 by default)."""

    name = "sqlite"
    #: The blocking DB-API module of the same driver (for checks of synchronous use).
    sync_module = "sqlite3"
    #: The async driver module users call instead (for checks of the async driver layer).
    async_module = "aiosqlite"
    OPTIONS = ("busy_timeout",)

    def __init__(self) -> None:
        self.capabilities = CapabilitySet(self, sqlite_library_capabilities(
            sqlite3, "sqlite3", async_api="aiosqlite", batch="one aiosqlite thread hop per batch"))

    @property
    def info(self) -> BackendInfo:
        """Driver (aiosqlite) and engine (SQLite library) versions."""
        return BackendInfo("sqlite", "aiosqlite", dist_version("aiosqlite"), sqlite3.sqlite_version)

    def parse_url(self, url: str | DatabaseURL) -> DatabaseURL:
        """Parse a `sqlite:` URL."""
        parsed = url if isinstance(url, DatabaseURL) else parse_url(url, schemes=(self.name,))
        if parsed.scheme != self.name:
            raise ValueError(f"sqlite backend cannot open {parsed}")
        return parsed

    def _options(self, url: DatabaseURL, options: dict[str, Any]) -> int:
        return sqlite_library_busy_ms(self, url, options)

    async def connect(self, url: str | DatabaseURL, **options: Any) -> SQLiteConnection:
        """Open a connection in autocommit mode (the harness issues BEGIN itself)."""
        parsed = self.parse_url(url)
        busy_ms = self._options(parsed, options)
        pending = aiosqlite.connect(parsed.path, isolation_level=None, timeout=busy_ms / 1000)
        try:
            aconn = await pending
        except BaseException as exc:
            # aiosqlite queues its worker's stop without awaiting it; let the worker finish while this
            # loop is alive, or it calls back into a closed loop during a later test.
            await asyncio.to_thread(pending._thread.join, 5)
            if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                raise
            raise classify(exc) from exc
        conn = SQLiteConnection(aconn)
        await conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
        return conn

    def pool(self, url: str | DatabaseURL, *, max_size: int = 4, acquire_timeout: float = 5.0,
             **options: Any) -> Pool:
        """A pool; on `:memory:` it is capped at one connection, since each would be a private database."""
        return private_memory_pool(self, url, max_size, acquire_timeout, options)


def sqlite_library_busy_ms(backend: Any, url: DatabaseURL, options: dict[str, Any]) -> int:
    """Validate a SQLite-library backend's options (URL query and keywords); the busy timeout in ms.

    Turso's options are refused as `Unsupported` (named by their capability), anything else unknown as a
    usage error.
    """
    merged = {**dict(url.options), **options}
    for name in ("concurrent_writes", "encryption"):
        if merged.get(name):
            raise Unsupported(name, backend.capabilities.declared(name)[1])
    if any(k.startswith("experimental") and v for k, v in merged.items()):
        raise Unsupported("experimental_toggles", "SQLite has no experimental-feature toggles")
    merged = {k: v for k, v in merged.items() if not (k.startswith("experimental") or
                                                      k in ("concurrent_writes", "encryption"))}
    reject_unknown(backend.name, merged, backend.OPTIONS)
    return coerce_busy_timeout(merged.get("busy_timeout", 0))


def sqlite_library_capabilities(module: Any, name: str, *, async_api: str, batch: str) -> dict[str, Any]:
    """What a backend on the SQLite C library declares: the same for every release and Python module."""
    return {
        "async_api": (True, async_api),
        "sync_api": (True, f"the {name} module (the stdlib sqlite3 API)"),
        "batch": (True, batch),
        "interrupt": (True, f"{name}.Connection.interrupt"),
        "shared_memory_pool": (False, "each ':memory:' connection is a private database; "
                                      "the in-memory pool is capped at one connection"),
        "concurrent_writes": (False, "SQLite has no MVCC journal or BEGIN CONCURRENT"),
        "experimental_toggles": (False, "SQLite has no experimental-feature toggles"),
        "encryption": (False, "stock SQLite has no at-rest encryption"),
        "load_extension": (hasattr(module.Connection, "enable_load_extension"),
                           f"{name}.Connection.enable_load_extension"),
    }


def private_memory_pool(backend: Any, url: str | DatabaseURL, max_size: int, acquire_timeout: float,
                        options: dict[str, Any]) -> Pool:
    """A pool of a SQLite-library backend: capped at one connection on `:memory:` (each is private)."""
    parsed = backend.parse_url(url)
    backend._options(parsed, options)
    size = 1 if parsed.is_memory else max_size
    return Pool(lambda: backend.connect(parsed, **options), max_size=size,
                acquire_timeout=acquire_timeout, name=f"{backend.name} pool on {parsed}")


def dist_version(dist: str) -> str:
    """The installed version of a distribution, or "unknown"."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"
