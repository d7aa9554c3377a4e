"""Defaults and transaction control: busy wait with default arguments, isolation_level, implicit BEGIN.

The busy wait is proven by explicit ordering, never by sleeping: connection A takes the write lock and
confirms it holds it; connection B (default arguments) starts an INSERT in a thread; once B has started
(and had time to fail, were it not waiting), A commits, and B's outcome is observed. Whether B returned
before A released the lock is read from B's outcome, not from which thread ran first: B cannot insert
while A holds the write lock, so a B that failed returned before the release and a B that succeeded
waited for it. (libsql's busy wait holds the GIL: A cannot commit until B gives up, and the moment B's
call returns is a race between two threads, so a recorded order would flip from run to run.) The
configured value is read back with `PRAGMA busy_timeout`.
"""

from __future__ import annotations

from typing import Any

import busy_wait
from driver_support import blocking, db_path, make_table, outcome, pydoc

from stc_harness import CheckContext, check

TRANSACTIONS = pydoc("Transaction control")


@check(
    title="Default connect(): a second writer waits for the lock (sqlite3's default timeout=5.0) and "
    "succeeds once the first commits",
    source=pydoc("Module functions"),
    layer="driver",
)
async def test_busy_wait_default(ctx: CheckContext) -> object:
    module = ctx.sync_module()
    # observed in a child started ahead (see busy_wait.py); bounded past the default timeout either way
    observed = await blocking(busy_wait.take, ctx.backend.sync_module, bound=busy_wait.BOUND + 1)
    if observed is None:
        return await blocking(busy_wait.observe, module, db_path(ctx), bound=busy_wait.BOUND)
    return observed


def _busy_timeout_pragma(module: Any, path: str, kwargs: dict[str, Any]) -> Any:
    def read() -> Any:
        conn = module.connect(path, **kwargs)
        try:
            return conn.execute("PRAGMA busy_timeout").fetchall()
        finally:
            conn.close()

    return outcome(read)


BUSY_SETTINGS: dict[str, dict[str, Any]] = {
    "default": {},
    "timeout_1_5": {"timeout": 1.5},
    "timeout_0": {"timeout": 0},
}


@check(
    title="The busy timeout connect() configures, read back with PRAGMA busy_timeout (ms)",
    source=pydoc("Module functions"),
    params=BUSY_SETTINGS,
    layer="driver",
)
async def test_busy_timeout_read_back(ctx: CheckContext, kwargs: dict[str, Any]) -> object:
    return await blocking(_busy_timeout_pragma, ctx.sync_module(), db_path(ctx), kwargs)


def _isolation_default(module: Any, path: str) -> Any:
    conn = module.connect(path)
    try:
        return outcome(lambda: conn.isolation_level)
    finally:
        conn.close()


@check(
    title="Connection.isolation_level default ('' on sqlite3: implicit DEFERRED BEGIN)",
    source=pydoc("Connection objects"),
    layer="driver",
)
async def test_isolation_level_default(ctx: CheckContext) -> object:
    return await blocking(_isolation_default, ctx.sync_module(), db_path(ctx))


#: Statements run on a default connection over `t(x)`; observed: in_transaction after each.
IMPLICIT_BEGIN = {
    "insert": "INSERT INTO t VALUES (1)",
    "update": "UPDATE t SET x = 2",
    "delete": "DELETE FROM t",
    "replace": "REPLACE INTO t VALUES (3)",
    "select": "SELECT x FROM t",
    "create_table": "CREATE TABLE u (y)",
    "create_index": "CREATE INDEX t_x ON t (x)",
    "pragma_user_version": "PRAGMA user_version = 3",
    "insert_returning": "INSERT INTO t VALUES (4) RETURNING x",
    "with_insert": "WITH v(a) AS (SELECT 5) INSERT INTO t SELECT a FROM v",
}


def _implicit(module: Any, path: str, sql: str, kwargs: dict[str, Any]) -> Any:
    make_table(module, path)
    conn = module.connect(path, **kwargs)
    try:
        before = conn.in_transaction
        cur = conn.execute(sql)
        cur.fetchall()
        return {"before": before, "after": conn.in_transaction}
    finally:
        conn.close()


@check(
    title="Default isolation_level: does the statement open a transaction implicitly (in_transaction)",
    source=TRANSACTIONS,
    params=IMPLICIT_BEGIN,
    layer="driver",
)
async def test_implicit_begin(ctx: CheckContext, sql: str) -> object:
    return await blocking(_implicit, ctx.sync_module(), db_path(ctx), sql, {})


@check(
    title="isolation_level=None: no statement opens a transaction implicitly",
    source=TRANSACTIONS,
    params=IMPLICIT_BEGIN,
    layer="driver",
)
async def test_autocommit_mode(ctx: CheckContext, sql: str) -> object:
    return await blocking(_implicit, ctx.sync_module(), db_path(ctx), sql, {"isolation_level": None})


def _uncommitted_visible(module: Any, path: str, kwargs: dict[str, Any]) -> Any:
    make_table(module, path)
    a = module.connect(path, **kwargs)
    b = module.connect(path)
    try:
        a.execute("INSERT INTO t VALUES (1)")
        seen = b.execute("SELECT count(*) FROM t").fetchall()
        a.close()
        after_close = b.execute("SELECT count(*) FROM t").fetchall()
        return {"other_sees_before_commit": seen, "after_close_without_commit": after_close}
    finally:
        b.close()


@check(
    title="An INSERT on a default connection is invisible to others until commit(); close() without "
    "commit() discards it",
    source=TRANSACTIONS,
    params={"default": {}, "isolation_none": {"isolation_level": None}},
    layer="driver",
)
async def test_close_without_commit(ctx: CheckContext, kwargs: dict[str, Any]) -> object:
    return await blocking(_uncommitted_visible, ctx.sync_module(), db_path(ctx), kwargs)


def _set_isolation_mid_transaction(module: Any, path: str) -> Any:
    make_table(module, path)
    conn = module.connect(path)
    try:
        conn.execute("INSERT INTO t VALUES (1)")
        set_result = outcome(setattr, conn, "isolation_level", None)
        in_tx = conn.in_transaction
        conn.rollback()
        return {
            "set": set_result,
            "in_transaction_after_set": in_tx,
            "rows_after_rollback": conn.execute("SELECT count(*) FROM t").fetchall(),
        }
    finally:
        conn.close()


@check(
    title="Setting isolation_level = None inside a transaction commits it (sqlite3)",
    source=pydoc("Connection objects"),
    layer="driver",
)
async def test_set_isolation_level_commits(ctx: CheckContext) -> object:
    return await blocking(_set_isolation_mid_transaction, ctx.sync_module(), db_path(ctx))


def _with_block(module: Any, path: str, fail: bool) -> Any:
    make_table(module, path)
    conn = module.connect(path)
    try:
        raised = None
        try:
            with conn:
                conn.execute("INSERT INTO t VALUES (1)")
                if fail:
                    raise KeyError("roll back")
        except KeyError:
            raised = "KeyError"
        other = module.connect(path)
        try:
            seen = other.execute("SELECT count(*) FROM t").fetchall()
        finally:
            other.close()
        usable = outcome(lambda: conn.execute("SELECT 1").fetchall())
        return {
            "raised": raised,
            "others_see": seen,
            "in_transaction": conn.in_transaction,
            "usable_after": usable,
        }
    finally:
        conn.close()


@check(
    title="`with conn:` commits on success, rolls back on an exception, and does not close",
    source=pydoc("How to use the connection context manager"),
    params={"success": False, "exception": True},
    layer="driver",
)
async def test_with_connection(ctx: CheckContext, fail: bool) -> object:
    return await blocking(_with_block, ctx.sync_module(), db_path(ctx), fail)


def _no_transaction(module: Any, path: str, method: str) -> Any:
    conn = module.connect(path)
    try:
        return outcome(getattr(conn, method))
    finally:
        conn.close()


@check(
    title="commit()/rollback() with no open transaction is a no-op",
    source=pydoc("Connection objects"),
    params={"commit": "commit", "rollback": "rollback"},
    layer="driver",
)
async def test_without_transaction(ctx: CheckContext, method: str) -> object:
    return await blocking(_no_transaction, ctx.sync_module(), db_path(ctx), method)


def _explicit_begin(module: Any, path: str) -> Any:
    make_table(module, path)
    conn = module.connect(path)
    try:
        conn.execute("BEGIN")
        inserted = outcome(lambda: conn.execute("INSERT INTO t VALUES (1)").rowcount)
        second_begin = outcome(lambda: conn.execute("BEGIN").fetchall())
        conn.commit()
        return {
            "insert": inserted,
            "second_begin": second_begin,
            "in_transaction": conn.in_transaction,
            "rows": conn.execute("SELECT count(*) FROM t").fetchall(),
        }
    finally:
        conn.close()


@check(
    title="An explicit BEGIN on a default connection, then DML, a second BEGIN, commit()",
    source=TRANSACTIONS,
    layer="driver",
)
async def test_explicit_begin(ctx: CheckContext) -> object:
    return await blocking(_explicit_begin, ctx.sync_module(), db_path(ctx))


#: A statement failing at run time (integer overflow), per statement kind.
RUNTIME_ERROR_BY_KIND = {
    "select": "SELECT abs(-9223372036854775807 - 1)",
    "insert": "INSERT INTO t VALUES (abs(-9223372036854775807 - 1))",
    "update": "UPDATE t SET x = abs(-9223372036854775807 - 1)",
    "delete": "DELETE FROM t WHERE x = abs(-9223372036854775807 - 1)",
    "create_table_as": "CREATE TABLE u AS SELECT abs(-9223372036854775807 - 1) AS c",
}


def _runtime_error(module: Any, path: str, kind: str, kwargs: dict[str, Any]) -> Any:
    conn = module.connect(path, **kwargs)
    try:
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        if kwargs.get("isolation_level", "") is None:
            conn.execute("BEGIN")
        conn.execute("INSERT INTO t VALUES (1)")
        failed = outcome(lambda: conn.execute(RUNTIME_ERROR_BY_KIND[kind]).fetchall())
        state = conn.in_transaction
        committed = outcome(conn.commit) if state else "nothing to commit"
        other = module.connect(path)
        try:
            seen = outcome(lambda: other.execute("SELECT count(*) FROM t").fetchall()[0][0])
        finally:
            other.close()
        return {"statement": failed, "in_transaction_after_error": state, "commit": committed,
                "other_connection_rows_after_commit": seen}
    finally:
        conn.close()


@check(title="A runtime error in each statement kind inside a transaction (implicit and explicit BEGIN): "
             "the transaction stays open and its earlier write commits, as a second connection sees",
       source=pydoc("Transaction control"), layer="driver",
       params={f"{kind}_{mode}": (kind, mode) for kind in RUNTIME_ERROR_BY_KIND
               for mode in ("implicit", "explicit")})
async def test_runtime_error_statement_kind(ctx: CheckContext, case: tuple[str, str]) -> object:
    kind, mode = case
    kwargs: dict[str, Any] = {} if mode == "implicit" else {"isolation_level": None}
    return await blocking(_runtime_error, ctx.sync_module(), db_path(ctx), kind, kwargs)


def _transaction_path(module: Any, path: str, path_name: str) -> Any:
    """One transaction-control path of the sqlite3 module; what a second connection sees after it."""
    conn = module.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    try:
        if path_name == "with_block_commits":
            with conn:
                conn.execute("INSERT INTO t VALUES (1)")
        elif path_name == "with_block_rolls_back":
            try:
                with conn:
                    conn.execute("INSERT INTO t VALUES (1)")
                    raise KeyError("application error")
            except KeyError:
                pass
        elif path_name == "executescript_commits_pending":
            conn.execute("INSERT INTO t VALUES (1)")
            conn.executescript("SELECT 1;")
        elif path_name == "ddl_in_implicit_transaction":
            conn.execute("INSERT INTO t VALUES (1)")
            conn.execute("CREATE TABLE u (y)")
        elif path_name == "isolation_level_none_setter_commits":
            conn.execute("INSERT INTO t VALUES (1)")
            setter = outcome(setattr, conn, "isolation_level", None)
            if "raises" in setter:  # a driver whose isolation_level is read-only: that is the observation
                return {"setter": setter}
        elif path_name == "executemany_then_rollback":
            conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
            conn.rollback()
        elif path_name == "savepoint_outside_begin":
            conn.execute("SAVEPOINT s")
            conn.execute("INSERT INTO t VALUES (1)")
            conn.execute("RELEASE s")
        state = conn.in_transaction
        other = module.connect(path)
        try:
            other.execute("PRAGMA busy_timeout = 0")
            seen = outcome(lambda: other.execute("SELECT count(*) FROM t").fetchall()[0][0])
        finally:
            other.close()
        return {"in_transaction": state, "other_connection_rows": seen}
    finally:
        conn.close()


TRANSACTION_PATHS = ("with_block_commits", "with_block_rolls_back", "executescript_commits_pending",
                     "ddl_in_implicit_transaction", "isolation_level_none_setter_commits",
                     "executemany_then_rollback", "savepoint_outside_begin")


@check(title="A transaction-control path of the sqlite3 module, judged by what a second connection sees",
       source=pydoc("Transaction control"), layer="driver", params={p: p for p in TRANSACTION_PATHS})
async def test_transaction_path_seen_by_other(ctx: CheckContext, path_name: str) -> object:
    return await blocking(_transaction_path, ctx.sync_module(), db_path(ctx), path_name)
