"""Which divergence breaks a test: the value its failure quotes, the subject it names, the first read of a
difference, never a tear-down, and a statement that failed for what it is (Alembic's own suite's patterns)."""

from __future__ import annotations

from pathlib import Path

from stc_harness.dropin.align import align
from stc_harness.dropin.blame import blame


def ev(name: str, args: str = "", kind: str = "ok", outcome: str = "None", where: str = "lib.py:1",
       origin: str = "t.py:12") -> list[str]:
    return [name, args, kind, outcome, where, origin]


LISTING = "of \"SELECT name FROM sqlite_master WHERE type='table' ORDER BY name\""
INDEX_INFO = "of 'PRAGMA main.index_info(\"idx\")'"


def _expression_index_traces() -> tuple[list[list[str]], list[list[str]]]:
    """Tables listed (one lower-cased), so SQLite alone reflects "CapT table"; then the expression index."""
    sqlite = [ev("Cursor.fetchall", LISTING, outcome="[('CapT table',), ('exp_index',)]"),
              ev("Connection.execute", "'PRAGMA main.table_xinfo(\"CapT table\")'", outcome="<Cursor>"),
              ev("Cursor.fetchall", INDEX_INFO, outcome="[(0, -2, None)]")]
    turso = [ev("Cursor.fetchall", LISTING, outcome="[('capt table',), ('exp_index',)]"),
             ev("Cursor.fetchall", INDEX_INFO, outcome="[(0, -1, 'lower (x)')]")]
    return sqlite, turso


def test_a_value_only_turso_returned_and_the_failure_quotes_is_the_cause() -> None:
    """KeyError: 'lower (x)' raised inside a library: Turso's index_info gave that text, SQLite NULL."""
    found = align(*_expression_index_traces())
    assert [d.kind for d in found] == ["case-folded", "sqlite-only-call", "value"]
    failure = {"exc_type": "KeyError", "message": "'lower (x)'", "line": "lib.py:532"}
    assert blame(found, failure) is found[2]


def test_a_failure_that_names_a_subject_is_blamed_on_the_call_about_it() -> None:
    """A warning SQLite's path gave for index 'idx' is missing: nothing returned is quoted, but the failure
    names the index, and only index_info("idx") is about it."""
    found = align(*_expression_index_traces())
    failure = {"exc_type": "AssertionError", "line": "t.py:4", "source": "with expect_warnings(",
               "message": "Warnings were not seen: \"autogenerate skipping metadata-specified "
                          "expression-based index 'idx'; dialect '.*' can't reflect these indexes\""}
    assert blame(found, failure) is found[2]
    # the same failure naming nothing: the path parted at the listing, which is blamed
    failure["message"] = "Warnings were not seen"
    assert blame(found, failure) is found[0]


def test_a_difference_the_failing_statement_read_twice_is_blamed_on_its_first_read() -> None:
    """get_columns read NUMERIC(8, 2) as NUMERIC through table_xinfo; has_table read table_info again."""
    xinfo, info = "of 'PRAGMA main.table_xinfo(\"t\")'", "of 'PRAGMA main.table_info(\"t\")'"
    sqlite = [ev("Cursor.fetchall", xinfo, outcome="[(0, 'col', 'NUMERIC(8, 2)', 0, None, 0, 0)]"),
              ev("Cursor.fetchall", info, outcome="[(0, 'col', 'NUMERIC(8, 2)', 0, None, 0)]")]
    turso = [ev("Cursor.fetchall", xinfo, outcome="[(0, 'col', 'NUMERIC', 0, None, 0, 0)]"),
             ev("Cursor.fetchall", info, outcome="[(0, 'col', 'NUMERIC', 0, None, 0)]")]
    found = align(sqlite, turso)
    assert [d.kind for d in found] == ["type-arguments-lost", "type-arguments-lost"]
    failure = {"exc_type": "AssertionError", "message": "assert False is True", "line": "t.py:12"}
    assert blame(found, failure) is found[0]


def test_a_call_made_in_tear_down_is_never_the_cause(tmp_path: Path) -> None:
    """tearDown is defined above the test and runs after its failure: its reads are consequences."""
    test_file = tmp_path / "test_x.py"
    test_file.write_text("import unittest\n\n\nclass T(unittest.TestCase):\n    def tearDown(self):\n"
                         "        drop_all()\n\n    def test_default(self):\n        cols = get_columns()\n"
                         "        assert cols == 1\n", encoding="utf-8")
    path = str(test_file)
    read = "of 'PRAGMA main.table_xinfo(\"t\")'"
    sqlite = [ev("Cursor.fetchall", read, outcome="[(0, 'd', 'TEXT', 0, \"(datetime('now'))\", 0, 0)]",
                 origin=f"{path}:9"),
              ev("Cursor.fetchall", "of 'PRAGMA main.table_info(\"t\")'", outcome="[(0, 'd', 'TEXT(5)')]",
                 origin=f"{path}:6")]
    turso = [ev("Cursor.fetchall", read, outcome="[(0, 'd', 'TEXT', 0, \"(datetime ('now'))\", 0, 0)]",
                origin=f"{path}:9"),
             ev("Cursor.fetchall", "of 'PRAGMA main.table_info(\"t\")'", outcome="[(0, 'd', 'TEXT')]",
                origin=f"{path}:6")]
    found = align(sqlite, turso)
    failure = {"exc_type": "AssertionError", "message": "assert 2 == 1", "line": f"{path}:10",
               "longrepr": f'File "{path}", line 10, in test_default\n    assert cols == 1\n'}
    assert blame(found, failure) is found[0]
    assert blame(found[1:], failure) is None  # the tear-down's read alone: no cause before the failure
    failure["longrepr"] = ""  # no traceback names the file: its tear-down cannot be told
    assert blame(found[1:], failure) is found[1]


def test_a_statement_sqlite_made_too_failed_for_what_it_is() -> None:
    """Batch mode re-creates the table with the types it read (VARCHAR on Turso, VARCHAR(50) on SQLite);
    Turso refuses the generated column in it: the error is the statement's own, not the lost length."""
    info = "of 'PRAGMA main.table_info(\"foo\")'"
    sqlite_sql = "'CREATE TABLE _alembic_tmp_foo ( data VARCHAR(50), g INT GENERATED ALWAYS AS (1) STORED )'"
    turso_sql = "'CREATE TABLE _alembic_tmp_foo ( data VARCHAR, g INT GENERATED ALWAYS AS (1) STORED )'"
    error = "DatabaseError: Parse error: Generated columns require --experimental-generated-columns flag"
    sqlite = [ev("Cursor.fetchall", info, outcome="[(0, 'data', 'VARCHAR(50)', 0, None, 0)]"),
              ev("Connection.execute", sqlite_sql, outcome="<Cursor>")]
    turso = [ev("Cursor.fetchall", info, outcome="[(0, 'data', 'VARCHAR', 0, None, 0)]"),
             ev("Connection.execute", turso_sql, "raise", error)]
    found = align(sqlite, turso)
    failure = {"exc_type": "DatabaseError", "message": error.split(": ", 1)[1], "line": "lib.py:252"}
    blamed = blame(found, failure)
    assert blamed is not None
    assert blamed.turso == f"raised {error}"


def _index_after_a_case_fold() -> tuple[list[list[str]], list[list[str]]]:
    """Turso lists the index as `someindex`; the code reads it by that name: the same call, other case."""
    listing = "of 'PRAGMA main.index_list(\"t\")'"
    sqlite = [ev("Cursor.fetchall", listing, outcome="[(0, 'SomeIndex', 0, 'c', 0)]"),
              ev("Connection.execute", "'PRAGMA main.index_info(\"SomeIndex\")'", outcome="<Cursor>"),
              ev("Cursor.fetchall", "of 'PRAGMA main.index_info(\"SomeIndex\")'", outcome="[(0, -2, None)]")]
    turso = [ev("Cursor.fetchall", listing, outcome="[(0, 'someindex', 0, 'c', 0)]"),
             ev("Connection.execute", "'PRAGMA main.index_info(\"someindex\")'", outcome="<Cursor>"),
             ev("Cursor.fetchall", "of 'PRAGMA main.index_info(\"someindex\")'",
                outcome="[(0, -1, 'lower (x)')]")]
    return sqlite, turso


def test_a_call_on_a_name_given_back_in_another_case_is_compared_not_dropped() -> None:
    """index_info("SomeIndex") on SQLite and index_info("someindex") on Turso are one call: what each
    returned is compared, and the KeyError on Turso's value is blamed there, not on the listing."""
    found = align(*_index_after_a_case_fold())
    assert [d.kind for d in found] == ["case-folded", "value"]
    assert found[1].args == "of 'PRAGMA main.index_info(\"someindex\")'"
    assert blame(found, {"exc_type": "KeyError", "message": "'lower (x)'", "line": "lib.py:532"}) is found[1]


def test_the_innermost_exception_decides_which_quoted_value_surfaced() -> None:
    """An assertion reported a KeyError raised under it; a warning on the way quoted the folded name."""
    found = align(*_index_after_a_case_fold())
    failure = {"exc_type": "AssertionError", "message": "Warnings were not seen", "line": "t.py:4",
               "source": "with expect_warnings(",
               "chain": [["AssertionError", "Warnings were not seen"],
                         ["SAWarning", "index key 'lower (x)' was not located in columns for 'someindex'"],
                         ["KeyError", "'lower (x)'"]]}
    assert blame(found, failure) is found[1]


def test_of_a_statements_reads_the_one_the_assertion_shows_is_blamed() -> None:
    """The CLI listed tables (`gosh` for `Gosh`) and read each one's columns (`text` for `TEXT`) on one line;
    the assertion shows the names, so the listing breaks it, not the column types read after it."""
    names = "of \"select name from sqlite_master where type = 'table'\""
    sqlite = [ev("Cursor.fetchall", names, outcome="[('Gosh',), ('Gosh2',)]", origin="t.py:125"),
              ev("Cursor.fetchall", "of 'PRAGMA table_info(\"Gosh2\")'",
                 outcome="[(0, 'c1', 'TEXT', 0, None, 0)]", origin="t.py:125")]
    turso = [ev("Cursor.fetchall", names, outcome="[('gosh',), ('gosh2',)]", origin="t.py:125"),
             ev("Cursor.fetchall", "of 'PRAGMA table_info(\"gosh2\")'",
                outcome="[(0, 'c1', 'text', 0, None, 0)]", origin="t.py:125")]
    found = align(sqlite, turso)
    assert [d.kind for d in found] == ["case-folded", "case-folded"]
    failure = {"exc_type": "AssertionError", "line": "t.py:128",
               "message": "assert 'gosh,0' == 'Gosh,0'\n  - Gosh,0\n  + gosh,0\n  Gosh2 gosh2"}
    assert blame(found, failure) is found[0]


def test_a_failure_raised_in_a_library_keeps_the_calls_its_worker_thread_made() -> None:
    """sqlitedict runs SQL on its own thread and re-raises the error in the test: the failing line is the
    library's, so its later lines say nothing of what came after the failure."""
    sql = "'REPLACE INTO \"unnamed\" (key, value) VALUES (?,?)', ('abc', memoryview(<b>, len 18))"
    error = "DatabaseError: unexpected parameter value, only None, numbers, strings and bytes are supported"
    found = align([ev("Cursor.execute", sql, outcome="<Cursor>", where="lib.py:521", origin="lib.py:521")],
                  [ev("Cursor.execute", sql, "raise", error, where="lib.py:521", origin="lib.py:521")])
    failure = {"exc_type": "DatabaseError", "message": error.split(": ", 1)[1], "line": "lib.py:521",
               "longrepr": 'File "/p/tests/test_core.py", line 40, in test_assign\n    d["abc"] = 1\n'
                           'File "/p/lib.py", line 300, in __setitem__\n'
                           'File "/p/lib.py", line 521, in run\n    cursor.execute(req, arg)\n'}
    assert blame(found, failure) is found[0]
    # the same failure reported in the test's own file: a call from a later line of it came after
    failure["longrepr"] = 'File "/p/lib.py", line 40, in test_assign\n'
    failure["line"] = "lib.py:40"
    assert blame(found, failure) is None
