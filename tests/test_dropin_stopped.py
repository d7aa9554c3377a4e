"""A command whose runner stops before its first test on Turso: the report says where and why, by evidence."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from stc_harness.differences import builtin_folder, load_registry
from stc_harness.dropin.align import align
from stc_harness.dropin.causes import Knowledge
from stc_harness.dropin.evidence import load_evidence, shipped_checks
from stc_harness.dropin.explain import _uncaught_class
from stc_harness.dropin.stopped import handled_in_test

RUNNER = """\
import sqlite3, sys, unittest

sqlite3.register_converter("bool", lambda b: b == b"1")  # a wall on Turso, made inert by the drop-in
# the runner's set-up, before any test (as Django's test runner checks its connection's functions)
conn = sqlite3.connect("file:setup_db?mode=memory&cache=shared", uri=True)
conn.execute("select sqlite_compileoption_used('ENABLE_MATH_FUNCTIONS')").fetchone()


class T(unittest.TestCase):
    def test_one(self):
        self.assertEqual(conn.execute("select 1").fetchone(), (1,))


unittest.main(module=__name__, argv=["runtests"], exit=True)
"""


def test_a_run_that_stops_before_its_first_test_names_the_call_and_its_cause(tmp_path: Path) -> None:
    (tmp_path / "runtests.py").write_text(textwrap.dedent(RUNNER), encoding="utf-8")
    cmd = [sys.executable, "-m", "stc_harness", "dropin", "--report-dir", "out", "--", sys.executable,
           "runtests.py"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    doc = json.loads((tmp_path / "out" / "dropin.json").read_text(encoding="utf-8"))
    intro = doc["sections"][0]["intro"]
    assert "1 tests did not run on both engines" in intro
    assert "The turso run ended early" in intro
    assert "it stopped at turso.lib.DatabaseError: Parse error: no such function: sqlite_compileoption_used" \
        in intro
    # the wall first, then what the run met behind it, each with the registry entry that documents it
    assert "the first call where the engines part: sqlite3.register_converter('bool'" in intro
    assert "Behind that wall (with the name made inert) the run stops at Connection.execute(" in intro
    assert "cause proven: compat.scalar_functions-sqlite_compileoption_used_x" in intro


def test_the_classes_a_test_catches_around_its_failing_line(tmp_path: Path) -> None:
    test = tmp_path / "test_view.py"
    test.write_text(
        "import sqlite3\n"
        "def test_view(db):\n"
        "    try:\n"
        "        list(db.rows())\n"
        "    except (sqlite3.OperationalError, KeyError):\n"
        "        pass\n"
        "    db.close()\n",
        encoding="utf-8")
    def failure(line: int) -> dict[str, str]:
        return {"line": "lib/db.py:9", "longrepr": f'File "{test}", line {line}, in test_view\n'
                                                  f'File "/site-packages/lib/db.py", line 9, in rows\n'}
    assert handled_in_test(failure(4)) == {"OperationalError", "KeyError"}
    assert handled_in_test(failure(7)) == frozenset()


def test_an_error_the_test_tolerates_as_operationalerror_is_blamed_on_the_class(tmp_path: Path) -> None:
    """sqlite-utils reads a view's rowid inside `except sqlite3.OperationalError` (SQLite 3.36+ raises it):
    on Turso the same error comes as DatabaseError, which the handler does not catch."""
    test = tmp_path / "test_rows.py"
    test.write_text("def test_rows(db):\n    try:\n        db.rows()\n    except OperationalError:\n"
                    "        pass\n    db.rows()\n", encoding="utf-8")
    sql = "'select rowid from v'"
    (d,) = align([["Connection.execute", sql, "ok", "<Cursor>", "lib/db.py:9", "lib/db.py:9"]],
                 [["Connection.execute", sql, "raise", "DatabaseError: Parse error: no such column: rowid",
                   "lib/db.py:9", "lib/db.py:9"]])
    knowledge = Knowledge(load_registry(builtin_folder()), shipped_checks(), load_evidence())
    plain = knowledge.explain(d)

    def failure(line: int) -> dict[str, str]:
        return {"line": "lib/db.py:9", "longrepr": f'File "{test}", line {line}, in test_rows\n'
                                                  f'File "/site-packages/lib/db.py", line 9, in rows\n'}

    caught = _uncaught_class(d, plain, failure(3), knowledge)
    assert caught.entry == "driver_exceptions.engine-errors-databaseerror"
    assert caught.why.startswith("the test catches OperationalError around this call")
    assert _uncaught_class(d, plain, failure(6), knowledge) == plain  # not inside the try
