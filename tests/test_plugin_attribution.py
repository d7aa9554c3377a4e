"""Attribution through pytest: the tracked SQLite runs where Turso differs; the ratchet holds entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_plugin_backend import ran

from conftest import load_report, write_registry, write_suite
from stc_harness.report.schema import load_report as read_report

#: Turso differs from the stdlib SQLite; the tracked SQLite sides with Turso when GAP is set.
SUITE = """
GAP = {gap}

@check(title="a difference", source=SRC)
async def test_fx_diff(ctx: CheckContext) -> object:
    if ctx.name == "sqlite" or (ctx.name == "sqlean" and not GAP):
        return "old"
    return "new"
"""

ENTRY = """
[[difference]]
id = "smoke.fx-diff"
check = "smoke.fx_diff"
title = "Turso says new"
source = {{ document = "001_312a5f9792b0f890.txt", section = "Concurrent writes" }}
reason = "synthetic"
impact = "silent-data-change"
attribution = "{attribution}"
expect = {{ turso = "new" }}
"""


def run(project: pytest.Pytester, gap: bool, attribution: str, *extra: str) -> pytest.RunResult:
    write_suite(project, SUITE.format(gap=gap))
    write_registry(project, ENTRY.format(attribution=attribution))
    return project.runpytest_inprocess("-v", "--registry=reg", "--report-dir=out", *extra)


def result_of(project: pytest.Pytester) -> dict:
    row = next(r for r in load_report(project.path / "out")["checks"] if r["id"] == "smoke.fx_diff")
    return row["results"]["turso"]


@pytest.mark.parametrize(("gap", "attribution"), [(False, "turso"), (True, "sqlite-version")])
def test_a_true_attribution_is_documented_and_reported(project: pytest.Pytester, gap: bool,
                                                      attribution: str) -> None:
    result = run(project, gap, attribution)
    assert result.ret == pytest.ExitCode.OK
    assert ran(result) == {"test_fx_diff[sqlite]": "PASSED", "test_fx_diff[turso]": "XFAIL"}
    result.stdout.fnmatch_lines(["tracked SQLite: sqlean: sqlean.py *, engine 3.50.4*: the SQLite release "
                                 "Turso tracks (attribution reference)"])
    res = result_of(project)
    assert (res["outcome"], res["attribution"], res["tracked_observed"]) == (
        "documented-difference", attribution, "new" if gap else "old")
    doc = load_report(project.path / "out")
    assert doc["schema_version"] == 2
    intro = doc["sections"][0]["intro"]
    assert intro.startswith("Attributed by the tracked SQLite, SQLite 3.50.4 (sqlean.py ")
    assert doc["attribution_summary"]["by_backend"]["turso"][attribution] == 1
    section = doc["sections"][0]
    assert section["id"] == "what-will-change"
    whose = "SQLite version gap" if gap else "Turso's own"
    assert section["rows"][0][:2] == [whose, "silent-data-change"]
    md = (project.path / "out" / "compatibility.md").read_text(encoding="utf-8")
    assert md.index("## What will change for your application") < md.index("## Summary")


@pytest.mark.parametrize(("gap", "attribution", "says"), [
    (True, "turso", "says attribution 'turso' but the tracked SQLite (sqlean) observed exactly what this "
                    "backend observed ('new'): set attribution = 'sqlite-version'"),
    (False, "sqlite-version", "says attribution 'sqlite-version' but the tracked SQLite (sqlean) observed "
                              "'old', not what this backend observed: set attribution = 'turso'"),
])
def test_a_contradicted_attribution_is_drift(project: pytest.Pytester, gap: bool, attribution: str,
                                             says: str) -> None:
    result = run(project, gap, attribution)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert ran(result)["test_fx_diff[turso]"] == "FAILED"
    result.stdout.fnmatch_lines([f"drift: registry entry 'smoke.fx-diff' (smoke.toml) {says}"])
    assert result_of(project)["outcome"] == "drift"


def test_without_the_tracked_sqlite_attribution_is_unavailable_not_turso(project: pytest.Pytester) -> None:
    result = run(project, True, "turso", "--tracked-reference=none")
    assert result.ret == pytest.ExitCode.OK  # cannot contradict the entry: nothing measured
    result.stdout.fnmatch_lines(["attribution unavailable: no tracked SQLite (switched off *)"])
    assert result_of(project)["attribution"] == "unavailable"
    doc = load_report(project.path / "out")
    assert doc["tracked"] == {"available": False, "why": "switched off (--tracked-reference=none)",
                              "note": "attribution unavailable"}
    assert doc["sections"][0]["intro"].startswith("Attribution unavailable (switched off")
    assert doc["attribution_summary"]["by_backend"]["turso"] == {"turso": 0, "sqlite-version": 0,
                                                                 "unavailable": 1}


def test_the_tracked_sqlite_selected_is_covered_by_the_version_gap_entry(project: pytest.Pytester) -> None:
    result = run(project, True, "sqlite-version", "--backend=sqlite", "--backend=turso", "--backend=sqlean")
    assert result.ret == pytest.ExitCode.OK
    assert ran(result)["test_fx_diff[sqlean]"] == "XFAIL"
    row = next(r for r in load_report(project.path / "out")["checks"] if r["id"] == "smoke.fx_diff")
    assert row["results"]["sqlean"]["outcome"] == "documented-difference"


def test_a_v1_report_is_upgraded_with_attribution_unknown(tmp_path: Path) -> None:
    v1 = {"schema_version": 1, "backends": [{"id": "sqlite"}, {"id": "turso"}],
          "checks": [{"id": "a.b", "area": "a", "title": "t",
                      "entry": {"id": "a.e", "title": "e"},
                      "results": {"sqlite": {"outcome": "same"},
                                  "turso": {"outcome": "documented-difference"}}}]}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(v1), encoding="utf-8")
    doc = read_report(path)
    assert (doc["schema_version"], doc["upgraded_from"]) == (2, 1)
    assert doc["tracked"]["note"] == "attribution unavailable"
    res = doc["checks"][0]["results"]["turso"]
    assert (res["attribution"], doc["checks"][0]["entry"]["impact"]) == (None, None)
    assert doc["sections"][0]["rows"] == []  # nothing was attributed: nothing is blamed on Turso
    assert doc["sections"][0]["intro"].startswith("Attribution unavailable (a schema_version 1 report")
