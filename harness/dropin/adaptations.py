"""The adaptations the drop-in makes to get further on pyturso, each with the difference it papers over."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Adaptation:
    """One change the drop-in makes on top of plain routing, and the Turso difference it hides."""

    id: str
    does: str
    papers_over: str


#: Every adaptation, active unless `--dropin-raw` is given (then pyturso is reached exactly as it is).
ADAPTATIONS: tuple[Adaptation, ...] = (
    Adaptation("sqlite3.connect-timeout",
               "sqlite3.connect(timeout=T) (default 5 s) becomes PRAGMA busy_timeout = T*1000 on the turso "
               "connection",
               "turso.connect() takes no timeout= (TypeError) and its busy timeout defaults to 0 ms, "
               "sqlite3's to 5000 ms: a locked database fails at once instead of waiting"),
    Adaptation("sqlite3.connect-pathlike",
               "a path-like database argument (pathlib.Path) is turned into a str",
               "turso.connect() accepts only str "
               "(TypeError: 'PosixPath' object is not an instance of 'str')"),
    Adaptation("sqlite3.connect-ignored-keywords",
               "check_same_thread=, cached_statements= and detect_types=0 are accepted and ignored",
               "turso.connect() rejects these keywords (TypeError); its connections make no same-thread "
               "check, so code relying on sqlite3's ProgrammingError from another thread sees none"),
    Adaptation("inert-names",
               "a call to a name Turso lacks that only registers something (sqlite3.register_adapter, "
               "register_converter, enable_callback_tracebacks, enable_shared_cache; "
               "Connection.create_function, create_aggregate, create_collation, create_window_function, "
               "set_trace_callback, set_authorizer, "
               "set_progress_handler, enable_load_extension; connect(detect_types=...)) is recorded as a "
               "divergence and does nothing, so the run goes on to the next difference",
               "pyturso lacks these names (AttributeError or TypeError at the call, at import time for "
               "module-level calls), so the first one hides every difference behind it"),
    Adaptation("engine-free-names",
               "sqlite3's names that never touch the engine are the standard library's objects in the "
               "routed module: Binary (memoryview), Date, Time, Timestamp and their FromTicks forms, "
               "PARSE_DECLTYPES, PARSE_COLNAMES, the SQLITE_* constants, adapters, converters, dbapi2, "
               "version, version_info",
               "pyturso lacks them (AttributeError at the first use): code that wraps a value in "
               "sqlite3.Binary goes on to bind a memoryview, which pyturso refuses "
               "(driver_surface.pep249-constructors-missing, types.native_memoryview)"),
    Adaptation("register_adapter-emulated",
               "sqlite3.register_adapter is recorded as a missing name and emulated: the adapters it "
               "registers are applied to parameters before they reach turso",
               "pyturso has no adapters: without this, every statement binding a Decimal, date or user type "
               "fails on the parameter and hides the differences after it"),
    Adaptation("sqlite3.connect-autocommit",
               "sqlite3.connect(autocommit=X) sets turso's Connection.autocommit = X after connecting",
               "turso.connect() takes no autocommit= keyword (TypeError)"),
    Adaptation("sqlite3.connect-uri",
               "sqlite3.connect(..., uri=True) is accepted for a plain path; a file: URI becomes a path: "
               "file:p and mode=rwc the path p, mode=memory (private) :memory:, and mode=memory&cache=shared "
               "one file per name under a temporary folder of the process, shared by its connections of "
               "that name (Django's test databases); any other URI (mode=ro, mode=rw, vfs=, ...) raises "
               "MissingFeatureError instead of reaching turso",
               "turso.connect() takes no uri= keyword (TypeError), and takes a file: URI for a file name: "
               "it creates a file called 'file:shared?mode=memory&cache=shared' in the working directory. "
               "Turso has no shared cache: a shared in-memory database given a file instead takes file "
               "locks (SQLITE_BUSY) where the shared cache takes table locks (SQLITE_LOCKED), and outlives "
               "its last connection until the process ends"),
    Adaptation("aiosqlite.connect-keywords",
               "aiosqlite.connect() keywords get the sqlite3 adaptations above; iter_chunk_size= and loop= "
               "are dropped",
               "turso.aio.connect() takes none of sqlite3's keywords nor aiosqlite's own (TypeError)"),
    Adaptation("sqlalchemy.attach",
               "SQLAlchemy engines routed to pyturso's dialects open with experimental_features='attach'",
               "Turso keeps ATTACH behind an experimental toggle; SQLAlchemy's SQLite test provisioning "
               "and schema-qualified tables need it"),
    Adaptation("sqlalchemy.connect-args",
               "connect_args of a SQLAlchemy engine routed to pyturso's dialects lose check_same_thread= and "
               "cached_statements= (Flask-SQLAlchemy passes check_same_thread=False for SQLite)",
               "turso.connect() refuses these keywords (TypeError: unexpected keyword argument), so every "
               "connection of such an engine fails (driver_connect.sqlite3-keywords-refused)"),
    Adaptation("sqlalchemy.aio-adapter-names",
               "has_stop, which SQLAlchemy 2.1's aiosqlite dialect reads off its DBAPI adapter when an "
               "engine is made, is answered on pyturso's adapter as SQLAlchemy answers for a driver whose "
               "connection has no stop() (False: the engine does not terminate connections); the read is "
               "recorded",
               "pyturso's AsyncAdapt_turso_dbapi has no has_stop, so create_async_engine() of a "
               "sqlite+aiosqlite URL routed to Turso raises AttributeError before any statement "
               "(client_sqlalchemy.async-dialect-has-stop)"),
    Adaptation("sqlalchemy.provisioning",
               "pyturso's dialects, reached from a sqlite:// URL, load SQLAlchemy's SQLite test provisioning "
               "(sqlalchemy.testing: create/drop databases, the test_schema ATTACH)",
               "pyturso ships no SQLAlchemy test provisioning, so sqlalchemy.testing-based suites cannot set "
               "up their databases on sqlite+turso"),
)

BY_ID = {a.id: a for a in ADAPTATIONS}
