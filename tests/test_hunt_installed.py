"""The hunt installed from a wheel, run outside the repository: every saved case is still documented.

Saved cases that only the tracked SQLite tells apart (`tracked_only`) are documented by the case file
itself, not by a registry entry; an installed hunt must find those files without the repository's
suites/ folder, or it reports them as undocumented findings of Turso's own after every run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from stc_harness.differential import sqltest
from stc_harness.differential.replay import PACKAGED_CASES, load_cases

REPO = Path(__file__).resolve().parent.parent
#: What the installed hunt decides about every saved case (run with the wheel first on the path).
CHECK = """
import json, sys
from pathlib import Path
import stc_harness
from stc_harness.differences import load_registries
from stc_harness.differential.case import Case
from stc_harness.differential.cli import parse_args, tracked_only_cases
from stc_harness.differential.findings import DOCUMENTED, Finding, classify
from stc_harness.differential.replay import PACKAGED_CASES, load_cases

args = parse_args([])
names = sorted(load_cases(PACKAGED_CASES))
findings = [Finding(sig, "turso", "sqlean", "value", Case("expr", ()), 0, {}) for sig in names]
classify(findings, load_registries(None)[0], tracked_only_cases(Path(args.cases_dir)))
print(json.dumps({"module": stc_harness.__file__, "cases": names,
                  "undocumented": [f.signature for f in findings if f.status != DOCUMENTED]}))
"""


def _build(src: Path, out: Path) -> Path:
    """A wheel built from a copy of the project's sources (links resolved, as an sdist would hold them)."""
    for name in ("harness", "backends"):
        shutil.copytree(REPO / name, src / name, symlinks=False,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
                   check=True, capture_output=True, timeout=120)
    return next(out.glob("*.whl"))


def test_an_installed_hunt_outside_the_repository_knows_every_saved_case(tmp_path: Path) -> None:
    wheel = _build(tmp_path / "src", tmp_path / "dist")
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:  # what `pip install --target` does for a pure-Python wheel
        z.extractall(target)
    elsewhere = tmp_path / "elsewhere"  # no suites/ folder here
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(seen["module"]).is_relative_to(target), "the check ran the harness of the repository"
    assert seen["cases"] == sorted(load_cases(PACKAGED_CASES)), "the wheel lacks saved cases"
    assert any(case.get("tracked_only") for case in load_cases(PACKAGED_CASES).values())
    assert seen["undocumented"] == [], "saved findings an installed hunt reports as undocumented"


def test_hunt_export_outside_the_repository_exports_the_cases_that_ship_with_the_package(
        tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no suites/discovery_cases here
    assert sqltest.main(["hunt-export", "--sqltest", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    counts = re.search(r"hunt-export: (\d+) tests in \d+ files under .* \((\d+) skipped\)", out)
    assert counts, out
    assert int(counts[1]) + int(counts[2]) == len(load_cases(PACKAGED_CASES)), out
    assert sorted(p.name for p in (tmp_path / "out").glob("*.sqltest")), out
    assert not (tmp_path / "suites").exists()
