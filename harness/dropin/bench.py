"""`python -m stc_harness bench-dropin`: the drop-in's speed, measured on suites it writes itself.

Three figures, each the best of `--repeat` runs:
- tracing overhead: a suite that passes on both engines, run plainly and as the drop-in's SQLite child
  with tracing on (and off), on SQLite;
- the drop-in's cost: a suite where most tests fail on Turso, `--dropin=turso` against one plain run;
- explaining: aligning and explaining every Turso-only failure of that run, per failing test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from stc_harness.differences import builtin_folder, load_registry
from stc_harness.dropin.causes import Knowledge
from stc_harness.dropin.evidence import load_evidence, shipped_checks
from stc_harness.dropin.explain import Traces, evidence
from stc_harness.dropin.section import TURSO_ONLY

#: One test of the passing suite: ordinary sqlite3 work (a table, inserts, reads, a transaction).
PASSING = """
def test_work_{n}(tmp_path):
    conn = sqlite3.connect(str(tmp_path / "db.sqlite"))
    conn.execute("create table t (id integer primary key, name text, qty integer)")
    conn.executemany("insert into t (name, qty) values (?, ?)", [(f"n{{i}}", i) for i in range(50)])
    conn.commit()
    assert conn.execute("select count(*), sum(qty) from t").fetchone() == (50, 1225)
    for row in conn.execute("select id, name from t where qty < 10 order by id"):
        assert row[1].startswith("n")
    conn.close()
"""
#: One test of the failing suite: what breaks on Turso (a user function, a name's case, a missing API).
FAILING = """
def test_break_{n}(tmp_path):
    conn = sqlite3.connect(str(tmp_path / "db.sqlite"))
    conn.execute('create table "Items{n}" (id integer primary key, name text)')
    conn.execute('insert into "Items{n}" (name) values (?)', ("x",))
    conn.create_function("twice", 1, lambda v: v * 2)
    assert conn.execute("select name from sqlite_master where type = 'table'").fetchone() == ("Items{n}",)
    assert conn.execute("select twice(21)").fetchone() == (42,)
"""
INI = (
    "[pytest]\naddopts = -p no:cacheprovider -p no:randomly\nasyncio_default_fixture_loop_scope = function\n"
)


def write_suite(folder: Path, template: str, count: int) -> Path:
    """A suite of `count` tests from `template` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text(INI, encoding="utf-8")
    body = "import sqlite3\n" + "".join(template.format(n=n) for n in range(count))
    (folder / "test_bench.py").write_text(body, encoding="utf-8")
    return folder


def timed(cmd: list[str], cwd: Path, repeat: int) -> float:
    """Best wall time of `repeat` runs of `cmd` (exit 0 or 1 accepted)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        code = subprocess.run(
            cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=900
        ).returncode
        if code not in (0, 1):
            raise SystemExit(f"bench-dropin: {' '.join(cmd)} exited {code}")
        best = min(best, time.perf_counter() - start)
    return best


def explain_cost(report: Path, runs: Path) -> tuple[int, float]:
    """(Turso-only failures, milliseconds per failure) to align and explain each of a run's failures."""
    doc = json.loads(report.read_text(encoding="utf-8"))
    rows = [r for r in doc["dropin"]["tests"] if r["category"] == TURSO_ONLY]
    knowledge = Knowledge(load_registry(builtin_folder()), shipped_checks(), load_evidence())
    ids = {r["nodeid"] for r in rows}
    traces = Traces.load(runs, ids, ids)
    start = time.perf_counter()
    for row in rows:
        evidence(traces, row["nodeid"], row["nodeid"], row["turso"], knowledge)
    return len(rows), (time.perf_counter() - start) * 1000 / max(len(rows), 1)


def main(argv: Iterable[str]) -> int:
    """Write both suites to a temp folder, time them, print the figures (and --json)."""
    parser = argparse.ArgumentParser(
        prog="python -m stc_harness bench-dropin", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--tests", type=int, default=300, help="tests per suite (default 300)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, the best counts (default 3)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(list(argv)[1:])
    py = [sys.executable, "-m", "pytest", "-q"]
    with tempfile.TemporaryDirectory(prefix="stc-bench-dropin-") as tmp:
        root = Path(tmp)
        passing = write_suite(root / "passing", PASSING, args.tests)
        child = [f"--dropin-out={root / 'out.jsonl'}", f"--dropin-fault={root / 'fault'}"]
        plain = timed(py, passing, args.repeat)
        traced = timed([*py, "--dropin-engine=sqlite", *child], passing, args.repeat)
        untraced = timed([*py, "--dropin-engine=sqlite", "--dropin-notrace", *child], passing, args.repeat)
        failing = write_suite(root / "failing", FAILING, args.tests)
        plain_failing = timed(py, failing, args.repeat)
        dropin = timed([*py, "--dropin=turso", f"--report-dir={root / 'report'}"], failing, args.repeat)
        failures, per_failure = explain_cost(root / "report" / "dropin.json", root / "report" / "dropin-runs")
    figures = {
        "tests": args.tests,
        "repeat": args.repeat,
        "passing_plain_s": round(plain, 2),
        "passing_child_traced_s": round(traced, 2),
        "passing_child_untraced_s": round(untraced, 2),
        "tracing_overhead": round(traced / untraced - 1, 3),
        "failing_plain_s": round(plain_failing, 2),
        "failing_dropin_s": round(dropin, 2),
        "dropin_ratio": round(dropin / plain_failing, 2),
        "turso_only_failures": failures,
        "explain_ms_per_failure": round(per_failure, 3),
    }
    print(
        f"tracing: {args.tests} passing tests, SQLite child {untraced:.2f} s untraced, "
        f"{traced:.2f} s traced "
        f"(+{figures['tracing_overhead']:.0%}); plain pytest {plain:.2f} s"
    )
    print(
        f"drop-in: {failures} of {args.tests} tests fail on Turso; plain SQLite run {plain_failing:.2f} s, "
        f"--dropin=turso {dropin:.2f} s ({figures['dropin_ratio']}x)"
    )
    print(f"explaining: {per_failure:.3f} ms per Turso-only failure (alignment and causes)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0
