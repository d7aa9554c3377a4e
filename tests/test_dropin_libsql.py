"""`--dropin=libsql`: an unrelated project's unchanged suite on SQLite and on libSQL (the libsql module in
place of sqlite3), traced, with the report naming libSQL; and the routing installed and undone in place."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import clear_xdist_env
from stc_harness.dropin.route_libsql import LibsqlRouting, relabel

libsql = pytest.importorskip("libsql")

CONFTEST = """\
from sqlite3 import connect

import pytest


@pytest.fixture
def db(tmp_path):
    conn = connect(str(tmp_path / "app.db"))
    yield conn
    conn.close()
"""
TESTS = """\
import sqlite3

import aiosqlite
import pytest


def test_roundtrip(db):
    db.execute("CREATE TABLE t (x INTEGER)")
    db.execute("INSERT INTO t VALUES (1)")
    db.commit()
    assert db.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_duplicate_key_is_an_integrity_error(db):
    db.execute("CREATE TABLE u (k INTEGER PRIMARY KEY)")
    db.execute("INSERT INTO u VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO u VALUES (1)")


def test_runs_on_libsql(db):
    assert type(db).__module__ == "sqlite3"  # fails on libSQL: proof that its run used the libsql module


def test_aiosqlite_reaches_the_routed_module(tmp_path):
    import asyncio

    async def run():
        async with aiosqlite.connect(str(tmp_path / "a.db")) as conn:
            return type(conn._conn).__module__

    assert asyncio.run(run()) == "sqlite3"
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project that knows nothing of the harness: its own conftest and tests, no harness imports."""
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_app=TESTS)
    return pytester


def test_an_unrelated_suite_on_sqlite_and_libsql(user_project: pytest.Pytester) -> None:
    result = user_project.runpytest_subprocess("--dropin=libsql", "--dropin-timeout=20", "--report-dir=out")
    assert result.ret == 1, result.stdout.str()  # a test breaks on libSQL only
    doc = json.loads((user_project.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    rows = {r["nodeid"].split("::")[-1]: r for r in doc["dropin"]["tests"]}
    seen = {name: (r["sqlite"]["outcome"], r["turso"]["outcome"], r["category"]) for name, r in rows.items()}
    assert seen == {"test_roundtrip": ("passed", "passed", "same"),
            "test_duplicate_key_is_an_integrity_error": ("passed", "failed", "turso-only"),
            "test_runs_on_libsql": ("passed", "failed", "turso-only"),
            "test_aiosqlite_reaches_the_routed_module": ("passed", "failed", "turso-only")}
    # the trace on the libSQL side: the INSERT where SQLite raised IntegrityError raised libsql's ValueError
    first = rows["test_duplicate_key_is_an_integrity_error"]["evidence"]["divergences"][0]
    assert first["call"] == "Connection.execute"
    assert "IntegrityError" in first["sqlite"]
    assert "ValueError" in first["turso"]
    assert "UNIQUE constraint failed" in first["turso"]
    assert "'builtins' == 'sqlite3'" in rows["test_aiosqlite_reaches_the_routed_module"]["turso"]["message"]
    assert [b["id"] for b in doc["backends"]] == ["sqlite", "libsql"]
    assert doc["backends"][1]["driver"] == "libsql"
    titles = [s["title"] for s in doc["sections"]]
    assert "Pass on SQLite, fail on libSQL" in titles
    assert not any("Turso" in t for t in titles)
    result.stdout.fnmatch_lines(["*drop-in: SQLite vs libSQL*", "LIBSQL-ONLY *test_duplicate_key*"])


def test_routing_replaces_what_libsql_has_and_restores_it() -> None:
    before = sqlite3.connect, sqlite3.IntegrityError, sqlite3.Row
    routing = LibsqlRouting().install()
    try:
        assert sqlite3.connect is libsql.connect
        assert sqlite3.dbapi2.Cursor is libsql.Cursor
        assert (sqlite3.IntegrityError, sqlite3.Row) == before[1:]  # libsql has none: the stdlib's stay
    finally:
        routing.uninstall()
    assert (sqlite3.connect, sqlite3.IntegrityError, sqlite3.Row) == before


def test_the_report_names_libsql_never_turso() -> None:
    doc = {"backends": [{"id": "sqlite"}, {"id": "turso", "driver": "pyturso"}],
           "sections": [{"id": "dropin-turso-only", "title": "Pass on SQLite, fail on Turso", "intro": "",
                         "columns": ["test", "turso"], "rows": [["tests/test_turso_x.py::t", "failed"]]}]}
    out = relabel(doc)
    assert out["backends"][1]["id"] == "libsql"
    assert out["sections"][0]["title"] == "Pass on SQLite, fail on libSQL"
    assert out["sections"][0]["rows"] == [["tests/test_turso_x.py::t", "failed"]]  # node ids stay as they are
