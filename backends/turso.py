"""The Turso backend, on pyturso: one database handle shared by every connection of a pool."""

from __future__ import annotations

import functools
import itertools
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from stc_backends.options import coerce_bool, coerce_busy_timeout, reject_unknown
from stc_harness.adapters.capabilities import CapabilitySet
from stc_harness.adapters.connection import DriverThreadConnection
from stc_harness.adapters.driver_thread import DriverThread
from stc_harness.adapters.pool import Pool
from stc_harness.adapters.protocol import BackendInfo, EncryptionOpts, TransactionMode
from stc_harness.adapters.urls import DatabaseURL, parse_url
from stc_harness.errors import (
    DatabaseError,
    ErrorKind,
    RawError,
    Unsupported,
    UsageError,
    exception_chain,
    kind_from_message,
)

T = TypeVar("T")

#: The experimental toggles of `001_312a5f9792b0f890.txt` ("Experimental features"), builder name ->
#: the feature name pyturso's `experimental_features` takes. Materialized views sit behind "views".
EXPERIMENTAL_TOGGLES: dict[str, str] = {
    "attach": "attach",
    "custom_types": "custom_types",
    "generated_columns": "generated_columns",
    "index_method": "index_method",
    "materialized_views": "views",
    "vacuum": "vacuum",
    "multiprocess_wal": "multiprocess_wal",
    "without_rowid": "without_rowid",
    "encryption": "encryption",
}

#: Engine variants of `001_312a5f9792b0f890.txt`'s error table ("Errors and the connection pool").
VARIANT_KINDS: dict[str, ErrorKind] = {
    "Busy": ErrorKind.SERIALIZATION_FAILURE,
    "BusySnapshot": ErrorKind.SERIALIZATION_FAILURE,
    "Readonly": ErrorKind.READ_ONLY,
    "IoError": ErrorKind.CONNECTION_LOST,
}

#: Engine variants whose class alone says the kind when no message rule does.
VARIANT_FALLBACK_KINDS: dict[str, ErrorKind] = {
    "Constraint": ErrorKind.CONSTRAINT_VIOLATION,
    "Interrupt": ErrorKind.INTERRUPTED,
    "Misuse": ErrorKind.MISUSE,
    "NotAdb": ErrorKind.NOT_A_DATABASE,
    "Corrupt": ErrorKind.NOT_A_DATABASE,
    "DatabaseFull": ErrorKind.DRIVER_OPERATION_FAILED,
}


def _engine_variant(exc: BaseException) -> str | None:
    """The pyturso engine exception class (Busy, BusySnapshot, Readonly, IoError, ...) in `exc`'s chain.

    The Rust extension defines its variants in module `turso`; some (BusySnapshot, IoError) are not
    exported from `turso._turso`, and pyturso lets them (and Readonly) escape unmapped, so they are
    recognised by their module too.
    """
    import turso._turso as engine

    for node in exception_chain(exc):
        cls = type(node)
        if getattr(engine, cls.__name__, None) is cls or cls.__module__ == "turso":
            return cls.__name__
    return None


def classify(exc: BaseException, backend: str = "turso") -> DatabaseError:
    """Classify a pyturso exception: the seed's variant table first, then the message, then the class."""
    variant = _engine_variant(exc)
    cls = f"{type(exc).__module__}.{type(exc).__qualname__}"
    raw = RawError(cls, str(exc), variant)
    if type(exc).__name__ == "PanicException":
        return DatabaseError(ErrorKind.PANIC, raw, backend)
    kind = VARIANT_KINDS.get(variant or "")
    message_kind = kind_from_message(raw.message)
    lowered = raw.message.lower()
    if kind is None and variant == "Error" and "conflict" in lowered and "parse error" not in lowered \
            and message_kind is not ErrorKind.SYNTAX:
        kind = ErrorKind.SERIALIZATION_FAILURE
    if kind is None:
        kind = message_kind
    if kind is None:
        kind = VARIANT_FALLBACK_KINDS.get(variant or "")
    if kind is None and isinstance(exc, ValueError) and "closed" in lowered:
        kind = ErrorKind.CLOSED
    if kind is None and type(exc).__name__ in ("ProgrammingError", "InterfaceError"):
        kind = ErrorKind.MISUSE  # pyturso's own API checks, as sqlite3's ProgrammingError is classified
    return DatabaseError(kind or ErrorKind.DRIVER_OPERATION_FAILED, raw, backend)


@dataclass(frozen=True)
class TursoOptions:
    """Validated builder options of the Turso adapter."""

    concurrent_writes: bool = False
    experimental: frozenset[str] = frozenset()
    encryption: EncryptionOpts | None = None
    busy_timeout: int = 0

    def features(self) -> str | None:
        """The comma-separated `experimental_features` string for pyturso."""
        names = set(self.experimental)
        if self.encryption is not None:
            names.add("encryption")
        return ",".join(sorted(EXPERIMENTAL_TOGGLES[n] for n in names)) or None

    def cache_key(self) -> tuple[Any, ...]:
        """A key that identifies a database handle (the key is hashed, never stored in clear)."""
        enc = None if self.encryption is None else (self.encryption.cipher, hash(self.encryption.hexkey))
        return (self.concurrent_writes, self.experimental, enc)


def parse_options(url: DatabaseURL, options: Mapping[str, Any]) -> TursoOptions:
    """Merge URL query options and keyword options, rejecting anything unknown with the known list."""
    merged: dict[str, Any] = {**dict(url.options), **options}
    if "hexkey" in dict(url.options) or "encryption" in dict(url.options):
        raise UsageError("turso: an encryption key must not be put in a URL (it would be logged); "
                         "pass encryption=EncryptionOpts(cipher, hexkey) to connect() or pool()")
    toggles = set()
    for name in list(merged):
        if name.startswith("experimental_"):
            toggle = _known_toggle(name.removeprefix("experimental_"))
            if coerce_bool(name, merged.pop(name)):
                toggles.add(toggle)
    for toggle in _as_names(merged.pop("experimental", ())):
        toggles.add(_known_toggle(toggle))
    encryption = merged.pop("encryption", None)
    if encryption is not None and not isinstance(encryption, EncryptionOpts):
        encryption = _encryption_from(encryption)
    reject_unknown("turso", merged, ("concurrent_writes", "busy_timeout"))
    return TursoOptions(
        concurrent_writes=coerce_bool("concurrent_writes", merged.get("concurrent_writes", False)),
        experimental=frozenset(toggles),
        encryption=encryption,
        busy_timeout=coerce_busy_timeout(merged.get("busy_timeout", 0)),
    )


def _known_toggle(toggle: str) -> str:
    """`toggle` if it is one of the boolean experimental toggles; else a UsageError naming the fix.

    pyturso itself accepts any name in `experimental_features` silently, so a misspelt toggle would
    leave the feature off without a word: the adapter refuses it instead.
    """
    known = ", ".join(f"experimental_{t}" for t in sorted(EXPERIMENTAL_TOGGLES) if t != "encryption")
    if toggle == "encryption":
        raise UsageError("turso: experimental_encryption cannot be turned on by itself (there would be no "
                         "key); pass encryption=EncryptionOpts(cipher, hexkey), which enables it")
    if toggle not in EXPERIMENTAL_TOGGLES:
        raise UsageError(f"turso: unknown experimental toggle 'experimental_{toggle}'; known toggles: "
                         f"{known} (and encryption=EncryptionOpts(cipher, hexkey))")
    return toggle


def _as_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def _encryption_from(value: Any) -> EncryptionOpts:
    cipher = getattr(value, "cipher", None) if not isinstance(value, Mapping) else value.get("cipher")
    hexkey = getattr(value, "hexkey", None) if not isinstance(value, Mapping) else value.get("hexkey")
    if not cipher or not hexkey:
        raise UsageError("turso: encryption needs both a cipher and a hex key, "
                         "e.g. encryption=EncryptionOpts('aes256gcm', <64 hex characters>)")
    return EncryptionOpts(str(cipher), str(hexkey))


@dataclass(frozen=True)
class DriverFeatures:
    """What the installed pyturso offers, probed once by attribute: older releases lack some of it."""

    version: str
    database_open: bool
    encryption: bool
    interrupt: bool
    load_extension: bool
    engine_version: str | None

    def reason(self, feature: str) -> str:
        """Why `feature` is absent, naming the pyturso release (for `unsupported` outcomes)."""
        what = {
            "database_open": "no turso.lib.py_turso_database_open: every connection opens its own "
                             "database handle, so `:memory:` is private per connection",
            "encryption": "no turso.lib.PyTursoEncryptionConfig / EncryptionOpts (no page encryption)",
            "interrupt": "turso.lib.Connection has no interrupt()",
            "load_extension": "turso.lib.Connection has no enable_load_extension",
        }[feature]
        return f"pyturso {self.version}: {what}"


@functools.lru_cache(maxsize=1)
def driver_features() -> DriverFeatures:
    """Probe the installed pyturso for the APIs the adapter uses (cached for the process)."""
    import turso
    import turso.lib as lib

    from stc_backends.sqlite import dist_version

    database_open = hasattr(lib, "py_turso_database_open") and hasattr(lib, "PyTursoDatabaseConfig")
    encryption = hasattr(lib, "PyTursoEncryptionConfig") if database_open else hasattr(lib, "EncryptionOpts")
    engine = getattr(turso, "sqlite_version", None) or getattr(lib, "sqlite_version", None)
    return DriverFeatures(dist_version("pyturso"), database_open, encryption,
                          interrupt=hasattr(lib.Connection, "interrupt"),
                          load_extension=hasattr(lib.Connection, "enable_load_extension"),
                          engine_version=None if engine is None else str(engine))


class TursoDatabase:
    """One pyturso database handle; every connection made from it shares its state (even `:memory:`)."""

    _ids = itertools.count()

    def __init__(self, url: DatabaseURL, options: TursoOptions) -> None:
        self.url = url
        self.options = options
        self._handle: Any = None
        self.id = next(self._ids)

    def _open(self) -> Any:
        import turso.lib as lib

        if self._handle is None:
            kwargs: dict[str, Any] = {"path": self.url.path,
                                      "experimental_features": self.options.features()}
            if self.options.encryption is not None:
                kwargs["encryption"] = lib.PyTursoEncryptionConfig(
                    cipher=self.options.encryption.cipher, hexkey=self.options.encryption.hexkey)
            self._handle = lib.py_turso_database_open(lib.PyTursoDatabaseConfig(**kwargs))
        return self._handle

    def _new_raw(self) -> Any:
        import turso.lib as lib

        if not driver_features().database_open:
            return self._connect_directly()
        try:
            return lib.Connection(self._open().connect(), isolation_level=None)
        except Exception as exc:
            mapper = getattr(lib, "_map_turso_exception", None)
            if mapper is None:
                raise
            raise mapper(exc) from exc

    def _connect_directly(self) -> Any:
        """A pyturso without `py_turso_database_open`: one handle per connection via `turso.lib.connect`."""
        import turso.lib as lib

        kwargs: dict[str, Any] = {"experimental_features": self.options.features(), "isolation_level": None}
        if self.options.encryption is not None:
            kwargs["encryption"] = lib.EncryptionOpts(cipher=self.options.encryption.cipher,
                                                      hexkey=self.options.encryption.hexkey)
        return lib.connect(self.url.path, **kwargs)

    async def connect(self) -> TursoConnection:
        """Open a new connection on this database, with the busy timeout and MVCC pragma applied."""
        features = driver_features()
        if self.options.encryption is not None and not features.encryption:
            raise Unsupported("encryption", features.reason("encryption"))
        thread = DriverThread(f"turso-{self.id}")
        try:
            raw = await thread.call(self._new_raw)
        except BaseException as exc:
            thread.stop()
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise classify(exc) from exc
        conn = TursoConnection(self, thread, raw)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {self.options.busy_timeout}")
            if self.options.concurrent_writes:
                await conn.execute("PRAGMA journal_mode = 'mvcc'")
        except BaseException:
            await conn.close()
            raise
        return conn


class TursoConnection(DriverThreadConnection):
    """A harness connection over one pyturso connection, on its own panic-safe driver thread."""

    backend_name = "turso"

    def __init__(self, database: TursoDatabase, thread: DriverThread, raw: Any) -> None:
        super().__init__(thread, raw)
        self.database = database


    def begin_sql(self, mode: TransactionMode) -> str:
        """With `concurrent_writes`, DEFAULT means BEGIN CONCURRENT; the other modes opt out of MVCC."""
        if self.database.options.concurrent_writes and TransactionMode(mode) is TransactionMode.DEFAULT:
            return "BEGIN CONCURRENT"
        return super().begin_sql(mode)


    def classify(self, exc: BaseException) -> DatabaseError:
        """Classify a pyturso exception."""
        return classify(exc, self.backend_name)

    async def interrupt(self) -> None:
        """Abort the running statement (pyturso's interrupt may be called from another thread)."""
        if not hasattr(self._raw, "interrupt"):
            raise Unsupported("interrupt", driver_features().reason("interrupt"))
        self._raw.interrupt()


class TursoBackend:
    """Turso through pyturso's blocking core, each connection on its own driver thread."""

    name = "turso"
    #: The blocking DB-API module of the same driver (for checks of synchronous use).
    sync_module = "turso"
    #: The async driver module users call instead (for checks of the async driver layer).
    async_module = "turso.aio"

    def __init__(self) -> None:
        self._files: weakref.WeakValueDictionary[tuple[Any, ...], TursoDatabase] = \
            weakref.WeakValueDictionary()
        feat = driver_features()

        def probed(name: str, present: bool, why: str) -> tuple[bool, str]:
            return (present, why) if present else (False, feat.reason(name))

        self.capabilities = CapabilitySet(self, {
            "async_api": (True, "harness driver thread over pyturso"),
            "sync_api": (True, "pyturso's blocking DB-API module (turso.connect)"),
            "batch": (True, "one driver-thread hop per batch"),
            "interrupt": probed("interrupt", feat.interrupt, "turso.Connection.interrupt"),
            "shared_memory_pool": probed("database_open", feat.database_open,
                                         "one database handle per pool; every slot connects to it"),
            "concurrent_writes": (True, "PRAGMA journal_mode = 'mvcc' + BEGIN CONCURRENT"),
            "experimental_toggles": (True, "pyturso experimental_features"),
            "encryption": probed("encryption", feat.encryption, "pyturso EncryptionOpts"),
            "load_extension": probed("load_extension", feat.load_extension,
                                     "turso.Connection.enable_load_extension"),
        })

    @property
    def info(self) -> BackendInfo:
        """Driver (pyturso) and engine (the SQLite version Turso reports) versions."""
        feat = driver_features()
        return BackendInfo("turso", "pyturso", feat.version, feat.engine_version or "unknown")

    def parse_url(self, url: str | DatabaseURL) -> DatabaseURL:
        """Parse a `turso:` URL."""
        parsed = url if isinstance(url, DatabaseURL) else parse_url(url, schemes=(self.name,))
        if parsed.scheme != self.name:
            raise ValueError(f"turso backend cannot open {parsed}")
        return parsed

    def database(self, url: str | DatabaseURL, **options: Any) -> TursoDatabase:
        """The database handle for `url`: shared per file and options, new for each `:memory:` call."""
        parsed = self.parse_url(url)
        opts = parse_options(parsed, options)
        if parsed.is_memory:
            return TursoDatabase(parsed, opts)
        key = (parsed.path, opts.cache_key())
        db = self._files.get(key)
        if db is None:
            db = TursoDatabase(parsed, opts)
            self._files[key] = db
        return db

    async def connect(self, url: str | DatabaseURL, **options: Any) -> TursoConnection:
        """Open a connection; `turso::memory:` gives a private database per call (use a pool to share)."""
        return await self.database(url, **options).connect()

    def pool(self, url: str | DatabaseURL, *, max_size: int = 4, acquire_timeout: float = 5.0,
             **options: Any) -> Pool:
        """A pool whose every slot connects to one database handle, so `:memory:` is shared."""
        db = self.database(url, **options)
        return Pool(db.connect, max_size=max_size, acquire_timeout=acquire_timeout,
                    name=f"turso pool on {db.url}")


def toggles_from(names: Iterable[str]) -> dict[str, bool]:
    """Keyword options enabling the named experimental toggles (`experimental_<name>=True`)."""
    return {f"experimental_{n}": True for n in names}
