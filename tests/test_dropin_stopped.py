"""A command whose runner stops before its first test on Turso: the report says where and why, by evidence."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

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
