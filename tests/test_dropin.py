"""Drop-in mode: an unrelated project's unchanged suite on SQLite and Turso (pytester), routing, matching."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import textwrap
import types
from pathlib import Path

import pytest

from conftest import clear_xdist_env
from stc_harness.differences import Entry, Registry
from stc_harness.dropin.matching import entry_lookup
from stc_harness.dropin.routing import Routing, RoutingError
from stc_harness.dropin.shims import MissingFeatureError
from stc_harness.sources import Source

#: An unrelated project: a conftest that imported `connect` from sqlite3 at its top, and tests that pass,
#: fail on Turso only (a missing method, a missing module name, a hang, an abort), fail on both, or
#: tell the engines apart (proof that the Turso run really ran on pyturso).
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
import os
import sqlite3
import threading


def on_turso(conn):
    return type(conn).__module__.startswith("turso")


def test_roundtrip(db):
    db.execute("CREATE TABLE t (x INTEGER)")
    db.execute("INSERT INTO t VALUES (1)")
    db.commit()
    assert db.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_create_function(db):
    db.create_function("double", 1, lambda v: v * 2)
    assert db.execute("SELECT double(21)").fetchone() == (42,)


def test_register_adapter(db):
    sqlite3.register_adapter(complex, str)
    db.execute("CREATE TABLE c (z)")
    db.execute("INSERT INTO c VALUES (?)", (1 + 2j,))
    assert db.execute("SELECT z FROM c").fetchone() == ("(1+2j)",)


def test_fails_everywhere(db):
    assert db.execute("SELECT 1").fetchone() == (2,)


def test_runs_on_pyturso(db):
    assert type(db).__module__ == "turso.lib"


def test_hangs_on_turso(db):
    if on_turso(db):
        threading.Event().wait()


def test_aborts_on_turso(db):
    if on_turso(db):
        os.abort()


def test_after_the_abort(db):
    assert db.execute("SELECT 41 + 1").fetchone() == (42,)
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project that knows nothing of the harness: its own conftest and tests, no harness imports."""
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_app=TESTS)
    return pytester


def _rows(pytester: pytest.Pytester) -> dict[str, dict]:
    doc = json.loads((pytester.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    return {r["nodeid"].split("::")[-1]: r for r in doc["dropin"]["tests"]}, doc


def test_unrelated_suite_on_both_engines(user_project: pytest.Pytester) -> None:
    # 10 s: the hang costs its limit in wall time, and a loaded machine must not push a quick test past it
    result = user_project.runpytest_subprocess("--dropin=turso", "--dropin-timeout=10", "--report-dir=out")
    assert result.ret == 1, result.stdout.str()
    rows, doc = _rows(user_project)
    outcomes = {name: (r["sqlite"]["outcome"], r["turso"]["outcome"], r["category"])
                for name, r in rows.items()}
    assert outcomes == {
        "test_roundtrip": ("passed", "passed", "same"),
        "test_create_function": ("passed", "failed", "turso-only"),
        "test_register_adapter": ("passed", "passed", "same-with-adaptations"),  # emulated adapters
        "test_fails_everywhere": ("failed", "failed", "both"),
        "test_runs_on_pyturso": ("failed", "passed", "sqlite-only"),
        "test_hangs_on_turso": ("passed", "timeout", "turso-only"),
        "test_aborts_on_turso": ("passed", "crash", "turso-only"),
        "test_after_the_abort": ("passed", "passed", "same"),
    }
    create = rows["test_create_function"]["turso"]
    assert "no such function: double" in create["message"]  # create_function was made inert: the next wall
    assert create["line"] == "test_app.py:19"
    first = rows["test_create_function"]["evidence"]["divergences"][0]
    assert (first["call"], first["kind"], first["where"]) == ("Connection.create_function", "missing-name",
                                                              "test_app.py:18")
    assert first["explanation"]["confidence"] == "proven"
    assert first["explanation"]["check"] == "driver_surface.connection_attribute[create_function]"
    then = rows["test_create_function"]["evidence"]["divergences"][1]
    assert (then["call"], then["kind"]) == ("Connection.execute", "error-appears")
    assert rows["test_register_adapter"]["adapted_by"] == ["sqlite3.register_adapter"]
    assert "SIGABRT" in rows["test_aborts_on_turso"]["turso"]["message"]
    assert doc["dropin"]["engines"]["turso"]["attempts"] == 3  # two resumptions: after the hang, the abort
    sections = [s["id"] for s in doc["sections"]]
    assert sections[:2] == ["dropin-summary", "dropin-turso-only"]
    assert "dropin-both" in sections
    turso_only = next(s for s in doc["sections"] if s["id"] == "dropin-turso-only")
    assert [r[0].split("::")[-1] for r in turso_only["rows"]] == [
        "test_create_function", "test_hangs_on_turso", "test_aborts_on_turso"]
    assert all(r[5] for r in turso_only["rows"])  # a cause, or "no known cause"
    hang = rows["test_hangs_on_turso"]["evidence"]
    assert hang["traced"] is True  # its calls so far were written before its process was ended
    assert hang["cause"] is None, hang  # it hung in its own code: SQLite's later calls are not the cause
    adaptations = next(s for s in doc["sections"] if s["id"] == "dropin-adaptations")
    assert {r[1] for r in adaptations["rows"]} == {"yes"}
    result.stdout.fnmatch_lines(["*drop-in: SQLite vs Turso*", "TURSO-ONLY *test_create_function*"])
    markdown = (user_project.path / "out" / "dropin.md").read_text(encoding="utf-8")
    assert "Pass on SQLite, fail on Turso" in markdown
    assert "test_app.py::test_create_function" in markdown


def test_raw_mode_reaches_pyturso_unadapted(user_project: pytest.Pytester) -> None:
    user_project.makepyfile(test_app="""
        import sqlite3

        def test_timeout_keyword(tmp_path):
            sqlite3.connect(str(tmp_path / "x.db"), timeout=1).close()
    """)
    result = user_project.runpytest_subprocess("--dropin=turso", "--dropin-raw", "--report-dir=out")
    assert result.ret == 1, result.stdout.str()
    rows, doc = _rows(user_project)
    turso = rows["test_timeout_keyword"]["turso"]
    assert turso["exc_type"] == "TypeError"
    assert "timeout" in turso["message"]
    adaptations = next(s for s in doc["sections"] if s["id"] == "dropin-adaptations")
    assert {r[1] for r in adaptations["rows"]} == {"no"}
    # the same suite with the adaptations on: timeout= becomes a busy timeout and the test passes
    result = user_project.runpytest_subprocess("--dropin=turso", "--report-dir=out")
    assert result.ret == 0, result.stdout.str()


def test_suite_that_does_not_import_is_refused_before_any_test(user_project: pytest.Pytester) -> None:
    user_project.makepyfile(test_broken="import no_such_module_anywhere\n\ndef test_x():\n    pass\n")
    result = user_project.runpytest_subprocess("--dropin=turso", "--report-dir=out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the suite does not import on SQLite (test_broken.py: *No module named "
                                 "'no_such_module_anywhere')*--ignore*"])
    assert not list((user_project.path / "out").glob("*.*"))  # the folder is checked, nothing written


def test_bad_timeout_is_a_usage_error(user_project: pytest.Pytester) -> None:
    result = user_project.runpytest_subprocess("--dropin=turso", "--dropin-timeout=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--dropin-timeout must be a positive number of seconds*"])


# --- routing, in this process ------------------------------------------------------------------------


@pytest.fixture
def early_module() -> types.ModuleType:
    """A module that did `from sqlite3 import connect, IntegrityError` before any routing."""
    module = types.ModuleType("dropin_early_user_module")
    exec("from sqlite3 import connect, IntegrityError", module.__dict__)
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def test_routing_reaches_turso_and_undoes_everything(early_module: types.ModuleType) -> None:
    import turso

    std_connect, std_error = sqlite3.connect, sqlite3.IntegrityError
    routing = Routing().install()
    try:
        conn = sqlite3.connect(":memory:")
        assert type(conn).__module__ == "turso.lib"
        assert type(early_module.connect(":memory:")).__module__ == "turso.lib"  # the early import too
        assert early_module.IntegrityError is turso.IntegrityError is sqlite3.dbapi2.IntegrityError
        assert conn.execute("PRAGMA busy_timeout").fetchall() == [(5000,)]  # sqlite3's default timeout
        conn.row_factory = sqlite3.Row  # sqlite3.Row is turso.Row while routed: accepted
        assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1
        with pytest.raises(MissingFeatureError, match=r"sqlite3\.register_converter is not provided"):
            sqlite3.register_converter("x", bytes)
    finally:
        routing.uninstall()
    assert sqlite3.connect is std_connect
    assert early_module.connect is std_connect
    assert early_module.IntegrityError is std_error
    assert type(sqlite3.connect(":memory:")) is sqlite3.Connection


def test_raw_routing_is_turso_connect_itself() -> None:
    import turso

    routing = Routing(adapt=False).install()
    try:
        assert sqlite3.connect is turso.connect
        with pytest.raises(TypeError, match="timeout"):
            sqlite3.connect(":memory:", timeout=1)
    finally:
        routing.uninstall()


def test_aiosqlite_routes_to_turso_aio() -> None:
    import aiosqlite

    async def main() -> tuple[str, list]:
        async with aiosqlite.connect(":memory:") as db:
            cur = await db.execute("SELECT 6 * 7")
            return type(db).__module__, await cur.fetchall()

    routing = Routing().install()
    try:
        module, rows = asyncio.run(main())
    finally:
        routing.uninstall()
    assert module == "turso.lib_aio"
    assert [tuple(r) for r in rows] == [(42,)]
    assert aiosqlite.connect.__module__ == "aiosqlite.core"


def test_sqlalchemy_urls_route_to_pyturso_dialects() -> None:
    sa = pytest.importorskip("sqlalchemy")
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    routing = Routing().install()
    try:
        engine = sa.create_engine("sqlite://")
        assert type(engine.dialect).__mro__[1].__name__ == "TursoDialect"
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
            assert type(conn.connection.dbapi_connection).__module__ == "turso.lib"
        with pytest.raises(RoutingError, match=r"sqlite\+pysqlcipher.*cannot be routed"):
            sa.create_engine("sqlite+pysqlcipher://")
        # Flask-SQLAlchemy's connect_args for SQLite: turso.connect() would refuse check_same_thread
        threaded = sa.create_engine("sqlite://", connect_args={"check_same_thread": False})
        with threaded.connect() as conn:
            assert conn.execute(sa.text("SELECT 2")).scalar() == 2
    finally:
        routing.uninstall()
    raw = Routing(adapt=False).install()
    try:  # pyturso as it is: the keyword is refused, as on a real move
        with pytest.raises(TypeError, match="check_same_thread"):
            sa.create_engine("sqlite://", connect_args={"check_same_thread": False}).connect()
    finally:
        raw.uninstall()
    assert type(sa.create_engine("sqlite://").dialect) is SQLiteDialect_pysqlite


# --- matching ----------------------------------------------------------------------------------------


def _registry() -> Registry:
    src = Source("harness", "discovery")
    return Registry([
        Entry("smoke.no-create-function", "smoke", ("smoke.x",), "Connection.create_function is missing",
              src, "pyturso's Connection has no create_function", {"turso": {"error": "AttributeError"}}),
        Entry("smoke.locked", "smoke", ("smoke.y",), "Busy timeout defaults to zero", src,
              "a second writer fails at once", {"turso": {"error": "SERIALIZATION_FAILURE"}}),
    ])


def test_missing_feature_errors_name_the_registry_entries() -> None:
    registry = _registry()
    assert entry_lookup(registry)("create_function") == ["smoke.no-create-function"]
    assert entry_lookup(registry)("blobopen") == []


def test_project_has_no_harness_imports(user_project: pytest.Pytester) -> None:
    text = "".join(p.read_text() for p in Path(user_project.path).glob("*.py"))
    assert "harness" not in textwrap.dedent(text)


def test_engine_named_ids_are_one_test() -> None:
    from stc_harness.dropin.section import engine_free_id

    sqlite_id = "test_suite.py::BinaryTest_sqlite+pysqlite_3_40_1::test_pickle_roundtrip"
    turso_id = "test_suite.py::BinaryTest_sqlite+turso_3_50_4::test_pickle_roundtrip"
    other = "test_suite.py::BinaryTest::test_other"
    assert engine_free_id(sqlite_id) == engine_free_id(turso_id) != engine_free_id(other)


def test_client_library_that_cannot_be_routed_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sqlalchemy")
    monkeypatch.setitem(sys.modules, "turso.sqlalchemy", None)  # as if pyturso's dialects failed to import
    routing = Routing()
    with pytest.raises(RoutingError, match=r"pip install 'sqlalchemy>=2\.0\.45,<2\.2'"):
        routing.install()
    assert type(sqlite3.connect(":memory:")) is sqlite3.Connection  # undone by the failed install


def test_child_command_line_drops_the_parent_options(tmp_path: Path) -> None:
    from stc_harness.dropin.runner import child_args

    args = child_args(["tests", "--dropin", "turso", "-x", "--dropin=turso", "--dropin-raw"], "turso",
                      tmp_path, 2, 5.0, raw=False)
    # -x withheld (every test must run on both engines); both draw the same Hypothesis examples
    assert args[:3] == ["tests", "--hypothesis-seed=0", "--tb=native"]
    assert not any(a.startswith("--dropin=") or a in ("--dropin", "--dropin-raw") for a in args)
    assert f"--dropin-fault={tmp_path / 'turso.fault2'}" in args
    assert "--tb=native" not in child_args(["--tb=short"], "sqlite", tmp_path, 1, 5.0, raw=True)
    # pytest's cache stays on (an ini file's addopts may use --failed-first), one folder per engine
    assert args[-2:] == ["-o", f"cache_dir={tmp_path / 'turso.cache'}"]
    assert "-o" not in child_args(["-p", "no:cacheprovider"], "sqlite", tmp_path, 1, 5.0, raw=False)


def test_a_suite_whose_ini_options_need_pytests_cache_runs_on_both(user_project: pytest.Pytester) -> None:
    """coverage.py's own suite has `--failed-first` in its addopts: the children must accept it."""
    user_project.makeini("[pytest]\naddopts = --failed-first\n")
    result = user_project.runpytest_subprocess("--dropin=turso", "--report-dir=out")
    assert "could start" not in result.stdout.str(), result.stdout.str()
    rows, _ = _rows(user_project)
    assert rows, result.stdout.str()
    assert all(r["sqlite"]["outcome"] != "not-run" for r in rows.values()), rows


def test_an_engine_run_that_ends_early_fails_its_tests_loudly(user_project: pytest.Pytester) -> None:
    user_project.makeconftest("""
        import sqlite3

        def pytest_sessionstart(session):
            if type(sqlite3.connect(":memory:")).__module__.startswith("turso"):
                raise RuntimeError("cannot start on this engine")
    """)
    user_project.makepyfile(test_app="def test_one():\n    pass\n")
    result = user_project.runpytest_subprocess("--dropin=turso", "--report-dir=out")
    assert result.ret == 1, result.stdout.str()
    rows, doc = _rows(user_project)
    turso = rows["test_one"]["turso"]
    assert turso["outcome"] == "not-run"
    assert "cannot start on this engine" in turso["message"]
    assert rows["test_one"]["category"] == "did-not-run-on-both"  # never "the same"
    assert "WARNING: 1 tests did not run on both engines" in doc["sections"][0]["intro"]
    assert "The turso run ended early" in doc["sections"][0]["intro"]
