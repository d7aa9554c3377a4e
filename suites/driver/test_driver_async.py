"""Async modules: `aiosqlite` vs `turso.aio`, each called the same way (as aiosqlite's README shows).

Every await is bounded (2 s). Closing a connection with a statement in flight may hang or abort a
driver's worker, so that check runs in a child process (`isolated=True`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from driver_support import STEP_BOUND, aoutcome, db_path, plain

from stc_harness import CheckContext, Source, check

# turso.aio's execute() returns a bare coroutine: `async with db.execute(...)` fails before awaiting it.
pytestmark = pytest.mark.filterwarnings(
    "ignore:coroutine 'Connection.execute' was never awaited:RuntimeWarning")

AIOSQLITE = Source("aiosqlite documentation", "API reference")
STREAMING = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) SELECT x FROM c"


async def _bounded(awaitable: Awaitable[Any]) -> Any:
    return await asyncio.wait_for(_wrap(awaitable), STEP_BOUND)


async def _wrap(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _open(module: Any, path: str, **kwargs: Any) -> Any:
    return await _bounded(module.connect(path, **kwargs))


async def _await_connect(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        await _bounded(db.execute("INSERT INTO t VALUES (1)"))
        await _bounded(db.commit())
        cur = await _bounded(db.execute("SELECT x FROM t"))
        return await _bounded(cur.fetchall())
    finally:
        await _bounded(db.close())


async def _async_with_connect(module: Any, path: str, sync: Any) -> Any:
    async with module.connect(path) as db:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        async with db.execute("SELECT 1 UNION ALL SELECT 2") as cur:
            return await _bounded(cur.fetchall())


async def _async_iteration(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        cur = await _bounded(db.execute("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3"))
        return [row async for row in cur]
    finally:
        await _bounded(db.close())


async def _execute_fetchall(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        return await _bounded(db.execute_fetchall("SELECT 1, 'a'"))
    finally:
        await _bounded(db.close())


async def _executescript(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        await _bounded(
            db.executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);")
        )
        cur = await _bounded(db.execute("SELECT count(*) FROM t"))
        return await _bounded(cur.fetchall())
    finally:
        await _bounded(db.close())


async def _row_factory(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        db.row_factory = sync.Row
        cur = await _bounded(db.execute("SELECT 1 AS a, 2 AS b"))
        row = await _bounded(cur.fetchone())
        return {"keys": list(row.keys()), "a": row["a"]}
    finally:
        await _bounded(db.close())


async def _create_function(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        await _bounded(db.create_function("twice", 1, lambda x: x * 2))
        cur = await _bounded(db.execute("SELECT twice(21)"))
        return await _bounded(cur.fetchall())
    finally:
        await _bounded(db.close())


async def _close_twice(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    await _bounded(db.close())
    await _bounded(db.close())
    return "closed twice"


async def _execute_after_close(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    await _bounded(db.close())
    return await _bounded(db.execute("SELECT 1"))


async def _in_transaction(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        await _bounded(db.execute("INSERT INTO t VALUES (1)"))
        return {"in_transaction": db.in_transaction, "isolation_level": db.isolation_level}
    finally:
        await _bounded(db.close())


async def _isolation_none(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path, isolation_level=None)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        await _bounded(db.execute("INSERT INTO t VALUES (1)"))
        return {"in_transaction": db.in_transaction}
    finally:
        await _bounded(db.close())


async def _timeout_keyword(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path, timeout=1.5)
    try:
        cur = await _bounded(db.execute("PRAGMA busy_timeout"))
        return await _bounded(cur.fetchall())
    finally:
        await _bounded(db.close())


async def _default_busy_timeout(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        cur = await _bounded(db.execute("PRAGMA busy_timeout"))
        return await _bounded(cur.fetchall())
    finally:
        await _bounded(db.close())


async def _cursor_rowcount(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        cur = await _bounded(db.executemany("INSERT INTO t VALUES (?)", [(1,), (2,), (3,)]))
        upd = await _bounded(db.execute("UPDATE t SET x = x + 1"))
        return {
            "executemany": cur.rowcount,
            "update": upd.rowcount,
            "lastrowid": plain(upd.lastrowid),
            "description": plain((await _bounded(db.execute("SELECT x AS Renamed FROM t"))).description),
        }
    finally:
        await _bounded(db.close())


async def _unfetched_returning(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path, isolation_level=None)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        cur = await _bounded(db.execute("INSERT INTO t VALUES (1), (2) RETURNING x"))
        await _bounded(cur.close())
        check = await _bounded(db.execute("SELECT count(*) FROM t"))
        return await _bounded(check.fetchall())
    finally:
        await _bounded(db.close())


def _others_count(sync: Any, path: str) -> Any:
    """What a second connection (the backend's blocking module) sees: the rows of t."""
    other = sync.connect(path)
    try:
        return other.execute("SELECT count(*) FROM t").fetchall()[0][0]
    finally:
        other.close()


async def _seen_by_other(module: Any, path: str, sync: Any, finish: str) -> Any:
    db = await _open(module, path)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        await _bounded(db.commit())
        await _bounded(db.execute("INSERT INTO t VALUES (1)"))
        await _bounded(getattr(db, finish)())
        return {"in_transaction": getattr(db, "in_transaction", "missing"),
                "other_connection_rows": _others_count(sync, path)}
    finally:
        await _bounded(db.close())


async def _commit_seen(module: Any, path: str, sync: Any) -> Any:
    return await _seen_by_other(module, path, sync, "commit")


async def _rollback_seen(module: Any, path: str, sync: Any) -> Any:
    return await _seen_by_other(module, path, sync, "rollback")


async def _missing_binding(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        return await aoutcome(lambda: _fetch(db, "SELECT ?, ?", (1,)))
    finally:
        await _bounded(db.close())


async def _missing_binding_insert(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        await _bounded(db.execute("CREATE TABLE t (a, b)"))
        return await aoutcome(lambda: _fetch(db, "INSERT INTO t VALUES (?, ?) RETURNING a, b", (1,)))
    finally:
        await _bounded(db.close())


async def _fetch(db: Any, sql: str, params: Any = ()) -> Any:
    cur = await _bounded(db.execute(sql, params))
    return await _bounded(cur.fetchall())


async def _cursor_across(module: Any, path: str, sync: Any, action: str) -> Any:
    db = await _open(module, path)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        await _bounded(db.execute("INSERT INTO t VALUES (1), (2), (3)"))
        await _bounded(db.commit())
        await _bounded(db.execute("INSERT INTO t VALUES (4)"))
        cur = await _bounded(db.execute("SELECT x FROM t ORDER BY x"))
        first = await aoutcome(lambda: cur.fetchone())
        done = await aoutcome(lambda: getattr(db, action)())
        rest = await aoutcome(lambda: cur.fetchall())
        after = await aoutcome(lambda: _fetch(db, "SELECT count(*) FROM t"))
        return {"first": first, action: done, "rest": rest, "count_after": after}
    finally:
        await _bounded(db.close())


async def _cursor_across_commit(module: Any, path: str, sync: Any) -> Any:
    return await _cursor_across(module, path, sync, "commit")


async def _cursor_across_rollback(module: Any, path: str, sync: Any) -> Any:
    return await _cursor_across(module, path, sync, "rollback")


async def _unfetched_dml(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path, isolation_level=None)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        await _bounded(db.execute("INSERT INTO t VALUES (1), (2), (3)"))
        await _bounded(db.execute("DELETE FROM t WHERE x > 1"))
        return {"other_connection_rows": _others_count(sync, path)}
    finally:
        await _bounded(db.close())


async def _unfetched_pragma(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path, isolation_level=None)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        await _bounded(db.execute("PRAGMA journal_mode = WAL"))
    finally:
        await _bounded(db.close())
    other = sync.connect(path)
    try:
        return other.execute("PRAGMA journal_mode").fetchall()
    finally:
        other.close()


async def _in_transaction_explicit(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path, isolation_level=None)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        await _bounded(db.execute("BEGIN"))
        inside = getattr(db, "in_transaction", "missing")
        await _bounded(db.execute("ROLLBACK"))
        return {"after_begin": inside, "after_rollback": getattr(db, "in_transaction", "missing")}
    finally:
        await _bounded(db.close())


async def _delete_rowcount(module: Any, path: str, sync: Any) -> Any:
    db = await _open(module, path)
    try:
        await _bounded(db.execute("CREATE TABLE t (x)"))
        await _bounded(db.execute("INSERT INTO t VALUES (1), (2), (3)"))
        cur = await _bounded(db.execute("DELETE FROM t WHERE x > 1"))
        return cur.rowcount
    finally:
        await _bounded(db.close())


#: A statement failing at run time (integer overflow), per statement kind, inside the implicit transaction.
RUNTIME_ERROR_BY_KIND = {
    "select": "SELECT abs(-9223372036854775807 - 1)",
    "insert": "INSERT INTO t VALUES (abs(-9223372036854775807 - 1))",
    "update": "UPDATE t SET x = abs(-9223372036854775807 - 1)",
    "delete": "DELETE FROM t WHERE x = abs(-9223372036854775807 - 1)",
    "create_table_as": "CREATE TABLE u AS SELECT abs(-9223372036854775807 - 1) AS c",
}


def _runtime_error_case(kind: str) -> AsyncCase:
    async def case(module: Any, path: str, sync: Any) -> Any:
        db = await _open(module, path)
        try:
            await _bounded(db.execute("CREATE TABLE t (x)"))
            await _bounded(db.commit())
            await _bounded(db.execute("INSERT INTO t VALUES (1)"))  # opens the implicit transaction
            failed = await aoutcome(lambda: _fetch(db, RUNTIME_ERROR_BY_KIND[kind]))
            state = getattr(db, "in_transaction", "missing")
            await _bounded(db.commit())
            return {"statement": failed, "in_transaction_after_error": state,
                    "other_connection_rows_after_commit": _others_count(sync, path)}
        finally:
            await _bounded(db.close())
    return case


AsyncCase = Callable[[Any, str, Any], Awaitable[Any]]
CASES: dict[str, AsyncCase] = {
    "await_connect": _await_connect,
    "async_with_connect": _async_with_connect,
    "async_iteration": _async_iteration,
    "execute_fetchall": _execute_fetchall,
    "executescript": _executescript,
    "row_factory_Row": _row_factory,
    "create_function": _create_function,
    "close_twice": _close_twice,
    "execute_after_close": _execute_after_close,
    "in_transaction_after_insert": _in_transaction,
    "isolation_level_none": _isolation_none,
    "timeout_keyword": _timeout_keyword,
    "default_busy_timeout": _default_busy_timeout,
    "rowcount_lastrowid_description": _cursor_rowcount,
    "unfetched_returning_closed": _unfetched_returning,
    "commit_seen_by_second_connection": _commit_seen,
    "rollback_seen_by_second_connection": _rollback_seen,
    "missing_binding": _missing_binding,
    "missing_binding_insert": _missing_binding_insert,
    "cursor_across_commit": _cursor_across_commit,
    "cursor_across_rollback": _cursor_across_rollback,
    "unfetched_dml": _unfetched_dml,
    "unfetched_pragma_journal_mode": _unfetched_pragma,
    "in_transaction_explicit_begin": _in_transaction_explicit,
    "delete_rowcount": _delete_rowcount,
    **{f"runtime_error_in_{kind}": _runtime_error_case(kind) for kind in RUNTIME_ERROR_BY_KIND},
}


@check(
    title="The async driver module, called as aiosqlite documents it",
    source=AIOSQLITE,
    params={k: k for k in CASES},
    layer="driver",
)
async def test_async(ctx: CheckContext, key: str) -> object:
    module, sync = ctx.async_module(), ctx.sync_module()
    return await aoutcome(lambda: CASES[key](module, db_path(ctx), sync))


async def _close_in_flight(module: Any, path: str) -> Any:
    db = await _open(module, path)
    cur = await _bounded(db.execute(STREAMING))
    task = asyncio.ensure_future(cur.fetchall())
    await asyncio.sleep(0)  # one loop step: the fetch is queued on the driver's worker before close()
    closed = await aoutcome(lambda: db.close())
    try:
        result = await asyncio.wait_for(task, STEP_BOUND)
        statement: Any = {"rows_fetched": len(result)}
    except asyncio.TimeoutError:
        statement = "still running after close"
    except Exception as exc:  # noqa: BLE001 - what the in-flight statement raises is the observation
        statement = {"raises": type(exc).__name__}
    return {"close": closed, "in_flight_fetch": statement}


@check(
    title="close() while a statement is in flight: what close() and the statement do",
    source=AIOSQLITE,
    isolated=True,
    timeout=10,
    layer="driver",
)
async def test_close_in_flight(ctx: CheckContext) -> object:
    return await _close_in_flight(ctx.async_module(), db_path(ctx))
