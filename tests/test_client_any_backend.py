"""The client layer on any backend: engines come from the backend's own modules, not from its name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run_repo

TESTS = Path(__file__).resolve().parent


def test_a_third_party_backend_with_the_stdlib_modules_gets_client_checks_that_run_and_a_client_mutant_dies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    result = run_repo(["suites/client/test_client_sqlalchemy.py", "--backend=sqlite",
                       "--backend=mutants.catalog:make_stdlib_thirdparty",
                       "--backend=mutants.catalog:make_client_rowcount_unknown",
                       "--tracked-reference=none", "--allow-undocumented", "-n", "0",
                       f"--report-dir={tmp_path / 'out'}", "-p", "no:randomly"],
                      tmp_path / "base", timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    doc = json.loads((tmp_path / "out" / "compatibility.json").read_text())
    checks: dict[str, Any] = {c["id"]: c["results"] for c in doc["checks"]}
    assert len(checks) >= 20
    third = {cid: r["thirdparty"] for cid, r in checks.items()}
    assert {r["outcome"] for r in third.values()} == {"same"}, {c: r["message"] for c, r in third.items()}
    sync = third["client_sqlalchemy.dml_counters[sync]"]["notes"]
    assert (sync["sqlalchemy_dialect"], sync["dbapi_module"]) == ("sqlite+pysqlite", "sqlite3")
    assert third["client_sqlalchemy.dml_counters[async]"]["notes"]["dbapi_module"] == "aiosqlite"
    counters = checks["client_sqlalchemy.dml_counters[sync]"]["client_rowcount_unknown"]
    assert counters["outcome"] == "undocumented-difference"
    assert counters["observed"]["update_rowcount"] == -1
    assert counters["observed"]["orm_update"] == "StaleDataError"
