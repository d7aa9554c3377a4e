"""Run the suites against every mutant and the control; print the score and, per mutant, its killing checks.

One pytest run per suite file, with SQLite (the reference), the control and every mutant that names the
file. A mutant is killed by a check when its result there (outcome and observation) differs from the
control's; the control must match SQLite on every check. Usage (from the repository root):
    PYTHONPATH=tests python -m mutants.run [--only NAME ...] [--json PATH] [--variants N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from mutants.catalog import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parents[2]
TARGET = "mutants.catalog:make_{}"


def _result_key(result: dict[str, Any] | None) -> str:
    if result is None:
        return "absent"
    return json.dumps([result.get("outcome"), result.get("observed")], sort_keys=True)


def run_suite(suite: str, mutants: list[Mutant], folder: Path, extra: list[str]) -> dict[str, Any]:
    """Run one suite file on SQLite, the control and `mutants`; the report's checks by id."""
    backends = ["--backend=sqlite", "--backend=" + TARGET.format("control"),
                *("--backend=" + TARGET.format(m.name) for m in mutants)]
    out = folder / Path(suite).stem
    (folder / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "tests"),
                                                                      os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "pytest", suite, *backends, "-n", "2", "--max-worker-restart=8", "-q",
           "-p", "no:cacheprovider", "--tracked-reference=none", "--allow-undocumented",
           f"--report-dir={out}", f"--basetemp={folder / 'tmp' / Path(suite).stem}", *extra]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=900, check=False)
    report = out / "compatibility.json"
    if not report.exists():
        raise SystemExit(f"{suite}: no report (exit {done.returncode}):\n"
                         f"{done.stdout[-3000:]}{done.stderr[-2000:]}")
    return {c["id"]: c["results"] for c in json.loads(report.read_text())["checks"]}


def score(only: list[str], extra: list[str]) -> dict[str, Any]:
    """Run everything; the summary (score, kills per mutant, control differences)."""
    chosen = [m for m in MUTANTS.values() if not only or m.name in only]
    by_suite: dict[str, list[Mutant]] = defaultdict(list)
    for m in chosen:
        for suite in m.suites:
            by_suite[suite].append(m)
    kills: dict[str, list[str]] = {m.name: [] for m in chosen}
    control_diffs: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        for suite, mutants in sorted(by_suite.items()):
            start = time.perf_counter()
            checks = run_suite(suite, mutants, Path(tmp), extra)
            for cid, results in checks.items():
                control = results.get("control")
                if _result_key(control) != _result_key(results.get("sqlite")) \
                        and (control or {}).get("outcome") != "unsupported":
                    control_diffs.append(f"{cid}: control {_result_key(control)[:200]}")
                for m in mutants:
                    if _result_key(results.get(m.name)) != _result_key(control):
                        kills[m.name].append(cid)
            print(f"  {suite}: {len(checks)} checks, {len(mutants)} mutants, "
                  f"{time.perf_counter() - start:.1f}s", flush=True)
    killed = [n for n, k in kills.items() if k]
    return {"mutants": len(chosen), "killed": len(killed),
            "killed_twice": sum(1 for k in kills.values() if len(k) >= 2),
            "kills": kills, "control_differences": control_diffs,
            "catalog": {m.name: {"place": m.place, "theme": m.theme, "what": m.what, "suites": m.suites}
                        for m in chosen}}


def main(argv: list[str] | None = None) -> int:
    """Command line: run, print, exit 1 when a mutant survives or the control differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="mutant names (default: all)")
    parser.add_argument("--json", type=Path, help="write the summary there")
    parser.add_argument("--variants", type=int, help="variants per check (pytest --variants)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.only if n not in MUTANTS]
    if unknown:
        parser.error(f"unknown mutants {unknown}; known: {', '.join(MUTANTS)}")
    extra = [f"--variants={args.variants}"] if args.variants is not None else []
    start = time.perf_counter()
    summary = score(args.only, extra)
    print(f"\nmutation score: {summary['killed']}/{summary['mutants']} killed, "
          f"{summary['killed_twice']} by two or more checks ({time.perf_counter() - start:.0f}s)")
    for name, cids in summary["kills"].items():
        m = summary["catalog"][name]
        mark = "SURVIVED" if not cids else f"{len(cids)} checks"
        shown = ", ".join(cids[:4]) + (", ..." if len(cids) > 4 else "")
        print(f"  {name:<32} [{m['place']}, {m['theme']}] {mark}: {shown}")
    print(f"control: {'no difference' if not summary['control_differences'] else 'DIFFERS'}")
    for line in summary["control_differences"][:20]:
        print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0 if summary["killed"] == summary["mutants"] and not summary["control_differences"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
