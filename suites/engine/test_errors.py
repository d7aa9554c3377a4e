"""Error mapping: the ErrorKind and the DB-API exception class each driver gives for the same failure.

Every failure is triggered for real, with explicit ordering (two connections driven by sequenced
awaits, busy timeout 0, no sleeps). Two checks per failure, so each has its own verdict:
`errors.kind[<failure>]` compares the harness's `ErrorKind`, `errors.dbapi_class[<failure>]` the
driver's exception class (users catch by class). The raw class and message are in the notes.
`errors.table_*` are the rows of `001_312a5f9792b0f890.txt`'s error table, each triggered for real.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stc_harness import (
    DISCOVERY,
    CheckContext,
    DatabaseError,
    TransactionMode,
    Unsupported,
    check,
    driver_guide,
    rows,
)
from stc_harness.adapters.connection import run_statement
from stc_harness.errors import RawError

ERROR_TABLE = driver_guide("Errors and the connection pool")
CONCURRENT_WRITES = driver_guide("Concurrent writes")

#: The PEP 249 exception classes, as each driver module defines them.
PEP249 = ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
          "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError")
#: Modules whose PEP 249 classes are the drivers' DB-API classes (the engine's own `turso.Error` is not one).
DBAPI_MODULES = ("sqlite3", "turso.lib", "sqlean.dbapi2")

Trigger = Callable[[CheckContext], Awaitable[Any]]

SCHEMA = (
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT UNIQUE, name TEXT NOT NULL, "
    "qty INTEGER CHECK (qty > 0))",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))",
    "CREATE TABLE typed (i INTEGER, t TEXT) STRICT",
    "INSERT INTO parent VALUES (1, 'a', 'first', 1)",
)

#: A query that streams up to a million rows: long enough to interrupt, bounded if the interrupt is lost.
COUNTING = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
            "SELECT x FROM c")


@dataclass(frozen=True)
class Failure:
    """One way to make a driver fail: a trigger that raises the classified error (or returns what it got)."""

    what: str
    trigger: Trigger

    def __repr__(self) -> str:
        return f"Failure({self.what!r})"


# --- building blocks --------------------------------------------------------------------------------


async def _rows(conn: Any, sql: str, params: Any = ()) -> Any:
    return rows(await conn.fetch_all(sql, params))


async def schema_conn(ctx: CheckContext) -> Any:
    """A connection on a fresh file database with foreign keys on and the test schema created."""
    conn = await ctx.connect()
    await conn.execute("PRAGMA foreign_keys = ON")
    for stmt in SCHEMA:
        await conn.execute(stmt)
    return conn


async def two_conns(ctx: CheckContext, *, wal: bool = False, **options: Any) -> tuple[Any, Any]:
    """Two connections on one fresh file database holding `t(id, v)` with one row."""
    url = ctx.url()
    a = await ctx.connect(url, **options)
    if wal:
        await a.execute("PRAGMA journal_mode = WAL")
    await a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    await a.execute("INSERT INTO t VALUES (1, 0)")
    return a, await ctx.connect(url, **options)


def on_schema(sql: str, params: Any = ()) -> Trigger:
    """A trigger running one statement on the test schema."""
    async def trigger(ctx: CheckContext) -> Any:
        return await _rows(await schema_conn(ctx), sql, params)
    return trigger


def file_path(ctx: CheckContext, name: str) -> Path:
    """A path in the check's folder (the folder is created)."""
    ctx.folder.mkdir(parents=True, exist_ok=True)
    return ctx.folder / name


# --- triggers ---------------------------------------------------------------------------------------


async def closed_connection(ctx: CheckContext) -> Any:
    """Use a harness connection after closing it."""
    conn = await ctx.connect()
    await conn.close()
    return await _rows(conn, "SELECT 1")


async def use_after_driver_close(ctx: CheckContext) -> Any:
    """Close the driver's own connection underneath the harness, then run a statement on it."""
    conn = await ctx.connect()
    await conn.call(lambda raw: raw.close())
    return rows((await conn.call(lambda raw: run_statement(raw, "SELECT 1"))).rows)


async def closed_cursor(ctx: CheckContext) -> Any:
    """Execute on a driver cursor after closing it."""
    conn = await ctx.connect()

    def use(raw: Any) -> Any:
        cur = raw.cursor()
        cur.close()
        return cur.execute("SELECT 1").fetchall()

    return rows(await conn.call(use))


async def table_locked(ctx: CheckContext) -> Any:
    """DROP TABLE on the connection whose own cursor is midway through reading that table."""
    conn = await ctx.connect(ctx.url(memory=True))
    await conn.execute("CREATE TABLE t (x INTEGER)")
    await conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])

    def drop_while_reading(raw: Any) -> str:
        cur = raw.cursor()
        try:
            cur.execute("SELECT x FROM t")
            cur.fetchone()
            raw.execute("DROP TABLE t")
            return "dropped"
        finally:
            cur.close()

    return await conn.call(drop_while_reading)


async def read_only_pragma(ctx: CheckContext) -> Any:
    """Write after `PRAGMA query_only = 1` (Turso rejects the `ON` spelling: see `pragma_on_keyword`)."""
    conn = await schema_conn(ctx)
    await conn.execute("PRAGMA query_only = 1")
    return await _rows(conn, "INSERT INTO parent (code, name, qty) VALUES ('q', 'q', 1)")


def _make_autovacuum_file(path: Path) -> None:
    plain = sqlite3.connect(path)
    try:
        plain.execute("PRAGMA auto_vacuum = FULL")
        plain.execute("CREATE TABLE t (x INTEGER)")
        plain.commit()
    finally:
        plain.close()


async def read_only_file(ctx: CheckContext) -> Any:
    """Write to a database file created by the stdlib sqlite3 with `PRAGMA auto_vacuum = FULL`."""
    path = file_path(ctx, "autovacuum.db")
    await asyncio.to_thread(_make_autovacuum_file, path)
    conn = await ctx.connect(f"{ctx.name}:{path}")
    await conn.execute("INSERT INTO t VALUES (1)")
    return await _rows(conn, "SELECT x FROM t")


async def not_a_database(ctx: CheckContext) -> Any:
    """Open a file of text and read its schema."""
    path = file_path(ctx, "garbage.db")
    path.write_bytes(b"this file is plain text, not a database\n" * 200)
    conn = await ctx.connect(f"{ctx.name}:{path}")
    return await _rows(conn, "SELECT count(*) FROM sqlite_master")


async def missing_directory(ctx: CheckContext) -> Any:
    """Open (and write to) a database whose directory does not exist."""
    conn = await ctx.connect(f"{ctx.name}:{ctx.folder / 'no_such_dir' / 'sub' / 'x.db'}")
    return await _rows(conn, "CREATE TABLE t (x)")


async def interrupted(ctx: CheckContext) -> Any:
    """Interrupt a streaming recursive query once its first row is out (signalled from the driver thread)."""
    await ctx.require("interrupt")
    conn = await ctx.connect(ctx.url(memory=True))
    loop = asyncio.get_running_loop()
    started = asyncio.Event()

    def stream(raw: Any) -> int:
        cur = raw.execute(COUNTING)
        try:
            count = 1 if cur.fetchone() is not None else 0
            loop.call_soon_threadsafe(started.set)  # the statement is now running (active, mid-result)
            while cur.fetchone() is not None:
                count += 1
            return count
        finally:
            cur.close()

    task = asyncio.ensure_future(conn.call(stream))
    waiter = asyncio.ensure_future(started.wait())
    await asyncio.wait({task, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if started.is_set():
        await conn.interrupt()
    return {"streamed_to_the_end": await task == 1000000}


async def busy(ctx: CheckContext) -> Any:
    """A second BEGIN IMMEDIATE while another connection holds the write lock (busy timeout 0)."""
    a, b = await two_conns(ctx)
    await a.execute("BEGIN IMMEDIATE")
    try:
        return await _rows(b, "BEGIN IMMEDIATE")
    finally:
        await a.rollback_quietly()
        await b.rollback_quietly()


async def busy_snapshot(ctx: CheckContext) -> Any:
    """WAL: a reader's snapshot goes stale when another connection commits; then the reader writes."""
    a, b = await two_conns(ctx, wal=True)
    await b.execute("BEGIN")
    await b.fetch_all("SELECT v FROM t")
    await a.execute("UPDATE t SET v = v + 1 WHERE id = 1")
    try:
        return await _rows(b, "UPDATE t SET v = v + 10 WHERE id = 1")
    finally:
        await b.rollback_quietly()


async def write_write_conflict(ctx: CheckContext) -> Any:
    """concurrent_writes: two default-mode (BEGIN CONCURRENT) transactions update the same row."""
    await ctx.require("concurrent_writes")
    a, b = await two_conns(ctx, concurrent_writes=True)
    await a.execute(a.begin_sql(TransactionMode.DEFAULT))
    await b.execute(b.begin_sql(TransactionMode.DEFAULT))
    try:
        await a.execute("UPDATE t SET v = 1 WHERE id = 1")
        await b.execute("UPDATE t SET v = 2 WHERE id = 1")
        await a.execute("COMMIT")
        await b.execute("COMMIT")
        return "both committed"
    finally:
        await a.rollback_quietly()
        await b.rollback_quietly()


async def commit_without_transaction(ctx: CheckContext) -> Any:
    """COMMIT with no transaction open."""
    return await _rows(await ctx.connect(), "COMMIT")


async def rollback_without_transaction(ctx: CheckContext) -> Any:
    """ROLLBACK with no transaction open."""
    return await _rows(await ctx.connect(), "ROLLBACK")


async def begin_inside_transaction(ctx: CheckContext) -> Any:
    """BEGIN inside an open transaction."""
    conn = await ctx.connect()
    await conn.execute("BEGIN")
    return await _rows(conn, "BEGIN")


async def release_unknown_savepoint(ctx: CheckContext) -> Any:
    """RELEASE of a savepoint that was never opened."""
    return await _rows(await ctx.connect(), "RELEASE never_opened")


async def sql_on_memory(ctx: CheckContext, sql: str, params: Any = ()) -> Any:
    """Run one statement on a fresh in-memory connection."""
    return await _rows(await ctx.connect(ctx.url(memory=True)), sql, params)


def on_memory(sql: str, params: Any = ()) -> Trigger:
    """A trigger running one statement on a fresh in-memory connection."""
    async def trigger(ctx: CheckContext) -> Any:
        return await sql_on_memory(ctx, sql, params)
    return trigger


#: The failures the issue lists, by name (check ids `errors.kind[<name>]`, `errors.dbapi_class[<name>]`).
FAILURES: dict[str, Failure] = {
    "syntax_error": Failure("a misspelt keyword", on_schema("SELEC 1")),
    "no_such_table": Failure("SELECT from a missing table", on_schema("SELECT * FROM missing_table")),
    "no_such_column": Failure("SELECT a missing column", on_schema("SELECT missing_column FROM parent")),
    "unique": Failure("duplicate UNIQUE value",
                      on_schema("INSERT INTO parent (code, name, qty) VALUES ('a', 'dup', 1)")),
    "primary_key": Failure("duplicate INTEGER PRIMARY KEY",
                           on_schema("INSERT INTO parent (id, name, qty) VALUES (1, 'dup', 1)")),
    "not_null": Failure("NULL into NOT NULL",
                        on_schema("INSERT INTO parent (code, name, qty) VALUES ('b', NULL, 1)")),
    "check": Failure("CHECK (qty > 0) violated",
                     on_schema("INSERT INTO parent (code, name, qty) VALUES ('c', 'c', 0)")),
    "foreign_key": Failure("child row without parent, PRAGMA foreign_keys = ON",
                           on_schema("INSERT INTO child (parent_id) VALUES (99)")),
    "strict_datatype": Failure("TEXT into an INTEGER column of a STRICT table",
                               on_schema("INSERT INTO typed (i) VALUES ('abc')")),
    "too_many_parameters": Failure("two values for one placeholder", on_memory("SELECT ?", (1, 2))),
    "too_few_parameters": Failure("one value for two placeholders", on_memory("SELECT ?, ?", (1,))),
    "closed_connection": Failure("a statement on a closed harness connection", closed_connection),
    "use_after_close": Failure("a statement on the driver's connection after closing it",
                               use_after_driver_close),
    "read_only_pragma": Failure("a write under PRAGMA query_only = 1", read_only_pragma),
    "read_only_file": Failure("a write to an auto_vacuum = FULL file made by stdlib sqlite3", read_only_file),
    "not_a_database": Failure("a text file opened as a database", not_a_database),
    "missing_directory": Failure("a database path in a missing directory", missing_directory),
    "interrupted": Failure("interrupt() while a recursive CTE streams rows", interrupted),
    "busy": Failure("BEGIN IMMEDIATE while another connection holds the write lock", busy),
    "busy_snapshot": Failure("WAL reader upgrades to a writer after its snapshot went stale", busy_snapshot),
    "commit_without_transaction": Failure("COMMIT outside a transaction", commit_without_transaction),
    "rollback_without_transaction": Failure("ROLLBACK outside a transaction", rollback_without_transaction),
    "begin_inside_transaction": Failure("BEGIN inside a transaction", begin_inside_transaction),
    "release_unknown_savepoint": Failure("RELEASE of a savepoint never opened", release_unknown_savepoint),
}

#: Failures found while hunting beyond the issue's list.
DISCOVERED: dict[str, Failure] = {
    "already_exists": Failure("CREATE TABLE of an existing table", on_schema("CREATE TABLE parent (x)")),
    "no_such_function": Failure("an unknown SQL function", on_memory("SELECT no_such_function(1)")),
    "malformed_json": Failure("json() of malformed text", on_memory("SELECT json('{')")),
    "integer_overflow": Failure("abs() of the smallest integer",
                                on_memory("SELECT abs(-9223372036854775808)")),
    "compound_mismatch": Failure("UNION of selects with different column counts",
                                 on_memory("SELECT 1 UNION SELECT 1, 2")),
    "multiple_statements": Failure("two statements in one execute", on_memory("SELECT 1; SELECT 2")),
    "empty_statement": Failure("an execute of whitespace only", on_memory("   ")),
    "missing_named_parameter": Failure("a named placeholder without a value",
                                       on_memory("SELECT :a", {"b": 1})),
    "unsupported_parameter_type": Failure("a parameter of an unsupported Python type",
                                          on_memory("SELECT ?", (object(),))),
    "closed_cursor": Failure("execute on a closed driver cursor", closed_cursor),
    "table_locked": Failure("DROP TABLE while the same connection's cursor reads it", table_locked),
    "pragma_on_keyword": Failure("PRAGMA query_only = ON (the keyword spelling of true)",
                                 on_memory("PRAGMA query_only = ON")),
}


# --- observing ---------------------------------------------------------------------------------------


def dbapi_class(raw: RawError) -> str:
    """The PEP 249 class name of a raw driver exception, or a plain statement that it is not one."""
    module, _, name = raw.cls.rpartition(".")
    if name in PEP249 and module in DBAPI_MODULES:
        return name
    if module == "harness":
        return f"harness {name}"
    return f"not a DB-API exception: {raw.cls}"


def engine_error(raw: RawError) -> str | None:
    """What the engine itself called the error: the pyturso variant, or SQLite's result-code name."""
    return raw.variant or raw.code


async def outcome(ctx: CheckContext, trigger: Trigger, label: str) -> tuple[Any, RawError | None]:
    """Run `trigger`: `({"error": KIND}, raw)` (raw noted under `label`), or `({"ok": ...}, None)`."""
    try:
        return {"ok": await trigger(ctx)}, None
    except DatabaseError as exc:
        ctx.note(**{label: exc.raw.as_dict()})
        return {"error": exc.kind.value}, exc.raw


async def observe_kind(ctx: CheckContext, failure: Failure) -> Any:
    """The ErrorKind (or the result, when the driver does not fail)."""
    ctx.note(failure=failure.what)
    obs, _ = await outcome(ctx, failure.trigger, "raw")
    return obs


async def observe_class(ctx: CheckContext, failure: Failure) -> Any:
    """The driver's DB-API exception class (or "no error")."""
    ctx.note(failure=failure.what)
    _, raw = await outcome(ctx, failure.trigger, "raw")
    return {"class": "no error" if raw is None else dbapi_class(raw)}


# --- checks: the failures ---------------------------------------------------------------------


@check(title="Error kind of a failure", source=ERROR_TABLE, params=FAILURES)
async def test_kind(ctx: CheckContext, failure: Failure) -> object:
    return await observe_kind(ctx, failure)


@check(title="DB-API exception class of a failure (what `except` must name)", source=ERROR_TABLE,
       params=FAILURES)
async def test_dbapi_class(ctx: CheckContext, failure: Failure) -> object:
    return await observe_class(ctx, failure)


@check(title="Error kind of more failures (beyond the documents)", source=DISCOVERY, params=DISCOVERED)
async def test_discovered_kind(ctx: CheckContext, failure: Failure) -> object:
    return await observe_kind(ctx, failure)


@check(title="DB-API exception class of more failures (beyond the documents)", source=DISCOVERY,
       params=DISCOVERED)
async def test_discovered_class(ctx: CheckContext, failure: Failure) -> object:
    return await observe_class(ctx, failure)


@check(title="A write-write conflict under concurrent_writes is a serialization failure",
       source=CONCURRENT_WRITES, requires=("concurrent_writes",), expect={"error": "SERIALIZATION_FAILURE"})
async def test_write_write_conflict_kind(ctx: CheckContext) -> object:
    return await observe_kind(ctx, Failure("two BEGIN CONCURRENT transactions update one row",
                                           write_write_conflict))


@check(title="DB-API class of a write-write conflict (SQLite's busy class is OperationalError)",
       source=CONCURRENT_WRITES, requires=("concurrent_writes",), expect={"class": "OperationalError"})
async def test_write_write_conflict_class(ctx: CheckContext) -> object:
    return await observe_class(ctx, Failure("two BEGIN CONCURRENT transactions update one row",
                                            write_write_conflict))


# --- checks: the rows of the seed's error table, triggered for real -----------------------------------


def _matches(name: str | None, accepted: tuple[str, ...]) -> bool:
    """Whether an engine error name is one of `accepted` (a trailing `*` accepts extended codes)."""
    if name is None:
        return False
    return any(name == a or (a.endswith("*") and (name == a[:-1] or name.startswith(a[:-1] + "_")))
               for a in accepted)


async def table_row(ctx: CheckContext, row: str, accepted: tuple[str, ...],
                    triggers: tuple[tuple[str, Trigger], ...]) -> Any:
    """The kind the harness gives the engine's own `row` error: the first trigger that raises one counts.

    When no trigger makes this engine raise that error, the check is `unsupported`, with what each
    trigger raised instead (measured, not declared).
    """
    seen: list[str] = []
    for name, trigger in triggers:
        obs, raw = await outcome(ctx, trigger, f"raw_{name}")
        got = engine_error(raw) if raw is not None else None
        seen.append(f"{name} -> {got or ('no error' if raw is None else 'an unnamed error')}")
        if _matches(got, accepted):
            ctx.note(trigger=name, engine_error=got)
            return obs
    raise Unsupported(f"{row} error", f"no trigger makes this engine raise {row} ({'; '.join(seen)}); "
                                      "classifier-only: tests/test_classifiers.py pins this row on a "
                                      "constructed exception")


@check(title="Error table: Busy is a serialization failure", source=ERROR_TABLE,
       expect={"error": "SERIALIZATION_FAILURE"})
async def test_table_busy(ctx: CheckContext) -> object:
    return await table_row(ctx, "Busy", ("Busy", "SQLITE_BUSY"), (("begin_immediate", busy),))


@check(title="Error table: BusySnapshot is a serialization failure", source=ERROR_TABLE,
       expect={"error": "SERIALIZATION_FAILURE"})
async def test_table_busy_snapshot(ctx: CheckContext) -> object:
    return await table_row(ctx, "BusySnapshot", ("BusySnapshot", "SQLITE_BUSY_SNAPSHOT"),
                           (("stale_wal_snapshot", busy_snapshot),))


@check(title='Error table: Error(msg) containing "conflict" is a serialization failure', source=ERROR_TABLE,
       requires=("concurrent_writes",), expect={"error": "SERIALIZATION_FAILURE"})
async def test_table_conflict(ctx: CheckContext) -> object:
    obs, raw = await outcome(ctx, write_write_conflict, "raw")
    if raw is None or "conflict" not in raw.message.lower():
        raise Unsupported("conflict error", f"the write-write conflict raised no 'conflict' error: {obs}")
    ctx.note(engine_error=engine_error(raw))
    return obs


@check(title="Error table: Readonly is a read-only error", source=ERROR_TABLE, expect={"error": "READ_ONLY"})
async def test_table_readonly(ctx: CheckContext) -> object:
    return await table_row(ctx, "Readonly", ("Readonly", "SQLITE_READONLY*"),
                           (("autovacuum_file", read_only_file), ("query_only", read_only_pragma)))


@check(title="Error table: IoError is a lost connection", source=ERROR_TABLE,
       expect={"error": "CONNECTION_LOST"})
async def test_table_ioerror(ctx: CheckContext) -> object:
    return await table_row(ctx, "IoError", ("IoError", "SQLITE_IOERR*"),
                           (("missing_directory", missing_directory),))


@check(title="Error table: any other engine error is driver-operation-failed (when no finer rule knows it)",
       source=ERROR_TABLE, expect={"error": "DRIVER_OPERATION_FAILED"})
async def test_table_other(ctx: CheckContext) -> object:
    return await table_row(ctx, "a generic error", ("Error", "SQLITE_ERROR"),
                           (("integer_overflow", on_memory("SELECT abs(-9223372036854775808)")),))
