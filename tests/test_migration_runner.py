"""Unit tests of harness/toolkit/migrations.py and harness/toolkit/schema.py on SQLite, and
maketest(migrate=True)."""

from __future__ import annotations

import pytest
import pytest_asyncio

from conftest import write_suite
from stc_backends.sqlite import SQLiteBackend
from stc_harness.errors import ErrorKind, UsageError
from stc_harness.toolkit import schema
from stc_harness.toolkit.migrations import (
    Migration,
    MigrationError,
    PythonStep,
    Rebuild,
    applied,
    applied_checksums,
    load_folder,
    migrate,
    rebuild_table,
    split_sql,
)


@pytest_asyncio.fixture
async def conn():
    c = await SQLiteBackend().connect("sqlite::memory:")
    yield c
    await c.close()


def m(name, *steps):
    return Migration(name, tuple(steps))


BASE = m("001", "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT)",
         "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id) ON DELETE CASCADE)",
         "CREATE INDEX c_p ON c(p_id)",
         "CREATE VIEW names AS SELECT name FROM p",
         "CREATE TABLE log (x)",
         "CREATE TRIGGER p_ins AFTER INSERT ON p BEGIN INSERT INTO log VALUES (new.name); END",
         "INSERT INTO p VALUES (1, 'a'), (2, 'b')",
         "INSERT INTO c (p_id) VALUES (1), (2), (2)")


@pytest.mark.asyncio
async def test_split_sql_keeps_trigger_bodies_whole():
    text = """
    -- comment
    CREATE TABLE t (x);
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
      INSERT INTO t VALUES (1);
      SELECT 2;
    END;
    INSERT INTO t VALUES (3);
    """
    got = split_sql(text)
    assert len(got) == 3
    assert got[1].startswith("CREATE TRIGGER")
    assert got[1].rstrip().endswith("END")


@pytest.mark.asyncio
async def test_applies_in_order_records_and_twice_is_a_noop(conn):
    assert await migrate(conn, [BASE, m("002", "ALTER TABLE p ADD COLUMN email TEXT")]) == ["001", "002"]
    version = await conn.fetch_value("PRAGMA schema_version")
    assert await migrate(conn, [BASE, m("002", "ALTER TABLE p ADD COLUMN email TEXT")]) == []
    assert await conn.fetch_value("PRAGMA schema_version") == version
    assert await applied(conn) == ["001", "002"]
    assert set(await applied_checksums(conn)) == {"001", "002"}


@pytest.mark.asyncio
async def test_a_changed_migration_is_refused(conn):
    await migrate(conn, [BASE])
    with pytest.raises(UsageError, match="changed after it was applied"):
        await migrate(conn, [m("001", "CREATE TABLE other (x)")])


@pytest.mark.asyncio
async def test_duplicate_names_and_transaction_control_are_refused(conn):
    with pytest.raises(UsageError, match="unique"):
        await migrate(conn, [BASE, BASE])
    with pytest.raises(UsageError, match="BEGIN"):
        await migrate(conn, [m("x", "BEGIN", "CREATE TABLE t (x)", "COMMIT")])
    with pytest.raises(UsageError, match="expected SQL text"):
        await migrate(conn, [m("y", 42)])


@pytest.mark.asyncio
async def test_a_failing_step_rolls_the_whole_migration_back(conn):
    await migrate(conn, [BASE])
    before = await schema.dump(conn)
    bad = m("002", "CREATE TABLE t (x)", "INSERT INTO p VALUES (3, 'c')", "INSERT INTO p VALUES (1, 'dup')",
            "CREATE TABLE never (x)")
    with pytest.raises(MigrationError) as info:
        await migrate(conn, [BASE, bad])
    err = info.value
    assert (err.migration, err.step, err.kind) == ("002", 2, ErrorKind.UNIQUE_VIOLATION)
    assert "step 3" in str(err)
    assert await schema.dump(conn) == before
    assert not await conn.is_in_transaction()
    assert await applied(conn) == ["001"]


@pytest.mark.asyncio
async def test_a_python_step_failure_rolls_back_and_propagates(conn):
    async def boom(c):
        await c.execute("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await migrate(conn, [m("001", PythonStep(boom))])
    assert await schema.tables(conn) == []


@pytest.mark.asyncio
async def test_rebuild_keeps_rows_indexes_triggers_views_and_children(conn):
    await conn.execute("PRAGMA foreign_keys = ON")
    rebuild = m("002", Rebuild("p", "(id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', n INTEGER)"))
    assert await migrate(conn, [BASE, rebuild]) == ["001", "002"]
    assert await conn.fetch_all("SELECT id, name, n FROM p") == [(1, "a", None), (2, "b", None)]
    assert await conn.fetch_value("SELECT count(*) FROM c") == 3
    assert await conn.fetch_all("SELECT * FROM names") == [("a",), ("b",)]
    await conn.execute("INSERT INTO p (name) VALUES ('z')")
    assert await conn.fetch_all("SELECT x FROM log") == [("a",), ("b",), ("z",)]
    assert await conn.fetch_value("PRAGMA foreign_keys") == 1
    snap = await schema.snapshot(conn)
    assert [c["name"] for c in snap["tables"]["p"]["columns"]] == ["id", "name", "n"]
    assert snap["tables"]["c"]["foreign_keys"][0]["table"] == "p"


@pytest.mark.asyncio
async def test_rebuild_copy_map_and_foreign_key_check(conn):
    await conn.execute("PRAGMA foreign_keys = ON")
    broken = m("002", Rebuild("c", "(id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id))",
                              {"id": "id", "p_id": "p_id + 10"}))
    await migrate(conn, [BASE])
    before = await schema.dump(conn)
    with pytest.raises(MigrationError) as info:
        await migrate(conn, [BASE, broken])
    assert info.value.kind is ErrorKind.FOREIGN_KEY_VIOLATION
    assert await schema.dump(conn) == before
    assert await conn.fetch_value("PRAGMA foreign_keys") == 1


@pytest.mark.asyncio
async def test_rebuild_table_refuses_with_foreign_keys_on(conn):
    await migrate(conn, [BASE])
    await conn.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(UsageError, match="foreign keys are enforced"):
        await rebuild_table(conn, "p", "(id INTEGER PRIMARY KEY)")
    await conn.execute("PRAGMA foreign_keys = OFF")
    with pytest.raises(UsageError, match="no table"):
        await rebuild_table(conn, "nope", "(id)")


@pytest.mark.asyncio
async def test_load_folder_reads_sql_and_python(tmp_path):
    (tmp_path / "001_init.sql").write_text("CREATE TABLE t (x);\nINSERT INTO t VALUES (1);\n")
    (tmp_path / "002_rebuild.py").write_text(
        "from stc_harness.toolkit.migrations import Rebuild\n"
        "STEPS = [Rebuild('t', '(x INTEGER NOT NULL)')]\n")
    (tmp_path / "_helper.py").write_text("X = 1\n")
    migs = load_folder(tmp_path)
    assert [x.name for x in migs] == ["001_init", "002_rebuild"]
    assert isinstance(migs[1].statements[0], Rebuild)
    assert migs[1].foreign_keys_off
    (tmp_path / "003_bad.py").write_text("STEPS = None\n")
    with pytest.raises(UsageError, match="STEPS"):
        load_folder(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        load_folder(tmp_path / "missing")


@pytest.mark.parametrize(("a", "b"), [
    ('CREATE TABLE "t" ( a  INTEGER , b TEXT )', "CREATE TABLE t(a INTEGER, b TEXT)"),
    ("CREATE INDEX i ON t (a)", "CREATE INDEX i ON t(a)"),
    ("- 1.5", "-1.5"),
    ("SELECT count (*) FROM t;", "SELECT count(*) FROM t"),
    ("CREATE TRIGGER x AFTER INSERT ON t BEGIN\nSELECT 1;\nEND",
     "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END"),
])
def test_normalise_sql_ignores_spacing_and_simple_quoting(a, b):
    assert schema.normalise_sql(a) == schema.normalise_sql(b)


@pytest.mark.parametrize(("a", "b"), [
    ("DEFAULT 'a b'", "DEFAULT 'a  b'"), ('"a b"', '"a  b"'), ("(5)", "5"), ("x", "X"),
])
def test_normalise_sql_keeps_real_differences(a, b):
    assert schema.normalise_sql(a) != schema.normalise_sql(b)


MAKETEST_SUITE = """
from stc_harness.toolkit import schema

@maketest("sqlite", "turso", migrate=True, migrations="migs")
async def fx_migrated(conn):
    assert await conn.fetch_all("SELECT x, y FROM t") == [(1, "")]
    assert [c["name"] for c in await schema.columns(conn, "t")] == ["x", "y"]
"""


def test_maketest_migrate_uses_the_runner(project):
    migs = project.path / "migs"
    migs.mkdir()
    (migs / "001_init.sql").write_text("CREATE TABLE t (x INTEGER);\nINSERT INTO t VALUES (1);\n")
    (migs / "002_rebuild.py").write_text(
        "from stc_harness.toolkit.migrations import Rebuild\n"
        "STEPS = [Rebuild('t', \"(x INTEGER NOT NULL, y TEXT NOT NULL DEFAULT '')\")]\n")
    write_suite(project, MAKETEST_SUITE, name="test_migrations")
    result = project.runpytest_inprocess("-q")
    result.assert_outcomes(passed=2)
