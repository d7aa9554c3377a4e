"""Exceptions: the class raised per failure, `sqlite_errorcode`/`sqlite_errorname`, and exceptions that
escape the DB-API hierarchy (an application catching `module.Error` misses them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driver_support import blocking, db_path, pydoc

from stc_harness import CheckContext, check

EXCEPTIONS = pydoc("Exceptions")


def _schema(conn: Any) -> None:
    conn.execute(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT UNIQUE, name TEXT NOT NULL, "
        "qty INTEGER CHECK (qty > 0))"
    )
    conn.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id))")
    conn.execute("INSERT INTO p VALUES (1, 'a', 'first', 1)")
    conn.commit()


#: One way to make the driver fail, each on a connection with the schema above (foreign keys on).
FAILURES: dict[str, Callable[[Any, Path], Any]] = {
    "unique": lambda c, d: c.execute("INSERT INTO p VALUES (2, 'a', 'x', 1)"),
    "primary_key": lambda c, d: c.execute("INSERT INTO p VALUES (1, 'b', 'x', 1)"),
    "not_null": lambda c, d: c.execute("INSERT INTO p VALUES (3, 'c', NULL, 1)"),
    "check": lambda c, d: c.execute("INSERT INTO p VALUES (4, 'd', 'x', 0)"),
    "foreign_key": lambda c, d: c.execute("INSERT INTO c VALUES (1, 99)"),
    "syntax": lambda c, d: c.execute("SELEC 1"),
    "no_such_table": lambda c, d: c.execute("SELECT * FROM missing"),
    "no_such_column": lambda c, d: c.execute("SELECT nope FROM p"),
    "too_few_parameters": lambda c, d: c.execute("SELECT ?, ?", (1,)),
    "too_many_parameters": lambda c, d: c.execute("SELECT ?", (1, 2)),
    "missing_named_parameter": lambda c, d: c.execute("SELECT :a, :b", {"a": 1}),
    "unsupported_parameter_type": lambda c, d: c.execute("SELECT ?", (object(),)),
    "integer_too_big": lambda c, d: c.execute("SELECT ?", (2**64,)),
    "two_statements": lambda c, d: c.execute("SELECT 1; SELECT 2"),
    "nul_in_sql": lambda c, d: c.execute("SELECT 1\x00"),
    "empty_sql": lambda c, d: c.execute("").fetchall(),
    "sql_not_str": lambda c, d: c.execute(b"SELECT 1"),
    "parameters_not_sequence": lambda c, d: c.execute("SELECT ?", 1),
    "runtime_overflow": lambda c, d: c.execute("SELECT abs(-9223372036854775807 - 1)").fetchall(),
    "commit_inside_executescript": lambda c, d: c.executescript("BEGIN; COMMIT; COMMIT;"),
    "rollback_without_begin_sql": lambda c, d: c.execute("ROLLBACK"),
    "drop_missing_table": lambda c, d: c.execute("DROP TABLE missing"),
    "not_a_database": lambda c, d: _attach_text_file(c, d),
}


def _attach_text_file(conn: Any, folder: Path) -> Any:
    """ATTACH a file of the check's folder that holds text, then read its schema."""
    text = folder / "text-not-a-database.db"
    text.write_text("this is not a database\n" * 100, encoding="utf-8")
    conn.execute("ATTACH ? AS x", (str(text),))
    return conn.execute("SELECT * FROM x.sqlite_schema").fetchall()


def _raised(module: Any, folder: str, key: str) -> Exception | None:
    """What failure `key` raises on a connection with the schema above (foreign keys on), or None."""
    conn = module.connect(":memory:")
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        _schema(conn)
        try:
            FAILURES[key](conn, Path(folder))
        except Exception as exc:  # noqa: BLE001 - the exception is the observation
            return exc
        return None
    finally:
        conn.close()


def _fail(module: Any, folder: str, key: str) -> Any:
    exc = _raised(module, folder, key)
    if exc is None:
        return {"class": None}
    error = getattr(module, "Error", None)
    return {
        "class": type(exc).__name__,
        "is_module_Error": isinstance(error, type) and isinstance(exc, error),
        "sqlite_errorname": getattr(exc, "sqlite_errorname", None) or "absent",
        "sqlite_errorcode": getattr(exc, "sqlite_errorcode", None) or "absent",
    }


@check(
    title="The exception a failure raises: class, inside module.Error or not, sqlite_errorname and code",
    source=EXCEPTIONS,
    params={k: k for k in FAILURES},
    layer="driver",
)
async def test_failure(ctx: CheckContext, key: str) -> object:
    ctx.folder.mkdir(parents=True, exist_ok=True)
    return await blocking(_fail, ctx.sync_module(), str(ctx.folder), key)


#: Failures whose message Turso prefixes with the stage of the engine that failed (`Parse error: ...`).
MESSAGES = ("no_such_table", "no_such_column", "drop_missing_table", "syntax")
#: A stage prefix before the message SQLite would give.
_STAGE_PREFIX = re.compile(r"^(?:[A-Z][a-z]+ error: )?")


def _message_prefix(module: Any, folder: str, key: str) -> Any:
    exc = _raised(module, folder, key)
    if exc is None:
        return {"raised": False}
    match = _STAGE_PREFIX.match(str(exc))
    return {"prefix": match.group(0) if match else ""}


@check(
    title="A failure's message: any prefix before the text SQLite gives ('Parse error: no such table: t')",
    source=EXCEPTIONS,
    params={k: k for k in MESSAGES},
    layer="driver",
)
async def test_message_prefix(ctx: CheckContext, key: str) -> object:
    ctx.folder.mkdir(parents=True, exist_ok=True)
    return await blocking(_message_prefix, ctx.sync_module(), str(ctx.folder), key)


def _locked(module: Any, path: str) -> Any:
    setup = module.connect(path)
    setup.execute("CREATE TABLE t (x)")
    setup.commit()
    setup.close()
    a = module.connect(path, isolation_level=None)
    try:
        a.execute("BEGIN IMMEDIATE")
        b = module.connect(path, isolation_level=None)
        try:
            b.execute("PRAGMA busy_timeout = 0")
            b.execute("BEGIN IMMEDIATE")
            return {"class": None}
        except Exception as exc:  # noqa: BLE001
            error = getattr(module, "Error", None)
            return {
                "class": type(exc).__name__,
                "is_module_Error": isinstance(error, type) and isinstance(exc, error),
                "sqlite_errorname": getattr(exc, "sqlite_errorname", None) or "absent",
            }
        finally:
            b.close()
    finally:
        a.close()


@check(title="A locked database (busy_timeout 0): the exception raised", source=EXCEPTIONS, layer="driver")
async def test_database_locked(ctx: CheckContext) -> object:
    return await blocking(_locked, ctx.sync_module(), db_path(ctx))
