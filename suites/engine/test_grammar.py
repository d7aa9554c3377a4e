"""SQLite's grammar clause by clause for the most used statements; the error class of each conflict clause.

Every optional clause of SQLite's syntax pages for SELECT, INSERT, UPDATE, DELETE, CREATE TABLE and CREATE
INDEX is one case: a short script on a fresh in-memory database, observed statement by statement
(`{"ok": typed rows}` or `{"error": KIND}`) with the table read back at the end. The conflict clauses
(ROLLBACK, ABORT, FAIL, IGNORE, REPLACE) are crossed with the constraints they resolve, in a statement
and as a column constraint, inside an explicit transaction: the error class, whether the transaction is
still open, and what COMMIT keeps.
"""

from __future__ import annotations

from typing import Any

from stc_harness import DISCOVERY, CheckContext, Source, check, rows


def lang(page: str, section: str) -> Source:
    """A section of SQLite's SQL syntax documentation (https://sqlite.org/lang_<page>.html)."""
    return Source(f"https://sqlite.org/lang_{page}.html", section)


PEOPLE = ("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, grp TEXT, score INTEGER)",
          "INSERT INTO p VALUES (1, 'ann', 'a', 10), (2, 'Bob', 'a', NULL), (3, 'cy', 'b', 30), "
          "(4, 'Dee', 'b', 20), (5, 'ed', NULL, 5)")
#: A table with every kind of constraint a conflict clause resolves.
U = ("CREATE TABLE u (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INTEGER NOT NULL DEFAULT 7 CHECK (v >= 0))",
     "INSERT INTO u VALUES (1, 'a', 1), (2, 'b', 2)")
READ_U = "SELECT * FROM u ORDER BY id"
READ_P = "SELECT * FROM p ORDER BY id"

SELECT: dict[str, tuple[str, ...]] = {
    "distinct": ("SELECT DISTINCT grp FROM p ORDER BY grp",),
    "all": ("SELECT ALL grp FROM p ORDER BY grp",),
    "where": ("SELECT id FROM p WHERE score > 9 ORDER BY id",),
    "group_by": ("SELECT grp, count(*), sum(score) FROM p GROUP BY grp ORDER BY grp",),
    "having": ("SELECT grp FROM p GROUP BY grp HAVING count(*) > 1 ORDER BY grp",),
    "having_without_group_by": ("SELECT count(*) FROM p HAVING count(*) > 1",),
    "window_clause": ("SELECT id, sum(score) OVER w FROM p WINDOW w AS (ORDER BY id) ORDER BY id",),
    "window_order_desc": ("SELECT id, row_number() OVER (ORDER BY id DESC) FROM p ORDER BY id",),
    "window_partition_frame": ("SELECT id, sum(id) OVER (PARTITION BY grp ORDER BY id "
                               "ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM p ORDER BY id",),
    "filter_clause": ("SELECT count(*) FILTER (WHERE score > 9) FROM p",),
    "order_by_desc": ("SELECT id FROM p ORDER BY score DESC, id",),
    "order_by_nulls_first_last": ("SELECT id FROM p ORDER BY score ASC NULLS LAST",
                                  "SELECT id FROM p ORDER BY score DESC NULLS FIRST"),
    "order_by_collate": ("SELECT name FROM p ORDER BY name COLLATE NOCASE",
                         "SELECT name FROM p ORDER BY name"),
    "order_by_ordinal_desc": ("SELECT name, id FROM p ORDER BY 2 DESC",),
    "order_by_expression": ("SELECT id FROM p ORDER BY -id LIMIT 2",),
    "limit": ("SELECT id FROM p ORDER BY id LIMIT 2",),
    "limit_offset": ("SELECT id FROM p ORDER BY id LIMIT 2 OFFSET 1",),
    "limit_comma": ("SELECT id FROM p ORDER BY id LIMIT 1, 2",),
    "limit_negative": ("SELECT id FROM p ORDER BY id LIMIT -1 OFFSET 3",),
    "values": ("VALUES (1, 'a'), (2, 'b')",),
    "union": ("SELECT grp FROM p UNION SELECT 'z' ORDER BY 1",),
    "union_all": ("SELECT grp FROM p WHERE id < 3 UNION ALL SELECT grp FROM p WHERE id < 3",),
    "intersect": ("SELECT id FROM p INTERSECT SELECT 2 ORDER BY 1",),
    "except": ("SELECT id FROM p EXCEPT SELECT id FROM p WHERE score IS NOT NULL ORDER BY 1",),
    "with": ("WITH c AS (SELECT id FROM p WHERE grp = 'a') SELECT count(*) FROM c",),
    "with_recursive": ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) "
                       "SELECT sum(x) FROM c",),
    "with_materialized": ("WITH c AS MATERIALIZED (SELECT id FROM p) SELECT count(*) FROM c",
                          "WITH c AS NOT MATERIALIZED (SELECT id FROM p) SELECT count(*) FROM c"),
    "from_subquery": ("SELECT s.n FROM (SELECT count(*) AS n FROM p) AS s",),
    "join_inner_on": ("SELECT a.id, b.id FROM p a JOIN p b ON a.score = b.score * 2 ORDER BY 1",),
    "join_left": ("SELECT a.id, b.id FROM p a LEFT JOIN p b ON b.id = a.id + 4 ORDER BY 1",),
    "join_right": ("SELECT a.id, b.id FROM p a RIGHT JOIN p b ON a.id = b.id + 4 ORDER BY 2",),
    "join_full": ("SELECT a.id, b.id FROM (SELECT 1 AS id) a FULL JOIN (SELECT 2 AS id) b ON a.id = b.id "
                  "ORDER BY 1, 2",),
    "join_cross": ("SELECT count(*) FROM p CROSS JOIN p AS q",),
    "join_natural": ("SELECT * FROM (SELECT 1 AS id, 'x' AS a) NATURAL JOIN (SELECT 1 AS id, 'y' AS b)",),
    "join_using": ("SELECT id, a, b FROM (SELECT 1 AS id, 'x' AS a) "
                   "JOIN (SELECT 1 AS id, 'y' AS b) USING (id)",),
    "table_valued_function": ("SELECT value FROM json_each('[3, 1, 2]') ORDER BY value",),
    "indexed_by": ("CREATE INDEX ix_score ON p (score)",
                   "SELECT id FROM p INDEXED BY ix_score WHERE score > 9 ORDER BY id"),
    "indexed_by_missing": ("SELECT id FROM p INDEXED BY no_such_index WHERE score > 9",),
    "not_indexed": ("SELECT id FROM p NOT INDEXED WHERE id = 3",),
    "like_case": ("SELECT name FROM p WHERE name LIKE 'b%' ORDER BY id",),
    "like_escape": ("SELECT 'a_b' LIKE 'a\\_b' ESCAPE '\\', 'axb' LIKE 'a\\_b' ESCAPE '\\'",),
    "like_case_in_delete": ("DELETE FROM p WHERE name LIKE 'd%'", "SELECT count(*) FROM p"),
    "distinct_in_compound": ("SELECT DISTINCT grp FROM p UNION ALL SELECT DISTINCT score > 9 FROM p",),
    "glob_case": ("SELECT name FROM p WHERE name GLOB 'B*' ORDER BY id",),
    "collate_unknown_short": ("SELECT 'a' = 'A' COLLATE xyz",),
    "is_distinct_from": ("SELECT NULL IS DISTINCT FROM NULL, 1 IS NOT DISTINCT FROM 1",),
    "row_values": ("SELECT (1, 2) < (1, 3), (1, 2) IN (VALUES (1, 2))",),
    "in_subquery_exists": ("SELECT id FROM p WHERE grp IN (SELECT 'b') AND EXISTS (SELECT 1) ORDER BY id",),
    "case_cast_between": ("SELECT CASE WHEN score BETWEEN 5 AND 10 THEN CAST(score AS TEXT) ELSE 'x' END "
                          "FROM p ORDER BY id",),
}

INSERT: dict[str, tuple[str, ...]] = {
    "column_list": ("INSERT INTO u (k, v) VALUES ('c', 3)", READ_U),
    "default_values": ("INSERT INTO u DEFAULT VALUES", READ_U),
    "multi_row": ("INSERT INTO u (k, v) VALUES ('c', 3), ('d', 4)", READ_U),
    "insert_select": ("INSERT INTO u (k, v) SELECT k || 'x', v + 10 FROM u", READ_U),
    "with_cte": ("WITH c(i) AS (SELECT 9) INSERT INTO u SELECT i, 'z', 1 FROM c", READ_U),
    "replace_into": ("REPLACE INTO u VALUES (3, 'a', 3)", READ_U),
    "upsert_do_nothing": ("INSERT INTO u VALUES (3, 'a', 3) ON CONFLICT (k) DO NOTHING", READ_U),
    "upsert_do_nothing_no_target": ("INSERT INTO u VALUES (3, 'a', 3) ON CONFLICT DO NOTHING", READ_U),
    "upsert_do_update": ("INSERT INTO u VALUES (3, 'a', 30) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                         READ_U),
    "upsert_do_update_where": ("INSERT INTO u VALUES (3, 'a', 30) ON CONFLICT (k) "
                               "DO UPDATE SET v = excluded.v WHERE excluded.v > 100", READ_U),
    "upsert_two_targets": ("INSERT INTO u VALUES (2, 'a', 5) ON CONFLICT (k) DO UPDATE SET v = 50 "
                           "ON CONFLICT (id) DO UPDATE SET v = 60", READ_U),
    "upsert_alias": ("INSERT INTO u AS x VALUES (3, 'a', 3) ON CONFLICT (k) DO UPDATE SET v = x.v + 100",
                     READ_U),
    "upsert_wrong_target": ("INSERT INTO u VALUES (3, 'a', 3) ON CONFLICT (v) DO NOTHING", READ_U),
    "returning": ("INSERT INTO u (k, v) VALUES ('c', 3) RETURNING id, k, v * 2", READ_U),
    "returning_star": ("INSERT INTO u (k) VALUES ('c') RETURNING *",),
    "schema_qualified": ("INSERT INTO main.u (k, v) VALUES ('c', 3)", READ_U),
    "too_few_values": ("INSERT INTO u VALUES (3, 'c')", READ_U),
    "no_such_column": ("INSERT INTO u (nope) VALUES (1)",),
}

UPDATE: dict[str, tuple[str, ...]] = {
    "where": ("UPDATE u SET v = v + 1 WHERE k = 'a'", READ_U),
    "all_rows": ("UPDATE u SET v = 0", READ_U),
    "row_value_set": ("UPDATE u SET (k, v) = ('z', 9) WHERE id = 2", READ_U),
    "from": ("UPDATE u SET v = s.total FROM (SELECT sum(v) AS total FROM u) AS s WHERE u.id = 1", READ_U),
    "returning": ("UPDATE u SET v = v * 10 RETURNING id, v", READ_U),
    "with_cte": ("WITH c AS (SELECT 2 AS i) UPDATE u SET v = 99 WHERE id IN (SELECT i FROM c)", READ_U),
    "or_replace": ("UPDATE OR REPLACE u SET k = 'a' WHERE id = 2", READ_U),
    "or_ignore": ("UPDATE OR IGNORE u SET k = 'a' WHERE id = 2", READ_U),
    "order_by_limit": ("UPDATE u SET v = 5 ORDER BY id DESC LIMIT 1", READ_U),
    "indexed_by": ("CREATE INDEX ix_k ON u (k)", "UPDATE u INDEXED BY ix_k SET v = 8 WHERE k = 'b'", READ_U),
    "no_such_column": ("UPDATE u SET nope = 1",),
}

DELETE: dict[str, tuple[str, ...]] = {
    "where": ("DELETE FROM u WHERE k = 'a'", READ_U),
    "all_rows": ("DELETE FROM u", READ_U),
    "returning": ("DELETE FROM u WHERE id = 2 RETURNING k, v",  READ_U),
    "with_cte": ("WITH c AS (SELECT 1 AS i) DELETE FROM u WHERE id IN (SELECT i FROM c)", READ_U),
    "order_by_limit": ("DELETE FROM u ORDER BY id LIMIT 1", READ_U),
    "not_indexed": ("DELETE FROM u NOT INDEXED WHERE id = 1", READ_U),
    "schema_qualified": ("DELETE FROM main.u WHERE id = 1", READ_U),
}

CREATE_TABLE: dict[str, tuple[str, ...]] = {
    "if_not_exists": ("CREATE TABLE t (x)", "CREATE TABLE IF NOT EXISTS t (y)", "CREATE TABLE t (z)"),
    "temp": ("CREATE TEMP TABLE t (x)", "INSERT INTO t VALUES (1)", "SELECT x FROM temp.t"),
    "as_select": ("CREATE TABLE t AS SELECT 1 AS a, 'x' AS b", "SELECT a, typeof(a), b FROM t"),
    "without_rowid": ("CREATE TABLE t (k TEXT PRIMARY KEY, v) WITHOUT ROWID", "INSERT INTO t VALUES ('a', 1)",
                      "SELECT * FROM t", "SELECT rowid FROM t"),
    "strict": ("CREATE TABLE t (i INTEGER, s TEXT) STRICT", "INSERT INTO t VALUES ('12', 3)",
               "INSERT INTO t VALUES ('x', 1)", "SELECT i, typeof(i), s, typeof(s) FROM t"),
    "strict_unknown_type": ("CREATE TABLE t (i MONEY) STRICT",),
    "generated_virtual": ("CREATE TABLE t (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL)",
                          "INSERT INTO t (a) VALUES (4)", "SELECT a, b FROM t"),
    "generated_stored": ("CREATE TABLE t (a INTEGER, b INTEGER AS (a + 1) STORED)",
                         "INSERT INTO t (a) VALUES (4)", "SELECT a, b FROM t", "INSERT INTO t VALUES (1, 2)"),
    "primary_key_desc": ("CREATE TABLE t (id INTEGER PRIMARY KEY DESC, v)", "INSERT INTO t (v) VALUES ('a')",
                         "SELECT id, rowid FROM t"),
    "autoincrement": ("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v)",
                      "INSERT INTO t (v) VALUES (1)", "DELETE FROM t", "INSERT INTO t (v) VALUES (2)",
                      "SELECT id FROM t", "SELECT name, seq FROM sqlite_sequence"),
    "default_expression": ("CREATE TABLE t (a, b DEFAULT (1 + 2), c DEFAULT 'x', d DEFAULT -1)",
                           "INSERT INTO t (a) VALUES (0)", "SELECT * FROM t"),
    "collate_column": ("CREATE TABLE t (s TEXT COLLATE NOCASE)", "INSERT INTO t VALUES ('abc')",
                       "SELECT count(*) FROM t WHERE s = 'ABC'"),
    "collate_unknown_short": ("CREATE TABLE t (s TEXT COLLATE xyz)",),
    "check_named": ("CREATE TABLE t (v INTEGER, CONSTRAINT positive CHECK (v > 0))",
                    "INSERT INTO t VALUES (0)"),
    "references_cascade": ("PRAGMA foreign_keys = ON", "CREATE TABLE a (id INTEGER PRIMARY KEY)",
                           "CREATE TABLE b (a_id REFERENCES a (id) ON DELETE CASCADE ON UPDATE SET NULL)",
                           "INSERT INTO a VALUES (1), (2)", "INSERT INTO b VALUES (1), (2)",
                           "DELETE FROM a WHERE id = 1", "UPDATE a SET id = 3", "SELECT a_id FROM b"),
    "deferrable_initially_deferred": ("PRAGMA foreign_keys = ON", "CREATE TABLE a (id INTEGER PRIMARY KEY)",
                                      "CREATE TABLE b (a_id REFERENCES a (id) DEFERRABLE INITIALLY DEFERRED)",
                                      "BEGIN", "INSERT INTO b VALUES (1)", "INSERT INTO a VALUES (1)",
                                      "COMMIT", "SELECT count(*) FROM b"),
    "table_constraints": ("CREATE TABLE t (a, b, c, PRIMARY KEY (a, b), UNIQUE (c), CHECK (a <> c))",
                          "INSERT INTO t VALUES (1, 1, 2)", "INSERT INTO t VALUES (1, 1, 3)",
                          "INSERT INTO t VALUES (2, 2, 2)", "INSERT INTO t VALUES (3, 3, 3)"),
    "duplicate_column": ("CREATE TABLE t (a, a)",),
    "no_columns": ("CREATE TABLE t ()",),
}

CREATE_INDEX: dict[str, tuple[str, ...]] = {
    "unique": ("CREATE UNIQUE INDEX ix ON p (name)", "INSERT INTO p (name) VALUES ('ann')"),
    "unique_over_duplicates": ("CREATE UNIQUE INDEX ix ON p (grp)",),
    "if_not_exists": ("CREATE INDEX ix ON p (name)", "CREATE INDEX IF NOT EXISTS ix ON p (grp)",
                      "CREATE INDEX ix ON p (grp)"),
    "partial": ("CREATE UNIQUE INDEX ix ON p (grp) WHERE score > 15",
                "INSERT INTO p VALUES (6, 'f', 'b', 40)", "INSERT INTO p VALUES (7, 'g', 'b', 1)",
                "SELECT count(*) FROM p"),
    "expression": ("CREATE UNIQUE INDEX ix ON p (lower(name))", "INSERT INTO p (name) VALUES ('BOB')"),
    "collate_desc": ("CREATE INDEX ix ON p (name COLLATE NOCASE DESC)",
                     "SELECT name FROM p INDEXED BY ix WHERE name > '' ORDER BY name COLLATE NOCASE DESC"),
    "on_missing_table": ("CREATE INDEX ix ON nope (x)",),
    "on_missing_column": ("CREATE INDEX ix ON p (nope)",),
}

#: Constraint -> (extra set-up, a statement body violating it with `{res}` as the conflict clause).
CONFLICT_TARGETS = {
    "unique": "INTO u VALUES (10, 'a', 10)",
    "not_null": "INTO u VALUES (10, 'n', NULL)",
    "check": "INTO u VALUES (10, 'c', -1)",
    "primary_key": "INTO u VALUES (1, 'p', 10)",
}
RESOLUTIONS = ("ROLLBACK", "ABORT", "FAIL", "IGNORE", "REPLACE")
CONFLICTS = {f"{c}_or_{r.lower()}": (c, r) for c in CONFLICT_TARGETS for r in RESOLUTIONS}
COLUMN_CONFLICTS = {r.lower(): r for r in RESOLUTIONS}


async def _run_all(ctx: CheckContext, statements: tuple[str, ...], setup: tuple[str, ...]) -> dict[str, Any]:
    conn = await ctx.connect(ctx.url(memory=True))
    for sql in setup:
        await conn.execute(sql)
    out: list[Any] = []
    for i, sql in enumerate(statements):
        out.append(await ctx.attempt(_rows(conn, sql), f"raw_{i}"))
    return {"statements": out}


async def _rows(conn: Any, sql: str) -> Any:
    return rows(await conn.fetch_all(sql))


@check(title="SELECT: each optional clause of SQLite's grammar", source=lang("select", "SELECT"),
       params={k: k for k in SELECT})
async def test_select(ctx: CheckContext, key: str) -> object:
    return await _run_all(ctx, SELECT[key], PEOPLE)


@check(title="INSERT: each optional clause (column list, DEFAULT VALUES, SELECT, upsert, RETURNING, ...)",
       source=lang("insert", "INSERT"), params={k: k for k in INSERT})
async def test_insert(ctx: CheckContext, key: str) -> object:
    return await _run_all(ctx, INSERT[key], U)


@check(title="UPDATE: each optional clause (FROM, row values, RETURNING, OR conflict, ORDER BY/LIMIT, ...)",
       source=lang("update", "UPDATE"), params={k: k for k in UPDATE})
async def test_update(ctx: CheckContext, key: str) -> object:
    return await _run_all(ctx, UPDATE[key], U)


@check(title="DELETE: each optional clause (WHERE, RETURNING, WITH, ORDER BY/LIMIT, NOT INDEXED)",
       source=lang("delete", "DELETE"), params={k: k for k in DELETE})
async def test_delete(ctx: CheckContext, key: str) -> object:
    return await _run_all(ctx, DELETE[key], U)


@check(title="CREATE TABLE: each optional clause and constraint of the grammar",
       source=lang("createtable", "CREATE TABLE"), params={k: k for k in CREATE_TABLE})
async def test_create_table(ctx: CheckContext, key: str) -> object:
    return await _run_all(ctx, CREATE_TABLE[key], ())


@check(title="CREATE INDEX: UNIQUE, IF NOT EXISTS, partial, expression, COLLATE/DESC, bad targets",
       source=lang("createindex", "CREATE INDEX"), params={k: k for k in CREATE_INDEX})
async def test_create_index(ctx: CheckContext, key: str) -> object:
    return await _run_all(ctx, CREATE_INDEX[key], PEOPLE)


async def _in_transaction(ctx: CheckContext, setup: tuple[str, ...], statement: str) -> dict[str, Any]:
    conn = await ctx.connect(ctx.url(memory=True))
    for sql in setup:
        await conn.execute(sql)
    await conn.execute("BEGIN")
    await conn.execute("INSERT INTO u VALUES (100, 'earlier', 1)")
    result = await ctx.attempt(conn.execute(statement), "raw_statement")
    state = await conn.is_in_transaction()
    commit = await ctx.attempt(conn.execute("COMMIT"), "raw_commit") if state else "not in a transaction"
    return {"statement": "ok" if "ok" in result else result, "in_transaction_after": state, "commit":
            "ok" if isinstance(commit, dict) and "ok" in commit else commit,
            "table": rows(await conn.fetch_all(READ_U))}


@check(title="INSERT OR <conflict clause> against each constraint inside a transaction: the error class, "
             "the transaction, what COMMIT keeps", source=lang("conflict", "The ON CONFLICT clause"),
       params={k: k for k in CONFLICTS})
async def test_conflict_clause(ctx: CheckContext, key: str) -> object:
    constraint, resolution = CONFLICTS[key]
    return await _in_transaction(ctx, U, f"INSERT OR {resolution} {CONFLICT_TARGETS[constraint]}")


@check(title="A UNIQUE column constraint's ON CONFLICT clause, inside a transaction: error class, "
             "transaction, what COMMIT keeps", source=lang("conflict", "The ON CONFLICT clause"),
       params={k: k for k in COLUMN_CONFLICTS})
async def test_column_conflict_clause(ctx: CheckContext, key: str) -> object:
    setup = (f"CREATE TABLE u (id INTEGER PRIMARY KEY, k TEXT UNIQUE ON CONFLICT {COLUMN_CONFLICTS[key]}, "
             "v INTEGER)", "INSERT INTO u VALUES (1, 'a', 1), (2, 'b', 2)")
    return await _in_transaction(ctx, setup, "INSERT INTO u VALUES (10, 'a', 10)")


#: Statements led by a byte-order mark (U+FEFF), as text read from a file saved with one arrives.
BOM_LED = {"select": ("\ufeffSELECT 1",), "begin": ("\ufeffBEGIN", "COMMIT"),
           "create_table": ("\ufeffCREATE TABLE b (x)", "SELECT name FROM sqlite_schema")}


@check(title="A statement led by a byte-order mark (U+FEFF) runs as it does without one", source=DISCOVERY,
       params={k: k for k in BOM_LED})
async def test_byte_order_mark_led(ctx: CheckContext, key: str) -> object:
    return await _run_all(ctx, BOM_LED[key], ())
