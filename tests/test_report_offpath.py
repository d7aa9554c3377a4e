"""Reports off the happy path (issue 24; two bugs of issue 23): odd bytes, merges, foreign files, paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, write_suite
from stc_harness.crash_records import complete_crash_records, crash_record
from stc_harness.differential import sqltest
from stc_harness.dropin.terminal import cut
from stc_harness.report import cli
from stc_harness.report.build import merge_reports
from stc_harness.report.encode import printable
from stc_harness.report.schema import validate

# --- item 3: any string, whatever its bytes, is escaped and written (the main plugin) -----------------

ODD = """
@check(title="odd bytes in an observation and a note", source=SRC)
async def test_fx_odd(ctx: CheckContext) -> object:
    ctx.note(raw="note " + os.fsdecode(b"\\xfe") + "\\x00")
    return "obs " + os.fsdecode(b"\\xff") + "\\x00 " + ctx.backend.name
"""


def test_an_observation_with_a_lone_surrogate_and_a_nul_is_written(project: pytest.Pytester) -> None:
    write_suite(project, ODD)
    result = project.runpytest_subprocess("--backend=sqlite", "--backend=turso", "--report-dir=out",
                                          "--allow-undocumented")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()  # not 3 (INTERNALERROR)
    out = project.path / "out"
    for name in ("compatibility.json", "compatibility.md", "compatibility.html"):
        data = (out / name).read_bytes()
        data.decode("utf-8")  # strict
        assert b"\0" not in data, name
    doc = json.loads((out / "compatibility.json").read_text(encoding="utf-8"))
    turso = doc["checks"][0]["results"]["turso"]
    assert turso["observed"] == "obs \udcff\x00 turso"  # the JSON keeps the string exactly
    assert turso["notes"]["raw"] == "note \udcfe\x00"
    assert "udcff" in (out / "compatibility-details" / "area-smoke.md").read_text(encoding="utf-8")


def test_printable_escapes_controls_and_surrogates_only() -> None:
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable("caf\udce9\x00\x1b") == "caf\\udce9\\x00\\x1b"
    assert json.loads(printable(json.dumps("x\udcff", ensure_ascii=False))) == "x\udcff"


def test_the_terminal_cuts_at_a_word_boundary() -> None:
    text = "no such function: double_the_value called from the test of the shop"
    short = cut(text, 30)
    assert short == "no such function …"  # never "no such functi", nor a dangling colon
    assert cut("one_very_long_identifier_without_spaces", 10) == "one_very_l …"
    assert cut(text, 200) == text


# --- item 9: foreign files, merges, crash records, paths ---------------------------------------------


def _doc(version: int, *, layer: str | None, attribution: str | None, impact: str | None,
         available: bool) -> dict[str, Any]:
    entry = {"id": "smoke.entry", "title": "differs", "impact": impact, "attribution": None}
    if version == 1:
        entry = {"id": "smoke.entry", "title": "differs"}
    result = {"outcome": "documented-difference", "message": "", "observed": 2, "baseline": 1,
              "baseline_from": "sqlite", "notes": {}, "duration": 0.0, "nodeid": "x"}
    if version == 2:
        result.update(attribution=attribution, tracked_observed=1)
    row: dict[str, Any] = {"id": "smoke.one", "area": "smoke", "title": "one", "source": None,
                           "entry": entry, "results": {"turso": result}}
    if layer:
        row["layer"] = layer
    doc = {"schema_version": version, "python": "3.11.7", "reference": "sqlite",
           "backends": [{"id": "turso", "driver_version": "0.8.3"}], "registry": [entry], "checks": [row]}
    if version == 2:
        doc["tracked"] = {"available": available, "engine_version": "3.50.4", "driver": "sqlean.py",
                          "driver_version": "3.50.4.5"}
    return doc


def test_merging_a_v1_and_a_v2_report_keeps_attribution_impact_and_layer() -> None:
    v1 = validate(_doc(1, layer=None, attribution=None, impact=None, available=False), "old.json")
    v2 = validate(_doc(2, layer="driver", attribution="turso", impact="silent-data-change", available=True),
                  "new.json")
    merged = merge_reports([("old.json", v1), ("new.json", v2)])
    row = merged["checks"][0]
    assert row["layer"] == "driver"  # issue 23: merge dropped every row's layer
    section = merged["sections"][0]
    assert not section["intro"].startswith("Attribution unavailable"), section["intro"]
    new = next(r for r in section["rows"] if r[3] != "turso@0.8.3/py3.11/old")
    assert new[:2] == ["Turso's own", "silent-data-change"], section["rows"]
    old = [r for r in section["rows"] if r is not new]
    assert old == []  # the v1 result has no measured attribution: not "Turso's own"


def _dropin_doc(tmp_path: Path) -> Path:
    doc = _doc(2, layer="engine", attribution=None, impact=None, available=False)
    doc["dropin"] = {"tests": [], "engines": {}, "adaptations": True}
    path = tmp_path / "dropin.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_merge_and_registry_attribution_refuse_a_dropin_report(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = _dropin_doc(tmp_path)
    assert cli.main(["merge", str(path), "--out", str(tmp_path / "m")]) == cli.USAGE
    assert "is a drop-in report" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    run = subprocess.run([sys.executable, "-m", "stc_harness", "registry-attribution", str(path)],
                         capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "is a drop-in report" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_crash_record_has_layer_attribution_and_the_tracked_observation() -> None:
    nodeid = "suites/driver/test_driver_x.py::test_probe[turso]"
    sibling = {"check": "driver_x.probe", "area": "driver_x", "layer": "driver", "title": "probe",
               "source": None, "backend": "sqlite", "outcome": "same", "entry": None, "attribution": None,
               "tracked_observed": {"v": 1}, "nodeid": nodeid.replace("[turso]", "[sqlite]")}
    crash = crash_record(nodeid, "worker crashed", ["sqlite", "turso"])
    assert crash is not None
    assert {"layer", "attribution", "tracked_observed"} <= set(crash)
    records = {("driver_x.probe", "sqlite"): sibling, (crash["check"], "turso"): crash}
    complete_crash_records(records, ["sqlite", "turso"])
    done = records[("driver_x.probe", "turso")]
    assert (done["layer"], done["tracked_observed"], done["attribution"]) == ("driver", {"v": 1}, None)


def test_hunt_export_to_an_unwritable_place_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    cases = ROOT / "suites" / "discovery_cases"
    for where in ("/proc/no-such-folder", "/dev/null/x"):
        assert sqltest.main(["hunt-export", "--sqltest", where, "--cases-dir", str(cases)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"hunt-export: --sqltest {where}"), err
        assert "Traceback" not in err


@pytest.mark.parametrize("where", ["/proc/report", "/sys/report"])
def test_a_report_dir_on_a_special_folder_is_refused_before_the_run(project: pytest.Pytester,
                                                                    where: str) -> None:
    write_suite(project, ODD)
    result = project.runpytest_subprocess("--backend=sqlite", f"--report-dir={where}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines([f"*--report-dir {where}: cannot write into*"])
    assert "passed" not in result.stdout.str()


def test_interrupted_reports_are_ignored_by_git() -> None:
    names = ["reports/compatibility-interrupted.json", "reports/compatibility-interrupted.md",
             "reports/compatibility-interrupted-details/README.md", "dropin-report/dropin-interrupted.html",
             "reports/dropin/shop/dropin-interrupted.md"]
    run = subprocess.run(["git", "check-ignore", *names], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=False, env={**os.environ, "GIT_DIR": str(_git_dir())})
    assert sorted(run.stdout.split()) == sorted(names), run.stdout + run.stderr


def _git_dir() -> Path:
    out = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    return (ROOT / out).resolve()


def test_settle_keeps_a_tracked_report_that_differs_only_in_times(tmp_path: Path) -> None:
    from test_report_render import sample_doc

    from stc_harness.report.write import write_all

    tracked, new = tmp_path / "reports", tmp_path / "reports" / ".run"
    doc = sample_doc()
    write_all(doc, tracked)
    before = {p: p.read_bytes() for p in tracked.rglob("*") if p.is_file()}
    rerun = json.loads(json.dumps(doc))
    rerun["generated_at"] = "2030-01-01T00:00:00+00:00"
    for row in rerun["checks"]:
        for res in row["results"].values():
            res["duration"] = 9.5
    write_all(rerun, new)
    assert cli.main(["settle", str(new), str(tracked)]) == 0
    assert {p: p.read_bytes() for p in tracked.rglob("*") if p.is_file()} == before  # no churn
    assert not new.exists()
    rerun["checks"][0]["results"]["turso"]["outcome"] = "crash"  # a result changed: the report moves
    write_all(rerun, new)
    assert cli.main(["settle", str(new), str(tracked)]) == 0
    assert json.loads((tracked / "compatibility.json").read_text())["generated_at"].startswith("2030")
