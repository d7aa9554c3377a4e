"""Unit tests of the verdict rules in `stc_harness.checks.judge`."""

from __future__ import annotations

from stc_harness.checks import DOCUMENTED, DRIFT, SAME, UNDOCUMENTED, CheckSpec, Run, judge, same_observation
from stc_harness.differences import Entry, Registry
from stc_harness.sources import driver_guide

SPEC = CheckSpec("smoke.x", "smoke", "title", driver_guide("Concurrent writes"))


def entry(expect: dict) -> Registry:
    return Registry([Entry("smoke.e", "smoke", ("smoke.x",), "t", driver_guide("Concurrent writes"), "r",
                           expect, "smoke.toml")])


def test_observations_compare_type_strictly():
    assert not same_observation([True], [1])
    assert not same_observation(1, 1.0)
    assert same_observation({"a": 1, "b": [2]}, {"b": [2], "a": 1})


def test_bool_against_int_baseline_is_an_undocumented_difference():
    verdict = judge(SPEC, "turso", Run("ok", [True]), "sqlite", Run("ok", [1]), Registry())
    assert verdict.outcome == UNDOCUMENTED


def test_documented_difference_and_same():
    reg = entry({"turso": 2})
    assert judge(SPEC, "turso", Run("ok", 2), "sqlite", Run("ok", 1), reg).outcome == DOCUMENTED
    assert judge(SPEC, "sqlite", Run("ok", 1), "sqlite", None, reg).outcome == SAME


def test_entry_expecting_the_baseline_documents_nothing():
    verdict = judge(SPEC, "turso", Run("ok", 1), "sqlite", Run("ok", 1), entry({"turso": 1}))
    assert verdict.outcome == DRIFT
    assert verdict.gone
    assert "documents no difference" in verdict.message


def test_changed_observation_is_drift_naming_the_entry():
    verdict = judge(SPEC, "turso", Run("ok", 3), "sqlite", Run("ok", 1), entry({"turso": 2}))
    assert verdict.outcome == DRIFT
    assert not verdict.gone
    assert "smoke.e" in verdict.message
