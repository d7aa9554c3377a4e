"""Object state: every connection and cursor method after close(), a cursor after its connection closed,
double close. sqlite3 raises ProgrammingError ("Cannot operate on a closed database/cursor") for all of
them except close() itself, which may be repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from driver_support import MEMORY, blocking, db_path, outcome, pydoc

from stc_harness import CheckContext, check

#: Connection operations an application may still call after close(), with arguments.
CONNECTION_OPS: dict[str, Callable[[Any], Any]] = {
    "cursor": lambda c: c.cursor(),
    "execute": lambda c: c.execute("SELECT 1"),
    "executemany": lambda c: c.executemany("SELECT ?", [(1,)]),
    "executescript": lambda c: c.executescript("SELECT 1;"),
    "commit": lambda c: c.commit(),
    "rollback": lambda c: c.rollback(),
    "close": lambda c: c.close(),
    "interrupt": lambda c: c.interrupt(),
    "in_transaction": lambda c: c.in_transaction,
    "isolation_level": lambda c: c.isolation_level,
    "total_changes": lambda c: c.total_changes,
    "create_function": lambda c: c.create_function("f", 0, lambda: 1),
    "create_aggregate": lambda c: c.create_aggregate("a", 1, object),
    "create_collation": lambda c: c.create_collation("c", lambda a, b: 0),
    "set_trace_callback": lambda c: c.set_trace_callback(None),
    "set_progress_handler": lambda c: c.set_progress_handler(None, 1),
    "iterdump": lambda c: list(c.iterdump()),
    "backup": lambda c: c.backup(c),
    "getlimit": lambda c: c.getlimit(0),
    "serialize": lambda c: c.serialize(),
    "blobopen": lambda c: c.blobopen("t", "x", 1),
    "context_manager": lambda c: c.__enter__(),
}


def _after_close(module: Any, path: str, op: str) -> Any:
    conn = module.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    return outcome(CONNECTION_OPS[op], conn)


@check(
    title="A connection method or attribute used after close()",
    source=pydoc("Connection objects"),
    params={k: k for k in CONNECTION_OPS},
    layer="driver",
)
async def test_connection_after_close(ctx: CheckContext, op: str) -> object:
    return await blocking(_after_close, ctx.sync_module(), MEMORY, op)


CURSOR_OPS: dict[str, Callable[[Any], Any]] = {
    "execute": lambda c: c.execute("SELECT 1"),
    "executemany": lambda c: c.executemany("SELECT ?", [(1,)]),
    "executescript": lambda c: c.executescript("SELECT 1;"),
    "fetchone": lambda c: c.fetchone(),
    "fetchmany": lambda c: c.fetchmany(2),
    "fetchall": lambda c: c.fetchall(),
    "next": lambda c: next(c),
    "close": lambda c: c.close(),
    "description": lambda c: c.description,
    "rowcount": lambda c: c.rowcount,
    "lastrowid": lambda c: c.lastrowid,
    "arraysize": lambda c: c.arraysize,
    "setinputsizes": lambda c: c.setinputsizes([]),
}


def _cursor_after(module: Any, path: str, op: str, close_connection: bool) -> Any:
    conn = module.connect(path)
    try:
        cur = conn.cursor()
        cur.execute("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3")
        cur.fetchone()
        if close_connection:
            conn.close()
        else:
            cur.close()
        return outcome(CURSOR_OPS[op], cur)
    finally:
        conn.close()


@check(
    title="A cursor method or attribute used after the cursor's close() (midway through its rows)",
    source=pydoc("Cursor objects"),
    params={k: k for k in CURSOR_OPS},
    layer="driver",
)
async def test_cursor_after_close(ctx: CheckContext, op: str) -> object:
    return await blocking(_cursor_after, ctx.sync_module(), MEMORY, op, False)


@check(
    title="A cursor method or attribute used after its connection's close() (midway through its rows)",
    source=pydoc("Cursor objects"),
    params={k: k for k in CURSOR_OPS},
    layer="driver",
)
async def test_cursor_after_connection_close(ctx: CheckContext, op: str) -> object:
    return await blocking(_cursor_after, ctx.sync_module(), MEMORY, op, True)


def _close_with_pending(module: Any, path: str) -> Any:
    conn = module.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    closed = outcome(conn.close)
    other = module.connect(path)
    try:
        return {"close": closed, "rows_seen_after": other.execute("SELECT count(*) FROM t").fetchall()}
    finally:
        other.close()


@check(
    title="close() with an uncommitted implicit transaction: no error, the changes are discarded",
    source=pydoc("Connection objects"),
    layer="driver",
)
async def test_close_discards_uncommitted(ctx: CheckContext) -> object:
    return await blocking(_close_with_pending, ctx.sync_module(), db_path(ctx))
