"""`maketest`, `maketest_turso`, `maketest_sqlite`, migrations, and capability skips (never a silent pass)."""

from __future__ import annotations

import pytest
from test_plugin_backend import ran

from conftest import write_suite

MIGRATIONS = {
    "0001_create.sql": "CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n",
    "0002_seed.sql": "INSERT INTO post (title) VALUES ('first');\n"
                     "INSERT INTO post (title) VALUES ('second');\n",
}


def write_migrations(pytester: pytest.Pytester, folder: str = "migrations") -> None:
    """Write the two-step migrations folder."""
    path = pytester.path / folder
    path.mkdir(parents=True)
    for name, sql in MIGRATIONS.items():
        (path / name).write_text(sql, encoding="utf-8")


def test_one_function_becomes_one_test_per_backend(project: pytest.Pytester) -> None:
    write_suite(project, """
        SEEN = []

        @maketest()
        async def fx_roundtrip(conn):
            await conn.execute("CREATE TABLE t (x)")
            await conn.execute("INSERT INTO t VALUES (?)", (conn.backend_name,))
            assert await conn.fetch_all("SELECT x FROM t") == [(conn.backend_name,)]

        async def fx_shortcut(conn):
            assert conn.backend_name == "turso"

        maketest_turso(fx_shortcut)

        @maketest_sqlite
        async def fx_only_sqlite(conn):
            assert conn.backend_name == "sqlite"

        @maketest("turso", memory=True)
        async def fx_memory(conn):
            assert await conn.fetch_all("PRAGMA database_list") != []
    """)
    result = project.runpytest_inprocess("-v")
    assert ran(result) == {"test_fx_roundtrip_sqlite": "PASSED", "test_fx_roundtrip_turso": "PASSED",
                           "test_fx_shortcut_turso": "PASSED", "test_fx_only_sqlite_sqlite": "PASSED",
                           "test_fx_memory_turso": "PASSED"}


def test_a_failing_body_fails_on_every_backend(project: pytest.Pytester) -> None:
    write_suite(project, """
        @maketest()
        async def fx_wrong(conn):
            assert await conn.fetch_all("SELECT 1") == [(2,)]
    """)
    result = project.runpytest_inprocess("-v")
    assert ran(result) == {"test_fx_wrong_sqlite": "FAILED", "test_fx_wrong_turso": "FAILED"}


@pytest.mark.parametrize("style", ["maketest_turso(fx_migrated, True)",
                                   "maketest('sqlite', 'turso', migrate=True)(fx_migrated)"])
def test_migrate_applies_the_migrations_folder_first(project: pytest.Pytester, style: str) -> None:
    write_migrations(project)
    write_suite(project, f"""
        async def fx_migrated(conn):
            assert await conn.fetch_all("SELECT title FROM post ORDER BY id") == [("first",), ("second",)]

        {style}
    """)
    result = project.runpytest_inprocess("-v")
    got = ran(result)
    assert got, result.stdout.str()
    assert set(got.values()) == {"PASSED"}, result.stdout.str()
    assert "test_fx_migrated_turso" in got


def test_migrate_with_a_named_folder_and_a_missing_one(project: pytest.Pytester) -> None:
    write_migrations(project, "db/migs")
    write_suite(project, """
        @maketest_sqlite(migrate=True, migrations="db/migs")
        async def fx_named(conn):
            assert await conn.fetch_one("SELECT count(*) FROM post") == (2,)

        @maketest_sqlite(migrate=True)
        async def fx_default_folder(conn):
            pass
    """)
    result = project.runpytest_inprocess("-v")
    # The default folder ("migrations", ini conformance_migrations) does not exist: a clear failure.
    assert ran(result) == {"test_fx_named_sqlite": "PASSED", "test_fx_default_folder_sqlite": "FAILED"}
    result.stdout.fnmatch_lines(["*migrations folder */migrations does not exist*"])


def test_missing_capability_skips_naming_it(project: pytest.Pytester) -> None:
    write_suite(project, """
        @maketest(requires=("concurrent_writes",))
        async def fx_by_argument(conn):
            assert conn.backend_name == "turso"

        @pytest.mark.requires("concurrent_writes")
        @maketest()
        async def fx_marker_above(conn):
            pass

        @maketest()
        @pytest.mark.requires("concurrent_writes")
        async def fx_marker_below(conn):
            pass

        @pytest.mark.requires("concurrent_writes")
        @pytest.mark.asyncio
        async def test_fixture_user(connection):
            assert connection.backend_name == "turso"

        @pytest.mark.requires("concurrent_writes")
        @pytest.mark.asyncio
        async def test_fixture_user_memory(memory_connection):
            assert memory_connection.backend_name == "turso"
    """)
    result = project.runpytest_inprocess("-v", "-rs")
    got = ran(result)
    sqlite = {t: o for t, o in got.items() if "sqlite" in t}
    turso = {t: o for t, o in got.items() if "turso" in t}
    assert len(sqlite) == len(turso) == 5, got
    assert set(sqlite.values()) == {"SKIPPED"}, got
    assert set(turso.values()) == {"PASSED"}, got
    result.stdout.fnmatch_lines(["SKIPPED * sqlite lacks concurrent_writes: SQLite has no MVCC journal*"])
    assert "Skipped" not in result.stdout.str()  # every skip says why, none is a bare skip


def test_unknown_capability_in_a_marker_is_a_usage_error(project: pytest.Pytester) -> None:
    write_suite(project, """
        @pytest.mark.requires("time_travel")
        @maketest()
        async def fx_future(conn):
            pass
    """)
    result = project.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *test_fx_future_*: unknown capability 'time_travel'; "
                                 "known capabilities: alter_drop_column, *, async_api, *, without_rowid"])


@pytest.mark.parametrize("decorator", ["@maketest(requires=('time_travel',))",
                                       "@check(title='t', source=SRC, requires=('time_travel',))"])
def test_unknown_capability_in_a_decorator_fails_its_module(project: pytest.Pytester, decorator: str) -> None:
    write_suite(project, f"""
        {decorator}
        async def test_fx_future(conn):
            pass
    """)
    result = project.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*unknown capability 'time_travel'; known capabilities: *"])


def test_check_requiring_a_capability_skips_where_missing(project: pytest.Pytester) -> None:
    write_suite(project, """
        @check(title="concurrent", source=SRC, requires=("concurrent_writes",), expect=[[["integer", 1]]])
        async def test_fx_concurrent(ctx: CheckContext) -> object:
            conn = await ctx.connect(concurrent_writes=True)
            await conn.execute("CREATE TABLE t (x)")
            async with conn.transaction():
                await conn.execute("INSERT INTO t VALUES (1)")
            return rows(await conn.fetch_all("SELECT x FROM t"))
    """)
    result = project.runpytest_inprocess("-v", "-rs")
    assert ran(result) == {"test_fx_concurrent[sqlite]": "SKIPPED", "test_fx_concurrent[turso]": "PASSED"}
    result.stdout.fnmatch_lines(["SKIPPED * unsupported on sqlite: needs concurrent_writes: SQLite has no*"])
