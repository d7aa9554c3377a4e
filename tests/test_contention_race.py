"""transactions.failed_begin_leaves_no_transaction ends its race once the evidence is in, and still goes
red on a backend whose failed BEGIN leaves a transaction open later in the race than Turso ever did."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from contention_leak_mutant import LEAK_AT

from conftest import ROOT, TESTS, load_report, run_repo

CHECK = "transactions.failed_begin_leaves_no_transaction"


def _suite_module() -> ModuleType:
    """suites/engine/test_transactions.py, loaded under a name of its own (its constants and rule)."""
    spec = importlib.util.spec_from_file_location("suite_transactions",
                                                  ROOT / "suites" / "engine" / "test_transactions.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


race = _suite_module()


def test_the_evidence_rule_needs_more_than_turso_ever_needed() -> None:
    assert LEAK_AT < race.ENOUGH_FAILURES
    board = [{"begin_failures": race.ENOUGH_FAILURES // 4, "commits": race.ENOUGH_COMMITS // 4}
             for _ in range(race.CONTENDERS)]
    assert race._enough(board)
    board[0]["commits"] -= 1
    assert not race._enough(board)
    board[0]["commits"] += 1
    board[1]["begin_failures"] -= 1
    assert not race._enough(board)


def test_a_rare_left_open_transaction_still_turns_the_check_red(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    result = run_repo(["suites/engine/test_transactions.py", "-k", "failed_begin_leaves_no_transaction",
                       "--backend=sqlite", "--backend=contention_leak_mutant:make_mutant",
                       "--allow-undocumented", "-q", "-p", "no:randomly", f"--report-dir={tmp_path / 'r'}"],
                      tmp_path / "b", timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    checks = {c["id"]: c["results"] for c in load_report(tmp_path / "r")["checks"]
              if c["id"].startswith(CHECK)}
    assert len(checks) == 2
    for results in checks.values():
        real, mutant = results["sqlite"], results["leaky"]
        assert real["outcome"] == "same", real
        # the real SQLite ran until the evidence was in (or, on a very slow machine, to the deadline)
        assert real["notes"]["ended"] in ("evidence", "bound"), real["notes"]
        if real["notes"]["ended"] == "evidence":
            assert real["notes"]["begin_failures"] >= race.ENOUGH_FAILURES
            assert real["notes"]["commits"] >= race.ENOUGH_COMMITS
        assert mutant["outcome"] == "undocumented-difference", mutant
        assert mutant["observed"]["failed_begin_left_transaction_open"] is True
        assert mutant["notes"]["ended"] == "left_open"
        assert mutant["notes"]["begin_failures"] >= LEAK_AT
