"""The limits `000_19b4e4215b591ddb.txt` lists ("Limitations"): custom SQL types, SQLite extensions,
synchronous operations, each measured on every backend with SQLite as the baseline; and its
"Performance" claim, as a per-statement cost against stdlib sqlite3.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from stc_harness import CheckContext, DatabaseError, Source, check, orm_backend, rows
from stc_harness.adapters.connection import run_batch

LIMITATIONS = orm_backend("Limitations")



async def attempt_all(ctx: CheckContext, conn: Any, statements: tuple[str, ...], label: str) -> Any:
    """Run statements in order: `{"ok": rows of the last}`, or `{"error": KIND}` of the first to fail."""
    result: Any = None
    for sql in statements:
        try:
            result = rows(await conn.fetch_all(sql))
        except DatabaseError as exc:
            ctx.note(**{label: exc.raw.as_dict()})
            return {"error": exc.kind.value}
    return {"ok": result}


CUSTOM_TYPES: dict[str, tuple[str, ...]] = {
    # Turso's user-defined type statement (see features.toggle[custom_types]), with no toggle.
    "create_type": ("CREATE TYPE cents BASE integer ENCODE value * 100 DECODE value / 100",),
    # An arbitrary declared type name: accepted by both, with SQLite's affinity rules.
    "declared_type_name": ("CREATE TABLE t (price MONEY, tags JSONB, at TIMESTAMP)",
                           "INSERT INTO t VALUES ('1.50', '[1, 2]', '2024-01-02')",
                           "SELECT price, typeof(price), tags, typeof(tags), at, typeof(at) FROM t"),
    # The document's advice: "use JSON serialization instead".
    "json_serialization": ("CREATE TABLE t (doc TEXT)",
                           """INSERT INTO t VALUES (json('{"amount": {"cents": 150, "currency": "EUR"}}'))""",
                           "SELECT json_extract(doc, '$.amount.cents'), "
                           "json_extract(doc, '$.amount.currency'), json_type(doc, '$.amount') FROM t"),
}


@check(title="Custom SQL types: not supported (use JSON serialization instead)", source=LIMITATIONS,
       params=CUSTOM_TYPES)
async def test_custom_types(ctx: CheckContext, statements: tuple[str, ...]) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    return await attempt_all(ctx, conn, statements, "raw")


@check(title="SQLite extensions: the driver's loading API and the load_extension() SQL function",
       source=LIMITATIONS)
async def test_extensions(ctx: CheckContext) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    api = await conn.call(lambda raw: callable(getattr(raw, "enable_load_extension", None)))
    sql = await attempt_all(ctx, conn, ("SELECT load_extension('/nonexistent/extension')",), "raw_sql")
    # Whether the engine itself was built with extension loading (independent of whether this
    # Python's driver exposes enable_load_extension, which varies by build).
    built_in = await ctx.attempt(conn.fetch_value(
        "SELECT NOT sqlite_compileoption_used('OMIT_LOAD_EXTENSION')"), "raw_compileoption")
    ctx.note(capability=await ctx.backend.capabilities.missing(("load_extension",)) or "present",
             enable_load_extension_api=api)
    return {"engine_built_with_load_extension": built_in, "sql_load_extension_by_default": sql}


def _read_blocking(module: Any, path: str) -> list[tuple[Any, ...]]:
    """Open `path` with the driver's blocking DB-API module and read `t` (runs in a worker thread)."""
    conn = module.connect(path)
    try:
        return [tuple(r) for r in conn.execute("SELECT x FROM t ORDER BY x").fetchall()]
    finally:
        conn.close()


@check(title="Synchronous operations: the driver's blocking API reads what the async adapter wrote",
       source=LIMITATIONS)
async def test_sync_operations(ctx: CheckContext) -> object:
    module = ctx.sync_module()
    url = ctx.url()
    conn = await ctx.connect(url)
    await conn.execute("CREATE TABLE t (x INTEGER)")
    await conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
    await conn.close()
    path = url.split(":", 1)[1]
    got = await asyncio.to_thread(_read_blocking, module, path)
    missing = await ctx.backend.capabilities.missing(("sync_api",))
    return {"declared_sync_api": not missing, "blocking_read": rows(got)}


PERFORMANCE = orm_backend("Performance")
#: Rows inserted, then read back by primary key, for the per-statement cost comparison.
PERF_ROWS = 2000
#: "High performance", made measurable: per-statement cost within this factor of stdlib sqlite3's.
PERF_FACTOR = 3.0
#: Rounds of the comparison; each side keeps its cheapest round (interference only ever adds time).
PERF_ROUNDS = 5


def _workload() -> tuple[list[Any], list[Any]]:
    """The inserts (in one transaction) and the primary-key selects, as batches."""
    rows_in = (("INSERT INTO kv VALUES (?, ?)", (i, f"v{i}")) for i in range(PERF_ROWS))
    return (["BEGIN", *rows_in, "COMMIT"],
            [("SELECT v FROM kv WHERE id = ?", (i,)) for i in range(PERF_ROWS)])


def _yardstick_seconds(inserts: list[Any], selects: list[Any]) -> float:
    """The same batches on stdlib sqlite3 in memory, through the same `run_batch` the adapters use (CPU s).

    The same Python wraps every statement on both sides (the harness's batch loop, a `Result` per
    statement), so the ratio is the driver's and engine's cost, not the harness's. CPU time of this
    process, not wall time: other processes on a busy machine cannot make one side look faster.
    """
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)")
        start = time.process_time()
        run_batch(db, inserts, reuse_cursor=True)
        run_batch(db, selects, reuse_cursor=True)
        return time.process_time() - start
    finally:
        db.close()


@check(title=f"Per-statement cost within {PERF_FACTOR:g}x of stdlib sqlite3 ({PERF_ROWS} inserts in one "
             f"transaction, {PERF_ROWS} primary-key selects, in memory, batch path)", source=PERFORMANCE)
async def test_per_statement_cost(ctx: CheckContext) -> object:
    """Both sides run the same batches through the harness's batch loop, interleaved; cheapest round each."""
    conn = await ctx.connect(ctx.url(memory=True))
    await conn.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)")
    inserts, selects = _workload()
    backend = yardstick = float("inf")
    for _ in range(PERF_ROUNDS):
        yardstick = min(yardstick, await asyncio.to_thread(_yardstick_seconds, inserts, selects))
        await conn.execute("DELETE FROM kv")
        start = time.process_time()  # the driver's thread is in this process: its CPU time counts
        results = [*await conn.batch(inserts), *await conn.batch(selects)]
        backend = min(backend, time.process_time() - start)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise failed[0]
    ratio = backend / yardstick
    ctx.note(ratio_to_stdlib_sqlite3=round(ratio, 2),
             microseconds_per_statement=round(backend * 1e6 / (2 * PERF_ROWS + 2), 2))
    return {f"within_{PERF_FACTOR:g}x_of_stdlib_sqlite3": ratio <= PERF_FACTOR}


#: SQLite's limits page, each limit that is measurable in seconds.
LIMITS_PAGE = Source("https://sqlite.org/limits.html", "Limits In SQLite")


def _many(template: str, n: int, sep: str = ",") -> str:
    return sep.join(template.format(i=i) for i in range(n))


def _trigger_depth(n: int) -> tuple[tuple[str, ...], str]:
    return (("PRAGMA recursive_triggers = ON", "CREATE TABLE d (n INTEGER)",
             "CREATE TRIGGER tr AFTER INSERT ON d WHEN NEW.n > 0 BEGIN INSERT INTO d VALUES (NEW.n - 1); END",
             f"INSERT INTO d VALUES ({n - 1})"), "SELECT count(*) FROM d")


def _edge_cases() -> dict[str, tuple[tuple[str, ...], str, tuple[Any, ...]]]:
    """Limit name + `_at` (the largest value SQLite accepts) or `_past` (one more): set-up, statement, params.

    The edges are SQLite's defaults (the page's numbers), and for the variable number also this build's
    (Debian's SQLite raises SQLITE_MAX_VARIABLE_NUMBER to 250000).
    """
    cases: dict[str, tuple[tuple[str, ...], str, tuple[Any, ...]]] = {}
    for n, edge in ((1_000_000_000, "at"), (1_000_000_001, "past")):
        cases[f"length_{edge}"] = ((), f"SELECT length(zeroblob({n}))", ())
    for n, edge in ((2000, "at"), (2001, "past")):
        cases[f"columns_in_table_{edge}"] = ((f"CREATE TABLE w ({_many('c{i}', n)})",),
                                             "SELECT count(*) FROM pragma_table_info('w')", ())
        wide = f"SELECT count(*) FROM (SELECT {_many('{i} AS c{i}', n)})"
        cases[f"columns_in_result_{edge}"] = ((), wide, ())
    for n, edge in ((1000, "at"), (1001, "past")):
        cases[f"expr_depth_{edge}"] = ((), "SELECT " + "+".join(["1"] * n), ())
    for n, edge in ((500, "at"), (501, "past")):
        cases[f"compound_select_{edge}"] = ((), "SELECT count(*) FROM (" + " UNION ALL ".join(
            [f"SELECT {i}" for i in range(n)]) + ")", ())
    for n, edge in ((127, "at"), (128, "past")):  # SQLite 3.48 raised the default to 1000
        cases[f"function_args_{edge}"] = ((), f"SELECT max({_many('{i}', n)})", ())
    for n, edge in ((10, "at"), (11, "past")):
        cases[f"attached_{edge}"] = (tuple(f"ATTACH ':memory:' AS a{i}" for i in range(n)),
                                     "SELECT count(*) FROM pragma_database_list", ())
    for n, edge in ((50_000, "at"), (50_001, "past")):
        cases[f"like_pattern_{edge}"] = ((), "SELECT ? LIKE ?", ("a" * n, "a" * n))
    for n, edge in ((32_766, "default_at"), (250_000, "build_at"), (250_001, "build_past")):
        cases[f"variable_number_{edge}"] = ((), f"SELECT ?{n}, typeof(?1)", tuple(range(n)))
    for n, edge in ((1000, "at"), (1001, "past")):
        setup, sql = _trigger_depth(n)
        cases[f"trigger_depth_{edge}"] = (setup, sql, ())
    for n, edge in ((64, "at"), (65, "past")):
        cases[f"tables_in_join_{edge}"] = ((), "SELECT count(*) FROM " + _many("(SELECT {i}) t{i}", n), ())
    return cases


EDGES = _edge_cases()


@check(title="Each limit of SQLite's limits page at its edge and one past it (what is measurable in seconds)",
       source=LIMITS_PAGE, params={k: k for k in EDGES})
async def test_limit_edge(ctx: CheckContext, key: str) -> object:
    setup, sql, params = EDGES[key]
    conn = await ctx.connect(ctx.url(memory=True))
    for i, statement in enumerate(setup):
        done = await ctx.attempt(conn.execute(statement), f"raw_setup_{i}")
        if "error" in done:
            return {"setup_statement": i, **done}
    return await ctx.attempt(_rows_of(conn, sql, params), "raw")


async def _rows_of(conn: Any, sql: str, params: tuple[Any, ...]) -> Any:
    return rows(await conn.fetch_all(sql, params))
