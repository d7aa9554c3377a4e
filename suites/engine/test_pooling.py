"""Pooling: in-memory sharing across slots, file-backed pools, exhaustion, returns after errors, closing.

Pool waits are explicit: `acquire(timeout=0)` fails at once when every slot is lent out, so nothing
waits on a lock or sleeps; every check runs under the check timeout, so a deadlock is a `timeout`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from stc_harness import DISCOVERY, CheckContext, DatabaseError, check, driver_guide, rows
from stc_harness.adapters.pool import PoolClosed, PoolTimeout

MEMORY_POOL = driver_guide("In-memory databases share state across the pool")
POOL_ERRORS = driver_guide("Errors and the connection pool")


async def _rows(conn: Any, sql: str) -> Any:
    return rows(await conn.fetch_all(sql))


async def try_acquire(pool: Any, timeout: float = 0) -> tuple[Any, Any]:
    """(connection or None, "ok" or the pool error's class name)."""
    try:
        return await pool.acquire(timeout=timeout), "ok"
    except (PoolTimeout, PoolClosed) as exc:
        return None, type(exc).__name__


@check(title="turso::memory: pools share one database across slots; SQLite's in-memory pool caps at one",
       source=MEMORY_POOL)
async def test_memory_pool_shares_across_slots(ctx: CheckContext) -> object:
    pool = ctx.pool(ctx.url(memory=True), max_size=3)
    first = await pool.acquire(timeout=0)
    await first.execute("CREATE TABLE t (slot INTEGER)")
    await first.execute("INSERT INTO t VALUES (1)")
    second, second_status = await try_acquire(pool)
    out: dict[str, Any] = {"max_size": pool.max_size, "second_slot": second_status}
    if second is not None:
        out["second_is_another_connection"] = second is not first
        out["seen_on_second"] = await _rows(second, "SELECT slot FROM t")
        await second.execute("INSERT INTO t VALUES (2)")
        out["seen_back_on_first"] = await _rows(first, "SELECT slot FROM t ORDER BY slot")
        third, out["third_slot"] = await try_acquire(pool)
        if third is not None:
            out["seen_on_third"] = await _rows(third, "SELECT slot FROM t ORDER BY slot")
            await pool.release(third)
        await pool.release(second)
    await pool.release(first)
    again = await pool.acquire(timeout=0)
    out["seen_after_reacquire"] = await _rows(again, "SELECT slot FROM t ORDER BY slot")
    await pool.release(again)
    return out


@check(title="Separate in-memory connections (not through a pool) are private databases", source=MEMORY_POOL)
async def test_memory_connections_are_private(ctx: CheckContext) -> object:
    url = ctx.url(memory=True)
    a = await ctx.connect(url)
    b = await ctx.connect(url)
    await a.execute("CREATE TABLE t (x)")
    try:
        seen: Any = await _rows(b, "SELECT x FROM t")
    except DatabaseError as exc:
        seen = {"error": exc.kind.value}
    return {"other_connection_sees": seen}


@check(title="A file-backed pool lends several connections at once, and they share the database",
       source=MEMORY_POOL)
async def test_file_pool_several_connections(ctx: CheckContext) -> object:
    pool = ctx.pool(ctx.url(), max_size=4)
    conns = [(await try_acquire(pool))[0] for _ in range(4)]
    await conns[0].execute("CREATE TABLE t (slot INTEGER)")
    for i, conn in enumerate(conns):
        await conn.execute("INSERT INTO t VALUES (?)", (i,))
    seen = [await _rows(conn, "SELECT count(*) FROM t") for conn in conns]
    _, fifth = await try_acquire(pool)
    out = {"distinct_connections": len({id(c) for c in conns}), "each_sees": seen, "fifth_acquire": fifth,
           "size": pool.size, "in_use": pool.in_use}
    for conn in conns:
        await pool.release(conn)
    out["in_use_after_release"] = pool.in_use
    return out


@check(title="An exhausted pool fails acquire with a clear error instead of deadlocking", source=DISCOVERY)
async def test_exhaustion_gives_clear_error(ctx: CheckContext) -> object:
    pool = ctx.pool(ctx.url(), max_size=2, acquire_timeout=0)
    held = [await pool.acquire(), await pool.acquire()]
    messages = {}
    for label, timeout in (("no_wait", None), ("short_wait", 0.02)):
        try:
            await asyncio.wait_for(pool.acquire(timeout=timeout), 2)
            messages[label] = "acquired"
        except PoolTimeout as exc:
            ctx.note(**{label: str(exc)})
            messages[label] = {"error": type(exc).__name__, "names_the_limit": "all 2" in str(exc)}
    await pool.release(held.pop())
    after, status = await try_acquire(pool)
    if after is not None:
        await pool.release(after)
    await pool.release(held.pop())
    return {**messages, "after_release": status, "in_use_at_end": pool.in_use}


@check(title="A connection given back after an error is clean and usable",
       source=POOL_ERRORS, params={"constraint": "constraint", "syntax": "syntax", "application": "python"})
async def test_returned_after_error(ctx: CheckContext, cause: str) -> object:
    pool = ctx.pool(ctx.url(), max_size=1)
    async with pool.connection() as conn:
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    escaped: Any = None
    try:
        async with pool.connection(timeout=0) as conn:
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO t VALUES (1, 1)")
            if cause == "constraint":
                await conn.execute("INSERT INTO t VALUES (2, NULL)")
            elif cause == "syntax":
                await conn.execute("INSERT INTO t VALUS (2, 2)")
            else:
                raise LookupError("application error")
    except DatabaseError as exc:
        escaped = exc.kind.value
    except LookupError:
        escaped = "application error"
    async with pool.connection(timeout=0) as again:
        return {"escaped": escaped, "same_connection": again is conn,
                "in_tx": await again.is_in_transaction(), "rows": await _rows(again, "SELECT id FROM t"),
                "usable": (await again.execute("INSERT INTO t VALUES (3, 3)")).rowcount,
                "size": pool.size}


@check(title="Closing a pool with connections out: idle ones close now, lent ones when given back",
       source=DISCOVERY)
async def test_close_with_connections_out(ctx: CheckContext) -> object:
    pool = ctx.pool(ctx.url(), max_size=3)
    out_conn = await pool.acquire(timeout=0)
    idle = await pool.acquire(timeout=0)
    await out_conn.execute("CREATE TABLE t (x)")
    await pool.release(idle)
    await pool.close()
    observed: dict[str, Any] = {"idle_closed": idle.closed, "lent_closed": out_conn.closed}
    try:
        observed["lent_still_usable"] = (await out_conn.execute("INSERT INTO t VALUES (1)")).rowcount
    except DatabaseError as exc:
        observed["lent_still_usable"] = {"error": exc.kind.value}
    _, observed["acquire_after_close"] = await try_acquire(pool)
    await pool.release(out_conn)
    observed["lent_closed_after_release"] = out_conn.closed
    try:
        await out_conn.execute("SELECT 1")
        observed["use_after_release"] = "ok"
    except DatabaseError as exc:
        observed["use_after_release"] = {"error": exc.kind.value}
    observed["size_at_end"] = pool.size
    return observed


@check(title="Many concurrent tasks through a small pool: every task runs, nothing is lost",
       source=MEMORY_POOL, params={"file": False, "memory": True})
async def test_many_tasks_small_pool(ctx: CheckContext, memory: bool) -> object:
    tasks, max_size = 40, 3
    pool = ctx.pool(ctx.url(memory=memory), max_size=max_size, acquire_timeout=10)
    async with pool.connection() as setup:
        await setup.execute("PRAGMA journal_mode = WAL")  # readers never block the writer (file only)
        await setup.execute("CREATE TABLE t (task INTEGER PRIMARY KEY, seen INTEGER NOT NULL)")
    start = asyncio.Event()
    writer = asyncio.Lock()  # one writer at a time, in order of arrival: no lock waits in the engine
    peak = 0

    async def task(i: int) -> None:
        nonlocal peak
        await start.wait()
        async with pool.connection() as conn:
            peak = max(peak, pool.in_use)
            seen = (await conn.fetch_one("SELECT count(*) FROM t") or (0,))[0]
            async with writer:
                await conn.execute("INSERT INTO t VALUES (?, ?)", (i, seen))

    running = [asyncio.create_task(task(i)) for i in range(tasks)]
    start.set()
    results = await asyncio.gather(*running, return_exceptions=True)
    failures = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    if failures:
        ctx.note(failures=failures[:5])
    ctx.note(peak_in_use=peak, pool_max_size=pool.max_size)
    async with pool.connection() as conn:
        stored = await conn.fetch_one("SELECT count(*), count(DISTINCT task), min(task), max(task) FROM t")
    return {"tasks_failed": len(failures), "rows": list(stored or ()),
            "peak_within_limit": 1 <= peak <= max_size,
            "connections_made_within_limit": pool.size <= max_size, "in_use_at_end": pool.in_use}
