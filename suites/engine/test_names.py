"""Names where one literal stands for a family: collation names, table and column identifiers.

Each check has a fixed case (the literal a hand-written check would try) and a neighbourhood of names
drawn by Hypothesis (`variants=`); the runner reports the smallest name that behaves differently.
"""

from __future__ import annotations

from hypothesis import strategies as st

from stc_harness import CheckContext, Source, check, rows

COLLATE = Source("https://sqlite.org/datatype3.html", "7. Collating Sequences")
IDENTIFIERS = Source("https://sqlite.org/lang_keywords.html", "SQLite Keywords (quoting identifiers)")

#: Names SQLite does not define (BINARY, NOCASE and RTRIM are the built-ins, any case).
UNKNOWN_COLLATIONS = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=16).filter(
    lambda n: n.lower() not in ("binary", "nocase", "rtrim"))


@check(title="An unknown collation name is refused (no such collation sequence), whatever its length",
       source=COLLATE, params={"long_unknown": "zzzzzzzzzzzzzzzzzzzzzz", "nocase": "NOCASE"},
       variants={"long_unknown": UNKNOWN_COLLATIONS})
async def test_collation_name(ctx: CheckContext, name: str) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    compare = await ctx.attempt(conn.fetch_all(f"SELECT 'a' = 'A' COLLATE {name}"), "raw_select")
    create = await ctx.attempt(conn.execute(f"CREATE TABLE t (x TEXT COLLATE {name})"), "raw_create")
    return {"compare": compare, "create_table": "ok" if "ok" in create else create}


#: Identifiers that need quoting or look like keywords; any text without NUL.
IDENTIFIER_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                          min_size=1, max_size=12)


@check(title="A quoted table and column name round-trips through CREATE, INSERT, SELECT and the schema",
       source=IDENTIFIERS, params={"plain": "items", "keyword": "select", "mixed_case": "Items"},
       variants={"plain": IDENTIFIER_TEXT})
async def test_quoted_identifier(ctx: CheckContext, name: str) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    quoted = '"' + name.replace('"', '""') + '"'
    create = await ctx.attempt(conn.execute(f"CREATE TABLE {quoted} ({quoted} INTEGER)"), "raw_create")
    if "error" in create:
        return {"create": create}
    insert = await ctx.attempt(conn.execute(f"INSERT INTO {quoted} ({quoted}) VALUES (7)"), "raw_insert")
    select = await ctx.attempt(conn.fetch_all(f"SELECT {quoted} FROM {quoted}"), "raw_select")
    schema = rows(await conn.fetch_all("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'table'"))
    return {"create": "ok", "insert": "ok" if "ok" in insert else insert, "select": select,
            "schema_names_match": schema == [[["text", name], ["text", name]]]}
