"""`python -m stc_harness render|merge`: files written, labels on merge, clear errors on foreign files."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_report_render import sample_doc

from stc_harness.report import cli
from stc_harness.report.build import backend_labels, comparable, merge_reports
from stc_harness.report.schema import ReportError, load_report
from stc_harness.report.write import write_all, write_atomic


def _write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _variant(python: str = "3.11.7", turso: str = "0.8.3", only: str | None = None) -> dict[str, Any]:
    """The sample report as if run on another Python, another pyturso, or with one backend."""
    doc = sample_doc()
    doc["python"] = python
    for b in doc["backends"]:
        if b["id"] == "turso":
            b["driver_version"] = turso
    if only:
        doc["backends"] = [b for b in doc["backends"] if b["id"] == only]
        for row in doc["checks"]:
            row["results"] = {k: v for k, v in row["results"].items() if k == only}
    return doc


def test_render_writes_markdown_and_html_next_to_the_json(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "run" / "nightly.json", sample_doc())
    assert cli.main(["render", str(src)]) == 0
    md, html = tmp_path / "run" / "nightly.md", tmp_path / "run" / "nightly.html"
    details = tmp_path / "run" / "nightly-details"
    assert md.read_text().startswith("# Moving from sqlite to turso: what changes\n")
    assert "(nightly-details/README.md)" in md.read_text()
    assert (details / "area-types.md").is_file()
    assert "<!doctype html>" in html.read_text()
    assert capsys.readouterr().out.split() == [str(md), str(html), str(details)]
    assert cli.main(["render", str(src), "--out", str(tmp_path / "elsewhere")]) == 0
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["nightly-details", "nightly.html",
                                                                           "nightly.md"]


def test_python_dash_m_harness_dispatches_render(tmp_path: Path) -> None:
    src = _write(tmp_path / "compatibility.json", sample_doc())
    proc = subprocess.run([sys.executable, "-m", "stc_harness", "render", str(src)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "compatibility.md").is_file()
    assert (tmp_path / "compatibility.html").is_file()


@pytest.mark.parametrize(("content", "expected"), [
    ({"schema_version": 3, "checks": []},
     "schema_version 3 is not supported; expected a compatibility report with schema_version 2 "
     "(this harness reads 1, 2"),
    ({"hello": "world"}, "not a compatibility report (no schema_version); expected a compatibility report "
                         "with schema_version 2"),
    ([1, 2, 3], "not a compatibility report (no schema_version)"),
    ("{not json", "not a compatibility report (not valid JSON"),
    ({"schema_version": 1, "backends": [], "checks": [{"id": "a.b"}]}, "malformed report: checks[0] needs"),
])
def test_a_foreign_file_is_a_clear_error_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     content: Any, expected: str) -> None:
    bad = tmp_path / "other.json"
    bad.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    good = _write(tmp_path / "good.json", sample_doc())
    for argv in (["render", str(bad)], ["merge", str(good), str(bad), "--out", str(tmp_path / "m")]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {bad}: "), err
        assert expected in err
    assert not (tmp_path / "m").exists()  # nothing half-merged was written
    with pytest.raises(ReportError, match=r"other\.json"):
        load_report(str(bad))


def test_missing_file_and_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", str(tmp_path / "nope.json")]) == 2
    assert f"{tmp_path / 'nope.json'}: cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["merge", str(tmp_path / "a.json")])  # --out is required
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["merge", "a.json", "--out", "x", "--label-from", "colour"])


def test_merge_keeps_unique_ids_and_labels_colliding_ones(tmp_path: Path) -> None:
    a = _write(tmp_path / "sqlite-only.json", _variant(only="sqlite"))
    b = _write(tmp_path / "turso-only.json", _variant(only="turso"))
    assert cli.main(["merge", str(a), str(b), "--out", str(tmp_path / "m1")]) == 0
    merged = load_report(tmp_path / "m1" / "compatibility.json")
    assert [x["id"] for x in merged["backends"]] == ["sqlite", "turso"]
    assert [x["file"] for x in merged["backends"]] == [str(a), str(b)]
    assert {c["id"] for c in merged["checks"]} == {c["id"] for c in sample_doc()["checks"]}
    assert merged["summary"]["turso"]["crash"] == 1
    assert (tmp_path / "m1" / "compatibility.md").is_file()
    assert (tmp_path / "m1" / "compatibility.html").is_file()

    old = _write(tmp_path / "old.json", _variant(python="3.10.14", turso="0.7.2"))
    new = _write(tmp_path / "new.json", _variant(python="3.12.3"))
    assert cli.main(["merge", str(old), str(new), "--out", str(tmp_path / "m2")]) == 0
    merged = load_report(tmp_path / "m2" / "compatibility.json")
    labels = [x["id"] for x in merged["backends"]]
    assert labels == ["sqlite@0.22.1/py3.10", "turso@0.7.2/py3.10",
                      "sqlite@0.22.1/py3.12", "turso@0.8.3/py3.12"]
    row = next(c for c in merged["checks"] if c["id"] == "types.documented")
    assert list(row["results"]) == labels
    assert merged["reference"] == "sqlite@0.22.1/py3.10"
    assert [m["file"] for m in merged["merged_from"]] == [str(old), str(new)]
    md = (tmp_path / "m2" / "compatibility-details" / "area-types.md").read_text()
    assert "| check | title | sqlite@0.22.1/py3.10 | turso@0.7.2/py3.10 | sqlite@0.22.1/py3.12 |" in md


def test_label_modes_and_identical_runs() -> None:
    same = [("a/run1.json", _variant()), ("b/run2.json", _variant())]
    assert backend_labels(same) == [
        {"sqlite": "sqlite@0.22.1/py3.11/run1", "turso": "turso@0.8.3/py3.11/run1"},
        {"sqlite": "sqlite@0.22.1/py3.11/run2", "turso": "turso@0.8.3/py3.11/run2"}]
    two_machines = [("m1/compatibility.json", _variant()), ("m2/compatibility.json", _variant())]
    assert backend_labels(two_machines) == [
        {"sqlite": "sqlite@0.22.1/py3.11/m1", "turso": "turso@0.8.3/py3.11/m1"},
        {"sqlite": "sqlite@0.22.1/py3.11/m2", "turso": "turso@0.8.3/py3.11/m2"}]
    twice = [("rep/run.json", _variant()), ("rep/run.json", _variant(only="turso"))]
    assert backend_labels(twice) == [
        {"sqlite": "sqlite", "turso": "turso@0.8.3/py3.11/run/1"}, {"turso": "turso@0.8.3/py3.11/run/2"}]
    assert backend_labels(same, "python")[0] == {"sqlite": "sqlite/py3.11/run1", "turso": "turso/py3.11/run1"}
    assert backend_labels([("r.json", _variant())], "backend") == [{"sqlite": "sqlite@0.22.1",
                                                                    "turso": "turso@0.8.3"}]
    assert backend_labels([("dir/r.json", _variant())], "file") == [
        {"sqlite": "sqlite/r", "turso": "turso/r"}]
    with pytest.raises(ValueError, match="label mode"):
        backend_labels(same, "colour")


def test_merge_is_deterministic_and_does_not_touch_its_inputs() -> None:
    docs = [("one.json", _variant(python="3.10.1")), ("two.json", _variant(python="3.12.1"))]
    before = copy.deepcopy(docs)
    first, second = merge_reports(docs), merge_reports(copy.deepcopy(docs))
    assert docs == before
    assert json.dumps(comparable(first)) == json.dumps(comparable(second))
    assert "generated_at" not in comparable(first)["merged_from"][0]
    again = merge_reports([("merged.json", first)])  # a merged report merges again
    assert [b["id"] for b in again["backends"]] == [b["id"] for b in first["backends"]]


def test_files_are_replaced_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = write_all(sample_doc(), tmp_path)
    assert [p.name for p in written] == ["compatibility.json", "compatibility.md", "compatibility.html",
                                         "compatibility-details"]
    assert oct(written[0].stat().st_mode & 0o777) == "0o644"
    before = written[0].read_text()

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        write_atomic(written[0], "{ truncated")
    assert written[0].read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)  # no temp file left
