"""The tracked SQLite: the stdlib sqlite3 API on the SQLite release Turso tracks (sqlean.py, extensions off).

It is the attribution reference: where Turso differs from the stdlib SQLite, this backend says whether
a current SQLite differs the same way (a SQLite version gap) or not (Turso's own difference).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, TypeVar

from stc_backends.sqlite import classify as classify_sqlite3
from stc_backends.sqlite import (
    dist_version,
    private_memory_pool,
    sqlite_library_busy_ms,
    sqlite_library_capabilities,
)
from stc_harness.adapters.capabilities import CapabilitySet
from stc_harness.adapters.connection import DriverThreadConnection
from stc_harness.adapters.driver_thread import DriverThread
from stc_harness.adapters.pool import Pool
from stc_harness.adapters.protocol import BackendInfo
from stc_harness.adapters.urls import DatabaseURL, parse_url
from stc_harness.errors import DatabaseError, ErrorKind, kind_from_message

try:
    import sqlean
except ImportError as exc:  # no wheel for this platform or Python: the backend fails to load, said once
    raise ImportError(f"sqlean.py is not installed ({exc}); attribution unavailable: "
                      "pip install 'sqlean.py>=3.50.4,<3.51' (wheels for CPython 3.10-3.13)") from exc

T = TypeVar("T")

#: The backend's id (in test ids, reports and `--backend`): its implementation's name, as `sqlite` and
#: `turso` are. It plays the tracked role (`stc_harness.outcomes.TRACKED_BACKEND`) at TRACKED_SQLITE and
#: is a point of the SQLite-version axis at any other release, so the id does not name the role.
NAME = "sqlean"
#: Why this backend is in the run, as the header and the report say it.
PURPOSE = "the SQLite release Turso tracks (attribution reference)"
#: The SQLite release Turso tracks (pyturso 0.8.3 reports it); a different sqlean.py is a matrix point.
TRACKED_SQLITE = "3.50.4"

_ids = itertools.count(1)


def classify(exc: BaseException, backend: str = NAME) -> DatabaseError:
    """Classify a sqlean exception as the sqlite adapter classifies sqlite3's (same API).

    sqlean.py's `sqlite_errorname` is the primary result code (`SQLITE_CONSTRAINT`) where the stdlib
    gives the extended one (`SQLITE_CONSTRAINT_UNIQUE`): a driver detail, not SQLite's, so the message
    decides the constraint kind, as the extended code would.
    """
    err = classify_sqlite3(exc, backend)
    if err.raw.code == "SQLITE_CONSTRAINT":
        kind = kind_from_message(err.raw.message)
        if kind is not None:
            return DatabaseError(kind, err.raw, backend)
    if err.kind is ErrorKind.DRIVER_OPERATION_FAILED and isinstance(exc, sqlean.ProgrammingError):
        return DatabaseError(ErrorKind.MISUSE, err.raw, backend)  # sqlite3.ProgrammingError's rule
    return err


class SqleanConnection(DriverThreadConnection):
    """A harness connection over one sqlean connection, on its own driver thread."""

    backend_name = NAME
    batch_reuses_cursor = True  # the sqlite3 API: cursors report rowcount/lastrowid the same either way

    def classify(self, exc: BaseException) -> DatabaseError:
        """Classify a sqlean exception."""
        return classify(exc, self.backend_name)

    async def interrupt(self) -> None:
        """Abort the running statement (the sqlite3 API's interrupt is safe from any thread)."""
        self._raw.interrupt()


class SqleanBackend:
    """SQLite 3.50.4 through sqlean.py's sqlite3 API, with the sqlite adapter's semantics (busy timeout 0)."""

    name = NAME
    #: The blocking DB-API module (what a user would import instead of sqlite3).
    sync_module = "sqlean"
    #: sqlean.py has no asyncio module of its own.
    async_module = None
    OPTIONS = ("busy_timeout",)

    def __init__(self) -> None:
        extensions = getattr(sqlean, "extensions", None)
        if extensions is not None:
            extensions.disable_all()  # plain SQLite: none of sqlean's bundled extensions
        self.capabilities = CapabilitySet(self, sqlite_library_capabilities(
            sqlean, "sqlean", async_api="the harness's driver thread over sqlean's blocking module",
            batch="one driver-thread hop per batch"))

    @property
    def info(self) -> BackendInfo:
        """Driver (sqlean.py) and engine (its bundled SQLite) versions, and why the backend is here."""
        version = sqlean.sqlite_version
        purpose = PURPOSE if version == TRACKED_SQLITE else (
            f"SQLite {version}, a point of the SQLite-version axis (Turso tracks {TRACKED_SQLITE})")
        return BackendInfo(NAME, "sqlean.py", dist_version("sqlean.py"), version, {"purpose": purpose})

    def parse_url(self, url: str | DatabaseURL) -> DatabaseURL:
        """Parse a `sqlean:` URL."""
        parsed = url if isinstance(url, DatabaseURL) else parse_url(url, schemes=(self.name,))
        if parsed.scheme != self.name:
            raise ValueError(f"{NAME} backend cannot open {parsed}")
        return parsed

    def _options(self, url: DatabaseURL, options: dict[str, Any]) -> int:
        return sqlite_library_busy_ms(self, url, options)

    async def connect(self, url: str | DatabaseURL, **options: Any) -> SqleanConnection:
        """Open a connection in autocommit mode (the harness issues BEGIN itself)."""
        parsed = self.parse_url(url)
        busy_ms = self._options(parsed, options)
        thread = DriverThread(f"{NAME}-{next(_ids)}")
        try:
            raw = await thread.call(lambda: sqlean.connect(parsed.path, isolation_level=None,
                                                           timeout=busy_ms / 1000))
        except BaseException as exc:
            thread.stop()
            if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                raise
            raise classify(exc) from exc
        conn = SqleanConnection(thread, raw)
        await conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
        return conn

    def pool(self, url: str | DatabaseURL, *, max_size: int = 4, acquire_timeout: float = 5.0,
             **options: Any) -> Pool:
        """A pool; on `:memory:` it is capped at one connection, since each would be a private database."""
        return private_memory_pool(self, url, max_size, acquire_timeout, options)
