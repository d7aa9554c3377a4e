"""When things happen: statements whose rows are never fetched, errors at execute() vs at fetch, and
open cursors across commit() and rollback().

sqlite3 steps a statement once inside `execute()`: an `INSERT ... RETURNING` has made all its changes
before the first row is fetched (SQLite runs the whole DML on the first step), and an error in the
first row is raised by `execute()`. A driver that defers the first step to the first fetch loses the
writes of a statement whose rows nobody reads.
"""

from __future__ import annotations

from typing import Any

from driver_support import blocking, db_path, outcome, pydoc

from stc_harness import CheckContext, check

CURSOR = pydoc("Cursor objects")


def _schema(module: Any, path: str) -> None:
    conn = module.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, 10), (2, 20), (3, 30)])
    conn.commit()
    conn.close()


#: Statements whose rows the check never fetches; observed: the table as a fresh connection reads it.
UNFETCHED = {
    "insert_returning_one": "INSERT INTO t (v) VALUES (40) RETURNING id",
    "insert_returning_many": "INSERT INTO t (v) VALUES (40), (50), (60) RETURNING id",
    "update_returning": "UPDATE t SET v = v + 1 RETURNING id, v",
    "delete_returning": "DELETE FROM t WHERE id > 1 RETURNING id",
    "insert_select_returning": "INSERT INTO t (v) SELECT v * 10 FROM t RETURNING id",
}


def _rows_seen_by_another(module: Any, path: str) -> list[Any]:
    """The rows of t as a new connection to the file reads them (what was committed)."""
    other = module.connect(path)
    try:
        return other.execute("SELECT id, v FROM t ORDER BY id").fetchall()
    finally:
        other.close()


def _unfetched(module: Any, path: str, sql: str, close_cursor: bool) -> Any:
    _schema(module, path)
    conn = module.connect(path, isolation_level=None)
    try:
        cur = conn.execute(sql)
        if close_cursor:
            cur.close()
        same_conn = conn.execute("SELECT id, v FROM t ORDER BY id").fetchall()
    finally:
        conn.close()
    return {"same_connection": same_conn, "after_close": _rows_seen_by_another(module, path)}


@check(
    title="A DML ... RETURNING whose rows are never fetched has made its changes (autocommit)",
    source=CURSOR,
    params=UNFETCHED,
    layer="driver",
)
async def test_unfetched_returning(ctx: CheckContext, sql: str) -> object:
    return await blocking(_unfetched, ctx.sync_module(), db_path(ctx), sql, False)


@check(
    title="A DML ... RETURNING whose cursor is closed unfetched has made its changes (autocommit)",
    source=CURSOR,
    params=UNFETCHED,
    layer="driver",
)
async def test_unfetched_returning_closed(ctx: CheckContext, sql: str) -> object:
    return await blocking(_unfetched, ctx.sync_module(), db_path(ctx), sql, True)


def _unfetched_in_transaction(module: Any, path: str, sql: str) -> Any:
    _schema(module, path)
    conn = module.connect(path)
    try:
        conn.execute(sql)
        committed = outcome(conn.commit)
    finally:
        conn.close()
    return {"commit": committed, "rows": _rows_seen_by_another(module, path)}


@check(
    title="A DML ... RETURNING never fetched, then commit(): the changes are committed",
    source=CURSOR,
    params=UNFETCHED,
    layer="driver",
)
async def test_unfetched_returning_commit(ctx: CheckContext, sql: str) -> object:
    return await blocking(_unfetched_in_transaction, ctx.sync_module(), db_path(ctx), sql)


def _unfetched_release(module: Any, path: str, sql: str) -> Any:
    _schema(module, path)
    conn = module.connect(path, isolation_level=None)
    try:
        conn.execute('SAVEPOINT "s"')
        cur = conn.execute(sql)
        released = outcome(conn.execute, 'RELEASE "s"')
        if "raises" in released:  # what a careful caller then does: read the rows, release again
            cur.fetchall()
            conn.execute('RELEASE "s"')
    finally:
        conn.close()
    return {"release": released, "rows": _rows_seen_by_another(module, path)}


@check(
    title="RELEASE of a savepoint while a DML ... RETURNING is unfetched: refused, statements in progress",
    source=CURSOR,
    params=UNFETCHED,
    layer="driver",
)
async def test_unfetched_returning_release(ctx: CheckContext, sql: str) -> object:
    """sqlite3 has stepped the statement, so SQLite refuses RELEASE until its rows are read (code such as
    sqlite-utils' `query()` relies on that refusal to know it must fetch); the changes then stay."""
    return await blocking(_unfetched_release, ctx.sync_module(), db_path(ctx), sql)


#: Row-returning PRAGMAs run and never fetched; observed: the setting as a fresh connection reads it.
PRAGMAS = {
    "journal_mode_wal": ("PRAGMA journal_mode = WAL", "PRAGMA journal_mode"),
    "journal_mode_wal_then_delete": ("PRAGMA journal_mode = WAL; PRAGMA journal_mode = DELETE",
                                     "PRAGMA journal_mode"),
}


def _unfetched_pragma(module: Any, path: str, item: tuple[str, str]) -> Any:
    _schema(module, path)
    conn = module.connect(path, isolation_level=None)
    try:
        for sql in item[0].split("; "):
            conn.execute(sql)
    finally:
        conn.close()
    other = module.connect(path)
    try:
        return outcome(lambda: other.execute(item[1]).fetchall())
    finally:
        other.close()


@check(
    title="A row-returning PRAGMA never fetched has taken effect",
    source=CURSOR,
    params=PRAGMAS,
    layer="driver",
)
async def test_unfetched_pragma(ctx: CheckContext, item: tuple[str, str]) -> object:
    return await blocking(_unfetched_pragma, ctx.sync_module(), db_path(ctx), item)


#: DML without RETURNING, never fetched (a lazy driver may never step it); observed as for RETURNING.
UNFETCHED_DML = {
    "insert": "INSERT INTO t (v) VALUES (40)",
    "update": "UPDATE t SET v = v + 1",
    "delete": "DELETE FROM t WHERE id > 1",
    "replace": "REPLACE INTO t VALUES (1, 11)",
    "insert_select": "INSERT INTO t (v) SELECT v * 10 FROM t",
}


@check(
    title="A DML statement (no RETURNING) whose cursor is never fetched has made its changes (autocommit)",
    source=CURSOR,
    params=UNFETCHED_DML,
    layer="driver",
)
async def test_unfetched_dml(ctx: CheckContext, sql: str) -> object:
    return await blocking(_unfetched, ctx.sync_module(), db_path(ctx), sql, False)


#: Statements that fail while running; observed: whether execute() or the fetch raises.
FAILING = {
    "overflow_first_row": "SELECT abs(-9223372036854775807 - 1)",
    "overflow_second_row": "SELECT abs(x) FROM (SELECT 1 AS x UNION ALL SELECT -9223372036854775807 - 1)",
    "unique_violation": "INSERT INTO t VALUES (1, 0)",
    "unique_violation_returning": "INSERT INTO t VALUES (1, 0) RETURNING id",
    "no_such_table": "SELECT * FROM missing",
    "syntax_error": "SELEC 1",
    "json_error_third_row": "SELECT json(x) FROM (SELECT '1' AS x UNION ALL SELECT '2' UNION ALL SELECT '{')",
}


def _when_raised(module: Any, path: str, sql: str) -> Any:
    _schema(module, path)
    conn = module.connect(path)
    try:
        try:
            cur = conn.execute(sql)
        except Exception as exc:  # noqa: BLE001 - where it is raised is the observation
            return {"raised_at": "execute", "class": type(exc).__name__}
        try:
            got = cur.fetchall()
        except Exception as exc:  # noqa: BLE001
            return {"raised_at": "fetch", "class": type(exc).__name__}
        return {"raised_at": None, "rows": got}
    finally:
        conn.close()


@check(
    title="A statement failing at run time raises at execute() or at the fetch",
    source=CURSOR,
    params=FAILING,
    layer="driver",
)
async def test_error_raised_at(ctx: CheckContext, sql: str) -> object:
    return await blocking(_when_raised, ctx.sync_module(), db_path(ctx), sql)


def _cursor_across(module: Any, path: str, action: str) -> Any:
    _schema(module, path)
    conn = module.connect(path)
    try:
        conn.execute("INSERT INTO t VALUES (4, 40)")
        cur = conn.execute("SELECT id FROM t ORDER BY id")
        first = cur.fetchone()
        done = outcome(getattr(conn, action))
        rest = outcome(cur.fetchall)
        return {"first": list(first), action: done, "rest": rest}
    finally:
        conn.close()


@check(
    title="A cursor midway through a SELECT, then commit() or rollback(): the rest of its rows",
    source=CURSOR,
    params={"commit": "commit", "rollback": "rollback"},
    layer="driver",
)
async def test_open_cursor_across(ctx: CheckContext, action: str) -> object:
    return await blocking(_cursor_across, ctx.sync_module(), db_path(ctx), action)


def _select_unfetched_lock(module: Any, path: str) -> Any:
    _schema(module, path)
    reader = module.connect(path, isolation_level=None)
    try:
        cur = reader.execute("SELECT id FROM t")
        cur.fetchone()
        cur.close()
        writer = module.connect(path, isolation_level=None)
        try:
            return outcome(lambda: writer.execute("DROP TABLE t").rowcount)
        finally:
            writer.close()
    finally:
        reader.close()


@check(
    title="A SELECT cursor closed midway releases its read lock: another connection can drop the table",
    source=CURSOR,
    layer="driver",
)
async def test_closed_cursor_releases(ctx: CheckContext) -> object:
    return await blocking(_select_unfetched_lock, ctx.sync_module(), db_path(ctx))
