"""Migrations: the runner's steps on each backend, and the schema they leave, compared by introspection.

`000_19b4e4215b591ddb.txt`, "Migration from SQLite": existing migrations work without modification.
`001_312a5f9792b0f890.txt`, "Migrations": each migration in BEGIN / COMMIT, a failing statement rolls it
back, the six-step rebuild for the ALTER COLUMN forms SQLite cannot do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stc_harness import CheckContext, DatabaseError, Unsupported, check, driver_guide, orm_backend, rows
from stc_harness.toolkit import schema as introspect
from stc_harness.toolkit.migrations import Migration, MigrationError, Rebuild, migrate

UNCHANGED = orm_backend("Migration from SQLite")
RUNNER = driver_guide("Migrations")
TOGGLES = driver_guide("Experimental features")
MEMORY_AND_FILE = {"memory": True, "file": False}


def mig(name: str, *steps: Any) -> Migration:
    """A migration from steps."""
    return Migration(name, tuple(steps))


async def connect(ctx: CheckContext, *, memory: bool = True, toggles: Sequence[str] = ()) -> Any:
    """A fresh database; `toggles` turn on Turso's experimental flags (SQLite has those features built in)."""
    url = ctx.url(memory=memory)
    if toggles:
        try:
            return await ctx.connect(url, **{f"experimental_{t}": True for t in toggles})
        except Unsupported:
            pass
    return await ctx.connect(url)


async def run(ctx: CheckContext, conn: Any, *migrations: Migration) -> dict[str, Any]:
    """Apply migrations: `{"applied": names}` or `{"error": KIND, "migration": name, "step": n}`."""
    try:
        return {"applied": await migrate(conn, list(migrations))}
    except MigrationError as exc:
        ctx.note(**{f"migration_error_{exc.migration}": exc.raw.as_dict()})
        return {"error": exc.kind.value, "migration": exc.migration, "step": exc.step + 1}


async def attempt_rows(ctx: CheckContext, conn: Any, sql: str, label: str) -> Any:
    """Typed rows of a query, or `{"error": KIND}`."""
    try:
        return rows(await conn.fetch_all(sql))
    except DatabaseError as exc:
        ctx.note(**{label: exc.raw.as_dict()})
        return {"error": exc.kind.value}


BLOG = mig(
    "001_blog",
    "CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE UNIQUE, "
    "joined TEXT NOT NULL DEFAULT '1970-01-01T00:00:00.000000')",
    "CREATE TABLE post (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES author(id) "
    "ON DELETE CASCADE ON UPDATE NO ACTION, title TEXT NOT NULL CHECK (length(title) > 0), "
    "body TEXT NOT NULL DEFAULT '', published INTEGER NOT NULL DEFAULT 0, uuid BLOB, price TEXT)",
    "CREATE TABLE tag (name TEXT PRIMARY KEY)",
    "CREATE TABLE post_tag (post_id INTEGER NOT NULL REFERENCES post(id), "
    "tag TEXT NOT NULL REFERENCES tag(name), PRIMARY KEY (post_id, tag))",
    "CREATE INDEX post_author ON post(author_id, published DESC)",
    "CREATE UNIQUE INDEX post_uuid ON post(uuid) WHERE uuid IS NOT NULL",
    "CREATE VIEW published_posts AS SELECT p.id, p.title, a.name FROM post p "
    "JOIN author a ON a.id = p.author_id WHERE p.published = 1",
    "INSERT INTO author (id, name) VALUES (1, 'ann'), (2, 'bob')",
    "INSERT INTO post (author_id, title, published) VALUES (1, 'hello', 1), (2, 'draft', 0)",
)


@check(title="A creating migration leaves the same schema (tables, indexes, keys, views)", source=UNCHANGED)
async def test_create(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    outcome = await run(ctx, conn, BLOG)
    return {**outcome, "schema": await introspect.snapshot(conn),
            "view": await attempt_rows(ctx, conn, "SELECT * FROM published_posts", "view")}


ADD_COLUMN: dict[str, str] = {
    "integer": "INTEGER DEFAULT 7",
    "negative_integer": "INTEGER DEFAULT -7",
    "i64_min": "INTEGER DEFAULT -9223372036854775808",
    "i64_max": "INTEGER DEFAULT 9223372036854775807",
    "real": "REAL DEFAULT 1.5",
    "negative_real": "REAL DEFAULT -1.5",
    "text": "TEXT DEFAULT 'it''s'",
    "empty_text": "TEXT DEFAULT ''",
    "blob": "BLOB DEFAULT x'00ff'",
    "uuid_blob": "BLOB DEFAULT x'7d4448409dc011d1b2455ffdce74fad2'",
    "null": "TEXT DEFAULT NULL",
    "no_default": "TEXT",
    "bool_true": "BOOLEAN NOT NULL DEFAULT TRUE",
    "bool_false": "INTEGER NOT NULL DEFAULT FALSE",
    "iso_datetime": "TEXT NOT NULL DEFAULT '2024-01-02T03:04:05.000006'",
    "decimal_text": "TEXT DEFAULT '1.50'",
    "decimal_numeric": "NUMERIC DEFAULT '1.50'",
    "json_text": "TEXT DEFAULT '{\"a\":[1,2]}'",
    "parenthesised_constant": "INTEGER DEFAULT (5)",
    "untyped": "DEFAULT 'x'",
    "not_null_without_default": "TEXT NOT NULL",
    "current_timestamp": "TEXT DEFAULT CURRENT_TIMESTAMP",
    "expression": "INTEGER DEFAULT (1 + 1)",
    "unique": "TEXT UNIQUE",
    "primary_key": "INTEGER PRIMARY KEY",
    "references_null_default": "INTEGER REFERENCES t(id)",
    "check_constraint": "INTEGER DEFAULT 1 CHECK (n > 0)",
    "collate": "TEXT COLLATE NOCASE DEFAULT 'A'",
}


@check(title="ADD COLUMN with a default of each type: the column, existing rows and new rows",
       source=UNCHANGED, params=ADD_COLUMN)
async def test_add_column(ctx: CheckContext, definition: str) -> object:
    conn = await connect(ctx)
    base = mig("001", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)",
               "INSERT INTO t (name) VALUES ('old')")
    await run(ctx, conn, base)
    outcome = await run(ctx, conn, base, mig("002", f"ALTER TABLE t ADD COLUMN n {definition}"))
    if "error" in outcome:
        return {**outcome, "columns": await introspect.columns(conn, "t")}
    await conn.execute("INSERT INTO t (name) VALUES ('new')")
    return {**outcome, "column": (await introspect.columns(conn, "t"))[-1],
            "rows": rows(await conn.fetch_all("SELECT name, n, typeof(n) FROM t ORDER BY id"))}


async def _dependents(ctx: CheckContext, conn: Any) -> dict[str, Any]:
    await conn.execute("INSERT INTO post (title) VALUES ('x')")
    return {"schema": await introspect.snapshot(conn),
            "view": await attempt_rows(ctx, conn, "SELECT * FROM titles", "view"),
            "audit": await attempt_rows(ctx, conn, "SELECT msg FROM audit", "audit")}


DEPENDENTS = mig(
    "001_dependents",
    "CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT NOT NULL)",
    "CREATE TABLE audit (msg TEXT)",
    "CREATE TABLE comment (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES post(id))",
    "CREATE INDEX post_title ON post(title)",
    "CREATE VIEW titles AS SELECT post.title FROM post WHERE post.id > 0",
    "CREATE TRIGGER post_ins AFTER INSERT ON post BEGIN INSERT INTO audit VALUES ('new ' || new.title); END",
    "CREATE TRIGGER audit_ins AFTER INSERT ON audit BEGIN UPDATE post SET title = title WHERE 0; END",
    "INSERT INTO post (title) VALUES ('a')",
)


@check(title="RENAME COLUMN rewrites the index, view and triggers that name the column", source=UNCHANGED,
       requires=("alter_rename_column",))
async def test_rename_column(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    renamed = mig("002_rename", "ALTER TABLE post RENAME COLUMN title TO headline")
    outcome = await run(ctx, conn, DEPENDENTS, renamed)
    await conn.execute("INSERT INTO post (headline) VALUES ('x')")
    return {**outcome, "schema": await introspect.snapshot(conn),
            "view": await attempt_rows(ctx, conn, "SELECT * FROM titles", "view"),
            "audit": await attempt_rows(ctx, conn, "SELECT msg FROM audit", "audit")}


@check(title="RENAME TABLE: what happens to the views, triggers and foreign keys that name the table",
       source=UNCHANGED)
async def test_rename_table(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    outcome = await run(ctx, conn, DEPENDENTS, mig("002_rename", "ALTER TABLE post RENAME TO article"))
    await conn.execute("INSERT INTO article (title) VALUES ('x')")
    return {**outcome, "schema": await introspect.snapshot(conn),
            "view": await attempt_rows(ctx, conn, "SELECT * FROM titles", "view"),
            "audit": await attempt_rows(ctx, conn, "SELECT msg FROM audit", "audit"),
            "child_fk": await introspect.foreign_keys(conn, "comment")}


DROP_COLUMN: dict[str, str] = {
    "plain": "note",
    "indexed": "code",
    "primary_key": "id",
    "unique": "serial",
    "in_view": "shown",
    "in_trigger": "watched",
    "foreign_key": "owner",
    "in_check": "amount",
    "last_remaining_after_others": "note",
}


@check(title="DROP COLUMN: plain, and columns an index, key, view, trigger or CHECK depends on",
       source=UNCHANGED, params=DROP_COLUMN, requires=("alter_drop_column",))
async def test_drop_column(ctx: CheckContext, column: str) -> object:
    conn = await connect(ctx)
    base = mig(
        "001",
        "CREATE TABLE owner (id INTEGER PRIMARY KEY)",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT, code TEXT, serial TEXT UNIQUE, shown TEXT, "
        "watched TEXT, owner INTEGER REFERENCES owner(id), amount INTEGER CHECK (amount >= 0))",
        "CREATE INDEX t_code ON t(code)",
        "CREATE VIEW v AS SELECT shown FROM t",
        "CREATE TABLE log (x)",
        "CREATE TRIGGER t_upd AFTER UPDATE OF watched ON t BEGIN INSERT INTO log VALUES (new.watched); END",
        "INSERT INTO owner VALUES (1)",
        "INSERT INTO t VALUES (1, 'n', 'c', 's', 'v', 'w', 1, 5)",
    )
    outcome = await run(ctx, conn, base, mig("002", f"ALTER TABLE t DROP COLUMN {column}"))
    return {**outcome, "columns": [c["name"] for c in await introspect.columns(conn, "t")],
            "rows": rows(await conn.fetch_all("SELECT * FROM t"))}


@check(title="Add and drop indexes: plain, unique, partial, expression, DESC, COLLATE, IF [NOT] EXISTS",
       source=UNCHANGED)
async def test_add_drop_index(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    base = mig("001", "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c TEXT)",
               "INSERT INTO t (a, b, c) VALUES ('x', 1, 'p'), ('y', 2, 'q')")
    add = mig("002_add",
              "CREATE INDEX t_a ON t(a)",
              "CREATE UNIQUE INDEX t_b ON t(b)",
              "CREATE INDEX t_partial ON t(c) WHERE b > 1",
              "CREATE INDEX t_expr ON t(lower(a), b + 1)",
              "CREATE INDEX t_desc ON t(b DESC, a COLLATE NOCASE)",
              "CREATE INDEX IF NOT EXISTS t_a ON t(a)")
    drop = mig("003_drop", "DROP INDEX t_a", "DROP INDEX IF EXISTS t_missing", "DROP INDEX t_partial")
    first = await run(ctx, conn, base, add)
    after_add = await introspect.indexes(conn, "t")
    dup = await ctx.attempt(conn.execute("INSERT INTO t (a, b) VALUES ('z', 1)"), "duplicate")
    second = await run(ctx, conn, base, add, drop)
    return {"add": first, "after_add": after_add, "unique_enforced": dup.get("error", "accepted"),
            "drop": second, "after_drop": await introspect.indexes(conn, "t")}


ID = "id INTEGER PRIMARY KEY"
REBUILDS: dict[str, tuple[str, dict[str, str] | None]] = {
    "change_type": (f"({ID}, name TEXT NOT NULL, qty INTEGER, price TEXT)",
                    {"id": "id", "name": "name", "qty": "CAST(qty AS INTEGER)", "price": "price"}),
    "add_not_null": (f"({ID}, name TEXT NOT NULL, qty TEXT NOT NULL DEFAULT '0', price TEXT)",
                     {"id": "id", "name": "name", "qty": "coalesce(qty, '0')", "price": "price"}),
    "add_check": (f"({ID}, name TEXT NOT NULL CHECK (name <> ''), qty TEXT, price TEXT)", None),
    "drop_default_and_reorder": (f"({ID}, price TEXT, name TEXT NOT NULL, qty TEXT)", None),
    "drop_indexed_column": (f"({ID}, name TEXT NOT NULL, price TEXT)", None),
    "make_strict": (f"({ID}, name TEXT NOT NULL, qty TEXT, price TEXT) STRICT", None),
    "violates_new_constraint": (f"({ID}, name TEXT NOT NULL, qty TEXT NOT NULL, price TEXT)", None),
}


@check(title="Six-step rebuild for ALTER COLUMN forms SQLite cannot do, inside the migration's transaction",
       source=RUNNER, params=REBUILDS)
async def test_rebuild(ctx: CheckContext, case: tuple[str, dict[str, str] | None]) -> object:
    definition, copy = case
    conn = await connect(ctx)
    base = mig("001", "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'n', qty TEXT, "
                      "price TEXT)",
               "CREATE INDEX item_name ON item(name)",
               "CREATE INDEX item_qty ON item(qty)",
               "CREATE TABLE log (msg TEXT)",
               "CREATE TRIGGER item_ins AFTER INSERT ON item BEGIN INSERT INTO log VALUES (new.name); END",
               "INSERT INTO item (name, qty, price) VALUES ('a', '3', '1.50'), ('b', NULL, '2')")
    await run(ctx, conn, base)
    before = await introspect.dump(conn)
    outcome = await run(ctx, conn, base, mig("002_rebuild", Rebuild("item", definition, copy)))
    unchanged = await introspect.dump(conn) == before
    return {**outcome, "unchanged": unchanged, "schema": await introspect.snapshot(conn),
            "rows": rows(await conn.fetch_all("SELECT * FROM item ORDER BY id"))}


FAMILY = mig(
    "001_family",
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT)",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) "
    "ON DELETE CASCADE)",
    "INSERT INTO parent VALUES (1, 'p1'), (2, 'p2')",
    "INSERT INTO child (parent_id) VALUES (1), (1), (2)",
)


@check(title="Foreign keys across a rebuild: children survive, keys stay enforced, PRAGMA restored",
       source=RUNNER, requires=("foreign_keys",),
       expect={"applied": ["001_family", "002_parent"], "children": 3,
               "child_fk": [{"table": "parent", "from": ["parent_id"], "to": ["id"], "on_update": "NO ACTION",
                             "on_delete": "CASCADE", "match": "NONE"}],
               "foreign_keys_pragma": 1, "orphan_insert": "FOREIGN_KEY_VIOLATION"})
async def test_rebuild_foreign_keys(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    await conn.execute("PRAGMA foreign_keys = ON")
    rebuild = mig("002_parent", Rebuild("parent", "(id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '')"))
    outcome = await run(ctx, conn, FAMILY, rebuild)
    orphan = await ctx.attempt(conn.execute("INSERT INTO child (parent_id) VALUES (99)"), "orphan")
    return {**outcome, "children": await conn.fetch_value("SELECT count(*) FROM child"),
            "child_fk": await introspect.foreign_keys(conn, "child"),
            "foreign_keys_pragma": await conn.fetch_value("PRAGMA foreign_keys"),
            "orphan_insert": orphan.get("error", "accepted")}


@check(title="A rebuild that breaks a foreign key is caught by foreign_key_check and rolled back",
       source=RUNNER, requires=("foreign_keys",))
async def test_rebuild_foreign_key_violation(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    await conn.execute("PRAGMA foreign_keys = ON")
    await run(ctx, conn, FAMILY)
    before = await introspect.dump(conn)
    breaking = mig("002_child", Rebuild("child", "(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
                                                 "REFERENCES parent(id) ON DELETE CASCADE)",
                                        {"id": "id", "parent_id": "parent_id + 100"}))
    outcome = await run(ctx, conn, FAMILY, breaking)
    return {**outcome, "unchanged": await introspect.dump(conn) == before,
            "foreign_keys_pragma": await conn.fetch_value("PRAGMA foreign_keys")}


@check(title="PRAGMA foreign_key_check reports rows that break a foreign key", source=RUNNER,
       requires=("foreign_keys",))
async def test_foreign_key_check(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    await run(ctx, conn, FAMILY)
    await conn.execute("INSERT INTO child (id, parent_id) VALUES (10, 42)")
    return {"all": rows(await conn.fetch_all("PRAGMA foreign_key_check")),
            "one_table": rows(await conn.fetch_all("PRAGMA foreign_key_check(child)"))}


@check(title="PRAGMA foreign_keys inside a transaction (SQLite: a no-op until COMMIT)", source=RUNNER,
       requires=("foreign_keys",))
async def test_foreign_keys_pragma_in_transaction(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("BEGIN")
    await conn.execute("PRAGMA foreign_keys = OFF")
    inside = await conn.fetch_value("PRAGMA foreign_keys")
    await conn.execute("COMMIT")
    return {"inside": inside, "after_commit": await conn.fetch_value("PRAGMA foreign_keys")}


#: Three steps of a migration whose third fails (two more follow it and must never run).
FAILING: dict[str, tuple[str, str, str]] = {
    "create_insert_syntax": ("CREATE TABLE fresh (x)", "INSERT INTO t (v) VALUES ('added')",
                             "CREAT TABLE oops (x)"),
    "add_column_index_not_null": ("ALTER TABLE t ADD COLUMN extra TEXT DEFAULT 'e'",
                                  "CREATE INDEX t_v ON t(v)", "INSERT INTO t (id, v) VALUES (99, NULL)"),
    "rename_drop_unique": ("ALTER TABLE t RENAME TO renamed", "DROP INDEX t_code",
                           "INSERT INTO renamed (id, v) VALUES (1, 'dup')"),
    "drop_table_rename_column_missing": ("DROP TABLE other", "ALTER TABLE t RENAME COLUMN v TO w",
                                         "INSERT INTO nowhere VALUES (1)"),
    "update_delete_check": ("UPDATE t SET v = upper(v)", "DELETE FROM other",
                            "INSERT INTO t (v, n) VALUES ('neg', -1)"),
}


ROLLED_BACK = {"failed_at_step": 3, "dump_equal": True, "schema_version_equal": True, "in_transaction": False,
               "recorded": ["001_base"], "next_migration": {"applied": ["003_next"]}}
BASE_T = mig("001_base",
             "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, code TEXT, n INTEGER CHECK (n >= 0))",
             "CREATE UNIQUE INDEX t_code ON t(code)",
             "CREATE TABLE other (x)",
             "INSERT INTO t (v, code, n) VALUES ('a', 'c1', 1), ('b', 'c2', 2)",
             "INSERT INTO other VALUES (1)")


@check(title="A migration whose third statement fails leaves schema and data exactly as before",
       source=RUNNER, expect=ROLLED_BACK,
       params={f"{k}-{m}": (k, memory) for k in FAILING for m, memory in MEMORY_AND_FILE.items()})
async def test_third_statement_fails(ctx: CheckContext, case: tuple[str, bool]) -> object:
    key, memory = case
    first, second, failing = FAILING[key]
    conn = await connect(ctx, memory=memory)
    await run(ctx, conn, BASE_T)
    before = await introspect.dump(conn)
    version = await conn.fetch_value("PRAGMA schema_version")
    bad = mig("002_bad", first, second, failing, "CREATE TABLE never (x)", "INSERT INTO t (v) VALUES ('x')")
    outcome = await run(ctx, conn, BASE_T, bad)
    ctx.note(error_kind=outcome.get("error"))
    after = await introspect.dump(conn)
    observation: dict[str, Any] = {
        "failed_at_step": outcome.get("step"), "dump_equal": after == before,
        "schema_version_equal": await conn.fetch_value("PRAGMA schema_version") == version,
        "in_transaction": await conn.is_in_transaction(),
        "recorded": [r[0] for r in await conn.fetch_all("SELECT name FROM _conformance_migrations")],
        "next_migration": await run(ctx, conn, BASE_T, mig("003_next", "CREATE TABLE later (x)"))}
    if after != before:
        observation["changed"] = {part: "differs" for part in after if after[part] != before[part]}
    return observation


@check(title="The error each failing third statement raises, per backend", source=RUNNER)
async def test_third_statement_error_kinds(ctx: CheckContext) -> object:
    kinds = {}
    for key, (first, second, failing) in FAILING.items():
        conn = await connect(ctx)
        outcome = await run(ctx, conn, BASE_T, mig("002_bad", first, second, failing))
        kinds[key] = outcome.get("error", "no error")
        await conn.close()
    return kinds


@check(title="A file database reopened after a failed migration holds exactly what it held before",
       source=RUNNER, expect={"error": "NOT_NULL_VIOLATION", "migration": "002_bad", "step": 3,
                              "reopened_equal": True, "integrity": "ok"})
async def test_failed_migration_reopened(ctx: CheckContext) -> object:
    url = ctx.url("reopen")
    conn = await ctx.connect(url)
    base = mig("001_base", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
               "INSERT INTO t (v) VALUES ('a'), ('b')")
    await run(ctx, conn, base)
    before = await introspect.dump(conn)
    bad = mig("002_bad", "ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'w'", "INSERT INTO t (v) VALUES ('c')",
              "INSERT INTO t (v) VALUES (NULL)")
    outcome = await run(ctx, conn, base, bad)
    await conn.close()
    again = await ctx.connect(url)
    return {**outcome, "reopened_equal": await introspect.dump(again) == before,
            "integrity": await again.fetch_value("PRAGMA integrity_check")}


@check(title="Applying the same migrations twice is a no-op", source=RUNNER,
       expect={"first": {"applied": ["001_blog", "002_rebuild"]}, "second": {"applied": []},
               "dump_equal": True, "schema_version_equal": True})
async def test_apply_twice(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    rebuild = mig("002_rebuild", Rebuild("tag", "(name TEXT PRIMARY KEY, colour TEXT NOT NULL DEFAULT '')"))
    first = await run(ctx, conn, BLOG, rebuild)
    before, version = await introspect.dump(conn), await conn.fetch_value("PRAGMA schema_version")
    second = await run(ctx, conn, BLOG, rebuild)
    return {"first": first, "second": second, "dump_equal": await introspect.dump(conn) == before,
            "schema_version_equal": await conn.fetch_value("PRAGMA schema_version") == version}


APP_HISTORY = (
    BLOG,
    mig("002_columns", "ALTER TABLE post ADD COLUMN views INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE author ADD COLUMN bio TEXT", "ALTER TABLE post RENAME COLUMN body TO content"),
    mig("003_indexes", "CREATE INDEX post_views ON post(views DESC)", "DROP INDEX post_author",
        "CREATE INDEX post_author ON post(author_id)"),
    mig("004_rebuild", Rebuild("post", "(id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL "
                                       "REFERENCES author(id) ON DELETE CASCADE, title TEXT NOT NULL, "
                                       "content TEXT NOT NULL DEFAULT '', "
                                       "published INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)), "
                                       "uuid BLOB, price TEXT, views INTEGER NOT NULL DEFAULT 0)")),
    mig("005_drop", "ALTER TABLE author DROP COLUMN bio", "DROP TABLE post_tag"),
)


@check(title="A migration history's resulting schema, compared by introspection across backends",
       source=UNCHANGED)
async def test_schema_compared(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    await conn.execute("PRAGMA foreign_keys = ON")
    outcome = await run(ctx, conn, *APP_HISTORY)
    return {**outcome, "schema": await introspect.snapshot(conn),
            "rows": rows(await conn.fetch_all("SELECT id, author_id, title, content, views FROM post")),
            "view": await attempt_rows(ctx, conn, "SELECT * FROM published_posts", "view")}


VERBATIM: dict[str, tuple[str, ...]] = {
    "create_table_spacing": ("CREATE TABLE  t ( a  INTEGER , \"b c\" TEXT )",),
    "create_table_comment": ("CREATE TABLE t (a INTEGER -- the key\n, b TEXT /* note */)",),
    "create_index": ("CREATE TABLE t (a)", "CREATE INDEX  t_a ON t ( a )"),
    "create_index_lower_case": ("CREATE TABLE t (a)", "create index t_a on t (\n  a desc\n)"),
    "trigger": ("CREATE TABLE t (a)", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END"),
    "after_add_column": ("CREATE TABLE t (a)", "ALTER TABLE t ADD COLUMN b REAL DEFAULT -1.5"),
    "after_add_column_quoted": ('CREATE TABLE "t" (\n  "a" INTEGER\n)',
                                'ALTER TABLE "t" ADD COLUMN "b" TEXT'),
    "references": ("CREATE TABLE p (id INTEGER PRIMARY KEY)", "CREATE TABLE t (p_id REFERENCES p(id))"),
    "after_rename": ('CREATE TABLE "p" ("id" INTEGER PRIMARY KEY)',
                     'CREATE TABLE "t" ("p_id" REFERENCES "p"("id"))', 'ALTER TABLE "p" RENAME TO "q"'),
    "view": ("CREATE TABLE t (a)", "CREATE VIEW v as select a, sqlite_version() from t"),
}


@check(title="sqlite_schema.sql keeps the text a migration wrote, verbatim", source=UNCHANGED,
       params=VERBATIM)
async def test_schema_text_verbatim(ctx: CheckContext, statements: tuple[str, ...]) -> object:
    conn = await connect(ctx)
    for sql in statements:
        await conn.execute(sql)
    return {"sql": rows(await conn.fetch_all("SELECT name, sql FROM sqlite_schema ORDER BY name")),
            "defaults": rows(await conn.fetch_all("SELECT name, dflt_value FROM pragma_table_info('t')"))}


@check(title="The tables an application sees in sqlite_schema after AUTOINCREMENT", source=UNCHANGED,
       requires=("autoincrement",))
async def test_listed_tables(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    await run(ctx, conn, mig("001", "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x)",
                             "INSERT INTO t (x) VALUES (1)"))
    return {"tables": [r[0] for r in await conn.fetch_all(
                "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")],
            "sequence": rows(await conn.fetch_all("SELECT name, seq FROM sqlite_sequence"))}


@check(title="AUTOINCREMENT's high-water mark survives a rebuild", source=RUNNER, requires=("autoincrement",))
async def test_rebuild_autoincrement(ctx: CheckContext) -> object:
    conn = await connect(ctx)
    base = mig("001", "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT)",
               "INSERT INTO t (x) VALUES ('a'), ('b'), ('c')", "DELETE FROM t WHERE id = 3")
    rebuild = mig("002", Rebuild("t", "(id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT NOT NULL DEFAULT '')"))
    outcome = await run(ctx, conn, base, rebuild)
    await conn.execute("INSERT INTO t (x) VALUES ('d')")
    return {**outcome, "ids": [r[0] for r in await conn.fetch_all("SELECT id FROM t ORDER BY id")]}


GATED: dict[str, tuple[tuple[str, ...], str, str]] = {
    "without_rowid": (("without_rowid",), "CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID",
                      "(k TEXT PRIMARY KEY, v TEXT NOT NULL DEFAULT '') WITHOUT ROWID"),
    "generated_virtual": (("generated_columns",), "CREATE TABLE kv (k TEXT PRIMARY KEY, v, n AS (length(v)))",
                          "(k TEXT PRIMARY KEY, v TEXT NOT NULL DEFAULT '', n AS (length(v) * 2))"),
    "generated_stored": (("generated_columns",),
                         "CREATE TABLE kv (k TEXT PRIMARY KEY, v, n AS (length(v)) STORED)",
                         "(k TEXT PRIMARY KEY, v TEXT NOT NULL DEFAULT '', n AS (length(v) * 2) STORED)"),
}


async def _gated(ctx: CheckContext, case: tuple[tuple[str, ...], str, str], toggles: Sequence[str]) -> object:
    _, create, rebuilt = case
    conn = await connect(ctx, toggles=toggles)
    first = await run(ctx, conn, mig("001", create, "INSERT INTO kv (k, v) VALUES ('a', 'xyz')"))
    if "error" in first:
        return first
    second = await run(ctx, conn, mig("001", create, "INSERT INTO kv (k, v) VALUES ('a', 'xyz')"),
                       mig("002", Rebuild("kv", rebuilt)))
    return {**second, "rows": rows(await conn.fetch_all("SELECT * FROM kv")),
            "columns": await introspect.columns(conn, "kv"), "indexes": await introspect.indexes(conn, "kv")}


@check(title="A migration using a feature Turso gates behind a toggle, toggle off", source=TOGGLES,
       params=GATED)
async def test_gated_feature_off(ctx: CheckContext, case: tuple[tuple[str, ...], str, str]) -> object:
    return await _gated(ctx, case, ())


@check(title="A migration using a feature Turso gates behind a toggle, toggle on", source=TOGGLES,
       params=GATED)
async def test_gated_feature_on(ctx: CheckContext, case: tuple[tuple[str, ...], str, str]) -> object:
    return await _gated(ctx, case, case[0])
