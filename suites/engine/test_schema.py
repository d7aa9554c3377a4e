"""Schema: a failed DDL statement inside a transaction and the schema afterwards (the same connection, a
new connection, a new process), and the schema read back (identifier case, declared type text).
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
from typing import Any

from stc_harness import DISCOVERY, CheckContext, Source, check, rows

TRANSACTIONAL_DDL = Source("https://sqlite.org/lang_transaction.html", "Transactions")
CREATE_TABLE = Source("https://sqlite.org/lang_createtable.html", "CREATE TABLE")

SCHEMA_QUERY = (
    "SELECT type, name, tbl_name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
)

#: DDL statements that fail at run time or at prepare, after a first DDL succeeded in the same transaction.
FAILING_DDL = {
    "duplicate_table": "CREATE TABLE a (x)",
    "index_on_missing_column": "CREATE INDEX a_nope ON a (nope)",
    "unique_index_on_duplicates": "CREATE UNIQUE INDEX a_x ON a (x)",
    "drop_missing_table": "DROP TABLE missing",
    "alter_add_not_null_without_default": "ALTER TABLE a ADD COLUMN y NOT NULL",
    "rename_to_existing": "ALTER TABLE a RENAME TO b",
}

#: The failing statements whose schema is also read back by a new process.
NEW_PROCESS = ("duplicate_table",)

CHILD = """
import json, sys
import importlib
mod = importlib.import_module(sys.argv[1])
conn = mod.connect(sys.argv[2])
print(json.dumps([list(r) for r in conn.execute(sys.argv[3]).fetchall()]))
conn.close()
"""


def _read_in_child(module: str, path: str) -> Any:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, module, path, SCHEMA_QUERY],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "child did not finish"
    if proc.returncode != 0:
        # The exception class only: its message names the temporary folder.
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else str(proc.returncode)
        return f"child failed: {last.split(':', 1)[0]}"
    return json.loads(proc.stdout)


@check(
    title="A DDL statement failing inside a transaction: the transaction and the schema afterwards (same "
    "connection, new connection, new process)",
    source=TRANSACTIONAL_DDL,
    params={k: k for k in FAILING_DDL},
    timeout=30,
)
async def test_failed_ddl_in_transaction(ctx: CheckContext, key: str) -> object:
    url = ctx.url()
    conn = await ctx.connect(url)
    await conn.execute("CREATE TABLE a (x)")
    await conn.execute("CREATE TABLE b (y)")
    await conn.execute("INSERT INTO a VALUES (1), (1)")
    await conn.execute("BEGIN")
    await conn.execute("CREATE TABLE created_in_tx (z)")
    failed = await ctx.attempt(conn.execute(FAILING_DDL[key]), "raw_failure")
    state = await conn.is_in_transaction()
    commit = await ctx.attempt(conn.execute("COMMIT"), "raw_commit")
    same = rows(await conn.fetch_all(SCHEMA_QUERY))
    await conn.close()
    fresh = await ctx.connect(url)
    new_conn = rows(await fresh.fetch_all(SCHEMA_QUERY))
    await fresh.close()
    seen = {
        "statement": {"error": failed["error"]} if "error" in failed else "ok",
        "in_transaction_after": state,
        "commit": "ok" if "ok" in commit else commit,
        "same_connection": same,
        "new_connection_agrees": new_conn == same,
    }
    if key in NEW_PROCESS:
        # A child process costs ~0.5 s of interpreter start-up: one failing statement is read back this way.
        gc.collect()
        module = getattr(ctx.backend, "sync_module", None)
        path = url.split(":", 1)[1]
        child = await asyncio.to_thread(_read_in_child, module, path) if module else "no module"
        seen["new_process_agrees"] = child == [[v[1] for v in row] for row in same] or child
    return seen


#: Column definitions whose declared type text and identifier case are read back.
DECLARED = {
    "type_with_arguments": "CREATE TABLE t (price DECIMAL(10, 2), name VARCHAR(255), c CHARACTER VARYING(3))",
    "mixed_case_identifiers": 'CREATE TABLE MixedCase (CamelCol INTEGER, lower_col TEXT, "Quoted Name" BLOB)',
    "type_case_kept": "CREATE TABLE t (a integer, b Text, c bLoB, d DateTime)",
    "no_type": "CREATE TABLE t (a, b)",
    "multi_word_types": "CREATE TABLE t (a UNSIGNED BIG INT, b DOUBLE PRECISION, c NATIVE CHARACTER(70))",
    "constraints": "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, e TEXT NOT NULL DEFAULT 'x' "
    "COLLATE NOCASE, f REAL CHECK (f > 0))",
}


@check(
    title="The schema read back: PRAGMA table_info (names, declared types, defaults) and the stored SQL",
    source=CREATE_TABLE,
    params=DECLARED,
)
async def test_schema_read_back(ctx: CheckContext, sql: str) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    await conn.execute(sql)
    name = (
        await conn.fetch_all(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    )[0][0]
    info = await conn.fetch_all(f'PRAGMA table_info("{name}")')
    stored = await conn.fetch_all("SELECT sql FROM sqlite_schema WHERE name = ?", (name,))
    return {"table": name, "columns": rows(info), "stored_sql": rows(stored)}


#: DEFAULT clauses whose text PRAGMA table_info reads back (dflt_value): the first seven are written anew by
#: some engines (quotes, keyword case, brackets, spacing); the rest are controls read back as written.
DEFAULTS = {
    "double_quoted_string": 'DEFAULT "abc"',
    "true_keyword": "DEFAULT true",
    "false_keyword": "DEFAULT false",
    "time_keyword_lower_case": "DEFAULT current_timestamp",
    "parenthesised_constant": "DEFAULT (5)",
    "parenthesised_expression": "DEFAULT (1+2)",
    "negative_number": "DEFAULT -1",
    "single_quoted_string": "DEFAULT 'abc'",
    "current_timestamp": "DEFAULT CURRENT_TIMESTAMP",
    "real_number": "DEFAULT 1.5",
    "blob_literal": "DEFAULT x'00ff'",
    "null": "DEFAULT NULL",
}


@check(
    title="A column's DEFAULT read back from PRAGMA table_info (dflt_value) is the text it was declared with",
    source=Source("https://sqlite.org/pragma.html", "table_info"),
    params=DEFAULTS,
)
async def test_default_read_back(ctx: CheckContext, clause: str) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    await conn.execute(f"CREATE TABLE t (col TEXT {clause})")
    info = await conn.fetch_all('PRAGMA table_info("t")')
    return {"dflt_value": info[0][4]}


@check(
    title="Identifiers are case-insensitive: a table created as MixedCase is found as MIXEDCASE",
    source=DISCOVERY,
)
async def test_identifier_case_lookup(ctx: CheckContext) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    await conn.execute("CREATE TABLE MixedCase (CamelCol INTEGER)")
    await conn.execute("INSERT INTO mixedcase (camelcol) VALUES (1)")
    result = await conn.execute("SELECT CAMELCOL, camelCol FROM MIXEDCASE")
    return {"rows": rows(result.rows), "columns": list(result.columns)}


#: Declared types that look like arrays: SQLite takes any type name (its affinity comes from the words:
#: `INT[]` is INTEGER affinity); an ORM with array fields (Pony) declares them so.
EXPRESSION_INDEXES = {"expressions": "lower(a), b + 1", "column_then_expression": 'b, lower("XCol")',
                      "negative_literal": "coalesce(b, -1)"}


@check(title="PRAGMA index_info and index_xinfo of an index on expressions: cid -2 and no name for each "
             "expression",
       source=Source("https://sqlite.org/pragma.html", "index_info"), params=EXPRESSION_INDEXES)
async def test_expression_index_info(ctx: CheckContext, columns: str) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    await conn.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, "XCol" TEXT)')
    await conn.execute(f"CREATE INDEX t_expr ON t ({columns})")
    info = await conn.fetch_all("PRAGMA index_info(t_expr)")
    xinfo = await conn.fetch_all("PRAGMA index_xinfo(t_expr)")
    # the slots of expressions: a negative cid in index_info; index_xinfo's key slots (column 5 is 1)
    exprs = [r for r in info if r[1] < 0]
    xexprs = [r for r in xinfo if r[5] == 1 and r[1] < 0]
    return {"cids": sorted({r[1] for r in exprs}),
            "names": sorted({"null" if r[2] is None else "text" for r in exprs}),
            "xinfo_names": sorted({"null" if r[2] is None else "text" for r in xexprs})}


ARRAY_LOOKING = {"int_array": "INT[]", "text_array_not_null": "TEXT[] NOT NULL",
                 "spaced_real_array": "REAL []"}


@check(title="A column declared with an array-looking type name (INT[]) is created, with the affinity its "
             "words give",
       source=Source("https://sqlite.org/datatype3.html", "Determination Of Column Affinity"),
       params=ARRAY_LOOKING)
async def test_array_looking_type(ctx: CheckContext, declared: str) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    created = await ctx.attempt(conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, a {declared})"),
                                "raw_create")
    if "error" in created:
        return {"create": created}
    await conn.execute("INSERT INTO t (a) VALUES ('7')")
    return {"create": "ok", "stored": rows(await conn.fetch_all("SELECT a, typeof(a) FROM t"))}
