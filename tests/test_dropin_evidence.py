"""Drop-in by evidence: traces, their alignment, causes by structure, the control run, the command form."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import clear_xdist_env
from stc_harness.differences import Entry, Registry, builtin_folder, load_registry
from stc_harness.dropin.align import align
from stc_harness.dropin.blame import blame
from stc_harness.dropin.causes import LIKELY, PROVEN, UNKNOWN, Evidence, Knowledge
from stc_harness.dropin.evidence import build, divergences_of
from stc_harness.dropin.explain import Traces, evidence
from stc_harness.dropin.grading import refresh, substance
from stc_harness.dropin.repro import repro
from stc_harness.dropin.routing import Routing
from stc_harness.dropin.section import cause_text
from stc_harness.dropin.signature import Signature, context_of
from stc_harness.dropin.sqlshape import sql_features, statement_kind
from stc_harness.dropin.trace import TRACER, clean_text, render
from stc_harness.dropin.tracing import Tracing
from stc_harness.dropin.values import differing_cells, value_kind
from stc_harness.side_runs import side_run
from stc_harness.sources import Source


def ev(name: str, args: str = "", kind: str = "ok", outcome: str = "None",
       where: str = "t.py:1") -> list[str]:
    return [name, args, kind, outcome, where]


# --- normalisation -----------------------------------------------------------------------------------


def test_run_dependent_parts_are_normalised_and_the_rest_kept() -> None:
    assert clean_text("/tmp/pytest-of-root/pytest-12/test_a0/db.sqlite") == "<tmp>/test_a0/db.sqlite"
    assert clean_text("<object at 0x7f00deadbeef>") == "<object at 0x?>"
    assert clean_text("id 123e4567-e89b-42d3-a456-426614174000") == "id <uuid>"
    import datetime as dt

    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    assert clean_text(f"at {now}") == "at <now>"
    assert clean_text("2001-02-03 04:05:06") == "2001-02-03 04:05:06"  # a fixed date is data, kept
    assert render([(1, 1.0, "1", b"\x01", None)]) == "[(1, 1.0, '1', bytes(01, len 1), None)]"
    assert render((1, "x"), shape_only=True) == "(<int>, <str>)"


# --- alignment ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sqlite", "turso", "kind"), [
    ("[(1,)]", "[(1.0,)]", "int-vs-real"),
    ("[('Abc',)]", "[('abc',)]", "case-folded"),
    ("[('CapT table',)]", "[('capt table',)]", "case-folded"),  # a name with a space, lower-cased whole
    ("[('CREATE VIEW v as select 1',)]", "[('CREATE VIEW v AS SELECT 1',)]", "text-case"),
    ("[('VARCHAR(30)',)]", "[('VARCHAR',)]", "type-arguments-lost"),
    ("[(1,), (2,)]", "[(2,), (1,)]", "row-order"),
    ("[(1,), (2,)]", "[(1,)]", "row-count"),
    ("[('1.5',)]", "[(1.5,)]", "type-str-vs-float"),
    ("[(None,)]", "[(3,)]", "null-vs-value"),
    ("[(0.30000000000000004,)]", "[(0.3,)]", "float-precision"),
    ("""[('"abc"',)]""", """[("'abc'",)]""", "quote-style"),
    ("[('1+2',)]", "[('(1 + 2)',)]", "parenthesised"),
    ("[('abc',)]", "[('abd',)]", "text-value"),
    ("""[('CREATE TABLE "t" (\\n   "a" INTEGER\\n)',)]""", """[('CREATE TABLE "t" ("a" INTEGER)',)]""",
     "whitespace-collapsed"),
    ("[('CHARACTER(70)',)]", "[('CHARACTER (70)',)]", "whitespace-added"),
    ("""[('CREATE TABLE "q" ("id")',)]""", """[('CREATE TABLE q ("id")',)]""", "requoted"),
    ("[('CREATE VIEW v as select f()',)]", "[('CREATE VIEW v AS SELECT f ()',)]", "case-and-spacing"),
])
def test_value_differences_are_named_by_kind(sqlite: str, turso: str, kind: str) -> None:
    assert value_kind(sqlite, turso) == kind


def test_the_first_divergent_call_and_every_later_one_in_order() -> None:
    common = [ev("sqlite3.connect", "':memory:'", outcome="<Connection>"),
              ev("Connection.execute", "'create table t(a)'", outcome="<Cursor>")]
    sqlite = [*common, ev("Connection.create_function", "'f', 1, <callable>"),
              ev("Connection.execute", "'select f(1)'", outcome="<Cursor>"),
              ev("Cursor.fetchone", "of 'select f(1)'", outcome="(2,)", where="t.py:9")]
    turso = [*common, ev("Connection.create_function", "'f', 1, <callable>", "inert", "made inert"),
             ev("Connection.execute", "'select f(1)'", "raise", "DatabaseError: no such function: f")]
    found = align(sqlite, turso)
    assert [(d.call, d.kind) for d in found] == [("Connection.create_function", "missing-name"),
                                                 ("Connection.execute", "error-appears")]
    # the fetch SQLite went on to make is a consequence of the error, not a new divergence
    assert blame(found) is found[0]
    assert found[0].missing_name == "create_function"


def test_identical_traces_do_not_diverge_and_a_probe_is_minor() -> None:
    trace = [ev("sqlite3.connect", "':memory:'"), ev("Cursor.fetchall", "of 'select 1'", outcome="[(1,)]")]
    assert align(trace, list(trace)) == []
    probed = [trace[0], ev("Connection.total_changes", "", "missing", "AttributeError"), trace[1]]
    (probe,) = align(trace, probed)
    assert (probe.kind, probe.severity) == ("missing-name", "minor")


def test_a_mutant_driver_is_caught_by_its_trace(tmp_path: Path) -> None:
    """A wrapper driver with one deviation (lastrowid None after INSERT) shows as that divergence."""

    class AppCursor(sqlite3.Cursor):
        pass

    class Mutant(sqlite3.Cursor):
        @property
        def lastrowid(self) -> Any:
            return None

    Mutant.__name__ = "AppCursor"  # the same factory name on both sides: only the behaviour differs

    def app(conn: sqlite3.Connection, mutant: bool) -> None:
        conn.execute("create table t(a integer primary key, b)")
        cur = conn.cursor(Mutant if mutant else AppCursor)
        cur.execute("insert into t(b) values (?)", ("x",))
        assert cur.lastrowid in (1, None)

    def traced(mutant: bool) -> list[list[str]]:
        tracing = Tracing("sqlite").install()
        try:
            TRACER.take()
            app(sqlite3.connect(":memory:"), mutant)
            return TRACER.take()[0]
        finally:
            tracing.uninstall()

    plain, broken = traced(False), traced(True)
    (d,) = align(plain, broken)
    assert (d.call, d.kind, d.sqlite, d.turso) == ("Cursor.lastrowid", "null-vs-value", "→ 1", "→ None")
    assert sqlite3.connect is sqlite3.dbapi2.connect  # uninstalled: the stdlib's own function again


# --- tracing both engines in this process --------------------------------------------------------------


def _app(module: Any) -> None:
    conn = module.connect(":memory:")
    conn.execute("create table t(a integer primary key, b text)")
    cur = conn.execute("insert into t(b) values (?)", ("x",))
    assert cur.lastrowid == 1
    assert conn.execute("select b from t").fetchall() == [("x",)]
    conn.create_function("f", 1, lambda v: v)


def test_both_engines_trace_the_same_calls_under_the_same_names() -> None:
    traces = {}
    for engine in ("sqlite", "turso"):
        routing = Routing(lazy=True).install() if engine == "turso" else None
        tracing = Tracing(engine).install()
        try:
            TRACER.take()
            _app(sqlite3)
            traces[engine] = TRACER.take()[0]
        finally:
            tracing.uninstall()
            if routing is not None:
                routing.uninstall()
    names = [e[0] for e in traces["sqlite"]]
    assert names == [e[0] for e in traces["turso"]]
    assert names[:4] == ["sqlite3.connect", "Connection.execute", "Connection.execute", "Cursor.lastrowid"]
    (d,) = align(traces["sqlite"], traces["turso"])  # only the create_function Turso lacks
    assert (d.call, d.kind) == ("Connection.create_function", "missing-name")
    assert type(sqlite3.connect(":memory:")) is sqlite3.Connection


# --- causes by structure -------------------------------------------------------------------------------


def _knowledge() -> Knowledge:
    src = Source("m", "s")
    registry = Registry([
        # another backend's own entry on the same check, listed first: never a cause of Turso's divergence
        Entry("statements.libsql-or-fail", "statements", ("statements.conflict[or_fail]",),
              "libSQL: INSERT OR FAIL", src, "r", {"libsql": {}}, "x.toml", "different-error", "turso"),
        Entry("driver_surface.connection-methods-missing", "driver_surface",
              ("driver_surface.connection_attribute[create_function]",), "Connection lacks create_function",
              src, "r", {"turso": {"present": False}}, "x.toml", "missing-api", "turso"),
        Entry("statements.or-fail-class", "statements", ("statements.conflict[or_fail]",),
              "INSERT OR FAIL raises another class", src, "r", {"turso": {}}, "x.toml", "different-error",
              "turso"),
    ])
    checks = [{"id": "driver_surface.connection_attribute[create_function]", "title": "t",
               "results": {"turso": {"outcome": "documented-difference"}},
               "entry": {"id": "driver_surface.connection-methods-missing"}}]
    sig = Signature("execute", "error-class", ("IntegrityError", "DatabaseError"), "insert",
                    frozenset({"fail"}))
    json_sig = Signature("fetch", "text-value", ("", ""), "select", frozenset({"fn:json_extract"}))
    evidence = [Evidence("statements.conflict[or_fail]", "statements.or-fail-class", sig, "execute",
                         "raised IntegrityError: UNIQUE constraint failed: t.a",
                         "raised DatabaseError: UNIQUE constraint failed: t.a"),
                Evidence("statements.json_path[a]", "statements.or-fail-class", json_sig, "fetch",
                         "→ [('1',)]", "→ [('2',)]")]
    return Knowledge(registry, checks, evidence)


def test_causes_are_proven_likely_or_drafted_by_structure() -> None:
    knowledge = _knowledge()
    trace_s = [ev("Connection.create_function", "'f', 1, <callable>")]
    trace_t = [ev("Connection.create_function", "'f', 1, <callable>", "inert", "made inert")]
    (missing,) = align(trace_s, trace_t)
    found = knowledge.explain(missing)
    assert (found.confidence, found.entry) == (PROVEN, "driver_surface.connection-methods-missing")

    def conflict(sql: str) -> Any:
        (d,) = align([ev("Cursor.execute", sql, "raise", "IntegrityError: UNIQUE constraint failed")],
                     [ev("Cursor.execute", sql, "raise", "DatabaseError: UNIQUE constraint failed")])
        return knowledge.explain(d)

    or_fail = conflict("'INSERT OR FAIL INTO items(name) VALUES (?)', ('a',)")
    assert (or_fail.confidence, or_fail.entry) == (PROVEN, "statements.or-fail-class")
    # an error-class difference: the kind of error decides (the same UNIQUE violation in an UPDATE)
    assert conflict("'UPDATE OR FAIL items SET name = ?', ('a',)").confidence == PROVEN
    (d,) = align([ev("Cursor.execute", "'UPDATE items SET n = ?', (None,)", "raise",
                     "IntegrityError: NOT NULL constraint failed: items.n")],
                 [ev("Cursor.execute", "'UPDATE items SET n = ?', (None,)", "raise",
                     "DatabaseError: NOT NULL constraint failed: items.n")])
    other = knowledge.explain(d)  # another kind of error: no check shows that one
    assert other.confidence == UNKNOWN
    assert other.draft["impact"] == "different-error"
    assert other.ref.startswith("dropin.execute-update")
    (v,) = align([ev("Cursor.fetchall", "of 'SELECT upper(json_extract(?, ?))'", outcome="[('a',)]")],
                 [ev("Cursor.fetchall", "of 'SELECT upper(json_extract(?, ?))'", outcome="[('b',)]")])
    likely = knowledge.explain(v)  # half the statement's features: a likely match
    assert (likely.confidence, likely.check) == (LIKELY, "statements.json_path[a]")
    # words of the message never decide: the same message with no structural match stays unknown
    assert knowledge.explain(align([ev("x.y")], [ev("x.y", outcome="1")])[0],
                             frozenset({"fail", "items"})).confidence == UNKNOWN


def _table_info(sqlite: str, turso: str, where: str = "t.py:5") -> Any:
    (d,) = align([ev("Cursor.fetchall", "of 'PRAGMA table_info(\"t\")'", outcome=sqlite, where=where)],
                 [ev("Cursor.fetchall", "of 'PRAGMA table_info(\"t\")'", outcome=turso, where=where)])
    return d


def test_a_cause_must_show_the_same_cells_of_a_row_differing_the_same_way() -> None:
    """A case-folded default (column 4) is not the case-folded declared type (column 2) of the same PRAGMA."""
    type_case = _table_info("[(0, 'a', 'INTEGER', 0, None, 0)]", "[(0, 'a', 'integer', 0, None, 0)]")
    default_case = _table_info("[(0, 'a', 'INTEGER', 0, 'true', 0)]", "[(0, 'a', 'INTEGER', 0, 'TRUE', 0)]")
    assert differing_cells(type_case.sqlite[2:], type_case.turso[2:]) == {2}
    assert Signature.of(default_case).cells == {4}
    registry = Registry({})
    knows_type_case = Knowledge(registry, evidence=[
        Evidence("schema.read_back[type]", "", Signature.of(type_case), "fetch", type_case.sqlite,
                 type_case.turso)])
    assert knows_type_case.explain(type_case).confidence == PROVEN
    assert knows_type_case.explain(default_case).confidence == UNKNOWN
    quoted = _table_info("""[(0, 'a', 'TEXT', 0, '"x"', 0)]""", """[(0, 'a', 'TEXT', 0, "'x'", 0)]""")
    bracketed = _table_info("[(0, 'a', 'TEXT', 0, '5', 0)]", "[(0, 'a', 'TEXT', 0, '(5)', 0)]")
    assert (quoted.kind, bracketed.kind) == ("quote-style", "parenthesised")


def test_of_two_checks_showing_one_divergence_the_one_whose_earlier_statements_the_code_made_wins() -> None:
    def journal(check: str, before: list[list[str]]) -> Evidence:
        read = ev("fetch", "of 'PRAGMA journal_mode'", outcome="[('delete',)]")
        (d,) = align([*before, read], [*before, [*read[:3], "[('wal',)]", read[4]]])
        return Evidence(check, "", Signature.of(d), "fetch", d.sqlite, d.turso,
                        context_of([*before, read], d.position))

    set_then_read = journal("timing.journal_mode_set_then_read",
                            [ev("execute", "'PRAGMA journal_mode = DELETE'")])
    new_file = journal("transactions.default_journal_mode", [ev("execute", "'CREATE TABLE t(a)'")])
    assert set_then_read.context == {"pragma", "pragma:journal_mode"}
    # the same call and kind of difference, but to another value ('mvcc', not 'wal'): a worse fit
    mvcc = replace(new_file, check="mvcc.journal_mode_switch_back", turso="→ [('mvcc',)]")
    knowledge = Knowledge(Registry({}), evidence=[mvcc, set_then_read, new_file])
    execute = ev("Cursor.execute", "'PRAGMA journal_mode;'", outcome="<Cursor>")
    (user,) = align([execute, ev("Cursor.fetchone", "of 'PRAGMA journal_mode;'", outcome="('delete',)")],
                    [execute, ev("Cursor.fetchone", "of 'PRAGMA journal_mode;'", outcome="('wal',)")])
    # the statement a fetch reads is not its context
    assert context_of([execute, ev("Cursor.fetchone", "of 'PRAGMA journal_mode;'")], 1) == frozenset()
    assert knowledge.explain(user).check == "transactions.default_journal_mode"
    after_set = knowledge.explain(user, context=frozenset({"pragma", "pragma:journal_mode"}))
    assert after_set.confidence == PROVEN  # both fit: the order of the evidence decides, not the context


def test_words_of_the_message_break_a_tie_between_two_cases_of_one_check() -> None:
    def default(word: str) -> Evidence:
        d = _table_info(f"[(0, 'a', 'TEXT', 0, '{word}', 0)]", f"[(0, 'a', 'TEXT', 0, '{word.upper()}', 0)]")
        return Evidence(f"schema.default_read_back[{word}_keyword]", "", Signature.of(d), "fetch", "", "")

    knowledge = Knowledge(Registry({}), evidence=[default("false"), default("true")])
    user = _table_info("[(0, 'c', 'INTEGER', 0, 'true', 0)]", "[(0, 'c', 'INTEGER', 0, 'TRUE', 0)]")
    found = knowledge.explain(user, frozenset({"true", "assert"}))
    assert (found.confidence, found.check) == (PROVEN, "schema.default_read_back[true_keyword]")


def test_an_error_the_taxonomy_has_no_kind_for_matches_by_its_message_with_names_taken_out() -> None:
    def exists(sql: str, obj: str) -> Any:
        turso = f"DatabaseError: Parse error: {obj} already exists"
        (d,) = align([ev("Cursor.execute", sql, "raise", f"OperationalError: {obj} already exists")],
                     [ev("Cursor.execute", sql, "raise", turso)])
        return d

    table = exists("'CREATE TABLE parent (x)'", "table parent")
    knowledge = Knowledge(Registry({}), evidence=[
        Evidence("errors.discovered_class[already_exists]", "", Signature.of(table), "execute", table.sqlite,
                 table.turso)])
    found = knowledge.explain(exists("'CREATE VIEW \"bar\" AS select 1'", 'view "bar"'))
    assert (found.confidence, found.check) == (PROVEN, "errors.discovered_class[already_exists]")
    locked = replace(exists("'CREATE VIEW v AS select 1'", "view v"),
                     turso="raised DatabaseError: Parse error: view v is locked")
    assert knowledge.explain(locked).confidence == UNKNOWN  # another message: no match


def test_a_table_only_turso_cannot_see_is_proven_only_by_a_check_about_the_same_statement() -> None:
    """A check whose `pragma_collation_list` is missing on Turso says nothing of an application's own table
    that Turso's connection cannot see (dataset's streamed query on another in-memory connection)."""
    def missing(sql: str, table: str) -> Any:
        error = f"DatabaseError: Parse error: no such table: {table}"
        (d,) = align([ev("Cursor.execute", sql, outcome="<Cursor>")],
                     [ev("Cursor.execute", sql, "raise", error)])
        return d

    pragma = missing("'SELECT count(*) >= 3 FROM pragma_collation_list'", "pragma_collation_list")
    trigger = missing("'INSERT INTO v VALUES (1)'", "v")
    knowledge = Knowledge(Registry({}), evidence=[
        Evidence("pragmas.pragma[collation_list]", "", Signature.of(pragma), "execute", pragma.sqlite,
                 pragma.turso),
        Evidence("compat.row[statements-create_trigger_instead_of]", "", Signature.of(trigger), "execute",
                 trigger.sqlite, trigger.turso)])
    user = missing("'SELECT weather.id FROM weather WHERE weather.place = ?'", "weather")
    assert knowledge.explain(user).confidence == UNKNOWN
    same_function = missing("'SELECT count(*) > 0 FROM pragma_collation_list'", "pragma_collation_list")
    assert knowledge.explain(same_function).check == "pragmas.pragma[collation_list]"


def test_a_call_only_turso_made_is_blamed_on_the_value_that_sent_it_there() -> None:
    """`exists()` read a lower-cased table name, so the code created the table again: Turso refused it."""
    listing = ev("Cursor.fetchall", "of 'select name from sqlite_master'", outcome="[('Species',)]")
    sqlite = [listing, ev("Connection.execute", "'PRAGMA table_info(\"Species\")'", outcome="<Cursor>")]
    turso = [[*listing[:3], "[('species',)]", listing[4]],
             ev("Connection.execute", "'CREATE TABLE \"Species\" (id)'", "raise",
                'DatabaseError: Parse error: table "Species" already exists')]
    found = align(sqlite, turso)
    failure = {"message": 'Parse error: table "Species" already exists', "exc_type": "DatabaseError"}
    assert blame(found, failure) is found[0]
    assert found[0].kind == "case-folded"


def test_a_runner_that_imports_every_module_first_charges_each_import_to_its_own_module() -> None:
    """unittest imports every test module before the first test: module A's walls are not module B's."""
    def made_at(origin: str) -> Any:
        (d,) = align([[*ev("Connection.create_function", "'f', 1, <callable>"), origin]],
                     [[*ev("Connection.create_function", "'f', 1, <callable>", "inert", "inert"), origin]])
        return d

    a, b, helper = (made_at("pkg/tests/test_a.py:3"), made_at("pkg/tests/test_b.py:3"),
                    made_at("pkg/tests/helpers.py:9"))
    traces = Traces({}, {}, {"<conftest>": [a, b, helper]})
    assert traces.import_divergences("pkg.tests.test_b.Case.test_x") == [b, helper]
    assert traces.import_divergences("pkg/tests/test_a.py::test_y") == [a, helper]


def test_sql_shape_strips_literals_and_names() -> None:
    sql = "INSERT OR FAIL INTO \"T\"(a) VALUES ('x', json_extract(?, '$.a')) RETURNING id"
    assert statement_kind(sql) == "insert"
    assert sql_features(sql) == frozenset({"fail", "fn:json_extract", "returning"})
    assert statement_kind("PRAGMA main.table_info(t)") == "pragma table_info"
    assert statement_kind("create temp table t(a)") == "create table"


def test_a_repro_replays_the_setup_then_the_divergent_call() -> None:
    events = [ev("sqlite3.connect", "':memory:'"), ev("Connection.execute", "'create table t(a)'"),
              ev("Connection.execute", "'select 1'"), ev("Connection.execute", "'insert into t values (1)'"),
              ev("Cursor.fetchone", "of 'select a from t'", outcome="(1.0,)")]
    (d,) = align([*events[:4], ev("Cursor.fetchone", "of 'select a from t'", outcome="(1,)")], events)
    text = repro(events, d)
    assert "conn.execute('create table t(a)')" in text
    assert "select 1" not in text
    assert text.splitlines()[-1].startswith("print(conn.execute('select a from t').fetchall())")
    exec(compile(text, "repro", "exec"), {})  # it runs


# --- the drop-in, end to end ---------------------------------------------------------------------------


SUITE = """\
import random, sqlite3, pytest

def test_volatile(tmp_path):
    conn = sqlite3.connect(str(tmp_path / "a.db"))
    conn.execute("create table t(id integer primary key, at default current_timestamp, r)")
    conn.execute("insert into t(r) values (?)", (random.random(),))
    assert conn.execute("select count(*), datetime('now') is not null, random() from t").fetchone()[0] == 1

def test_first(db):
    assert db.execute("select 1").fetchone() == (1,)

def test_second(db):
    assert db.execute("select 2").fetchone() == (2,)

@pytest.mark.skipif(type(sqlite3.connect(":memory:")).__module__.startswith("turso"), reason="one side")
def test_skipped_on_turso_only():
    pass
"""


def _dropin_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest("import sqlite3, pytest\n\n@pytest.fixture\ndef db():\n"
                          "    yield sqlite3.connect(':memory:')\n")
    pytester.makepyfile(test_app=SUITE)
    return pytester


def test_control_run_shows_no_divergence_and_one_sided_skips_are_not_the_same(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _dropin_project(pytester, monkeypatch)
    result = project.runpytest_subprocess("--dropin=turso", "--dropin-control", "--maxfail=1", "-x",
                                          "--report-dir=out")
    doc = json.loads((project.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    rows = {r["nodeid"].split("::")[-1]: r for r in doc["dropin"]["tests"]}
    assert not [r["control_divergence"] for r in rows.values() if "control_divergence" in r]  # normalised
    assert "CONTROL RUN (SQLite on both sides): 0 tests show a divergence" in doc["sections"][0]["intro"]
    assert "Not passed to the engines' runs: --maxfail=1 -x" in doc["sections"][0]["intro"]
    assert result.ret == 0, result.stdout.str()
    # the real run: the test skipped on Turso only did not run on both and is not "the same"
    result = project.runpytest_subprocess("--dropin=turso", "--report-dir=out")
    doc = json.loads((project.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    rows = {r["nodeid"].split("::")[-1]: r for r in doc["dropin"]["tests"]}
    assert rows["test_skipped_on_turso_only"]["category"] == "did-not-run-on-both"
    assert {rows[n]["category"] for n in ("test_first", "test_second", "test_volatile")} == {"same"}
    assert "WARNING: 1 tests did not run on both engines" in doc["sections"][0]["intro"]
    assert result.ret == 1


UNITTESTS = """\
import sqlite3, unittest

sqlite3.register_adapter(complex, str)


class AppTest(unittest.TestCase):
    def test_plain(self):
        self.assertEqual(sqlite3.connect(":memory:").execute("select 1").fetchone(), (1,))

    def test_adapter(self):
        conn = sqlite3.connect(":memory:")
        conn.execute("create table c(z)")
        conn.execute("insert into c values (?)", (1 + 2j,))
        conn.create_function("twice", 1, lambda v: v * 2)
        self.assertEqual(conn.execute("select twice(z) from c").fetchone(), ("(1+2j)(1+2j)",))


class SharedConnection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = sqlite3.connect(":memory:")
        cls.conn.set_trace_callback(None)

    def test_first(self):
        self.assertEqual(self.conn.execute("select 1").fetchone(), (1,))

    def test_second(self):
        self.assertEqual(self.conn.execute("select 1").fetchone(), (1,))

"""


#: A connection opened by the first test, with a call Turso lacks, and reused by the next.
LAZY = """\
import sqlite3, unittest
class LazyConnection(unittest.TestCase):
    conn = None

    def setUp(self):  # the first test opens the connection the later ones reuse
        if LazyConnection.conn is None:
            LazyConnection.conn = sqlite3.connect(":memory:")
            LazyConnection.conn.create_function("twice", 1, lambda v: v * 2)

    def test_a_opens_it(self):
        self.assertEqual(self.conn.execute("select 1").fetchone(), (1,))

    def test_b_reads_a_declared_type(self):
        self.conn.execute("create table typed(a integer)")
        self.assertEqual(self.conn.execute("pragma table_info(typed)").fetchone()[2], "INTEGER")
"""


#: Imported first, and its class set-up fails before any test starts: still every module's import is
#: discovery, and this module's own wall is charged to its tests only.
EARLY = """\
import sqlite3, unittest

sqlite3.connect(":memory:").create_function("g", 1, abs)


class Early(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise RuntimeError("set-up fails on both engines")

    def test_never(self):
        pass
"""


def test_the_command_form_runs_a_unittest_suite_through_its_own_runner(tmp_path: Path) -> None:
    (tmp_path / "test_units.py").write_text(UNITTESTS, encoding="utf-8")
    (tmp_path / "test_early.py").write_text(EARLY, encoding="utf-8")
    (tmp_path / "test_lazy.py").write_text(LAZY, encoding="utf-8")
    (tmp_path / "runtests.py").write_text(textwrap.dedent("""\
        import sys, unittest
        suite = unittest.defaultTestLoader.discover(".", pattern="test_*.py")
        sys.exit(not unittest.TextTestRunner().run(suite).wasSuccessful())
    """), encoding="utf-8")
    cmd = [sys.executable, "-m", "stc_harness", "dropin", "--report-dir", "out", "--", sys.executable,
           "runtests.py"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads((tmp_path / "out" / "dropin.json").read_text(encoding="utf-8"))
    rows = {r["nodeid"]: r for r in doc["dropin"]["tests"]}
    assert rows["test_units.AppTest.test_plain"]["category"] == "same-with-adaptations"  # the inert adapter
    adapter = rows["test_units.AppTest.test_adapter"]
    assert adapter["category"] == "turso-only"
    cause = adapter["evidence"]["divergences"][adapter["evidence"]["cause"]]
    assert (cause["call"], cause["kind"], cause["where"]) == ("sqlite3.register_adapter", "missing-name",
                                                              "test_units.py:3")  # at import: the first wall
    calls = [d["call"] for d in adapter["evidence"]["divergences"]]
    assert calls[:2] == ["sqlite3.register_adapter", "Connection.create_function"]  # and what breaks next
    assert "TURSO-ONLY test_units.AppTest.test_adapter" in proc.stdout
    # a connection opened in an earlier test with a call Turso lacks: that call is this test's first wall
    lazy = rows["test_lazy.LazyConnection.test_b_reads_a_declared_type"]
    assert lazy["category"] == "turso-only"
    walls = [d for d in lazy["evidence"]["divergences"] if d["kind"] == "missing-name"]
    assert [(d["call"], d["args"]) for d in walls] == [
        ("Connection.create_function", "'twice', 1, <callable>")]
    cause = lazy["evidence"]["divergences"][lazy["evidence"]["cause"]]
    # shown where it was made (the first test's set-up), not where the later test used the connection
    assert (cause["call"], cause["where"]) == ("Connection.create_function", "test_lazy.py:8")
    assert "when this connection was set up, earlier in the run" in cause["turso"]
    # a class's set-up (one connection for all its tests) is every one of its tests' set-up
    for name in ("test_first", "test_second"):
        row = rows[f"test_units.SharedConnection.{name}"]
        assert row["category"] == "same-with-adaptations"
        # its module's and its class's adaptations, not those another module made at import
        assert set(row["adapted_by"]) == {"Connection.set_trace_callback", "sqlite3.register_adapter"}, name


def test_the_command_form_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "stc_harness", "dropin", "--report-dir", "out", "--", sys.executable, "-c",
           "pass"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert "reported no tests on either engine" in proc.stderr
    assert "--junit-xml" in proc.stderr
    assert (tmp_path / "out" / "dropin.json").exists()  # the report is written for what ran
    bad = subprocess.run([sys.executable, "-m", "stc_harness", "dropin", "--junit-xml", "--", "pytest"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert "{junit}" in bad.stderr


def test_the_drop_ins_own_missing_feature_errors_cite_entries_that_exist() -> None:
    source = (Path(__file__).resolve().parents[1] / "harness" / "dropin" / "connect.py").read_text("utf-8")
    cited = set(re.findall(r'"(driver_connect\.[\w-]+)"', source))
    assert len(cited) >= 3
    assert cited <= set(load_registry(builtin_folder()).entries)


def test_a_checks_evidence_is_its_own_run_not_the_reference_or_tracked_one(tmp_path: Path) -> None:
    """A differing check also runs the reference and the tracked SQLite: those calls are not traced."""
    root = Path(__file__).resolve().parents[1]
    suite = root / "suites" / "engine" / "test_migrations.py"
    cmd = [sys.executable, "-m", "pytest", str(suite), "-q", "-n", "0",
           "-p", "no:randomly", "-p", "no:cacheprovider", "-k", "schema_text_verbatim and after_rename",
           "--backend=sqlite", "--backend=turso", f"--report-dir={tmp_path / 'report'}",
           f"--dropin-evidence={tmp_path / 'traces'}"]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:]
    report = json.loads((tmp_path / "report" / "compatibility.json").read_text(encoding="utf-8"))
    doc = build(tmp_path / "traces", report)
    (found,) = [e for e in doc["evidence"] if e["check"] == "migrations.schema_text_verbatim[after_rename]"]
    assert found["signature"][1] == "requoted"
    assert "CREATE TABLE q (" in found["turso"]


def test_a_check_whose_reference_made_no_traced_call_is_listed_not_aligned(tmp_path: Path) -> None:
    """The reference's test reused a baseline another test ran: an empty SQLite trace is not evidence that
    every Turso call diverged; it is listed, and the evidence command refuses a run with many of them."""
    (tmp_path / "traces").mkdir()
    call = ["Cursor.fetchall", "of 'SELECT 1'", "ok", "[(1,)]", "t.py:1"]
    lines = [f"s\t{json.dumps({'events': [], 'dropped': 0})}",
             f"t\t{json.dumps({'events': [call], 'dropped': 0})}"]
    (tmp_path / "traces" / "trace.gw0.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    turso = {"nodeid": "t", "outcome": "undocumented-difference"}
    report = {"checks": [{"id": "a.b", "results": {"sqlite": {"nodeid": "s"}, "turso": turso}}]}
    doc = build(tmp_path / "traces", report)
    assert doc["untraced_reference"] == ["a.b"]
    assert [e["signature"][1] for e in doc["evidence"]] == []  # a call Turso alone made proves nothing


def test_calls_made_in_a_side_run_are_not_traced() -> None:
    TRACER.take()
    TRACER.add("Connection.execute", "'select 1'", "ok", "<Cursor>", None)
    with side_run():  # the reference's or the tracked SQLite's run inside a Turso test
        TRACER.add("Connection.execute", "'select 2'", "ok", "<Cursor>", None)
    assert [e[1] for e in TRACER.take()[0]] == ["'select 1'"]


def test_a_grade_survives_rewording_but_not_another_cause() -> None:
    first = "Cursor.fetchall(of 'x') at ../a/site-packages/m/t.py:3: SQLite → 1; Turso → 2 [int-vs-real]"
    cause = "proven: e.one (a title cut here); check c diverges"
    line = {"confidence": "proven", "first": first, "cause": cause}
    reworded = {**line, "first": line["first"].replace("../a/", "../../b/"),
                "cause": "proven: e.one (a title cut …); check c diverges"}
    assert substance(reworded) == substance(line)
    assert substance({**line, "cause": "proven: e.two (a title); check d"}) != substance(line)


#: The second test blocks until the run is stopped; the first one finishes on both engines.
BLOCKING = """\
import pathlib, sqlite3, threading, unittest


class Blocking(unittest.TestCase):
    def test_a_finishes(self):
        self.assertEqual(sqlite3.connect(":memory:").execute("select 1").fetchone(), (1,))

    def test_b_blocks(self):
        module = sqlite3.connect(":memory:").__class__.__module__
        (pathlib.Path(MARKERS) / f"blocked.{module}").touch()  # each engine runs in a folder of its own
        threading.Event().wait()
"""


def test_sigterm_to_the_command_form_stops_both_engines_and_keeps_what_finished(tmp_path: Path) -> None:
    (tmp_path / "test_blocking.py").write_text(f"MARKERS = {str(tmp_path)!r}\n" + BLOCKING, encoding="utf-8")
    cmd = [sys.executable, "-m", "stc_harness", "dropin", "--report-dir", "out", "--", sys.executable, "-m",
           "unittest", "discover", "-s", ".", "-p", "test_blocking.py"]
    parent = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("blocked.*"))) < 2:  # both engines are inside the blocking test
            assert parent.poll() is None, parent.stdout.read()
            assert time.monotonic() < deadline, "the engines never reached the blocking test"
            time.sleep(0.05)
        parent.send_signal(signal.SIGTERM)
        out, _ = parent.communicate(timeout=120)
    finally:
        parent.kill()
    assert parent.returncode == 2, out
    doc = json.loads((tmp_path / "out" / "dropin-interrupted.json").read_text(encoding="utf-8"))
    rows = {r["nodeid"].rsplit(".", 1)[-1]: r for r in doc["dropin"]["tests"]}
    assert rows["test_a_finishes"]["category"] == "same"
    assert (doc["interrupted"]["signal"], doc["interrupted"]["ran"]) == ("SIGTERM", 1)
    assert not (tmp_path / "out" / "dropin.json").exists()
    left = subprocess.run(["pgrep", "-f", "test_blocking.py"], capture_output=True, text=True, check=False)
    assert left.stdout.strip() == "", "an engine's command outlived the drop-in"


def test_the_command_form_runs_each_engine_in_a_working_folder_of_its_own(tmp_path: Path) -> None:
    """A test that creates a fixed file name in its working folder passes on both engines, not on one."""
    (tmp_path / "test_fixed_name.py").write_text(f"PROJECT = {str(tmp_path)!r}\n" + textwrap.dedent("""\
        import sqlite3, unittest

        class FixedName(unittest.TestCase):
            def test_creates_marker(self):
                with open("marker.txt", "x") as fh:  # the second engine would fail in a shared folder
                    fh.write(str(sqlite3.connect(":memory:").execute("select 1").fetchone()))

            def test_writes_outside(self):  # by an absolute path: outside the engine's folder, named
                with open(PROJECT + "/outside.txt", "a") as fh:
                    fh.write("x")
    """), encoding="utf-8")
    cmd = [sys.executable, "-m", "stc_harness", "dropin", "--report-dir", "out", "--", sys.executable, "-m",
           "unittest", "discover", "-s", ".", "-p", "test_fixed_name.py"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((tmp_path / "out" / "dropin.json").read_text(encoding="utf-8"))
    assert [r["category"] for r in doc["dropin"]["tests"]] == ["same", "same"]
    assert not (tmp_path / "marker.txt").exists()  # written in the engines' own folders, removed after
    assert "WARNING: tests changed 1 files outside their engine's own working and temp folders " \
           "(outside.txt)" in doc["sections"][0]["intro"]


def test_a_library_error_is_blamed_on_the_read_just_before_the_code_took_another_path() -> None:
    """Nothing ties an `AlterError` raised inside a library to a call: the divergence just before the first
    call only SQLite made (the table listed lower-cased, so its columns were never read) breaks the test,
    not the earlier schema text that differs only in spacing and was read and left unused."""
    schema = ev("Cursor.fetchone", "of 'select sql from sqlite_master where name = ?'",
                outcome="('CREATE TABLE t (\\n  a TEXT\\n)',)", where="lib.py:10")
    listing = ev("Cursor.fetchall", "of 'select name from sqlite_master'", outcome="[('Species',)]",
                 where="lib.py:20")
    columns = ev("Connection.execute", "'PRAGMA table_info(\"Species\")'", outcome="<Cursor>",
                 where="lib.py:30")
    sqlite = [schema, listing, columns]
    turso = [[*schema[:3], "('CREATE TABLE t (a TEXT)',)", schema[4]],
             [*listing[:3], "[('species',)]", listing[4]]]
    found = align(sqlite, turso)
    assert [d.kind for d in found] == ["whitespace-collapsed", "case-folded", "sqlite-only-call"]
    failure = {"exc_type": "AlterError", "message": "No such column: Species.id", "line": "lib.py:99"}
    assert blame(found, failure) is found[1]


def test_a_value_read_on_the_failing_line_is_blamed_on_the_earlier_write_that_went_otherwise() -> None:
    """RELEASE went through on Turso while an INSERT ... RETURNING was unfetched (SQLite refused, so the code
    read the rows): the count the assertion compares is short because of that, not a difference of its own."""
    release = ev("Connection.execute", "'RELEASE \"q\"'", "raise",
                 "OperationalError: cannot release savepoint - SQL statements in progress", where="lib.py:5")
    count = ev("Cursor.fetchone", "of 'select count(*) from dogs'", outcome="(2,)", where="t.py:16")
    sqlite = [[*release, "t.py:12"], [*count, "t.py:16"]]
    turso = [[*release[:2], "ok", "<Cursor>", "lib.py:5", "t.py:12"],
             [*count[:3], "(1,)", "t.py:16", "t.py:16"]]
    found = align(sqlite, turso)
    assert [d.kind for d in found] == ["error-disappears", "value"]
    failure = {"exc_type": "AssertionError", "message": "assert 1 == 2", "line": "t.py:16"}
    assert blame(found, failure) is found[0]
    # a read that differs before the failing line's read changes nothing: the failing line's read is blamed
    read = ev("Connection.execute", "'SELECT 1'", "raise", "OperationalError: x", where="lib.py:5")
    found = align([[*read, "t.py:12"], [*count, "t.py:16"]],
                  [[*read[:2], "ok", "<Cursor>", "lib.py:5", "t.py:12"],
                   [*count[:3], "(1,)", "t.py:16", "t.py:16"]])
    assert blame(found, failure) is found[1]


def test_one_library_call_reached_from_two_test_lines_is_two_divergences() -> None:
    """`db.journal_mode` read before and after the CLI changed it: the second read is what the test checks."""
    mode = ev("Cursor.fetchone", "of 'PRAGMA journal_mode;'", outcome="('delete',)", where="lib.py:1204")
    sqlite = [[*mode, "t.py:1724"], [*mode, "t.py:1730"]]
    turso = [[*mode[:3], "('wal',)", "lib.py:1204", "t.py:1724"],
             [*mode[:3], "('wal',)", "lib.py:1204", "t.py:1730"]]
    traces = Traces({"t": {"events": sqlite}}, {"t": {"events": turso}}, {})
    failure = {"exc_type": "AssertionError", "message": "assert 'wal' == 'delete'", "line": "t.py:1730"}
    found = evidence(traces, "t", "t", failure, Knowledge(Registry({})))
    assert [d.origin for d in found.divergences] == ["t.py:1724", "t.py:1730"]
    assert found.cause == 1


def test_a_long_string_is_kept_whole_enough_to_name_its_kind() -> None:
    """A table's stored SQL past the common clip still compares by kind (spacing), not as a clipped value."""
    laid_out = "CREATE TABLE \"t\" (\n" + ",\n".join(f'   "c{i}" INTEGER' for i in range(30)) + "\n)"
    one_line = "CREATE TABLE \"t\" (" + ", ".join(f'"c{i}" INTEGER' for i in range(30)) + ")"
    assert len(laid_out) > 400
    assert value_kind(render((laid_out,)), render((one_line,))) == "whitespace-collapsed"


def test_a_reading_statement_without_columns_is_evidence_of_no_row() -> None:
    """The engine layer does not fetch a PRAGMA Turso answers without columns; the evidence says no row, as
    a user's `fetchone()` sees it (`None`)."""
    pragma = "of 'PRAGMA defer_foreign_keys'"
    sqlite = [ev("Cursor.execute", "'PRAGMA defer_foreign_keys'", outcome="<Cursor>"),
              ev("Cursor.description", pragma, outcome="(('defer_foreign_keys', None),)"),
              ev("Cursor.fetchall", pragma, outcome="[(0,)]")]
    turso = [ev("Connection.execute", "'PRAGMA defer_foreign_keys'", outcome="<Cursor>"),
             ev("Cursor.description", pragma, outcome="None")]
    found = [d for d in divergences_of(sqlite, turso) if d.call == "fetch"]
    assert [(d.kind, d.sqlite, d.turso) for d in found] == [("row-count", "→ [(0,)]", "→ []")]
    user = align([ev("Cursor.fetchone", pragma, outcome="(0,)")],
                 [ev("Cursor.fetchone", pragma, outcome="None")])
    assert Signature.of(user[0]).as_list()[:4] == Signature.of(found[0]).as_list()[:4]


def test_an_engine_error_raised_as_another_class_is_likely_the_class_mapping() -> None:
    """`duplicate column` raised as DatabaseError: no check raised that very error, but one shows Turso
    raising another engine error as DatabaseError where sqlite3 raises OperationalError."""
    def raised(sql: str, message: str) -> Any:
        (d,) = align([ev("Connection.execute", sql, "raise", f"OperationalError: {message}")],
                     [ev("Connection.execute", sql, "raise", f"DatabaseError: {message}")])
        return d
    seen = raised("'RELEASE never_opened', ()", "no such savepoint: never_opened")
    knowledge = Knowledge(Registry({}), evidence=[
        Evidence("errors.dbapi_class[release_unknown_savepoint]", "", Signature.of(seen), "execute",
                 seen.sqlite, seen.turso)])
    found = knowledge.explain(raised("'ALTER TABLE t ADD COLUMN a'", "duplicate column name: a"))
    assert (found.confidence, found.check) == (LIKELY, "errors.dbapi_class[release_unknown_savepoint]")
    assert "another engine error raised as the same class" in found.why
    (apart,) = align([ev("Connection.execute", "'ALTER TABLE t ADD COLUMN a'", "raise",
                         "OperationalError: no such table: t")],
                     [ev("Connection.execute", "'ALTER TABLE t ADD COLUMN a'", "raise",
                         "DatabaseError: duplicate column name: a")])
    assert knowledge.explain(apart).confidence == LIKELY  # two engine errors: the class still escapes
    (other,) = align([ev("Connection.execute", "'INSERT INTO t VALUES (1)'", "raise", "IntegrityError: x")],
                     [ev("Connection.execute", "'INSERT INTO t VALUES (1)'", "raise", "DatabaseError: x")])
    assert knowledge.explain(other).confidence == UNKNOWN  # another class pair: not the same mapping


def test_a_call_sqlite_made_after_the_failing_line_is_never_the_cause() -> None:
    """Turso failed on line 16; the calls SQLite went on to make from line 17 are consequences."""
    later = ev("Connection.in_transaction", "", outcome="False", where="lib.py:962")
    found = align([[*later, "t.py:17"]], [])
    failure = {"exc_type": "AssertionError", "message": "assert 2 == 1", "line": "t.py:16"}
    assert blame(found, failure) is None
    assert blame(found, {**failure, "line": "t.py:17"}) is found[0]


def test_a_syntax_error_is_explained_only_by_a_statement_of_its_shape() -> None:
    """Every syntax error has one kind: `UPDATE ... LIMIT` refused says nothing of a statement led by a
    byte-order mark, which has its own check."""
    def refused(sql: str, near: str) -> Any:
        (d,) = align([ev("Connection.execute", sql, outcome="<Cursor>")],
                     [ev("Connection.execute", sql, "raise", f'DatabaseError: near "{near}": syntax error')])
        return d
    limit = refused("'UPDATE t SET a = 1 ORDER BY a LIMIT 1'", "LIMIT")
    bom = refused("'\ufeffBEGIN'", "\ufeffBEGIN")
    def seen(check: str, d: Any) -> Evidence:
        return Evidence(check, "", Signature.of(d), "execute", d.sqlite, d.turso)
    knowledge = Knowledge(Registry({}), evidence=[seen("grammar.update[order_by_limit]", limit)])
    user = refused("'\ufeffbegin'", "\ufeffbegin")
    assert knowledge.explain(user).confidence == UNKNOWN
    knowledge = Knowledge(Registry({}), evidence=[seen("grammar.update[order_by_limit]", limit),
                                                  seen("grammar.byte_order_mark_led[begin]", bom)])
    found = knowledge.explain(user)
    assert (found.confidence, found.check) == (PROVEN, "grammar.byte_order_mark_led[begin]")


def test_where_turso_stopped_is_the_test_functions_frame_to_the_end_of_its_statement() -> None:
    """A helper defined above the test fails on line 261, called from line 272; a multi-line `assert (`
    on line 606 reads on line 607: neither call came after the failure."""
    made = ev("Connection.execute", "'\\ufeffselect 1'", "raise", "DatabaseError: near: syntax error",
              where="t.py:261")
    (d,) = align([[*made[:2], "ok", "<Cursor>", "t.py:261", "t.py:272"]], [[*made, "t.py:272"]])
    longrepr = 'File "/src/t.py", line 272, in test_x\n  helper()\nFile "/src/t.py", line 261, in helper\n'
    failure = {"exc_type": "DatabaseError", "message": "x", "line": "t.py:261", "longrepr": longrepr}
    assert blame([d], failure) is d
    read = ev("Cursor.fetchone", "of 'select sql from sqlite_master'", outcome="('a',)", where="lib.py:1")
    (d,) = align([[*read, "t.py:607"]], [[*read[:3], "('b',)", "lib.py:1", "t.py:607"]])
    failure = {"exc_type": "AssertionError", "message": "assert 'b' == 'a'", "line": "t.py:606",
               "source": "assert ("}
    assert blame([d], failure) is d
    assert blame([d], {**failure, "source": "assert x == 1"}) is None


def test_a_tables_stored_sql_is_explained_by_a_table_check_not_an_index_one() -> None:
    """Both checks read sqlite_schema.sql laid out anew; the user's value was a CREATE TABLE's text."""
    def read(before: str, after: str) -> Any:
        (d,) = align([ev("Cursor.fetchone", "of 'select sql from sqlite_master where name = ?'",
                         outcome=f"({before!r},)")],
                     [ev("Cursor.fetchone", "of 'select sql from sqlite_master where name = ?'",
                         outcome=f"({after!r},)")])
        return d
    index = read("CREATE INDEX  i ON t ( a )", "CREATE INDEX i ON t (a)")
    table = read("CREATE TABLE  t ( a  INTEGER )", "CREATE TABLE t (a INTEGER)")
    knowledge = Knowledge(Registry({}), evidence=[
        Evidence(cid, "", Signature.of(d), "fetch", d.sqlite, d.turso, frozenset(context))
        for cid, d, context in (("m.verbatim[create_index]", index, {"index"}),
                                ("m.verbatim[create_table_spacing]", table, set()))])
    user = read('CREATE TABLE "s" (\n   "id" INTEGER\n)', 'CREATE TABLE "s" ("id" INTEGER)')
    assert knowledge.explain(user, context=frozenset({"index"})).check == "m.verbatim[create_table_spacing]"


def test_a_failure_reported_on_a_with_line_came_after_its_block() -> None:
    """`with pytest.raises(E):` fails in its exit, after the block's lines below it ran."""
    made = ev("Connection.in_transaction", "", "raise", "ProgrammingError: closed", where="lib.py:962")
    (d,) = align([[*made, "t.py:63"]], [[*made[:2], "ok", "False", "lib.py:962", "t.py:63"]])
    failure = {"exc_type": "Failed", "message": "DID NOT RAISE ProgrammingError", "line": "t.py:62",
               "source": "with pytest.raises(sqlite3.ProgrammingError):"}
    assert blame([d], failure) is d


def test_a_statement_spanning_many_lines_ends_where_python_says(tmp_path: Path) -> None:
    """`assert (` on line 2 compares with a value read on line 8: both are one statement."""
    test = tmp_path / "tests" / "test_x.py"
    test.parent.mkdir()
    test.write_text("def test_x(t):\n    assert (\n        'a'\n        'b'\n        'c'\n        'd'\n"
                    "        'e'\n    ) == t.schema\n    assert t.pks == []\n", encoding="utf-8")
    read = ev("Cursor.fetchone", "of 'select sql from sqlite_master'", outcome="('a',)", where="lib.py:1")
    (d,) = align([[*read, "tests/test_x.py:8"]], [[*read[:3], "('b',)", "lib.py:1", "tests/test_x.py:8"]])
    longrepr = f'File "{test}", line 2, in test_x\n    assert (\n'
    failure = {"exc_type": "AssertionError", "message": "assert 'b' == 'a'", "line": "tests/test_x.py:2",
               "source": "assert (", "longrepr": longrepr}
    assert blame([d], failure) is d
    (later,) = align([[*read, "tests/test_x.py:9"]], [[*read[:3], "('b',)", "lib.py:1", "tests/test_x.py:9"]])
    assert blame([later], failure) is None


def test_a_refused_parameter_is_explained_by_the_check_of_its_type() -> None:
    """Every refused parameter raises the same error: the check that bound a memoryview explains a
    memoryview, not the one that bound a bytearray."""
    def refused(args: str) -> Any:
        (d,) = align([ev("Cursor.execute", args, outcome="<Cursor>")],
                     [ev("Cursor.execute", args, "raise", "DatabaseError: unexpected parameter value")])
        return d
    knowledge = Knowledge(Registry({}), evidence=[
        Evidence(f"types.driver_native[{name}]", "", Signature.of(d), "execute", d.sqlite, d.turso)
        for name, d in (("bytearray", refused("'SELECT ?', (bytearray(6162, len 2),)")),
                        ("memoryview", refused("'SELECT ?', (memoryview(6162, len 2),)")))])
    found = knowledge.explain(refused("'INSERT INTO t VALUES (?)', [memoryview(68, len 1)]"))
    assert found.check == "types.driver_native[memoryview]"


def test_a_default_rewritten_with_brackets_and_spacing_matches_the_check_that_saw_both() -> None:
    """`STRFTIME(...)` read back as `(STRFTIME (...))`: the expression check (`1+2` -> `(1 + 2)`), not the
    constant one (`5` -> `(5)`)."""
    def default(before: str, after: str) -> Any:
        return _table_info(f"[(0, 'a', 'TEXT', 0, {before!r}, 0)]", f"[(0, 'a', 'TEXT', 0, {after!r}, 0)]")
    knowledge = Knowledge(Registry({}), evidence=[
        Evidence(f"schema.default_read_back[{name}]", "", Signature.of(d), "fetch", d.sqlite, d.turso)
        for name, d in (("parenthesised_constant", default("5", "(5)")),
                        ("parenthesised_expression", default("1+2", "(1 + 2)")))])
    user = default("STRFTIME('%Y', 'NOW')", "(STRFTIME ('%Y', 'NOW'))")
    assert knowledge.explain(user).check == "schema.default_read_back[parenthesised_expression]"


def test_the_value_a_multi_line_assert_compares_is_read_at_its_end(tmp_path: Path) -> None:
    """`assert (<literal>) == db.table("dogs").schema`: the read on the statement's last line is what it
    compares, not a listing read on the line just above the assert."""
    test = tmp_path / "tests" / "test_x.py"
    test.parent.mkdir()
    test.write_text("def test_x(db):\n    db.tables\n    assert (\n        'a'\n        'b'\n        'c'\n"
                    "    ) == db.schema\n", encoding="utf-8")
    listing = ev("Cursor.fetchall", "of 'select name from sqlite_master'", outcome="[('Gosh',)]",
                 where="lib.py:1")
    schema = ev("Cursor.fetchone", "of 'select sql from sqlite_master'", outcome="('a\\nb',)",
                where="lib.py:2")
    found = align([[*listing, "tests/test_x.py:2"], [*schema, "tests/test_x.py:7"]],
                  [[*listing[:3], "[('gosh',)]", "lib.py:1", "tests/test_x.py:2"],
                   [*schema[:3], "('a b',)", "lib.py:2", "tests/test_x.py:7"]])
    failure = {"exc_type": "AssertionError", "message": "assert 'a b' == 'a\\nb'",
               "line": "tests/test_x.py:3", "source": "assert (",
               "longrepr": f'File "{test}", line 3, in test_x\n'}
    assert blame(found, failure) is found[1]


def test_behind_a_wall_the_report_names_what_the_run_met_next() -> None:
    """Pony's connection set-up calls `create_function` unguarded: on plain Turso every test stops there
    (the cause), and the run, with the call made inert, shows what breaks next (an INT[] column refused)."""
    wall = ev("Connection.create_function", "'power', 2, <callable>", "inert", "missing on Turso: made inert",
              where="pony/sqlite.py:10")
    create = ev("Connection.execute", "'CREATE TABLE \"Foo\" (a INT[])'", "raise",
                "DatabaseError: Parse error: array type columns require STRICT tables: Foo.a",
                where="pony/sqlite.py:20")
    traces = Traces({"t": {"events": [[*wall[:2], "ok", "None", *wall[4:]],
                                      [*create[:2], "ok", "<Cursor>", *create[4:]]]}},
                    {"t": {"events": [wall, create]}}, {})
    message = "Parse error: array type columns require STRICT tables: Foo.a"
    failure = {"exc_type": "DatabaseError", "message": message, "line": "pony/sqlite.py:20"}
    found = evidence(traces, "t", "t", failure, Knowledge(Registry({})))
    assert [d.kind for d in found.divergences] == ["missing-name", "error-appears"]
    assert (found.cause, found.then) == (0, 1)
    row = {"evidence": found.as_dict(), "turso": failure}
    behind = "Behind that wall (with the name made inert) the test fails at Connection.execute"
    assert behind in cause_text(row)


def test_behind_a_create_function_wall_a_missing_function_is_the_same_wall() -> None:
    """`no such function: f` after `create_function('f')` was made inert is that wall again, not a cause of
    its own: the cause line says so instead of naming a second, unknown cause."""
    wall = ev("Connection.create_function", "'f', 1, <callable>", "inert", "missing on Turso: made inert",
              where="lib.py:10")
    call = ev("Connection.execute", "'select f(1)'", "raise", "DatabaseError: no such function: f",
              where="t.py:5")
    traces = Traces({"t": {"events": [[*wall[:2], "ok", "None", *wall[4:]],
                                      [*call[:2], "ok", "<Cursor>", "t.py:5"]]}},
                    {"t": {"events": [wall, call]}}, {}, inert={"f": wall})
    failure = {"exc_type": "DatabaseError", "message": "no such function: f", "line": "t.py:5"}
    found = evidence(traces, "t", "t", failure, Knowledge(Registry({})))
    assert (found.cause, found.then, found.same_wall) == (0, None, True)
    assert "Behind that wall the run fails on the same missing name" in cause_text(
        {"evidence": found.as_dict(), "turso": failure})


def test_behind_a_wall_that_registers_nothing_the_call_that_would_have_is_named() -> None:
    """`enable_callback_tracebacks` is the first wall; the run failed on `no such function: fn`, which the
    inert `create_function('fn', ...)` would have registered: that call is what breaks it behind the wall."""
    first = ev("sqlite3.enable_callback_tracebacks", "True", "inert", "missing on Turso: made inert",
               where="cli.py:3266")
    maker = ev("Connection.create_function", "'fn', 1, <callable>", "inert", "missing on Turso: made inert",
               where="db.py:839")
    call = ev("Connection.execute", "'select fn(1)'", "raise", "DatabaseError: no such function: fn",
              where="db.py:900")
    traces = Traces({"t": {"events": [[*first[:2], "ok", "None", *first[4:]],
                                      [*maker[:2], "ok", "None", *maker[4:]],
                                      [*call[:2], "ok", "<Cursor>", *call[4:]]]}},
                    {"t": {"events": [first, maker, call]}}, {}, inert={"fn": maker})
    failure = {"exc_type": "DatabaseError", "message": "no such function: fn", "line": "db.py:900"}
    found = evidence(traces, "t", "t", failure, Knowledge(Registry({})))
    assert found.divergences[found.cause].call == "sqlite3.enable_callback_tracebacks"
    assert found.then is not None
    assert found.divergences[found.then].call == "Connection.create_function"
    assert not found.same_wall


def _one_test_dropin(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str,
                     *args: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a one-test suite through --dropin=turso: its report row and the divergence blamed."""
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_one=source)
    pytester.runpytest_subprocess("--dropin=turso", "--report-dir=out", *args)
    doc = json.loads((pytester.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    (row,) = doc["dropin"]["tests"]
    return row, row["evidence"]["divergences"][row["evidence"]["cause"]]


LONG_TEST = """\
import sqlite3


def test_long_then_vacuum(tmp_path):
    conn = sqlite3.connect(str(tmp_path / "q.db"))
    conn.execute("create table q (x)")
    for i in range(1500):  # two traced calls each: past the trace's first 2,000 events
        conn.execute("insert into q values (?)", (i,))
        conn.commit()
    conn.execute("VACUUM")
"""


def test_a_long_tests_failing_call_is_kept_past_the_traces_bound(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The events past the first 2,000 are not all dropped: the last ones (the call that failed) are kept."""
    row, first = _one_test_dropin(pytester, monkeypatch, LONG_TEST)
    assert row["category"] == "turso-only", row
    assert first["args"].startswith("'VACUUM'"), first
    assert first["kind"] == "error-appears", first
    assert "VACUUM" in first["turso"], first


ASYNC_WITH_EXECUTE = """\
import asyncio

import aiosqlite


def test_count_through_async_with(tmp_path):
    async def count():
        async with aiosqlite.connect(str(tmp_path / "a.db")) as db:
            await db.execute("create table users (name)")
            async with db.execute("select count(*) from users") as cur:
                return await cur.fetchone()

    assert asyncio.run(count()) == (0,)
"""


def test_a_coroutine_used_as_a_context_is_a_call_never_awaited_and_proven(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """`async with db.execute(...)`: Turso's execute() returns a bare coroutine, which is never awaited."""
    row, first = _one_test_dropin(pytester, monkeypatch, ASYNC_WITH_EXECUTE)
    assert row["category"] == "turso-only", row
    assert (first["call"], first["kind"]) == ("aio.Connection.execute", "never-awaited"), first
    assert first["sqlite"].startswith("→ await→"), first
    assert (first["explanation"]["confidence"], first["explanation"]["ref"]) == (
        PROVEN, "driver_async.aio-no-async-iteration-or-context"), first


RETRY_FOREVER = """\
import sqlite3
import time


def test_retries_until_it_works(tmp_path):
    conn = sqlite3.connect(str(tmp_path / "r.db"))
    conn.execute("create table t (x)")
    conn.commit()
    while True:  # a retry loop that never ends on the engine where the statement keeps failing
        try:
            conn.execute("VACUUM")
            break
        except sqlite3.DatabaseError:
            time.sleep(0.001)
"""


def test_a_test_that_hangs_on_turso_still_shows_where_it_parted(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test ended at its timeout: its calls so far are written just before, so its cause is named."""
    row, first = _one_test_dropin(pytester, monkeypatch, RETRY_FOREVER, "--dropin-timeout=5")
    assert row["turso"]["outcome"] == "timeout", row
    assert first["args"].startswith("'VACUUM'"), first
    assert first["kind"] == "error-appears", first


LEFT_OPEN = """\
import sqlite3

KEEP = []  # the library's cached connection: it outlives the test that made it


def init(conn):
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("ALTER TABLE cache ADD COLUMN expires INTEGER")
    except sqlite3.OperationalError:  # Turso raises DatabaseError: it escapes, the transaction stays open
        pass
    conn.execute("CREATE TABLE IF NOT EXISTS cache (k, v)")
    conn.commit()


def test_first_leaves_a_transaction_open():
    conn = sqlite3.connect("shared.db", isolation_level=None)
    KEEP.append(conn)
    init(conn)


def test_second_is_locked_out():
    conn = sqlite3.connect("shared.db", isolation_level=None, timeout=0)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO cache VALUES (1, 2)")
    conn.commit()
"""


def test_a_lock_left_by_an_earlier_tests_open_transaction_is_blamed_on_that_test(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second test is locked out on Turso only because the first left its transaction open there."""
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_two=LEFT_OPEN)
    pytester.runpytest_subprocess("--dropin=turso", "--report-dir=out")
    doc = json.loads((pytester.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    first, second = doc["dropin"]["tests"]
    assert (first["category"], second["category"]) == ("turso-only", "turso-only"), doc["dropin"]["tests"]
    ev = second["evidence"]
    assert ev.get("left_open_by") == "test_two.py::test_first_leaves_a_transaction_open", ev
    assert ev["left_open_file"].endswith("shared.db"), ev
    blamed = ev["divergences"][ev["cause"]]
    assert blamed["explanation"]["ref"] == "driver_exceptions.engine-errors-databaseerror", blamed
    assert "ALTER TABLE" in blamed["args"], blamed


def test_a_missing_feature_error_is_proven_by_the_check_of_the_entry_it_names() -> None:
    """sqlobject's `sqlite3.connect(factory=...)`: the drop-in's error names `driver_connect.factory-refused`,
    whose check saw Turso refuse the keyword; a name no entry is given for stays a draft."""
    src = Source("m", "s")
    registry = Registry([Entry("driver_connect.factory-refused", "driver_connect",
                               ("driver_connect.factory_subclass",), "connect(factory=) refused", src, "r",
                               {"turso": {}}, "x.toml", "missing-api", "turso")])
    checks = [{"id": "driver_connect.factory_subclass", "title": "t",
               "results": {"turso": {"outcome": "documented-difference"}},
               "entry": {"id": "driver_connect.factory-refused"}}]
    knowledge = Knowledge(registry, checks)
    refused = ("MissingFeatureError: sqlite3.connect(factory=...) is not provided by pyturso (a Connection "
               "subclass as factory); the drop-in mode only provides the name. Known difference: registry "
               "entry driver_connect.factory-refused.")
    (d,) = align([ev("sqlite3.connect", "':memory:', factory=<class 'C'>", outcome="<Connection>")],
                 [ev("sqlite3.connect", "':memory:', factory=<class 'C'>", "raise", refused)])
    assert d.kind == "missing-name", d
    found = knowledge.explain(d)
    assert (found.confidence, found.ref) == (PROVEN, "driver_connect.factory-refused"), found
    unnamed = replace(d, turso=d.turso.replace("registry entry driver_connect.factory-refused",
                                               "no registry entry documents it yet"))
    assert knowledge.explain(unnamed).confidence == UNKNOWN


GUARDED_NAMES = """\
import sqlite3


def open_library(path):
    conn = sqlite3.connect(path)
    if hasattr(sqlite3, "enable_callback_tracebacks"):  # guarded: on plain Turso this is skipped
        sqlite3.enable_callback_tracebacks(True)
    if getattr(conn, "enable_load_extension", None) is not None:
        conn.enable_load_extension(False)
    conn.create_function("twice", 1, lambda x: 2 * x)  # unguarded: the wall
    return conn


def test_twice(tmp_path):
    conn = open_library(str(tmp_path / "l.db"))
    assert conn.execute("select twice(21)").fetchone() == (42,)
"""


def test_a_name_the_code_probes_for_first_is_no_wall_as_on_plain_turso(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """beets asks hasattr(sqlite3, "enable_callback_tracebacks") first: plain Turso skips the call, so the
    wall is the unguarded create_function after it, and the probed names are no stand-ins to hasattr."""
    row, first = _one_test_dropin(pytester, monkeypatch, GUARDED_NAMES)
    assert row["category"] == "turso-only", row
    assert (first["call"], first["kind"]) == ("Connection.create_function", "missing-name"), first
    # SQLite made the guarded calls, Turso did not (no stand-in answered its probe)
    kinds = {d["call"]: d["kind"] for d in row["evidence"]["divergences"]}
    assert kinds.get("sqlite3.enable_callback_tracebacks") == "sqlite-only-call", kinds
    assert kinds.get("Connection.enable_load_extension", "sqlite-only-call") == "sqlite-only-call", kinds


def test_a_value_read_after_writes_one_engine_alone_made_is_blamed_on_the_read_that_sent_it_there() -> None:
    """sqlite-utils' create_view(replace=True) read the view's SQL back re-rendered on Turso, so it dropped
    and made the view again: the schema_version the test compares moved because of that read."""
    stored = ev("Cursor.fetchone", "of 'select sql from sqlite_master where name = ?'",
                outcome="('CREATE VIEW \"bar\" AS select 1 + 1',)", where="lib.py:10")
    drop = ev("Connection.execute", "'DROP VIEW \"bar\"'", outcome="<Cursor>", where="lib.py:20")
    version = ev("Cursor.fetchone", "of 'PRAGMA schema_version'", outcome="(1,)", where="t.py:43")
    sqlite = [[*stored, "t.py:42"], [*version, "t.py:43"]]
    turso = [[*stored[:3], "('CREATE VIEW \"bar\" AS SELECT 1 + 1',)", "lib.py:10", "t.py:42"],
             [*drop, "t.py:42"], [*version[:3], "(3,)", "t.py:43", "t.py:43"]]
    found = align(sqlite, turso)
    assert [d.kind for d in found] == ["text-case", "turso-only-call", "value"], found
    failure = {"exc_type": "AssertionError", "message": "assert 3 == 1", "line": "t.py:43"}
    assert blame(found, failure) is found[0]
    # without the write only Turso made, the value read on the failing line is its own difference
    assert blame([found[0], found[2]], failure) is found[2]
    # a text the failing line reads back re-rendered is its own difference, whatever writes came before
    # (sqlite-utils' transform(): a PRAGMA read differed, then writes only SQLite made)
    pragma = ev("Cursor.fetchone", "of 'PRAGMA legacy_alter_table'", outcome="(0,)", where="lib.py:15")
    create = ev("Connection.execute", "'CREATE TABLE \"t_new\" (a)'", outcome="<Cursor>", where="lib.py:30")
    again = stored
    sqlite = [[*stored, "t.py:42"], [*pragma, "t.py:42"], [*create, "t.py:42"], [*again, "t.py:43"]]
    turso = [[*stored[:3], "('CREATE VIEW bar AS SELECT 1 + 1',)", "lib.py:10", "t.py:42"],
             [*pragma[:3], "None", "lib.py:15", "t.py:42"],
             [*again[:3], "('CREATE VIEW bar AS SELECT 1 + 1',)", "t.py:43", "t.py:43"]]
    found = align(sqlite, turso)
    failure = {"exc_type": "ValueError", "message": "substring not found", "line": "t.py:43"}
    assert blame(found, failure) is found[-1], found


LISTS_FILES = """\
import glob
import os
import sqlite3


def write_data(path):
    conn = sqlite3.connect(path)
    try:
        conn.execute("create table t (x)")
    except sqlite3.DatabaseError:  # there already on the second write: harmless on both engines
        pass
    conn.execute("insert into t values (1)")
    conn.commit()
    conn.close()


def test_one_data_file(tmp_path):
    os.chdir(tmp_path)
    write_data("data.1")
    write_data("data.1")
    count = len(glob.glob("data.*"))
    assert count == 1
"""


def test_an_assertion_on_a_folders_listing_is_blamed_on_the_side_file_turso_left(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """coverage.py counts its data files with glob(): Turso's `-wal` beside the database is one more."""
    row, first = _one_test_dropin(pytester, monkeypatch, LISTS_FILES)
    assert row["category"] == "turso-only", row
    assert first["kind"] == "files-left", first
    assert "-wal" in first["turso"], first


def test_a_statement_calling_an_inert_function_that_fails_for_its_own_reason_is_what_lies_behind() -> None:
    """beets' query calls regexp(), made inert earlier in the run, but Turso refuses the statement for its
    parenthesized FROM: that parse error is behind the wall, not the wall again."""
    wall = ev("Connection.create_function", "'regexp', 2, <callable>", "inert",
              "missing on Turso: made inert", where="db.py:1260")
    call = ev("Connection.execute", "'SELECT * FROM (items) WHERE regexp(path, ?)', ('x',)", "raise",
              "DatabaseError: Parse error: Parenthesized FROM clause subqueries are not supported",
              where="db.py:975")
    traces = Traces({"t": {"events": [[*call[:2], "ok", "<Cursor>", *call[4:]]]}},
                    {"t": {"events": [call]}}, {}, inert={"regexp": wall})
    failure = {"exc_type": "DatabaseError", "line": "db.py:975",
               "message": "Parse error: Parenthesized FROM clause subqueries are not supported"}
    found = evidence(traces, "t", "t", failure, Knowledge(Registry({})))
    assert found.divergences[found.cause].call == "Connection.execute", found.divergences
    # the same statement failing on the function itself is the wall it needed
    missing = replace_event(call, 3, "DatabaseError: no such function: regexp")
    traces = Traces({"t": {"events": [[*call[:2], "ok", "<Cursor>", *call[4:]]]}},
                    {"t": {"events": [missing]}}, {}, inert={"regexp": wall})
    found = evidence(traces, "t", "t", {**failure, "message": "no such function: regexp"},
                     Knowledge(Registry({})))
    assert found.divergences[found.cause].call == "Connection.create_function", found.divergences


def replace_event(event: list[str], index: int, value: str) -> list[str]:
    """A copy of a trace event with one field replaced."""
    return [*event[:index], value, *event[index + 1:]]


def test_behind_a_wall_an_assertion_on_a_folders_listing_is_the_side_file(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """coverage.py registers REGEXP unguarded (the wall), then counts its data files (what lies behind)."""
    source = LISTS_FILES.replace('    conn = sqlite3.connect(path)\n',
                                 '    conn = sqlite3.connect(path)\n    conn.create_function("f", 1, str)\n')
    row, first = _one_test_dropin(pytester, monkeypatch, source)
    assert (first["call"], first["kind"]) == ("Connection.create_function", "missing-name"), first
    behind = row["evidence"]["divergences"][row["evidence"]["then"]]
    assert behind["kind"] == "files-left", behind


def test_a_failure_after_the_code_opened_a_side_file_as_a_database_is_blamed_on_that_side_file() -> None:
    """coverage.py's combine globs `.coverage.*`, so on Turso it also reads the `-wal` left beside a data
    file as a data file; the real file's log breaks (`invalid page size in WAL`) because of that side file."""
    opened = ev("sqlite3.connect", "'<tmp>/.coverage.a'", outcome="<Connection>", where="data.py:5")
    closed = ev("Connection.close", "", outcome="None", where="data.py:9")
    side = ev("sqlite3.connect", "'<tmp>/.coverage.a-wal'", outcome="<Connection>", where="data.py:5")
    again = ev("sqlite3.connect", "'<tmp>/.coverage.a'", "raise",
               "DatabaseError: invalid page size in WAL: 7", where="data.py:5")
    wal = " (files beside the database: -wal)"
    sqlite = [opened, closed, opened]
    turso = [replace_event(opened, 3, "<Connection>" + wal), replace_event(closed, 3, "None" + wal),
             side, again]
    found = align(sqlite, turso)
    kinds = [d.kind for d in found]
    assert kinds[-1] == "error-appears", kinds
    assert "files-left" in kinds, kinds
    assert "turso-only-call" in kinds, kinds
    failure = {"exc_type": "DatabaseError", "message": "invalid page size in WAL: 7", "line": "data.py:5"}
    chosen = blame(found, failure)
    assert chosen is not None, found
    assert (chosen.kind, chosen.call) == ("files-left", "Connection.close"), chosen
    # without the side file opened, the failing connect is its own difference
    assert blame([d for d in found if d.kind != "turso-only-call"], failure).kind == "error-appears"


TWO_CLASS_FIXTURES = """\
import sqlite3

import pytest


@pytest.fixture(scope="class")
def library(tmp_path_factory):
    conn = sqlite3.connect(str(tmp_path_factory.mktemp("lib") / "lib.db"))
    conn.execute("create table t (x)")
    conn.execute("VACUUM")  # refused on Turso: the class's fixture fails, and pytest re-raises it
    return conn


class TestFirst:
    def test_a(self, library):
        pass

    def test_b(self, library):
        pass


class TestSecond:
    def test_a(self, library):
        pass

    def test_b(self, library):
        pass
"""


def test_a_class_fixtures_cached_error_is_seen_where_that_class_ran_it(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """beets' classes each set up a library of their own: a test re-raising its class's fixture error is
    pointed at the first test of its own class, not at another class's."""
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_classes=TWO_CLASS_FIXTURES)
    pytester.runpytest_subprocess("--dropin=turso", "--report-dir=out")
    doc = json.loads((pytester.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    rows = {r["nodeid"].split("::", 1)[1]: r for r in doc["dropin"]["tests"]}
    assert {r["category"] for r in rows.values()} == {"turso-only"}, rows
    assert rows["TestSecond::test_b"]["evidence"].get("shared_setup") == "test_classes.py::TestSecond::test_a"
    assert rows["TestFirst::test_b"]["evidence"].get("shared_setup") == "test_classes.py::TestFirst::test_a"


def test_an_error_the_test_matches_by_its_message_is_blamed_on_turso_s_message_prefix() -> None:
    """coverage.py's test expects `no such table: bar` in the message: Turso's `Parse error: ` before it is
    what breaks the test, not the class it raises (coverage catches every sqlite3.Error)."""
    src = Source("m", "s")
    registry = Registry([
        Entry("driver_exceptions.parse-error-message-prefix", "driver_exceptions",
              ("driver_exceptions.message_prefix[no_such_table]",), "Parse error: prefix", src, "r",
              {"turso": {}}, "x.toml", "different-error", "turso")])
    checks = [{"id": "driver_exceptions.message_prefix[no_such_table]", "title": "t",
               "results": {"turso": {"outcome": "documented-difference"}},
               "entry": {"id": "driver_exceptions.parse-error-message-prefix"}}]
    knowledge = Knowledge(registry, checks)
    call = ev("Connection.execute", "'select * from bar'", "raise", "OperationalError: no such table: bar",
              where="t.py:5")
    prefixed = replace_event(call, 3, "DatabaseError: Parse error: no such table: bar")
    traces = Traces({"t": {"events": [call]}}, {"t": {"events": [prefixed]}}, {})
    failure = {"exc_type": "AssertionError", "line": "t.py:5",
               "message": "Regex pattern did not match.\n Regex: 'no such table: bar'\n"
                          " Input: 'Parse error: no such table: bar'"}
    found = evidence(traces, "t", "t", failure, knowledge)
    explained = found.explanations[found.cause]
    assert (explained.confidence, explained.ref) == (PROVEN, "driver_exceptions.parse-error-message-prefix")
    # a test that does not look at the message is broken by what else differs (here: nothing known)
    other = evidence(traces, "t", "t", {**failure, "message": "boom"}, knowledge)
    assert other.explanations[other.cause].ref != "driver_exceptions.parse-error-message-prefix"
    # behind a wall too (coverage.py registers REGEXP unguarded first)
    wall = ev("Connection.create_function", "'REGEXP', 2, <callable>", "inert",
              "missing on Turso: made inert", where="t.py:3")
    traces = Traces({"t": {"events": [replace_event(wall, 2, "ok"), call]}},
                    {"t": {"events": [wall, prefixed]}}, {})
    found = evidence(traces, "t", "t", failure, knowledge)
    assert found.then is not None, found.divergences
    assert found.explanations[found.then].ref == "driver_exceptions.parse-error-message-prefix"


def test_a_side_file_opened_after_the_flows_parted_is_kept_as_evidence() -> None:
    """coverage.py's data files carry a random suffix, so the two runs' first connect() already differ (the
    flows part there); Turso's later connect() to the `-wal` beside its file is still listed and blamed."""
    wal = " (files beside the database: -wal)"
    mine = ev("sqlite3.connect", "'<tmp>/.coverage.x1'", outcome="<Connection>", where="data.py:5")
    theirs = ev("sqlite3.connect", "'<tmp>/.coverage.y2'", outcome="<Connection>" + wal, where="data.py:5")
    closed = ev("Connection.close", "", outcome="None", where="data.py:9")
    side = ev("sqlite3.connect", "'<tmp>/.coverage.y2-wal'", outcome="<Connection>", where="data.py:5")
    broken = ev("sqlite3.connect", "'<tmp>/.coverage.y2'", "raise",
                "DatabaseError: invalid page size in WAL: 7", where="data.py:5")
    found = align([mine, closed], [theirs, replace_event(closed, 3, "None" + wal), side, broken])
    assert any(d.args.startswith("'<tmp>/.coverage.y2-wal'") for d in found), found
    failure = {"exc_type": "DatabaseError", "message": "invalid page size in WAL: 7", "line": "data.py:5"}
    chosen = blame(found, failure)
    assert chosen is not None, found
    assert chosen.kind == "files-left", chosen


TEMP_FOLDER_DB = """\
import os
import sqlite3
import tempfile


def test_queue_in_a_fresh_temp_folder():
    folder = tempfile.mkdtemp(suffix="queue")  # a random name in each engine's own TMPDIR
    conn = sqlite3.connect(os.path.join(folder, "data.db"))
    conn.execute("create table q (x)")
    conn.commit()
    conn.execute("VACUUM")
"""


def test_a_database_in_a_folder_tempfile_named_is_the_same_call_on_both(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """persist-queue opens its queue in `tempfile.mkdtemp()`: each engine's TMPDIR and the random name
    made in it read as `<tmp>`, so the two connect() calls align and the VACUUM is what parts."""
    row, first = _one_test_dropin(pytester, monkeypatch, TEMP_FOLDER_DB)
    assert row["category"] == "turso-only", row
    assert first["args"].startswith("'VACUUM'"), first
    calls = [d for d in row["evidence"]["divergences"] if d["call"] == "sqlite3.connect"]
    assert all(d["kind"] == "files-left" for d in calls), calls


def test_a_refreshed_line_carries_the_failure_of_the_run_it_explains(tmp_path: Path) -> None:
    """A test whose failure varies between runs (a race, random file names) must be graded against the
    failure of the run whose explanation the line now shows, not the one it was drawn from."""
    call = {"call": "Cursor.execute", "args": "'ATTACH ? AS x'", "where": "a.py:1", "origin": "t.py:2",
            "kind": "error-appears", "sqlite": "→ <Cursor>", "turso": "raised DatabaseError: boom",
            "severity": "major", "position": 0,
            "explanation": {"confidence": "no known cause", "ref": "dropin.x", "title": "t", "why": "w"}}
    row = {"nodeid": "t.py::test", "confidence": "no known cause",
           "turso": {"exc_type": "DatabaseError", "message": "invalid page size in WAL"},
           "evidence": {"cause": 0, "then": None, "divergences": [call]}}
    sample = tmp_path / "s.jsonl"
    sample.write_text(json.dumps({"suite": "s", "nodeid": "t.py::test", "first": "old", "cause": "proven: y",
                                  "confidence": "proven", "exception": "DatabaseError: ATTACH refused",
                                  "grade": "right", "note": "n"}) + "\n", encoding="utf-8")
    refresh(sample, {"s": {"t.py::test": row}})
    line = json.loads(sample.read_text(encoding="utf-8"))
    assert line["grade"] is None, line
    assert line["exception"] == "DatabaseError: invalid page size in WAL", line
