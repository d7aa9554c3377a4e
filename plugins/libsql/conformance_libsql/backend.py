"""The libSQL backend: the `libsql` module on local files, each connection on its own driver thread."""

from __future__ import annotations

import asyncio
import functools
import itertools
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from conformance_libsql import probes, urls
from conformance_libsql.errors import classify
from stc_harness.backend_api import (
    BackendInfo,
    CapabilitySet,
    DatabaseError,
    DatabaseURL,
    DriverThread,
    DriverThreadConnection,
    EncryptionOpts,
    Pool,
    Unsupported,
    UsageError,
    coerce_busy_timeout,
)

try:
    import libsql
except ImportError as exc:  # no wheel for this platform or Python: the backend does not load, said once
    raise ImportError(f"the libsql package is not installed ({exc}); it ships wheels only (glibc Linux, "
                      "macOS, Windows; none for musl/Alpine), never a source build: "
                      "pip install --only-binary=libsql 'libsql>=0.1.5,<0.2'") from exc

#: Why this backend is in the run, as the report header says it.
PURPOSE = "libSQL, the SQLite fork Turso Cloud runs today (local files, no network)"

_ids = itertools.count(1)


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    """The SQLite inside libsql, by `sqlite_version()` (the module's `sqlite_version_info` may differ)."""
    conn = libsql.connect(":memory:")
    try:
        return str(conn.execute("SELECT sqlite_version()").fetchall()[0][0])
    finally:
        conn.close()


def _dist_version() -> str:
    try:
        return version("libsql")
    except PackageNotFoundError:
        return "unknown"


def _open(path: str, busy_ms: int, extra: dict[str, Any]) -> Any:
    """On the connection's thread: connect with the busy timeout set, and set it again by PRAGMA (one hop).

    `timeout=` already sets it (libsql 0.1.11 reads back what it was given); the PRAGMA makes it hold
    whatever a release does with `timeout=`. A first statement that fails (a wrong encryption key) closes
    the connection before the error goes up.
    """
    raw = libsql.connect(path, isolation_level=None, timeout=busy_ms / 1000, **extra)
    try:
        raw.execute(f"PRAGMA busy_timeout = {busy_ms}")
    except BaseException:
        raw.close()
        raise
    return raw


class LibsqlConnection(DriverThreadConnection):
    """A harness connection over one `libsql.Connection`, on its own driver thread."""

    backend_name = "libsql"

    def classify(self, exc: BaseException) -> DatabaseError:
        """Classify a libsql exception (plain ValueErrors: the message decides)."""
        return classify(exc, self.backend_name)

    async def interrupt(self) -> None:
        """libsql's Connection has no interrupt: always `Unsupported`."""
        raise Unsupported("interrupt", "libsql.Connection has no interrupt()")


class LibsqlBackend:
    """libSQL through the `libsql` module in autocommit mode (the harness issues BEGIN), busy timeout 0."""

    name = "libsql"
    #: The blocking DB-API module a user imports instead of sqlite3.
    sync_module = "libsql"
    #: The libsql package has no asyncio module.
    async_module = None

    def __init__(self) -> None:
        self._capabilities: CapabilitySet | None = None

    @property
    def capabilities(self) -> CapabilitySet:
        """Probed on the live module on first use (BEGIN CONCURRENT, encryption, shared :mem:, methods)."""
        if self._capabilities is None:
            self._capabilities = CapabilitySet(self, probes.probe_all(libsql))
        return self._capabilities

    @property
    def info(self) -> BackendInfo:
        """Driver (the libsql package) and engine (its SQLite) versions, and what the module claims."""
        claimed = ".".join(str(p) for p in libsql.sqlite_version_info)
        return BackendInfo("libsql", "libsql", _dist_version(), engine_version(),
                           {"purpose": PURPOSE, "sqlite_version_info": claimed})

    def parse_url(self, url: str | DatabaseURL) -> DatabaseURL:
        """Parse a `libsql:` URL (file or `:memory:`); a remote one is a usage error naming what works."""
        return urls.parse(url)

    def _options(self, url: DatabaseURL, options: dict[str, Any]) -> tuple[int, str | None]:
        merged = urls.validate(url, options)
        key = merged.get("encryption")
        if key is not None:
            if not isinstance(key, EncryptionOpts):
                raise UsageError("libsql backend: encryption must be "
                                 "stc_harness.EncryptionOpts(cipher, hexkey), "
                                 "passed to connect() (never in a URL)")
            if key.cipher != probes.CIPHER:
                raise Unsupported("encryption",
                                  f"libSQL's only cipher is {probes.CIPHER}, not {key.cipher!r}")
            present, reason = self.capabilities.declared("encryption") or (False, "")
            if not present:
                raise Unsupported("encryption", reason)
        return coerce_busy_timeout(merged.get("busy_timeout", 0)), key.hexkey if key is not None else None

    async def connect(self, url: str | DatabaseURL, **options: Any) -> LibsqlConnection:
        """Open a connection in autocommit mode, on a thread of its own."""
        parsed = self.parse_url(url)
        busy_ms, key = self._options(parsed, options)
        extra = {"encryption_key": key} if key is not None else {}
        thread = DriverThread(f"libsql-{next(_ids)}")
        try:
            raw = await thread.call(lambda: _open(parsed.path, busy_ms, extra))
        except BaseException as exc:
            thread.stop()
            if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                raise
            raise classify(exc) from exc
        return LibsqlConnection(thread, raw)

    def pool(self, url: str | DatabaseURL, *, max_size: int = 4, acquire_timeout: float = 5.0,
             **options: Any) -> Pool:
        """A pool; on `:memory:` it holds one connection when each would be a private database (probed)."""
        parsed = self.parse_url(url)
        self._options(parsed, options)
        shared = self.capabilities.declared("shared_memory_pool") or (False, "")
        size = 1 if parsed.is_memory and not shared[0] else max_size
        return Pool(lambda: self.connect(parsed, **options), max_size=size, acquire_timeout=acquire_timeout,
                    name=f"libsql pool on {parsed}")
