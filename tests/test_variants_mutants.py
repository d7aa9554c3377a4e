"""The mutation suite's contract, small: a mutant is killed by a neighbourhood check, the control is clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run_repo

TESTS = Path(__file__).resolve().parent


def test_a_mutant_is_killed_by_a_variant_and_the_control_shows_no_difference(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    result = run_repo(["suites/engine/test_parameters.py", "suites/engine/test_names.py", "--backend=sqlite",
                       "--backend=mutants.catalog:make_control",
                       "--backend=mutants.catalog:make_at_dollar_unbound",
                       "--backend=mutants.catalog:make_unknown_collation_binary",
                       "--tracked-reference=none", "--allow-undocumented",
                       f"--report-dir={tmp_path / 'out'}", "-p", "no:randomly"],
                      tmp_path / "base", timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    doc = json.loads((tmp_path / "out" / "compatibility.json").read_text())
    checks: dict[str, Any] = {c["id"]: c["results"] for c in doc["checks"]}
    assert all(r["control"]["outcome"] == "same" for r in checks.values())
    styles = checks["parameters.parameter_style[qmark]"]["at_dollar_unbound"]
    assert styles["outcome"] == "undocumented-difference"
    assert styles["notes"]["variants"]["minimal"] is not None  # found by a variant, not the fixed case
    collation = checks["names.collation_name[long_unknown]"]["unknown_collation_binary"]
    assert collation["outcome"] == "undocumented-difference"
    assert "neighbouring input" in collation["message"]
