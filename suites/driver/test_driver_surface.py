"""The module surface: every public name of `sqlite3` and every PEP 249 requirement, present and working.

Presence is one check per name (module, connection, cursor; the SQLITE_* constants one check per
family), observed as `{"present": bool}` plus the value of a constant (version strings excepted: those
differ between SQLite releases by design); connection and cursor attributes are looked up on an
in-memory database (presence does not depend on the file). "Works when called" is one check per
feature, each calling the module the way the Python `sqlite3` documentation shows, on a fresh
database file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any

from driver_support import STDLIB, blocking, closing, db_path, outcome, pep249, plain, pydoc

from stc_harness import CheckContext, Unsupported, check

#: The public names of `sqlite3` on Python 3.11 plus the 3.12 additions (a fixed list, so check ids do not
#: depend on the Python running them); its incidental imports (collections, datetime, time) left out.
MODULE_NAMES = (
    "Binary",
    "Blob",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "LEGACY_TRANSACTION_CONTROL",
    "NotSupportedError",
    "OperationalError",
    "PARSE_COLNAMES",
    "PARSE_DECLTYPES",
    "PrepareProtocol",
    "ProgrammingError",
    "Row",
    "SQLITE_ABORT",
    "SQLITE_ABORT_ROLLBACK",
    "SQLITE_ALTER_TABLE",
    "SQLITE_ANALYZE",
    "SQLITE_ATTACH",
    "SQLITE_AUTH",
    "SQLITE_AUTH_USER",
    "SQLITE_BUSY",
    "SQLITE_BUSY_RECOVERY",
    "SQLITE_BUSY_SNAPSHOT",
    "SQLITE_BUSY_TIMEOUT",
    "SQLITE_CANTOPEN",
    "SQLITE_CANTOPEN_CONVPATH",
    "SQLITE_CANTOPEN_DIRTYWAL",
    "SQLITE_CANTOPEN_FULLPATH",
    "SQLITE_CANTOPEN_ISDIR",
    "SQLITE_CANTOPEN_NOTEMPDIR",
    "SQLITE_CANTOPEN_SYMLINK",
    "SQLITE_CONSTRAINT",
    "SQLITE_CONSTRAINT_CHECK",
    "SQLITE_CONSTRAINT_COMMITHOOK",
    "SQLITE_CONSTRAINT_FOREIGNKEY",
    "SQLITE_CONSTRAINT_FUNCTION",
    "SQLITE_CONSTRAINT_NOTNULL",
    "SQLITE_CONSTRAINT_PINNED",
    "SQLITE_CONSTRAINT_PRIMARYKEY",
    "SQLITE_CONSTRAINT_ROWID",
    "SQLITE_CONSTRAINT_TRIGGER",
    "SQLITE_CONSTRAINT_UNIQUE",
    "SQLITE_CONSTRAINT_VTAB",
    "SQLITE_CORRUPT",
    "SQLITE_CORRUPT_INDEX",
    "SQLITE_CORRUPT_SEQUENCE",
    "SQLITE_CORRUPT_VTAB",
    "SQLITE_CREATE_INDEX",
    "SQLITE_CREATE_TABLE",
    "SQLITE_CREATE_TEMP_INDEX",
    "SQLITE_CREATE_TEMP_TABLE",
    "SQLITE_CREATE_TEMP_TRIGGER",
    "SQLITE_CREATE_TEMP_VIEW",
    "SQLITE_CREATE_TRIGGER",
    "SQLITE_CREATE_VIEW",
    "SQLITE_CREATE_VTABLE",
    "SQLITE_DELETE",
    "SQLITE_DENY",
    "SQLITE_DETACH",
    "SQLITE_DONE",
    "SQLITE_DROP_INDEX",
    "SQLITE_DROP_TABLE",
    "SQLITE_DROP_TEMP_INDEX",
    "SQLITE_DROP_TEMP_TABLE",
    "SQLITE_DROP_TEMP_TRIGGER",
    "SQLITE_DROP_TEMP_VIEW",
    "SQLITE_DROP_TRIGGER",
    "SQLITE_DROP_VIEW",
    "SQLITE_DROP_VTABLE",
    "SQLITE_EMPTY",
    "SQLITE_ERROR",
    "SQLITE_ERROR_MISSING_COLLSEQ",
    "SQLITE_ERROR_RETRY",
    "SQLITE_ERROR_SNAPSHOT",
    "SQLITE_FORMAT",
    "SQLITE_FULL",
    "SQLITE_FUNCTION",
    "SQLITE_IGNORE",
    "SQLITE_INSERT",
    "SQLITE_INTERNAL",
    "SQLITE_INTERRUPT",
    "SQLITE_IOERR",
    "SQLITE_IOERR_ACCESS",
    "SQLITE_IOERR_AUTH",
    "SQLITE_IOERR_BEGIN_ATOMIC",
    "SQLITE_IOERR_BLOCKED",
    "SQLITE_IOERR_CHECKRESERVEDLOCK",
    "SQLITE_IOERR_CLOSE",
    "SQLITE_IOERR_COMMIT_ATOMIC",
    "SQLITE_IOERR_CONVPATH",
    "SQLITE_IOERR_CORRUPTFS",
    "SQLITE_IOERR_DATA",
    "SQLITE_IOERR_DELETE",
    "SQLITE_IOERR_DELETE_NOENT",
    "SQLITE_IOERR_DIR_CLOSE",
    "SQLITE_IOERR_DIR_FSYNC",
    "SQLITE_IOERR_FSTAT",
    "SQLITE_IOERR_FSYNC",
    "SQLITE_IOERR_GETTEMPPATH",
    "SQLITE_IOERR_LOCK",
    "SQLITE_IOERR_MMAP",
    "SQLITE_IOERR_NOMEM",
    "SQLITE_IOERR_RDLOCK",
    "SQLITE_IOERR_READ",
    "SQLITE_IOERR_ROLLBACK_ATOMIC",
    "SQLITE_IOERR_SEEK",
    "SQLITE_IOERR_SHMLOCK",
    "SQLITE_IOERR_SHMMAP",
    "SQLITE_IOERR_SHMOPEN",
    "SQLITE_IOERR_SHMSIZE",
    "SQLITE_IOERR_SHORT_READ",
    "SQLITE_IOERR_TRUNCATE",
    "SQLITE_IOERR_UNLOCK",
    "SQLITE_IOERR_VNODE",
    "SQLITE_IOERR_WRITE",
    "SQLITE_LIMIT_ATTACHED",
    "SQLITE_LIMIT_COLUMN",
    "SQLITE_LIMIT_COMPOUND_SELECT",
    "SQLITE_LIMIT_EXPR_DEPTH",
    "SQLITE_LIMIT_FUNCTION_ARG",
    "SQLITE_LIMIT_LENGTH",
    "SQLITE_LIMIT_LIKE_PATTERN_LENGTH",
    "SQLITE_LIMIT_SQL_LENGTH",
    "SQLITE_LIMIT_TRIGGER_DEPTH",
    "SQLITE_LIMIT_VARIABLE_NUMBER",
    "SQLITE_LIMIT_VDBE_OP",
    "SQLITE_LIMIT_WORKER_THREADS",
    "SQLITE_LOCKED",
    "SQLITE_LOCKED_SHAREDCACHE",
    "SQLITE_LOCKED_VTAB",
    "SQLITE_MISMATCH",
    "SQLITE_MISUSE",
    "SQLITE_NOLFS",
    "SQLITE_NOMEM",
    "SQLITE_NOTADB",
    "SQLITE_NOTFOUND",
    "SQLITE_NOTICE",
    "SQLITE_NOTICE_RECOVER_ROLLBACK",
    "SQLITE_NOTICE_RECOVER_WAL",
    "SQLITE_OK",
    "SQLITE_OK_LOAD_PERMANENTLY",
    "SQLITE_OK_SYMLINK",
    "SQLITE_PERM",
    "SQLITE_PRAGMA",
    "SQLITE_PROTOCOL",
    "SQLITE_RANGE",
    "SQLITE_READ",
    "SQLITE_READONLY",
    "SQLITE_READONLY_CANTINIT",
    "SQLITE_READONLY_CANTLOCK",
    "SQLITE_READONLY_DBMOVED",
    "SQLITE_READONLY_DIRECTORY",
    "SQLITE_READONLY_RECOVERY",
    "SQLITE_READONLY_ROLLBACK",
    "SQLITE_RECURSIVE",
    "SQLITE_REINDEX",
    "SQLITE_ROW",
    "SQLITE_SAVEPOINT",
    "SQLITE_SCHEMA",
    "SQLITE_SELECT",
    "SQLITE_TOOBIG",
    "SQLITE_TRANSACTION",
    "SQLITE_UPDATE",
    "SQLITE_WARNING",
    "SQLITE_WARNING_AUTOINDEX",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "adapt",
    "adapters",
    "apilevel",
    "complete_statement",
    "connect",
    "converters",
    "dbapi2",
    "enable_callback_tracebacks",
    "enable_shared_cache",
    "paramstyle",
    "register_adapter",
    "register_converter",
    "sqlite_version",
    "sqlite_version_info",
    "threadsafety",
    "version",
    "version_info",
)
#: Names whose value differs between releases by design: compared for presence only.
VERSION_NAMES = ("sqlite_version", "sqlite_version_info", "version", "version_info")

CONNECTION_NAMES = (
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Warning",
    "autocommit",
    "backup",
    "blobopen",
    "close",
    "commit",
    "create_aggregate",
    "create_collation",
    "create_function",
    "create_window_function",
    "cursor",
    "deserialize",
    "enable_load_extension",
    "execute",
    "executemany",
    "executescript",
    "getconfig",
    "getlimit",
    "in_transaction",
    "interrupt",
    "isolation_level",
    "iterdump",
    "load_extension",
    "rollback",
    "row_factory",
    "serialize",
    "set_authorizer",
    "set_progress_handler",
    "set_trace_callback",
    "setconfig",
    "setlimit",
    "text_factory",
    "total_changes",
)
CURSOR_NAMES = (
    "arraysize",
    "close",
    "connection",
    "description",
    "execute",
    "executemany",
    "executescript",
    "fetchall",
    "fetchmany",
    "fetchone",
    "lastrowid",
    "row_factory",
    "rowcount",
    "setinputsizes",
    "setoutputsize",
)

MODULE_DOC = pydoc("Module functions and constants")


def _kind(value: Any) -> str:
    if isinstance(value, type):
        return "class"
    if callable(value):
        return "callable"
    return type(value).__name__


def presence(obj: Any, name: str, with_value: bool) -> dict[str, Any]:
    """Whether `obj` has `name`; for a plain constant, its value too."""
    if not hasattr(obj, name):
        return {"present": False}
    value = getattr(obj, name)
    seen: dict[str, Any] = {"present": True}
    if with_value and isinstance(value, (int, str)) and not isinstance(value, bool):
        seen["value"] = value
    return seen


def _stdlib_has(obj: Any, name: str) -> None:
    if not hasattr(obj, name):
        raise Unsupported("stdlib_name", f"this Python's sqlite3 has no {name!r} to compare with")


#: Authorizer action codes among the SQLITE_* constants (the rest are result codes and limits).
AUTHORIZER_ACTIONS = ("ALTER_TABLE", "ANALYZE", "ATTACH", "DETACH", "DELETE", "INSERT", "PRAGMA", "READ",
                      "SELECT", "TRANSACTION", "UPDATE", "FUNCTION", "SAVEPOINT", "RECURSIVE", "REINDEX")


def constant_family(name: str) -> str:
    """The family of a SQLITE_* constant: authorizer actions/returns, limits, primary or extended codes."""
    rest = name.removeprefix("SQLITE_")
    if rest.startswith(("CREATE_", "DROP_")) or rest in AUTHORIZER_ACTIONS:
        return "authorizer_actions"
    if rest in ("DENY", "IGNORE"):
        return "authorizer_returns"
    if rest.startswith("LIMIT_"):
        return "limits"
    if "_" in rest:
        return "extended_result_" + rest.split("_")[0].lower()
    return "primary_result_codes"


#: The 152 SQLITE_* constants by family: one check per family keeps the run short (a check costs ~10 ms
#: of harness overhead per backend even when its body is a getattr), and a family names what is missing.
CONSTANT_FAMILIES: dict[str, tuple[str, ...]] = {}
for _name in MODULE_NAMES:
    if _name.startswith("SQLITE_"):
        _family = constant_family(_name)
        CONSTANT_FAMILIES[_family] = (*CONSTANT_FAMILIES.get(_family, ()), _name)
#: Every other public name: one check each.
OTHER_NAMES = tuple(n for n in MODULE_NAMES if not n.startswith("SQLITE_"))


@check(title="Public name of sqlite3 present in the driver module (constants with their value)",
       source=MODULE_DOC, params={n: n for n in OTHER_NAMES}, layer="driver")
async def test_module_name(ctx: CheckContext, name: str) -> object:
    _stdlib_has(STDLIB, name)
    return presence(ctx.sync_module(), name, name not in VERSION_NAMES)


@check(title="A family of sqlite3's SQLITE_* constants: which are present, with their values",
       source=MODULE_DOC, params=CONSTANT_FAMILIES, layer="driver")
async def test_module_constants(ctx: CheckContext, names: tuple[str, ...]) -> object:
    known = [n for n in names if hasattr(STDLIB, n)]
    if not known:
        raise Unsupported("stdlib_name", "this Python's sqlite3 has none of these constants to compare with")
    module = ctx.sync_module()
    if not any(hasattr(module, n) for n in known):
        return {"present": False}
    return {n: getattr(module, n, "missing") for n in known}


def _connection_presence(module: Any, path: str, name: str) -> dict[str, Any]:
    return closing(module, path, lambda conn: presence(conn, name, False))


@check(
    title="Attribute of a sqlite3 Connection present on the driver's connection (PEP 249's included)",
    source=pydoc("Connection objects"),
    params={n: n for n in CONNECTION_NAMES},
    layer="driver",
)
async def test_connection_attribute(ctx: CheckContext, name: str) -> object:
    with contextlib.closing(STDLIB.connect(":memory:")) as probe:
        _stdlib_has(probe, name)
    return await blocking(_connection_presence, ctx.sync_module(), ":memory:", name)


def _cursor_presence(module: Any, path: str, name: str) -> dict[str, Any]:
    return closing(module, path, lambda conn: presence(conn.cursor(), name, False))


@check(
    title="Attribute of a sqlite3 Cursor present on the driver's cursor (PEP 249's included)",
    source=pydoc("Cursor objects"),
    params={n: n for n in CURSOR_NAMES},
    layer="driver",
)
async def test_cursor_attribute(ctx: CheckContext, name: str) -> object:
    return await blocking(_cursor_presence, ctx.sync_module(), ":memory:", name)


#: PEP 249 requirements on the module (names and the values it fixes).
PEP249_MODULE = {
    "apilevel": ("Module Interface", "apilevel"),
    "threadsafety": ("Module Interface", "threadsafety"),
    "paramstyle": ("Module Interface", "paramstyle"),
    "connect": ("Module Interface", "connect"),
    "Date": ("Type Objects and Constructors", "Date"),
    "Time": ("Type Objects and Constructors", "Time"),
    "Timestamp": ("Type Objects and Constructors", "Timestamp"),
    "DateFromTicks": ("Type Objects and Constructors", "DateFromTicks"),
    "TimeFromTicks": ("Type Objects and Constructors", "TimeFromTicks"),
    "TimestampFromTicks": ("Type Objects and Constructors", "TimestampFromTicks"),
    "Binary": ("Type Objects and Constructors", "Binary"),
    "STRING": ("Type Objects and Constructors", "STRING"),
    "BINARY": ("Type Objects and Constructors", "BINARY"),
    "NUMBER": ("Type Objects and Constructors", "NUMBER"),
    "DATETIME": ("Type Objects and Constructors", "DATETIME"),
    "ROWID": ("Type Objects and Constructors", "ROWID"),
}


@check(
    title="PEP 249 module requirement: the name is defined (with its value where PEP 249 fixes one)",
    source=pep249("Module Interface; Type Objects and Constructors"),
    params=PEP249_MODULE,
    layer="driver",
)
async def test_pep249_module(ctx: CheckContext, item: tuple[str, str]) -> object:
    return presence(ctx.sync_module(), item[1], True)


PEP249_EXCEPTIONS = (
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
)


@check(
    title="PEP 249 exception class: defined by the module, with PEP 249's base classes",
    source=pep249("Exceptions"),
    params={n: n for n in PEP249_EXCEPTIONS},
    layer="driver",
)
async def test_pep249_exception(ctx: CheckContext, name: str) -> object:
    module = ctx.sync_module()
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        return {"defined": False}
    bases = [b.__name__ for b in cls.__mro__[1:] if b.__name__ in PEP249_EXCEPTIONS or b is Exception]
    return {"defined": True, "bases": bases}


# --- works when called ------------------------------------------------------------------------------


def _function(conn: Any) -> Any:
    conn.create_function("twice", 1, lambda x: x * 2)
    return conn.execute("SELECT twice(21), twice('ab')").fetchall()


def _deterministic_function(conn: Any) -> Any:
    conn.create_function("plus1", 1, lambda x: x + 1, deterministic=True)
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("CREATE INDEX t_plus1 ON t (plus1(x))")
    return conn.execute("SELECT plus1(1)").fetchall()


class _Sum:
    def __init__(self) -> None:
        self.total = 0

    def step(self, value: int) -> None:
        self.total += value

    def finalize(self) -> int:
        return self.total


class _WindowSum(_Sum):
    def value(self) -> int:
        return self.total

    def inverse(self, value: int) -> None:
        self.total -= value


def _aggregate(conn: Any) -> Any:
    conn.create_aggregate("mysum", 1, _Sum)
    return conn.execute(
        "SELECT mysum(x) FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 39)"
    ).fetchall()


def _window(conn: Any) -> Any:
    conn.create_window_function("wsum", 1, _WindowSum)
    return conn.execute(
        "SELECT x, wsum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) "
        "FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3)"
    ).fetchall()


def _collation(conn: Any) -> Any:
    conn.create_collation("reverse", lambda a, b: (a < b) - (a > b))
    return conn.execute(
        "SELECT x FROM (SELECT 'a' AS x UNION ALL SELECT 'c' UNION ALL SELECT 'b') ORDER BY x COLLATE reverse"
    ).fetchall()


def _authorizer(conn: Any) -> Any:
    conn.execute("CREATE TABLE secret (x)")
    conn.set_authorizer(lambda action, a, b, db, trigger: 1 if a == "secret" else 0)  # 1 = SQLITE_DENY
    try:
        conn.execute("SELECT x FROM secret").fetchall()
        return "read"
    finally:
        conn.set_authorizer(None)


def _progress(conn: Any) -> Any:
    calls: list[int] = []
    conn.set_progress_handler(lambda: calls.append(1) or 0, 10)
    conn.execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) "
        "SELECT count(*) FROM c"
    ).fetchall()
    return {"called": bool(calls)}


def _progress_abort(conn: Any) -> Any:
    conn.set_progress_handler(lambda: 1, 10)
    return conn.execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) "
        "SELECT count(*) FROM c"
    ).fetchall()


def _trace(conn: Any) -> Any:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    conn.execute("SELECT 42").fetchall()
    return seen


def _backup(conn: Any, module: Any, path: str) -> Any:
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    target = module.connect(path + ".copy")
    try:
        conn.backup(target)
        return target.execute("SELECT x FROM t").fetchall()
    finally:
        target.close()


def _iterdump(conn: Any) -> Any:
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    return list(conn.iterdump())


def _blobopen(conn: Any) -> Any:
    conn.execute("CREATE TABLE b (data BLOB)")
    conn.execute("INSERT INTO b VALUES (zeroblob(4))")
    conn.commit()
    with conn.blobopen("b", "data", 1) as blob:
        blob.write(b"abcd")
    return conn.execute("SELECT data FROM b").fetchall()


def _serialize(conn: Any, module: Any, path: str) -> Any:
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (7)")
    conn.commit()
    image = conn.serialize()
    other = module.connect(":memory:")
    try:
        other.deserialize(image)
        return other.execute("SELECT x FROM t").fetchall()
    finally:
        other.close()


def _limits(conn: Any, module: Any, path: str) -> Any:
    category = getattr(module, "SQLITE_LIMIT_VARIABLE_NUMBER", 9)
    before = conn.setlimit(category, 10)
    return {"previous_positive": before > 0, "now": conn.getlimit(category)}


def _row(conn: Any, module: Any, path: str) -> Any:
    conn.row_factory = module.Row
    row = conn.execute("SELECT 1 AS a, 2 AS B").fetchone()
    return {
        "keys": list(row.keys()),
        "by_name": row["a"],
        "by_other_case": row["b"],
        "by_index": row[1],
        "tuple": tuple(row),
        "len": len(row),
    }


def _adapter(conn: Any, module: Any, path: str) -> Any:
    class Point:
        def __init__(self, x: int, y: int) -> None:
            self.x, self.y = x, y

    module.register_adapter(Point, lambda p: f"{p.x};{p.y}")
    return conn.execute("SELECT ?", (Point(1, 2),)).fetchall()


def _converter(conn: Any, module: Any, path: str) -> Any:
    module.register_converter("point", lambda b: tuple(int(v) for v in b.split(b";")))
    conv = module.connect(path + ".conv", detect_types=module.PARSE_DECLTYPES)
    try:
        conv.execute("CREATE TABLE p (at point)")
        conv.execute("INSERT INTO p VALUES ('3;4')")
        return conv.execute("SELECT at FROM p").fetchall()
    finally:
        conv.close()


def _complete_statement(conn: Any, module: Any, path: str) -> Any:
    return [
        module.complete_statement("SELECT 1;"),
        module.complete_statement("SELECT 1"),
        module.complete_statement("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1;"),
    ]


def _constructors(conn: Any, module: Any, path: str) -> Any:
    return {
        "Date": plain(module.Date(2024, 1, 2)),
        "Time": plain(module.Time(3, 4, 5)),
        "Timestamp": plain(module.Timestamp(2024, 1, 2, 3, 4, 5)),
        "DateFromTicks": plain(module.DateFromTicks(0) == dt.date.fromtimestamp(0)),
        "Binary": plain(module.Binary(b"\x00\x01")),
    }


def _total_changes(conn: Any) -> Any:
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,), (3,)])
    conn.execute("UPDATE t SET x = x + 1")
    return conn.total_changes


def _interrupt_idle(conn: Any) -> Any:
    conn.interrupt()
    return conn.execute("SELECT 1").fetchall()


def _load_extension(conn: Any) -> Any:
    conn.enable_load_extension(True)
    conn.enable_load_extension(False)
    return "toggled"


def _text_factory(conn: Any) -> Any:
    conn.text_factory = bytes
    return conn.execute("SELECT 'abc'").fetchall()


def _callback_tracebacks(conn: Any, module: Any, path: str) -> Any:
    module.enable_callback_tracebacks(False)
    return "set"


def _adapt(conn: Any, module: Any, path: str) -> Any:
    return module.adapt(dt.date(2024, 1, 2))


Plain = Callable[[Any], Any]
WithModule = Callable[[Any, Any, str], Any]
WORKS: dict[str, tuple[str, Plain | WithModule, bool]] = {
    "create_function": ("Connection objects", _function, False),
    "create_function_deterministic": ("Connection objects", _deterministic_function, False),
    "create_aggregate": ("Connection objects", _aggregate, False),
    "create_window_function": ("Connection objects", _window, False),
    "create_collation": ("Connection objects", _collation, False),
    "set_authorizer_deny": ("Connection objects", _authorizer, False),
    "set_progress_handler": ("Connection objects", _progress, False),
    "set_progress_handler_abort": ("Connection objects", _progress_abort, False),
    "set_trace_callback": ("Connection objects", _trace, False),
    "backup": ("Connection objects", _backup, True),
    "iterdump": ("Connection objects", _iterdump, False),
    "blobopen": ("Blob objects", _blobopen, False),
    "serialize_deserialize": ("Connection objects", _serialize, True),
    "setlimit_getlimit": ("Connection objects", _limits, True),
    "total_changes": ("Connection objects", _total_changes, False),
    "interrupt_when_idle": ("Connection objects", _interrupt_idle, False),
    "enable_load_extension": ("Connection objects", _load_extension, False),
    "text_factory_bytes": ("Connection objects", _text_factory, False),
    "row_factory_Row": ("Row objects", _row, True),
    "register_adapter": ("How to adapt custom Python types to SQLite values", _adapter, True),
    "register_converter": ("How to convert SQLite values to custom Python types", _converter, True),
    "complete_statement": ("Module functions", _complete_statement, True),
    "type_constructors": ("Module functions and constants", _constructors, True),
    "enable_callback_tracebacks": ("Module functions", _callback_tracebacks, True),
    "adapt": ("Module functions", _adapt, True),
}


def _works(module: Any, path: str, key: str) -> dict[str, Any]:
    _, fn, with_module = WORKS[key]

    def call(conn: Any) -> Any:
        return fn(conn, module, path) if with_module else fn(conn)  # type: ignore[call-arg]

    try:
        conn = module.connect(path)
    except Exception as exc:  # noqa: BLE001
        return {"connect_raises": type(exc).__name__}
    try:
        return outcome(call, conn)
    finally:
        with contextlib.suppress(Exception):  # a failing close is not what this check observes
            conn.close()


@check(
    title="A sqlite3 feature works when called as the Python documentation shows",
    source=pydoc("Connection objects; Module functions"),
    params={k: k for k in WORKS},
    layer="driver",
)
async def test_works(ctx: CheckContext, key: str) -> object:
    ctx.note(doc_section=WORKS[key][0])
    return await blocking(_works, ctx.sync_module(), db_path(ctx), key)
