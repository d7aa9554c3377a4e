"""MVCC concurrent writes: `concurrent_writes=True`, BEGIN CONCURRENT, conflicts, opt-outs, DDL, stress.

SQLite has no MVCC journal: its adapter raises `Unsupported` for `concurrent_writes`, so every check that
needs it states `expect` (the claim of `001_312a5f9792b0f890.txt`, or for discovery checks the behaviour
classic locking or the document's own example implies) and SQLite's row says `unsupported` with why.
Two connections on one file are driven by sequenced awaits; the busy timeout stays 0.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from typing import Any

from stc_harness import DISCOVERY, CheckContext, DatabaseError, TransactionMode, check, driver_guide, rows
from stc_harness.toolkit.retry import Retrier, RetriesExhausted

CONCURRENT_WRITES = driver_guide("Concurrent writes")
OVERRIDING = driver_guide("Overriding the default per-transaction")
POOL_ERRORS = driver_guide("Errors and the connection pool")
MIGRATIONS = driver_guide("Migrations")

MVCC: dict[str, Any] = {"concurrent_writes": True}
OK: dict[str, Any] = {"ok": []}
BUSY = {"error": "SERIALIZATION_FAILURE"}
SERIALIZATION_FAILURE = "SERIALIZATION_FAILURE"
OPT_OUT = {"DEFERRED": TransactionMode.DEFERRED, "IMMEDIATE": TransactionMode.IMMEDIATE,
           "EXCLUSIVE": TransactionMode.EXCLUSIVE}
ALL_MODES = {"DEFAULT": TransactionMode.DEFAULT, **OPT_OUT}

TABLES = ("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)",
          "CREATE TABLE u (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INTEGER)",
          "INSERT INTO t VALUES (1, 0), (2, 0)")


def i(n: int) -> list[str | int]:
    """A typed INTEGER value, as `stc_harness.rows` shows it."""
    return ["integer", n]


async def _rows(conn: Any, sql: str) -> Any:
    return rows(await conn.fetch_all(sql))


async def run(ctx: CheckContext, conn: Any, sql: str, label: str) -> Any:
    """`{"ok": typed rows}` or `{"error": KIND}` for one statement; the raw error is noted under `label`."""
    return await ctx.attempt(_rows(conn, sql), label)


async def pair(ctx: CheckContext, **options: Any) -> tuple[Any, Any]:
    """Two connections on one fresh file database (MVCC unless told otherwise), tables t and u created."""
    url = ctx.url()
    opts = {**MVCC, **options}
    a = await ctx.connect(url, **opts)
    for sql in TABLES:
        await a.execute(sql)
    return a, await ctx.connect(url, **opts)


Step = tuple[str, str, str | None]


async def script(ctx: CheckContext, conns: dict[str, Any], steps: list[Step]) -> dict[str, Any]:
    """Run steps `(label, connection, sql)` in order; sql None records whether that connection is in a tx."""
    out: dict[str, Any] = {}
    for label, who, sql in steps:
        conn = conns[who]
        out[label] = await conn.is_in_transaction() if sql is None else await run(ctx, conn, sql, label)
    return out


def first_error(steps: dict[str, Any], prefix: str) -> tuple[str, str]:
    """(step, kind) of the first failing step whose label starts with `prefix`, or ("nowhere", "none")."""
    for label, result in steps.items():
        if label.startswith(prefix) and isinstance(result, dict) and "error" in result:
            return label.removeprefix(prefix), result["error"]
    return "nowhere", "none"


# --- the pragma and BEGIN CONCURRENT -----------------------------------------------------------------


@check(title="concurrent_writes issues PRAGMA journal_mode = 'mvcc' on every new connection",
       source=CONCURRENT_WRITES,
       expect={"pool_connections": ["mvcc", "mvcc", "mvcc"], "direct_connection": "mvcc",
               "memory_pool_connections": ["mvcc", "mvcc"]})
async def test_pragma_on_every_connection(ctx: CheckContext) -> object:
    url = ctx.url()
    pool = ctx.pool(url, max_size=3, **MVCC)
    held = [await pool.acquire(timeout=0) for _ in range(3)]
    modes = [await conn.fetch_value("PRAGMA journal_mode") for conn in held]
    for conn in held:
        await pool.release(conn)
    direct = await ctx.connect(url, **MVCC)
    mem = ctx.pool(ctx.url(memory=True), max_size=2, **MVCC)
    mem_held = [await mem.acquire(timeout=0) for _ in range(2)]
    mem_modes = [await conn.fetch_value("PRAGMA journal_mode") for conn in mem_held]
    for conn in mem_held:
        await mem.release(conn)
    return {"pool_connections": modes, "direct_connection": await direct.fetch_value("PRAGMA journal_mode"),
            "memory_pool_connections": mem_modes}


@check(title="BEGIN CONCURRENT is accepted with concurrent_writes (SQLite: unsupported, said so)",
       source=CONCURRENT_WRITES, expect={"begin": OK, "in_tx": True, "write": OK, "commit": OK})
async def test_begin_concurrent(ctx: CheckContext) -> object:
    a, _ = await pair(ctx)
    return await script(ctx, {"a": a}, [("begin", "a", "BEGIN CONCURRENT"), ("in_tx", "a", None),
                                        ("write", "a", "UPDATE t SET v = 1 WHERE id = 1"),
                                        ("commit", "a", "COMMIT")])


@check(title="BEGIN CONCURRENT without concurrent_writes is refused", source=DISCOVERY)
async def test_begin_concurrent_without_concurrent_writes(ctx: CheckContext) -> object:
    conn = await ctx.connect(ctx.url())
    await conn.execute("CREATE TABLE t (x)")
    return {"begin_concurrent": await run(ctx, conn, "BEGIN CONCURRENT", "begin_concurrent"),
            "in_tx": await conn.is_in_transaction(),
            "journal_mode_is_mvcc": await conn.fetch_value("PRAGMA journal_mode") == "mvcc"}


@check(title="TransactionMode.DEFAULT means BEGIN CONCURRENT: a second DEFAULT writer is not locked out",
       source=CONCURRENT_WRITES,
       expect={"begin_sql": {"DEFAULT": "BEGIN CONCURRENT", "DEFERRED": "BEGIN",
                             "IMMEDIATE": "BEGIN IMMEDIATE", "EXCLUSIVE": "BEGIN EXCLUSIVE"},
               "a_begin": OK, "a_write": OK, "b_begin": OK, "b_write": OK})
async def test_default_is_begin_concurrent(ctx: CheckContext) -> object:
    a, b = await pair(ctx)
    begin = a.begin_sql(TransactionMode.DEFAULT)
    out: dict[str, Any] = {"begin_sql": {name: a.begin_sql(mode) for name, mode in ALL_MODES.items()}}
    out.update(await script(ctx, {"a": a, "b": b}, [
        ("a_begin", "a", begin), ("a_write", "a", "UPDATE t SET v = 1 WHERE id = 1"),
        ("b_begin", "b", begin), ("b_write", "b", "UPDATE t SET v = 1 WHERE id = 2")]))
    return out


@check(title="Two concurrent writers on disjoint rows both commit", source=CONCURRENT_WRITES,
       expect={"a": "committed", "b": "committed", "rows": [[i(1), i(1)], [i(2), i(1)]]})
async def test_disjoint_rows_both_commit(ctx: CheckContext) -> object:
    a, b = await pair(ctx)
    a_wrote, b_wrote, a_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    outcome: dict[str, Any] = {}

    async def writer(name: str, conn: Any, row: int, signal: asyncio.Event, wait_for: asyncio.Event) -> None:
        try:
            async with conn.transaction():  # DEFAULT: BEGIN CONCURRENT
                await conn.execute("UPDATE t SET v = v + 1 WHERE id = ?", (row,))
                signal.set()
                await wait_for.wait()  # both have written before either commits
            outcome[name] = "committed"
        except DatabaseError as exc:
            ctx.note(**{f"{name}_error": exc.raw.as_dict()})
            outcome[name] = {"error": exc.kind.value}
        finally:
            signal.set()

    async def first() -> None:
        await writer("a", a, 1, a_wrote, b_wrote)
        a_done.set()

    async def second() -> None:
        await a_wrote.wait()
        await writer("b", b, 2, b_wrote, a_done)

    await asyncio.gather(first(), second())
    return {**outcome, "rows": await _rows(a, "SELECT id, v FROM t ORDER BY id")}


# --- conflicts ---------------------------------------------------------------------------------------

#: Two writers racing on the same row or key: (setup steps, the racing steps). "a" wins by going first.
RACES: dict[str, list[Step]] = {
    "update_interleaved": [
        ("a_begin", "a", "BEGIN CONCURRENT"), ("b_begin", "b", "BEGIN CONCURRENT"),
        ("a_write", "a", "UPDATE t SET v = v + 10 WHERE id = 1"),
        ("b_write", "b", "UPDATE t SET v = v + 100 WHERE id = 1"),
        ("a_commit", "a", "COMMIT"), ("b_commit", "b", "COMMIT")],
    "update_after_winner_commit": [
        ("a_begin", "a", "BEGIN CONCURRENT"), ("b_begin", "b", "BEGIN CONCURRENT"),
        ("b_read", "b", "SELECT v FROM t WHERE id = 1"),
        ("a_write", "a", "UPDATE t SET v = v + 10 WHERE id = 1"), ("a_commit", "a", "COMMIT"),
        ("b_write", "b", "UPDATE t SET v = v + 100 WHERE id = 1"), ("b_commit", "b", "COMMIT")],
    "insert_same_primary_key": [
        ("a_begin", "a", "BEGIN CONCURRENT"), ("b_begin", "b", "BEGIN CONCURRENT"),
        ("a_write", "a", "INSERT INTO t VALUES (5, 10)"), ("b_write", "b", "INSERT INTO t VALUES (5, 100)"),
        ("a_commit", "a", "COMMIT"), ("b_commit", "b", "COMMIT")],
    "insert_same_unique_value": [
        ("a_begin", "a", "BEGIN CONCURRENT"), ("b_begin", "b", "BEGIN CONCURRENT"),
        ("a_write", "a", "INSERT INTO u (k, v) VALUES ('x', 10)"),
        ("b_write", "b", "INSERT INTO u (k, v) VALUES ('x', 100)"),
        ("a_commit", "a", "COMMIT"), ("b_commit", "b", "COMMIT")],
}
RACE_ROWS = {"update_interleaved": "SELECT id, v FROM t WHERE id = 1",
             "update_after_winner_commit": "SELECT id, v FROM t WHERE id = 1",
             "insert_same_primary_key": "SELECT id, v FROM t WHERE id = 5",
             "insert_same_unique_value": "SELECT k, v FROM u"}


async def race(ctx: CheckContext, name: str) -> tuple[dict[str, Any], Any, Any]:
    """Run race `name` on two MVCC connections: its steps, the final rows, and the loser's connection."""
    a, b = await pair(ctx)
    steps = await script(ctx, {"a": a, "b": b}, RACES[name])
    await b.rollback_quietly()
    return steps, await _rows(a, RACE_ROWS[name]), b


@check(title="Two writers on the same row: one commits, the other gets SERIALIZATION_FAILURE, no lost update",
       source=CONCURRENT_WRITES, params={k: k for k in ("update_interleaved", "update_after_winner_commit")},
       expect={"winner_commit": OK, "loser_error": SERIALIZATION_FAILURE, "rows": [[i(1), i(10)]]})
async def test_same_row_one_commits(ctx: CheckContext, name: str) -> object:
    steps, final, _ = await race(ctx, name)
    return {"winner_commit": steps["a_commit"], "loser_error": first_error(steps, "b_")[1], "rows": final}


@check(title="Where a write-write conflict surfaces: at the write or at COMMIT (the guide's example "
             "handles it at commit)", source=CONCURRENT_WRITES, params={k: k for k in RACES},
       expect={"at": "commit", "kind": SERIALIZATION_FAILURE})
async def test_conflict_surfaces_at(ctx: CheckContext, name: str) -> object:
    steps, _, _ = await race(ctx, name)
    at, kind = first_error(steps, "b_")
    return {"at": at, "kind": kind}


@check(title="Unique-key race under MVCC: the loser gets SERIALIZATION_FAILURE, a retry the constraint error",
       source=CONCURRENT_WRITES, params={"primary_key": "insert_same_primary_key",
                                         "unique_column": "insert_same_unique_value"},
       expect={"winner_commit": OK, "loser_error": SERIALIZATION_FAILURE, "rows_after_race": 1,
               "retry_error": "UNIQUE_VIOLATION"})
async def test_unique_key_race(ctx: CheckContext, name: str) -> object:
    steps, final, loser = await race(ctx, name)
    retry_sql = next(sql for label, _, sql in RACES[name] if label == "b_write")
    retry: Any = "committed"
    try:
        async with loser.transaction():
            await loser.execute(retry_sql or "")
    except DatabaseError as exc:
        ctx.note(retry=exc.raw.as_dict())
        retry = exc.kind.value
    return {"winner_commit": steps["a_commit"], "loser_error": first_error(steps, "b_")[1],
            "rows_after_race": len(final), "retry_error": retry}


@check(title="Inserts without an explicit key in two concurrent transactions both commit (distinct rowids)",
       source=DISCOVERY, expect={"a_commit": OK, "b_commit": OK, "rows": 2, "distinct_ids": 2})
async def test_auto_rowid_inserts_both_commit(ctx: CheckContext) -> object:
    a, b = await pair(ctx)
    steps = await script(ctx, {"a": a, "b": b}, [
        ("a_begin", "a", "BEGIN CONCURRENT"), ("b_begin", "b", "BEGIN CONCURRENT"),
        ("a_write", "a", "INSERT INTO t (v) VALUES (10)"), ("b_write", "b", "INSERT INTO t (v) VALUES (20)"),
        ("a_commit", "a", "COMMIT"), ("b_commit", "b", "COMMIT")])
    sql = "SELECT count(*), count(DISTINCT id) FROM t WHERE v IN (10, 20)"
    count, distinct = await a.fetch_one(sql) or (0, 0)
    return {"a_commit": steps["a_commit"], "b_commit": steps["b_commit"], "rows": count,
            "distinct_ids": distinct}


@check(title="State after a conflict: is the failed transaction still open (as after SQLite's BUSY)?",
       source=DISCOVERY, params={"at_write": "update_interleaved", "at_commit": "insert_same_primary_key"},
       expect={"conflict": SERIALIZATION_FAILURE, "in_tx_after_conflict": True, "rollback": OK,
               "loser_write_visible": False, "usable_after": OK})
async def test_state_after_conflict(ctx: CheckContext, name: str) -> object:
    a, b = await pair(ctx)
    conns = {"a": a, "b": b}
    out: dict[str, Any] = {"conflict": "none"}
    for label, who, sql in RACES[name]:
        if who == "b" and out["conflict"] != "none":
            continue  # the loser stops at its first error, as an application would
        result = await run(ctx, conns[who], sql or "", label)
        if who == "b" and "error" in result:
            out["conflict"] = result["error"]
            out["in_tx_after_conflict"] = await b.is_in_transaction()
            out["rollback"] = await run(ctx, b, "ROLLBACK", "rollback")
    out["loser_write_visible"] = bool(await a.fetch_all("SELECT 1 FROM t WHERE v >= 100"))  # loser adds 100
    out["usable_after"] = await run(ctx, b, "UPDATE t SET v = v + 1 WHERE id = 2", "usable_after")
    return out


@check(title="A connection whose MVCC COMMIT failed goes back to the pool clean and usable",
       source=POOL_ERRORS,
       expect={"commit": BUSY, "in_tx_after_release": False, "same_connection": True, "usable": OK,
               "rows": [[i(5), i(10)]]})
async def test_failed_commit_returns_clean(ctx: CheckContext) -> object:
    pool = ctx.pool(ctx.url(), max_size=2, **MVCC)
    winner = await pool.acquire(timeout=0)
    for sql in TABLES:
        await winner.execute(sql)
    loser = await pool.acquire(timeout=0)
    commit: Any = OK
    await winner.execute("BEGIN CONCURRENT")
    await winner.execute("INSERT INTO t VALUES (5, 10)")
    try:
        async with loser.transaction():
            await loser.execute("INSERT INTO t VALUES (5, 100)")
            await winner.execute("COMMIT")  # the winner commits first: the loser fails at its COMMIT
    except DatabaseError as exc:
        ctx.note(commit_error=exc.raw.as_dict())
        commit = {"error": exc.kind.value}
    await pool.release(winner)
    await pool.release(loser)  # released last: the next acquire hands it out again
    again = await pool.acquire(timeout=0)
    out = {"commit": commit, "in_tx_after_release": await again.is_in_transaction(),
           "same_connection": again is loser,
           "usable": await run(ctx, again, "UPDATE t SET v = 7 WHERE id = 2", "usable")}
    out["rows"] = await _rows(again, "SELECT id, v FROM t WHERE id = 5")
    await pool.release(again)
    return out


# --- opting out of MVCC per transaction --------------------------------------------------------------


@check(title="With concurrent_writes, DEFERRED (plain BEGIN) opts out: a second writer's BEGIN succeeds, its "
             "first write fails", source=OVERRIDING,
       expect={"begin_sql": "BEGIN", "a_begin": OK, "a_write": OK, "b_begin": OK, "b_write": BUSY,
               "b_in_tx": True, "b_rollback": OK, "a_commit": OK})
async def test_deferred_opts_out(ctx: CheckContext) -> object:
    a, b = await pair(ctx)
    begin = a.begin_sql(TransactionMode.DEFERRED)
    return {"begin_sql": begin, **await script(ctx, {"a": a, "b": b}, [
        ("a_begin", "a", begin), ("a_write", "a", "UPDATE t SET v = 1 WHERE id = 1"),
        ("b_begin", "b", begin), ("b_write", "b", "UPDATE t SET v = 1 WHERE id = 2"), ("b_in_tx", "b", None),
        ("b_rollback", "b", "ROLLBACK"), ("a_commit", "a", "COMMIT")])}


@check(title="With concurrent_writes, IMMEDIATE opts out: a second IMMEDIATE fails at its own BEGIN",
       source=OVERRIDING, params={"IMMEDIATE": TransactionMode.IMMEDIATE},
       expect={"a_begin": OK, "b_begin": BUSY, "b_in_tx": False, "a_write": OK, "a_commit": OK,
               "b_begin_after_commit": OK, "b_commit": OK})
async def test_immediate_opts_out(ctx: CheckContext, mode: TransactionMode) -> object:
    return await _second_begin_fails(ctx, mode)


@check(title="With concurrent_writes, EXCLUSIVE opts out: another BEGIN EXCLUSIVE fails until it commits",
       source=OVERRIDING, params={"EXCLUSIVE": TransactionMode.EXCLUSIVE},
       expect={"a_begin": OK, "b_begin": BUSY, "b_in_tx": False, "a_write": OK, "a_commit": OK,
               "b_begin_after_commit": OK, "b_commit": OK})
async def test_exclusive_opts_out(ctx: CheckContext, mode: TransactionMode) -> object:
    return await _second_begin_fails(ctx, mode)


async def _second_begin_fails(ctx: CheckContext, mode: TransactionMode) -> dict[str, Any]:
    a, b = await pair(ctx)
    begin = a.begin_sql(mode)
    return await script(ctx, {"a": a, "b": b}, [
        ("a_begin", "a", begin), ("b_begin", "b", begin), ("b_in_tx", "b", None),
        ("a_write", "a", "UPDATE t SET v = 1 WHERE id = 1"), ("a_commit", "a", "COMMIT"),
        ("b_begin_after_commit", "b", begin), ("b_commit", "b", "COMMIT")])


@check(title="A BEGIN CONCURRENT writer beside an opted-out writer holding the lock: blocked at its write "
             "(classic locking) or only at COMMIT?", source=DISCOVERY, params=OPT_OUT,
       expect={"a_begin": OK, "a_write": OK, "b_begin": OK, "b_write": BUSY, "b_commit": OK, "a_commit": OK,
               "rows": [[i(1), i(1)], [i(2), i(0)]]})
async def test_concurrent_beside_opt_out(ctx: CheckContext, mode: TransactionMode) -> object:
    a, b = await pair(ctx)
    steps = await script(ctx, {"a": a, "b": b}, [
        ("a_begin", "a", a.begin_sql(mode)), ("a_write", "a", "UPDATE t SET v = 1 WHERE id = 1"),
        ("b_begin", "b", "BEGIN CONCURRENT"), ("b_write", "b", "UPDATE t SET v = 1 WHERE id = 2")])
    steps["b_commit"] = await run(ctx, b, "COMMIT", "b_commit") if await b.is_in_transaction() else \
        "no transaction left to commit"
    steps["a_commit"] = await run(ctx, a, "COMMIT", "a_commit")
    return {**steps, "rows": await _rows(a, "SELECT id, v FROM t ORDER BY id")}


@check(title="An opted-out writer beside an open BEGIN CONCURRENT writer: both commit (disjoint rows)",
       source=DISCOVERY, params=OPT_OUT,
       expect={"a_begin": OK, "a_write": OK, "b_begin": OK, "b_write": OK, "b_commit": OK, "a_commit": OK,
               "rows": [[i(1), i(1)], [i(2), i(1)]]})
async def test_opt_out_beside_concurrent(ctx: CheckContext, mode: TransactionMode) -> object:
    a, b = await pair(ctx)
    steps = await script(ctx, {"a": a, "b": b}, [
        ("a_begin", "a", "BEGIN CONCURRENT"), ("a_write", "a", "UPDATE t SET v = 1 WHERE id = 1"),
        ("b_begin", "b", b.begin_sql(mode)), ("b_write", "b", "UPDATE t SET v = 1 WHERE id = 2"),
        ("b_commit", "b", "COMMIT"), ("a_commit", "a", "COMMIT")])
    return {**steps, "rows": await _rows(a, "SELECT id, v FROM t ORDER BY id")}


@check(title="Without concurrent_writes the four modes behave as on SQLite (DEFAULT and DEFERRED emit BEGIN)",
       source=OVERRIDING, params=ALL_MODES)
async def test_modes_without_concurrent_writes(ctx: CheckContext, mode: TransactionMode) -> object:
    a, b = await pair(ctx, concurrent_writes=False)
    begin = a.begin_sql(mode)
    steps = await script(ctx, {"a": a, "b": b}, [
        ("a_begin", "a", begin), ("a_write", "a", "UPDATE t SET v = 1 WHERE id = 1"),
        ("b_begin", "b", begin), ("b_in_tx", "b", None), ("b_write", "b", "UPDATE t SET v = 1 WHERE id = 2")])
    await b.rollback_quietly()
    steps["a_commit"] = await run(ctx, a, "COMMIT", "a_commit")
    return {"begin_sql": begin, **steps, "rows": await _rows(a, "SELECT id, v FROM t ORDER BY id")}


@check(title="A file once opened with concurrent_writes, reopened without it, is back in classic mode",
       source=OVERRIDING,
       expect={"journal_mode": "wal", "begin_concurrent_accepted": False, "second_default_writer": BUSY})
async def test_reopen_without_concurrent_writes(ctx: CheckContext) -> object:
    url = ctx.url()
    first = await ctx.connect(url, **MVCC)
    for sql in TABLES:
        await first.execute(sql)
    await first.close()
    a = await ctx.connect(url)
    b = await ctx.connect(url)
    mode = await a.fetch_value("PRAGMA journal_mode")
    accepted = "ok" in await run(ctx, a, "BEGIN CONCURRENT", "begin_concurrent")
    await a.rollback_quietly()
    steps = await script(ctx, {"a": a, "b": b}, [
        ("a_begin", "a", a.begin_sql(TransactionMode.DEFAULT)),
        ("a_write", "a", "UPDATE t SET v = 1 WHERE id = 1"),
        ("b_begin", "b", b.begin_sql(TransactionMode.DEFAULT)),
        ("b_write", "b", "UPDATE t SET v = 1 WHERE id = 2")])
    await b.rollback_quietly()
    await a.rollback_quietly()
    return {"journal_mode": mode, "begin_concurrent_accepted": accepted,
            "second_default_writer": steps["b_write"]}


# --- DDL under MVCC ----------------------------------------------------------------------------------


@check(title="A migration in BEGIN / COMMIT (DDL and data) works with concurrent_writes", source=MIGRATIONS,
       expect={"steps": [OK] * 6, "columns_seen_by_other": ["id", "name", "email"],
               "rows_seen_by_other": [[i(1), ["text", "ada"], ["text", "ada@example.com"]]]})
async def test_migration_transaction(ctx: CheckContext) -> object:
    a, b = await pair(ctx)
    steps = [await run(ctx, a, sql, f"step_{n}") for n, sql in enumerate((
        "BEGIN", "CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "ALTER TABLE person ADD COLUMN email TEXT", "CREATE INDEX person_email ON person (email)",
        "INSERT INTO person VALUES (1, 'ada', 'ada@example.com')", "COMMIT"))]
    result = await b.execute("SELECT * FROM person")
    return {"steps": steps, "columns_seen_by_other": list(result.columns),
            "rows_seen_by_other": rows(result.rows)}


@check(title="DDL inside a DEFAULT (BEGIN CONCURRENT) transaction", source=DISCOVERY,
       expect={"ddl": OK, "in_tx_after": True, "commit": OK, "table_exists": True})
async def test_ddl_in_default_transaction(ctx: CheckContext) -> object:
    a, _ = await pair(ctx)
    out = await script(ctx, {"a": a}, [
        ("begin", "a", a.begin_sql(TransactionMode.DEFAULT)), ("ddl", "a", "CREATE TABLE extra (x)"),
        ("in_tx_after", "a", None), ("commit", "a", "COMMIT")])
    out.pop("begin")
    out["table_exists"] = bool(await a.fetch_all("SELECT 1 FROM sqlite_schema WHERE name = 'extra'"))
    return out


@check(title="DDL outside any transaction under MVCC (create, alter, index, drop)", source=DISCOVERY,
       expect={"create": OK, "alter": OK, "index": OK, "insert": OK, "drop": OK})
async def test_ddl_autocommit(ctx: CheckContext) -> object:
    a, _ = await pair(ctx)
    return await script(ctx, {"a": a}, [
        ("create", "a", "CREATE TABLE extra (x INTEGER)"),
        ("alter", "a", "ALTER TABLE extra ADD COLUMN y TEXT"),
        ("index", "a", "CREATE INDEX extra_y ON extra (y)"),
        ("insert", "a", "INSERT INTO extra VALUES (1, 'a')"),
        ("drop", "a", "DROP TABLE extra")])


@check(title="A schema change committed elsewhere while a BEGIN CONCURRENT transaction is open (other table)",
       source=DISCOVERY, params={"autocommit_ddl": "autocommit", "ddl_in_begin": "begin"},
       expect={"a_begin": OK, "a_write": OK, "b_ddl": OK, "a_commit": OK, "a_write_kept": True})
async def test_schema_change_beside_concurrent(ctx: CheckContext, how: str) -> object:
    a, b = await pair(ctx)
    steps = await script(ctx, {"a": a}, [("a_begin", "a", "BEGIN CONCURRENT"),
                                         ("a_write", "a", "UPDATE t SET v = 42 WHERE id = 1")])
    if how == "begin":
        await b.execute("BEGIN")
        steps["b_ddl"] = await run(ctx, b, "CREATE TABLE unrelated (x)", "b_ddl")
        await b.execute("COMMIT")
    else:
        steps["b_ddl"] = await run(ctx, b, "CREATE TABLE unrelated (x)", "b_ddl")
    steps["a_commit"] = await run(ctx, a, "COMMIT", "a_commit")
    steps["a_write_kept"] = bool(await a.fetch_all("SELECT 1 FROM t WHERE id = 1 AND v = 42"))
    return steps


@check(title="sqlite_schema of a file database under MVCC lists only the user's objects", source=DISCOVERY,
       expect=[[["text", "table"], ["text", "t"]], [["text", "table"], ["text", "u"]]])
async def test_schema_lists_only_user_objects(ctx: CheckContext) -> object:
    a, _ = await pair(ctx)
    return await _rows(a, "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_autoindex%' "
                          "ORDER BY name")


# --- stress ------------------------------------------------------------------------------------------

STRESS_TASKS, STRESS_CALLS, STRESS_MAX_ATTEMPTS = 8, 6, 1000


@check(title="Stress: 8 tasks add to one counter through retries; nothing lost, every attempt accounted for",
       source=CONCURRENT_WRITES, timeout=60,
       params={"mvcc": TransactionMode.DEFAULT, "classic_immediate": TransactionMode.IMMEDIATE},
       expect={"tasks": STRESS_TASKS, "calls": STRESS_TASKS * STRESS_CALLS,
               "final_equals_committed_sum": True,
               "ledger_matches_commits": True, "every_attempt_accounted": True, "other_errors": 0,
               "left_in_transaction": 0})
async def test_stress_counter(ctx: CheckContext, mode: TransactionMode) -> object:
    options = MVCC if mode is TransactionMode.DEFAULT else {}
    url = ctx.url()
    setup = await ctx.connect(url, **options)
    await setup.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    await setup.execute("CREATE TABLE ledger (attempt TEXT PRIMARY KEY, amount INTEGER NOT NULL)")
    await setup.execute("INSERT INTO counter VALUES (1, 0)")
    conns = [await ctx.connect(url, **options) for _ in range(STRESS_TASKS)]
    retrier = Retrier(max_attempts=STRESS_MAX_ATTEMPTS)
    outcomes: dict[str, str] = {}  # attempt id -> "committed" or the error kind
    amounts: dict[str, int] = {}
    failed_at: collections.Counter[str] = collections.Counter()
    start = asyncio.Event()

    async def add(conn: Any, task: int, call: int) -> None:
        attempt = 0

        async def once() -> None:
            nonlocal attempt
            attempt += 1
            key, stage = f"{task}/{call}/{attempt}", "begin"
            outcomes[key], amounts[key] = "started", task + 1
            try:
                async with conn.transaction(mode):
                    stage = "update"
                    await conn.execute("UPDATE counter SET v = v + ? WHERE id = 1", (task + 1,))
                    stage = "ledger"
                    await conn.execute("INSERT INTO ledger VALUES (?, ?)", (key, task + 1))
                    stage = "commit"
            except DatabaseError as exc:
                outcomes[key] = exc.kind.value
                failed_at[f"{stage}:{exc.kind.value}"] += 1
                if stage == "begin" and await conn.is_in_transaction():
                    # Turso can leave a failed BEGIN IMMEDIATE open, holding the write lock (see
                    # transactions.failed_begin_leaves_no_transaction); a careful caller rolls it back.
                    failed_at["begin_failed_but_left_transaction_open"] += 1
                    await conn.rollback_quietly()
                raise
            outcomes[key] = "committed"

        with contextlib.suppress(RetriesExhausted, DatabaseError):
            await retrier.run(once)  # a call that gives up is recorded in the stats and in `outcomes`

    async def worker(task: int) -> None:
        await start.wait()
        for call in range(STRESS_CALLS):
            await add(conns[task], task, call)

    workers = [asyncio.create_task(worker(n)) for n in range(STRESS_TASKS)]
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - began
    final = await setup.fetch_value("SELECT v FROM counter WHERE id = 1")
    ledger = {key: amount for key, amount in await setup.fetch_all("SELECT attempt, amount FROM ledger")}
    committed = {key for key, outcome in outcomes.items() if outcome == "committed"}
    stats = retrier.stats
    ctx.note(elapsed_s=round(elapsed, 4), commits=len(committed),
             commits_per_s=round(len(committed) / elapsed, 1) if elapsed else None,
             attempts_per_s=round(stats.attempts / elapsed, 1) if elapsed else None,
             retry=stats.as_dict(), failures_by_stage=dict(failed_at))
    return {"tasks": STRESS_TASKS, "calls": stats.calls,
            "final_equals_committed_sum": final == sum(amounts[k] for k in committed),
            "ledger_matches_commits": ledger == {k: amounts[k] for k in committed},
            "every_attempt_accounted": stats.accounted and len(outcomes) == stats.attempts
            and all(o in ("committed", SERIALIZATION_FAILURE) for o in outcomes.values()),
            "other_errors": stats.other_errors,
            "left_in_transaction": sum([await c.is_in_transaction() for c in conns])}


# --- write skew and journal modes switched back (issue 19) ----------------------------------------------

#: Two transactions each read both rows and write a different one, in this explicit order.
WRITE_SKEW: list[Step] = [
    ("a_begin", "a", "BEGIN"), ("b_begin", "b", "BEGIN"),
    ("a_reads", "a", "SELECT sum(v) FROM t"), ("b_reads", "b", "SELECT sum(v) FROM t"),
    ("a_writes", "a", "UPDATE t SET v = v - 1 WHERE id = 1"),
    ("b_writes", "b", "UPDATE t SET v = v - 1 WHERE id = 2"),
    ("a_commit", "a", "COMMIT"), ("b_commit", "b", "COMMIT"),
]


async def _write_skew(ctx: CheckContext, **options: Any) -> dict[str, Any]:
    a, b = await pair(ctx, **options)
    if options.get("concurrent_writes") is False:
        await a.execute("PRAGMA journal_mode = WAL")
    steps = await script(ctx, {"a": a, "b": b}, WRITE_SKEW)
    for conn in (a, b):
        if await conn.is_in_transaction():
            await conn.execute("ROLLBACK")
    return {**steps, "final": await _rows(a, "SELECT id, v FROM t ORDER BY id")}


@check(title="Write skew, explicit order (both read, each writes another row, A then B commit) on WAL with "
             "classic locking", source=DISCOVERY)
async def test_write_skew_wal(ctx: CheckContext) -> object:
    return await _write_skew(ctx, concurrent_writes=False)


@check(title="Write skew under concurrent writes (BEGIN CONCURRENT): is the second commit refused, as "
             "classic locking refuses the second writer?", source=CONCURRENT_WRITES,
       requires=("concurrent_writes",),
       expect={"a_begin": OK, "b_begin": OK, "a_reads": {"ok": [[i(0)]]}, "b_reads": {"ok": [[i(0)]]},
               "a_writes": OK, "b_writes": BUSY, "a_commit": OK, "b_commit": OK,
               "final": [[i(1), i(-1)], [i(2), i(0)]]})
async def test_write_skew_concurrent(ctx: CheckContext) -> object:
    return await _write_skew(ctx)


#: journal_mode set one way, a write, then set back; observed: each PRAGMA's answer, a fresh connection's.
JOURNAL_SWITCHES = {"wal_then_delete": ("wal", "delete"), "mvcc_then_wal": ("mvcc", "wal"),
                    "wal_then_wal": ("wal", "wal")}


@check(title="PRAGMA journal_mode switched and switched back on a file: each answer, the data, a fresh "
             "connection's mode", source=DISCOVERY, params=JOURNAL_SWITCHES)
async def test_journal_mode_switch_back(ctx: CheckContext, modes: tuple[str, str]) -> object:
    url = ctx.url()
    conn = await ctx.connect(url)
    await conn.execute("CREATE TABLE t (x INTEGER)")
    first = await run(ctx, conn, f"PRAGMA journal_mode = {modes[0]}", "first")
    write = await run(ctx, conn, "INSERT INTO t VALUES (1)", "write")
    back = await run(ctx, conn, f"PRAGMA journal_mode = {modes[1]}", "back")
    await conn.close()
    fresh = await ctx.connect(url)
    return {"first": first, "write": write, "back": back,
            "fresh_mode": await run(ctx, fresh, "PRAGMA journal_mode", "fresh"),
            "fresh_rows": await run(ctx, fresh, "SELECT x FROM t", "fresh_rows")}
