"""Statements that fail at run time inside an explicit transaction, and interrupted statements.

SQLite aborts only the failing statement (its own changes are undone) and keeps the transaction open
with every earlier write; later writes and COMMIT work. An `OR ROLLBACK` conflict clause, or an error
SQLite documents as rolling back the whole transaction, ends it. Each check observes the transaction
state, the earlier and later writes, and what COMMIT does, through the protocol.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from stc_harness import DISCOVERY, CheckContext, DatabaseError, Source, check, rows

#: SQLite's documentation of statement vs transaction rollback (lang_transaction.html, "Response To Errors
#: Within A Transaction"; lang_conflict.html for the conflict clauses).
RESPONSE_TO_ERRORS = Source(
    "https://sqlite.org/lang_transaction.html", "Response To Errors Within A Transaction"
)
CONFLICT = Source("https://sqlite.org/lang_conflict.html", "The ON CONFLICT clause")

SCHEMA = (
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0), u TEXT UNIQUE)",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id))",
    "INSERT INTO t VALUES (1, 10, 'a')",
)

#: Statements that fail while running, after earlier rows of the same statement were written.
FAILING: dict[str, str] = {
    "unique_multi_row": "INSERT INTO t VALUES (2, 20, 'b'), (3, 30, 'a')",
    "not_null": "INSERT INTO t VALUES (4, NULL, 'n')",
    "check_multi_row": "UPDATE t SET v = v - 15",
    "primary_key": "INSERT INTO t VALUES (1, 1, 'p')",
    "foreign_key_immediate": "INSERT INTO child VALUES (1, 99)",
    "overflow_in_expression": "INSERT INTO t VALUES (5, abs(-9223372036854775807 - 1), 'o')",
    "or_rollback": "INSERT OR ROLLBACK INTO t VALUES (6, 60, 'a')",
    "or_abort": "INSERT OR ABORT INTO t VALUES (7, 70, 'a')",
    "or_fail_multi_row": "INSERT OR FAIL INTO t VALUES (8, 80, 'h'), (9, 90, 'a')",
    "or_ignore": "INSERT OR IGNORE INTO t VALUES (10, 100, 'a')",
    "or_replace": "INSERT OR REPLACE INTO t VALUES (11, 110, 'a')",
    "raise_abort_trigger": "INSERT INTO t VALUES (12, 120, 'trigger')",
}


async def _setup(ctx: CheckContext, url: str | None = None) -> Any:
    conn = await ctx.connect(url)
    await conn.execute("PRAGMA foreign_keys = ON")
    for sql in SCHEMA:
        await conn.execute(sql)
    await conn.execute(
        "CREATE TRIGGER no_trigger_text BEFORE INSERT ON t WHEN NEW.u = 'trigger' "
        "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END"
    )
    return conn


@check(
    title="A statement failing inside an explicit transaction: the transaction, earlier and later "
    "writes, COMMIT",
    source=RESPONSE_TO_ERRORS,
    params={k: k for k in FAILING},
)
async def test_failure_inside_transaction(ctx: CheckContext, key: str) -> object:
    url = ctx.url()
    conn = await _setup(ctx, url)
    await conn.execute("BEGIN")
    await conn.execute("INSERT INTO t VALUES (100, 1, 'earlier')")
    failed = await ctx.attempt(conn.execute(FAILING[key]), "raw_failure")
    failed = {"error": failed["error"]} if "error" in failed else "ok"
    state = await conn.is_in_transaction()
    later = await ctx.attempt(conn.execute("INSERT INTO t VALUES (200, 2, 'later')"), "raw_later")
    commit = await ctx.attempt(conn.execute("COMMIT"), "raw_commit")
    if await conn.is_in_transaction():
        await conn.execute("ROLLBACK")
    table = rows(await conn.fetch_all("SELECT id, v, u FROM t ORDER BY id"))
    other = await ctx.connect(url)
    seen = rows(await other.fetch_all("SELECT count(*) FROM t"))
    return {
        "statement": failed,
        "in_transaction_after": state,
        "later_write": "ok" if "ok" in later else later,
        "commit": "ok" if "ok" in commit else commit,
        "table": table,
        "other_connection_count": seen,
    }


@check(
    title="A failing statement in autocommit mode leaves no partial rows (statement atomicity)",
    source=RESPONSE_TO_ERRORS,
    params={k: k for k in ("unique_multi_row", "check_multi_row", "or_fail_multi_row")},
)
async def test_failure_autocommit_atomic(ctx: CheckContext, key: str) -> object:
    conn = await _setup(ctx)
    failed = await ctx.attempt(conn.execute(FAILING[key]), "raw_failure")
    return {
        "statement": {"error": failed["error"]} if "error" in failed else "ok",
        "table": rows(await conn.fetch_all("SELECT id, v, u FROM t ORDER BY id")),
        "in_transaction": await conn.is_in_transaction(),
    }


#: A write of many rows whose SELECT is slow enough to be interrupted while running.
SLOW_INSERT = (
    "INSERT INTO big SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 5000000) SELECT x FROM c)"
)


@check(
    title="An interrupted INSERT ... SELECT is atomic: no rows of it remain, the transaction state after",
    source=DISCOVERY,
    params={"autocommit": False, "explicit_transaction": True},
    requires=("interrupt",),
    timeout=20,
)
async def test_interrupted_statement_atomic(ctx: CheckContext, explicit: bool) -> object:
    import asyncio

    conn = await ctx.connect()
    await conn.execute("CREATE TABLE big (x INTEGER)")
    if explicit:
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO big VALUES (-1)")
    task = asyncio.ensure_future(conn.execute(SLOW_INSERT))
    outcome: Any = None
    for _ in range(200):  # interrupt until the statement stops; each round waits on the task, bounded
        await conn.interrupt()
        done, _pending = await asyncio.wait({task}, timeout=0.05)
        if done:
            break
    try:
        await asyncio.wait_for(task, 5)
        outcome = "completed"
    except DatabaseError as exc:
        outcome = {"error": exc.kind.value}
        ctx.note(raw_interrupt=exc.raw.as_dict())
    state = await conn.is_in_transaction()
    count, smallest = (await conn.fetch_all("SELECT count(*), min(x) FROM big"))[0]
    if state:
        await conn.execute("ROLLBACK")
    # How far the statement got before the interrupt varies from run to run: observe only whether any
    # of its rows remain, and whether the earlier write of the transaction does.
    ctx.note(rows_after=count)
    return {
        "statement": outcome,
        "in_transaction_after": state,
        "rows_of_interrupted_statement_left": count - (1 if smallest == -1 else 0) > 0,
        "earlier_write_kept": smallest == -1,
    }


#: Expressions that fail while the statement runs (not while it is prepared).
RUNTIME_ERRORS: dict[str, str] = {
    "unique": "",  # a constraint, not an expression: only the INSERT and UPDATE kinds use it
    "overflow_abs": "abs(-9223372036854775807 - 1)",
    "malformed_json": "json('{')",
    "overflow_sum": "(SELECT sum(x) FROM (SELECT 9223372036854775807 AS x UNION ALL SELECT 1))",
}
#: Statement kinds, each with the failing expression `{e}` in it.
STATEMENT_KINDS: dict[str, str] = {
    "select": "SELECT {e}",
    "select_from": "SELECT id, {e} FROM t",
    "insert": "INSERT INTO t VALUES (50, {e}, 'x')",
    "insert_select": "INSERT INTO t SELECT 51, {e}, 'y'",
    "update": "UPDATE t SET v = {e}",
    "delete": "DELETE FROM t WHERE v = {e}",
    "create_table_as": "CREATE TABLE u AS SELECT {e} AS c",
    "with_cte": "WITH c(x) AS (SELECT {e}) SELECT x FROM c",
}
#: The constraint error for the kinds that write: a duplicate UNIQUE value.
UNIQUE_BY_KIND = {"insert": "INSERT INTO t VALUES (50, 5, 'a')", "update": "UPDATE t SET u = 'a'"}


def runtime_error_sql(kind: str, error: str) -> str:
    """The statement of `kind` failing with `error` (a UNIQUE conflict for kinds that have one)."""
    if error == "unique":
        return UNIQUE_BY_KIND.get(kind, UNIQUE_BY_KIND["insert"])
    return STATEMENT_KINDS[kind].format(e=RUNTIME_ERRORS[error])


ERROR_CASES = st.tuples(st.sampled_from(list(STATEMENT_KINDS)), st.sampled_from(list(RUNTIME_ERRORS)),
                        st.sampled_from(["explicit", "autocommit"]))


@check(
    title="A runtime error in any statement kind aborts that statement only: the transaction stays open "
    "with its earlier write",
    source=RESPONSE_TO_ERRORS,
    params={"insert_unique": ("insert", "unique", "explicit")},
    variants=ERROR_CASES,
)
async def test_runtime_error_statement_kind(ctx: CheckContext, case: tuple[str, str, str]) -> object:
    kind, error, mode = case
    url = ctx.url()
    conn = await _setup(ctx, url)
    if mode == "explicit":
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t VALUES (100, 1, 'earlier')")
    sql = runtime_error_sql(kind, error)
    ctx.note(sql=sql)
    failed = await ctx.attempt(conn.fetch_all(sql), "raw_failure")
    state = await conn.is_in_transaction()
    seen_here = await conn.fetch_value("SELECT count(*) FROM t")
    if state:
        await conn.execute("COMMIT")
    other = await ctx.connect(url)
    return {
        "statement": {"error": failed["error"]} if "error" in failed else "ok",
        "in_transaction_after": state,
        "rows_seen_by_same_connection": seen_here,
        "rows_committed": await other.fetch_value("SELECT count(*) FROM t"),
    }
