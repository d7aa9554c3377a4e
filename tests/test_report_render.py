"""The report document (build), its Markdown and HTML renderings, and serial vs xdist equality."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stc_harness.checks import OUTCOMES
from stc_harness.core.records import RECORD_FIELDS, check_record
from stc_harness.crash_records import crash_record
from stc_harness.differences import Entry, Registry
from stc_harness.report.build import RESULT_FIELDS, SCHEMA_VERSION, build_report, comparable, merge_reports
from stc_harness.report.facts import RunFacts, backend_facts, tracked_facts
from stc_harness.report.render import (
    DIFF_OUTCOMES,
    make_view,
    md_value,
    render_details,
    render_html,
    render_markdown,
    value_diff,
)
from stc_harness.report.schema import ReportError, validate
from stc_harness.sources import DISCOVERY, driver_guide, orm_backend

EVIL = '<script>alert("x")</script> | `tick` & &amp; _em_ *b*'

ENTRIES = [
    Entry("types.doc-entry", "types", ("types.documented",), "Turso says <i>turso</i>",
          driver_guide("Connection URLs"), "the name | differs", {"turso": {"name": "turso"}}, "types.toml"),
    Entry("types.drift-entry", "types", ("types.drifting",), "Stale entry", driver_guide("Concurrent writes"),
          "it changed", {"turso": "old"}, "types.toml"),
    Entry("errors.crash-entry", "errors", ("errors.crashes",), "Panics", orm_backend("Limitations"),
          "a panic", {"turso": {"error": "PANIC"}}, "errors.toml"),
    Entry("types.evil-entry", "types", ("types.evil[a|b]",), EVIL,
          orm_backend("Differences from SQLite Backend"), '<img src=x onerror="alert(1)">',
          {"turso": {"v": "a|b"}}, "types.toml"),
]


def record(check: str, backend: str, outcome: str, observed: Any = 1, baseline: Any = 1, *,
           title: str | None = None, source: Any = None, entry: Entry | None = None, message: str = "",
           notes: dict[str, Any] | None = None) -> dict[str, Any]:
    """One record as the core makes it (`stc_harness.core.run`), without a layer."""
    area = check.split(".")[0]
    return check_record(
        check, area, backend, outcome, title=title if title is not None else f"Title of {check}",
        source=(source or driver_guide("Error handling")).as_dict() if source is not False else None,
        message=message, observed=observed, baseline=baseline, baseline_from="sqlite",
        entry=entry.as_dict() if entry else None, notes=notes or {}, duration=random.random(),
        nodeid=f"suites/test_{area}.py::test_{check.split('.', 1)[1]}[{backend}]")


def sample_records() -> list[dict[str, Any]]:
    """Records covering every outcome, two areas, two backends, and text that needs escaping."""
    e = {x.id: x for x in ENTRIES}
    recs = []
    for b in ("sqlite", "turso"):
        recs.append(record("types.same_value", b, "same", [["integer", 1]], [["integer", 1]],
                           source=orm_backend("Features")))
        recs.append(record("types.evil[a|b]", b, "same" if b == "sqlite" else "documented-difference",
                           {"v": "a|b" if b == "turso" else "</code>|`x`"}, {"v": "</code>|`x`"},
                           title=EVIL, source=orm_backend("Differences from SQLite Backend"),
                           entry=e["types.evil-entry"], notes={"raw": EVIL}))
    recs += [
        record("types.documented", "sqlite", "same", {"name": "sqlite"}, {"name": "sqlite"},
               source=driver_guide("Connection URLs"), entry=e["types.doc-entry"]),
        record("types.documented", "turso", "documented-difference", {"name": "turso"}, {"name": "sqlite"},
               source=driver_guide("Connection URLs"), entry=e["types.doc-entry"],
               message="as documented by types.doc-entry"),
        record("types.drifting", "sqlite", "same", "sqlite", "sqlite", entry=e["types.drift-entry"]),
        record("types.drifting", "turso", "drift", "new", "sqlite", entry=e["types.drift-entry"],
               message="registry entry 'types.drift-entry' expects 'old'"),
        record("errors.undocumented", "sqlite", "same", [1, "NULL"], [1, "NULL"], source=DISCOVERY),
        record("errors.undocumented", "turso", "undocumented-difference", [2, "NULL"], [1, "NULL"],
               source=DISCOVERY, message="turso observed [2]"),
        record("errors.boom", "sqlite", "same"),
        record("errors.boom", "turso", "error", None, None,
               message="RuntimeError: boom\nTraceback (most recent call last):\n  File \"x.py\"\n~~~ fence"),
        record("errors.hang", "sqlite", "same"),
        record("errors.hang", "turso", "timeout", None, None, message="did not finish within 15s"),
        record("errors.crashes", "sqlite", "same", entry=e["errors.crash-entry"]),
        # a crash record is rebuilt from the node id: no title, source or entry
        record("errors.crashes", "turso", "crash", None, None, title="", source=False,
               message="worker 'gw0' crashed while running it"),
        record("limits.needs_ext", "sqlite", "same", source=orm_backend("Limitations")),
        record("limits.needs_ext", "turso", "unsupported", None, None, source=orm_backend("Limitations"),
               message="needs extensions: not available"),
    ]
    return recs


def report_of(records: list[dict[str, Any]],
              backends: tuple[str, ...] = ("sqlite", "turso")) -> dict[str, Any]:
    """The report of `records` from a run of `backends`, built as the plugin builds it (facts + records)."""
    versions = {"sqlite": ("aiosqlite", "0.22.1", "3.40.1"), "turso": ("pyturso", "0.8.3", "3.50.4")}
    selected = {}
    for b in backends:
        driver, dv, ev = versions.get(b, ("x", "1", "1"))
        info = SimpleNamespace(name=b, driver=driver, driver_version=dv, engine_version=ev)
        selected[b] = SimpleNamespace(id=b, backend=SimpleNamespace(info=info), options={})
    facts = RunFacts(backend_facts(selected), backends[0], tracked_facts(None, ""), Registry(ENTRIES))  # type: ignore[arg-type]
    return build_report(facts, records)


def sample_doc() -> dict[str, Any]:
    """A report document built the way a run builds it, covering every outcome."""
    return report_of(sample_records())


# --- build ---------------------------------------------------------------------------------------------


def test_build_is_complete_and_sorted() -> None:
    doc = sample_doc()
    assert validate(doc, "sample") is doc
    assert doc["schema_version"] == SCHEMA_VERSION == 2
    assert [b["id"] for b in doc["backends"]] == ["sqlite", "turso"]
    ids = [c["id"] for c in doc["checks"]]
    assert ids == sorted(ids)
    assert len(ids) == 9
    assert [e["id"] for e in doc["registry"]] == sorted(e.id for e in ENTRIES)
    row = next(c for c in doc["checks"] if c["id"] == "types.documented")
    assert row["entry"]["source"] == {"document": "001_312a5f9792b0f890.txt", "section": "Connection URLs"}
    turso = row["results"]["turso"]
    assert set(turso) == {"outcome", "message", "observed", "baseline", "baseline_from", "attribution",
                          "tracked_observed", "notes", "duration",
                          "nodeid"}
    assert (turso["outcome"], turso["observed"], turso["baseline"]) == (
        "documented-difference", {"name": "turso"}, {"name": "sqlite"})
    assert doc["summary"]["turso"]["crash"] == 1
    assert doc["summary"]["sqlite"]["same"] == 9
    assert doc["area_summary"]["errors"]["turso"] == {**dict.fromkeys(OUTCOMES, 0), "same": 0, "crash": 1,
                                                      "error": 1, "timeout": 1, "undocumented-difference": 1}
    assert list(doc["area_summary"]) == ["errors", "limits", "types"]


def test_every_record_has_one_shape_and_the_builder_reads_only_its_fields() -> None:
    """Live, crash and user-test records come from one constructor: the same fields, in the same order."""
    crash = crash_record("suites/test_errors.py::test_crashes[turso]", "worker crashed", ["sqlite", "turso"])
    assert crash is not None
    assert tuple(crash) == tuple(record("errors.crashes", "sqlite", "same")) == RECORD_FIELDS
    assert set(RESULT_FIELDS) <= set(RECORD_FIELDS)


def test_a_crash_record_gets_its_entry_from_the_registry_and_keeps_the_others_title() -> None:
    doc = sample_doc()
    row = next(c for c in doc["checks"] if c["id"] == "errors.crashes")
    assert row["entry"]["id"] == "errors.crash-entry"  # sqlite's record brought it first here
    only_crash = [r for r in sample_records() if r["check"] == "errors.crashes" and r["backend"] == "turso"]
    alone = report_of(only_crash)["checks"][0]
    assert alone["entry"]["id"] == "errors.crash-entry"  # looked up in the registry
    assert alone["title"].startswith("(unknown")
    assert alone["source"] is None
    assert "crash" in render_markdown(report_of(only_crash))


def test_record_order_does_not_matter_and_comparable_strips_only_volatile_fields() -> None:
    recs = sample_records()
    first = report_of(recs)
    shuffled = recs[:]
    random.Random(7).shuffle(shuffled)
    second = report_of([{**r, "duration": 9.9} for r in shuffled])
    assert first != second  # durations differ
    assert comparable(first) == comparable(second)
    assert json.dumps(comparable(first)) == json.dumps(comparable(second))  # key order too
    stripped = comparable(first)
    assert "generated_at" not in stripped
    assert "generated_at" in first
    assert all("duration" not in r for c in stripped["checks"] for r in c["results"].values())
    assert all("notes" not in r for c in stripped["checks"] for r in c["results"].values())
    assert all("nodeid" in r for c in stripped["checks"] for r in c["results"].values())


def test_temporary_folders_are_named_alike_in_serial_and_xdist_runs() -> None:
    def run(folder: str) -> dict[str, Any]:
        recs = [record("errors.locked", b, "same", {"error": "BUSY"}, {"error": "BUSY"},
                       message=f"could not open {folder}/run/db1.db",
                       notes={"raw": {"message": f"Locking error: '{folder}/run/db1.db'"},
                              "n": [f"{folder}/x"]})
                for b in ("sqlite", "turso")]
        return report_of(recs)

    serial = run("/tmp/pytest-of-ci/pytest-12/test_locked0")
    parallel = run("/tmp/pytest-of-ci/pytest-13/popen-gw1/test_locked1")
    for doc in (serial, parallel):
        for row in doc["checks"]:
            for res in row["results"].values():
                res.pop("duration")
    assert serial == {**parallel, "generated_at": serial["generated_at"]}
    res = serial["checks"][0]["results"]["turso"]
    assert res["message"] == "could not open <tmp_path>/run/db1.db"
    assert res["notes"] == {"raw": {"message": "Locking error: '<tmp_path>/run/db1.db'"},
                            "n": ["<tmp_path>/x"]}


# --- Markdown ------------------------------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    """Split a Markdown table row on unescaped pipes (GFM)."""
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


def area_md(doc: dict[str, Any], area: str) -> str:
    """One area's file of the details folder."""
    return render_details(doc)[f"area-{area}.md"]


def test_the_summary_and_the_details_have_every_part() -> None:
    doc = sample_doc()
    md = render_markdown(doc)
    for heading in ("## The decision", "### The 3 worst differences",
                    "## What will change for your application", "## Summary", "### Per area",
                    "## About this run"):
        assert f"\n{heading}\n" in md, heading
    assert md.startswith("# Moving from sqlite to turso: what changes\n")
    files = render_details(doc)
    assert list(files) == ["README.md", "area-errors.md", "area-limits.md", "area-types.md", "sections.md",
                           "claims.md", "registry.md"]
    for name in ("area-errors.md", "area-limits.md", "area-types.md"):
        assert "\n## Checks\n" in files[name]
        assert "\n## Differences\n" in files[name]
        assert f"[{name}]({name})" in files["README.md"]
    assert files["claims.md"].startswith("# Claims of the source documents\n\n[Back to the summary]"
                                         "(../compatibility.md)")
    assert files["registry.md"].startswith("# Registry of documented differences\n")
    every = "".join(files.values())
    for row in doc["checks"]:
        assert f"`{row['id']}`" in files[f"area-{row['area']}.md"]
    differing = {c["id"] for c in doc["checks"]
                 if any(r["outcome"] in DIFF_OUTCOMES for r in c["results"].values())}
    assert differing == {"types.documented", "types.drifting", "types.evil[a|b]", "errors.undocumented",
                         "errors.boom", "errors.hang", "errors.crashes"}
    sections = [s for name in ("area-errors.md", "area-limits.md", "area-types.md")
                for s in re.findall(r"^### `([^`]+)`", files[name].split("## Differences")[1], re.M)]
    assert sorted(sections) == sorted(differing)
    for check in differing:  # every difference has its anchor, as the summary links it
        assert f'<a id="check-{re.sub("[^a-z0-9]+", "-", check.lower()).strip("-")}"></a>' in every
    assert "- `limits.needs_ext` on **turso**: needs extensions: not available" in files["area-limits.md"]
    types = files["area-types.md"]
    diff = types.split("### `types.documented`")[1].split("\n### ")[0]
    assert "- Registry entry `types.doc-entry` in `types.toml`: Turso says \\<i\\>turso\\</i\\>" in diff
    assert ('- **sqlite**: same\n  - observed, equal to the baseline (from sqlite): `{"name":"sqlite"}`\n'
            '- **turso**: documented-difference\n  - observed: `{"name":"turso"}`\n'
            '  - baseline (from sqlite): `{"name":"sqlite"}`\n'
            '  - differs at:\n    - `name`: `"turso"`, baseline `"sqlite"`\n'
            '  - registry expects: this observation\n') in diff
    drift = types.split("### `types.drifting`")[1].split("\n### ")[0]
    assert '  - registry expects: `"old"`' in drift
    assert "differs at" not in drift  # a whole-value difference needs no path
    assert "  - source: `001_312a5f9792b0f890.txt` § Connection URLs" in diff
    boom = files["area-errors.md"].split("### `errors.boom`")[1].split("\n### ")[0]
    assert "    ~~~~\n    RuntimeError: boom\n" in boom
    assert "\n    ~~~ fence\n    ~~~~" in boom


def test_the_summary_links_each_difference_to_its_anchor_in_its_area_file() -> None:
    doc = rich_doc()
    md = render_markdown(doc)
    files = render_details(doc)
    links = re.findall(r"\]\(compatibility-details/([^)#]+)#([^)]+)\)", md)
    assert links
    for name, target in links:
        assert f'<a id="{target}"></a>' in files[name], (name, target)
    worst = md.split("### The 4 worst differences\n\n")[1].split("\n\n")[0].splitlines()
    assert len(worst) == 4  # four registry entries or undocumented checks differ on turso
    assert worst[0].startswith("1. [Title of errors.undocumented]")  # impact unknown: read it first
    assert "silent data change" in worst[1]


def test_markdown_tables_keep_their_columns_and_escape_what_needs_it() -> None:
    md = area_md(sample_doc(), "types")
    table = md.split("## Checks\n\n")[1].split("\n\n")[0].splitlines()
    assert _cells(table[0]) == [" check ", " title ", " sqlite ", " turso ", " source "]
    for line in table[2:]:
        assert len(_cells(line)) == 5, line
    evil = next(line for line in table if "`types.evil[a\\|b]`" in line)
    assert "<script>" not in evil
    assert "\\<script\\>" in evil
    assert "\\|" in evil
    assert "\\`tick\\`" in evil
    assert "\\_em\\_" in evil
    assert "\\*b\\*" in evil
    assert "\\&amp;" in evil
    # values go into code spans long enough for the backticks inside them
    assert '``{"v":"</code>|`x`"}``' in md
    for text in (md, render_markdown(rich_doc())):
        for line in text.splitlines():
            if line.startswith("|"):
                assert "<" not in re.sub(r"`+[^`]*`+", "", line).replace("\\<", ""), line


def test_every_claim_is_listed_under_its_document_and_section_with_each_outcome() -> None:
    doc = sample_doc()
    claims = render_details(doc)["claims.md"]
    view = make_view(doc)
    for row in view.rows:
        doc_block = claims.split(f"## `{row.document}`")[1].split("\n## ")[0]
        sec_block = doc_block.split(f"### {row.section}\n")[1].split("\n### ")[0]
        line = next(li for li in sec_block.splitlines() if li.startswith(f"- `{row.id}`"))
        for cell in row.cells:
            assert f"{cell.backend}: {cell.outcome}" in line
    # an entry citing another section lists the check there too, marked "via"
    urls = claims.split("### Connection URLs\n")[1].split("\n### ")[0]
    assert "`types.documented`" in urls
    orm = claims.split("## `000_19b4e4215b591ddb.txt`")[1]
    limitations = orm.split("### Limitations\n")[1].split("\n###")[0]
    assert "- `errors.crashes` (unknown" not in limitations
    assert "(via entry `errors.crash-entry`)" in limitations
    order = re.findall(r"^## `([^`]+)`", claims, re.M)
    assert order[:2] == ["000_19b4e4215b591ddb.txt", "001_312a5f9792b0f890.txt"]
    assert order[-1] == "harness"


def test_value_diff_points_at_what_differs_and_long_values_are_cut_in_markdown() -> None:
    obs = {"rows": [[["integer", 1], ["text", "a"]]], "extra": 1, "same": [1, 2]}
    base = {"rows": [[["real", 1.0], ["text", "a"]]], "same": [1, 2], "gone": True}
    assert value_diff(obs, base) == [("rows[0][0][0]", '"integer"', '"real"'), ("rows[0][0][1]", "1", "1.0"),
                                     ("extra", "1", "(absent)"), ("gone", "(absent)", "true")]
    assert value_diff([1, 2], [1, 2, 3]) == []  # a whole-value difference: nothing to point at
    assert len(value_diff(list(range(20)), list(range(1, 21)))) == 8
    long = "x" * 700
    assert md_value(long) == f"`{'x' * 600}` \u2026 (100 more characters in the JSON report)"
    assert md_value("short") == "`short`"


def test_a_minimal_or_merged_document_renders() -> None:
    doc = {"schema_version": 1, "backends": [{"id": "a"}],
           "checks": [{"id": "x.y", "area": "x",
                       "results": {"a": {"outcome": "same"}, "b": {"outcome": "odd"}}}]}
    md = render_markdown(doc)
    assert "| `x.y` |  | same | odd | `unknown` §" in area_md(doc, "x")
    assert "| odd |" in md.split("## Summary")[1].split("\n\n")[1]  # an unknown outcome still counts
    html = render_html(doc)
    assert 'value="odd"' in html
    assert 'value="b"' in html


# --- HTML ----------------------------------------------------------------------------------------------


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def embedded_data(html: str) -> dict[str, Any]:
    """The report data a page embeds (its one `application/json` script), decoded."""
    parser = _Collect()
    parser.feed(html)
    blocks = re.findall(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    assert "<" not in blocks[0]
    assert ">" not in blocks[0]
    assert "&" not in blocks[0]
    data: dict[str, Any] = json.loads(blocks[0])
    return data


def test_html_is_escaped_self_contained_and_filterable() -> None:
    doc = sample_doc()
    html = render_html(doc)
    assert '<script>alert("x")</script>' not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # the registry table, made on the server
    parser = _Collect()
    parser.feed(html)
    tags = parser.tags
    scripts = [a.get("type") for t, a in tags if t == "script"]
    assert scripts == [None, "application/json", None]  # the error catcher, the data, the page; nothing else
    assert not any(t in ("img", "i", "link", "iframe") for t, _ in tags)
    for _, attrs in tags:
        for name in ("src", "href"):
            assert not (attrs.get(name) or "#").startswith(("http", "//")), attrs
    assert any(t == "meta" and a.get("http-equiv") == "Content-Security-Policy" for t, a in tags)
    boxes = {(a["name"], a["value"]) for t, a in tags if t == "input"}
    assert {("area", x) for x in ("errors", "limits", "types")} <= boxes
    assert {("outcome", o) for o in OUTCOMES} <= boxes
    assert {("backend", "sqlite"), ("backend", "turso")} <= boxes
    # every row names its layer (the builder's default); no attribution or impact here: no filter for them
    assert {v for n, v in boxes if n == "layer"} == {"engine"}
    assert not {name for name, _ in boxes} & {"attribution", "impact"}
    data = embedded_data(html)
    assert [c[0] for c in data["checks"]] == [c["id"] for c in doc["checks"]]
    for row, raw in zip(data["checks"], doc["checks"], strict=True):
        assert [data["outcomes"][o] for o in row[7]] == [r["outcome"] for r in raw["results"].values()]
        assert data["areas"][row[1]] == raw["area"]
    evil = next(c for c in data["checks"] if c[0] == "types.evil[a|b]")
    assert evil[3] == EVIL  # the title, whole, for the page to show as text
    assert evil[10][0][1] == '{"v":"</code>|`x`"}'  # sqlite's observation, kept as compact JSON text
    assert data["entries"][evil[6]][5] == '<img src=x onerror="alert(1)">'
    page_script = html.rsplit("<script>", 1)[1]
    assert "innerHTML" not in page_script
    assert "insertAdjacentHTML" not in page_script


def test_rows_citing_one_entry_id_with_different_contents_keep_their_own() -> None:
    doc = sample_doc()
    rows = [c for c in doc["checks"] if c["entry"]]
    other = next(c for c in doc["checks"] if not c["entry"])
    other["entry"] = {**rows[0]["entry"], "expect": {"turso": "something else"}}
    view = make_view(doc)
    by_id = {r.id: r for r in view.rows}
    assert by_id[other["id"]].entry["expect"] == {"turso": "something else"}
    assert by_id[rows[0]["id"]].entry["expect"] == rows[0]["entry"]["expect"]
    assert by_id[other["id"]].entry is not by_id[rows[0]["id"]].entry


def test_text_that_looks_like_the_data_marker_is_just_text() -> None:
    doc = sample_doc()
    doc["platform"] = "@@REPORT-DATA@@ @@report-data-0@@"
    html = render_html(doc)
    assert "<li>platform: @@REPORT-DATA@@ @@report-data-0@@</li>" in html
    assert [c[0] for c in embedded_data(html)["checks"]] == [c["id"] for c in doc["checks"]]


def rich_doc() -> dict[str, Any]:
    """The sample document with what other parts of the harness add: layers, attributions, impacts, extra
    sections (one long, with links and text that needs escaping) and an interrupted run's mark."""
    doc = sample_doc()
    for row in doc["checks"]:
        row["layer"] = "driver" if row["area"] == "errors" else "engine"
        if row["entry"]:
            row["entry"]["impact"] = "cosmetic" if row["area"] == "errors" else "silent-data-change"
        turso = row["results"]["turso"]
        if turso["outcome"] != "same":
            turso["attribution"] = "sqlite-version" if row["id"] == "types.documented" else "turso"
    doc["sections"] = [
        {"id": "claims", "title": "Turso's compatibility claims, measured",
         "intro": "Every row | of COMPAT.md",
         "columns": ["feature", "claim", "check"],
         "rows": [[f"feature {i}", "Yes" if i % 2 else "No | partial\nsecond line", i] for i in range(230)]
         + [["unsafe", None, {"text": "not a link", "href": "javascript:alert(1)"}],
            ["linked", EVIL, {"text": "see the drift", "href": "#types.drifting"}]]},
        {"id": "empty", "title": "Nothing here", "intro": "", "columns": ["a"], "rows": []},
    ]
    doc["interrupted"] = {"ran": 7, "total": 9}
    return doc


def test_layer_attribution_and_impact_filters_appear_when_the_data_has_them() -> None:
    html = render_html(rich_doc())
    parser = _Collect()
    parser.feed(html)
    boxes = {(a["name"], a["value"]) for t, a in parser.tags if t == "input"}
    assert {("layer", "engine"), ("layer", "driver")} <= boxes
    assert ("layer", "client") not in boxes  # only values the data has
    assert {("attribution", "turso"), ("attribution", "sqlite-version"), ("attribution", "none")} <= boxes
    assert {("impact", "silent-data-change"), ("impact", "cosmetic"), ("impact", "none")} <= boxes
    data = embedded_data(html)
    row = next(c for c in data["checks"] if c[0] == "types.documented")
    assert data["layers"][row[2]] == "engine"
    assert [data["attributions"][a] for a in row[8]] == ["none", "sqlite-version"]
    assert data["impacts"][row[9]] == "silent-data-change"


def test_extra_sections_render_in_order_after_the_summary_in_both_formats() -> None:
    doc = rich_doc()
    md = render_markdown(doc)
    order = [md.index(h) for h in ("\n## The decision\n", "\n## What will change for your application\n",
                                   "\n## Summary\n", "\n## Turso's compatibility claims, measured\n",
                                   "\n## Nothing here\n", "\n## About this run\n")]
    assert order == sorted(order)
    head = md.split("## Turso's compatibility claims, measured\n\n")[1].split("\n\n## ")[0]
    assert head.splitlines()[0] == "Every row \\| of COMPAT.md"
    assert head.count("\n| feature ") == 1 + 10  # the summary shows the header and ten rows
    assert "222 more rows (of 232) are in `compatibility-details/sections.md`" in head
    full = render_details(doc)["sections.md"]
    table = full.split("## Turso's compatibility claims, measured\n\n")[1].split("\n\n## ")[0]
    lines = table.splitlines()
    assert lines[0] == "Every row \\| of COMPAT.md"
    assert _cells(lines[2]) == [" feature ", " claim ", " check "]
    rows = [line for line in lines[4:] if line.startswith(("| feature ", "| linked", "| unsafe"))]
    assert len(rows) == 232
    assert all(len(_cells(line)) == 3 for line in rows)  # pipes escaped, newlines folded: columns hold
    assert "| feature 0 | No \\| partial second line | 0 |" in rows
    assert "see the drift" in rows[-1]
    assert "<script>" not in rows[-1]
    html = render_html(doc)
    assert html.index('id="decision"') < html.index('id="summary"') < html.index('id="section-claims"') \
        < html.index('id="section-empty"') < html.index('id="checks"') < html.index('id="about"')
    assert [s["id"] for s in embedded_data(html)["sections"]] == ["claims", "empty"]


def test_markdown_summarises_very_large_parts_with_a_pointer(monkeypatch: pytest.MonkeyPatch) -> None:
    import stc_harness.report.markdown as markdown

    monkeypatch.setattr(markdown, "MD_DETAIL_LIMIT", 2)
    monkeypatch.setattr(markdown, "MD_SECTION_ROWS", 10)
    doc = rich_doc()
    files = render_details(doc)
    details = files["area-errors.md"].split("\n## Differences\n")[1].split("\n## Unsupported")[0]
    assert len(re.findall(r"^### ", details, re.M)) == 2
    assert "2 more differences (of 4) are listed in the Checks table above" in details
    types = files["area-types.md"].split("\n## Differences\n")[1]
    assert "3 more differences (of 3)" in types  # two in full across all areas: spent on errors
    md = render_markdown(doc)  # the summary links a difference to its anchor only where it is in full
    anchored = re.findall(r"\]\(compatibility-details/([^)#]+)#([^)]+)\)", md)
    assert anchored == []  # the two in full are an error and a crash: nothing the summary lists
    assert "[Title of errors.undocumented](compatibility-details/area-errors.md)" in md
    assert "](compatibility-details/area-types.md)" in md
    for name, target in anchored:
        assert f'<a id="{target}"></a>' in files[name]
    assert "`errors.undocumented`" in details.strip().splitlines()[-1]  # the rest named
    section = files["sections.md"].split("## Turso's compatibility claims, measured\n")[1].split("\n## ")[0]
    assert section.count("\n| feature ") == 1 + 10  # the header and ten rows
    assert "222 more rows (of 232) are in the JSON report (`sections`, id `claims`)" in section
    # the Checks table stays complete
    table = files["area-errors.md"].split("\n## Checks\n")[1].split("\n## ")[0]
    assert len(re.findall(r"^\| `", table, re.M)) == 4


def test_the_summary_stays_small_at_50000_results(monkeypatch: pytest.MonkeyPatch) -> None:
    import stc_harness.report.summary as summary
    from stc_harness.report.bench import replicate

    doc = replicate(rich_doc(), 3000)
    for n, row in enumerate(doc["checks"]):  # every copy a difference of its own (no registry entry)
        if row["results"]["turso"]["outcome"] != "same":
            row["entry"] = None
            row["title"] = f"difference {n} " + "x" * 80
    monkeypatch.setattr(summary, "MD_SUMMARY_BYTES", 40_000)
    md = render_markdown(doc)
    assert len(md.encode()) <= 40_000
    assert "The list stops here to keep this file small" in md
    assert md.rstrip().splitlines()[-1].startswith("| turso |")  # the run's metadata is always kept


def test_an_interrupted_run_says_so_at_the_top_of_both_renderings() -> None:
    doc = rich_doc()
    md = render_markdown(doc)
    assert md.splitlines()[2] == "> **interrupted: 7 of 9 checks ran** (this report is partial)"
    assert render_details(doc)["area-types.md"].splitlines()[2] == md.splitlines()[2]
    html = render_html(doc)
    assert '<p id="interrupted" class="banner" role="alert">interrupted: 7 of 9 checks ran' in html
    assert html.index('id="interrupted"') < html.index('id="summary"')
    assert "interrupted" not in render_markdown(sample_doc())
    assert 'id="interrupted"' not in render_html(sample_doc())


def test_json_is_compact_with_a_check_per_line_and_loads_back_equal() -> None:
    from stc_harness.report.write import to_json

    doc = rich_doc()
    text = to_json(doc)
    assert json.loads(text) == json.loads(json.dumps(doc))
    lines = text.splitlines()
    per_line = [line for line in lines if line.startswith('{"id":') and '"results":' in line]
    assert len(per_line) == len(doc["checks"])
    assert "\n  " not in text  # not indented
    assert list(json.loads(text)) == list(doc)  # field order kept


def test_the_report_benchmark_replicates_a_report_and_measures_it(tmp_path: Path) -> None:
    from stc_harness.report.bench import measure, replicate
    from stc_harness.report.write import write_all

    doc = sample_doc()
    big = replicate(doc, 100)
    assert len(big["checks"]) == 6 * len(doc["checks"])  # 18 results per copy: 6 copies reach 100
    assert len({c["id"] for c in big["checks"]}) == len(big["checks"])
    assert big["checks"][0] is not big["checks"][len(doc["checks"])]
    assert replicate(doc, 10) is doc  # already large enough: not copied
    write_all(doc, tmp_path / "src")
    numbers = measure(tmp_path / "src" / "compatibility.json", 100, tmp_path / "out")
    assert numbers["results"] == 108
    assert numbers["seconds"] > 0
    assert numbers["peak_mb"] >= numbers["document_mb"] > 0
    assert set(numbers["files"]) == {"compatibility.json", "compatibility.md", "compatibility.html",
                                     "compatibility-details/"}
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({**doc, "checks": []}))
    with pytest.raises(ReportError, match="no results to replicate"):
        measure(empty, 100, tmp_path / "out2")


# --- a real run: serial and xdist give the same document ------------------------------------------------

DEMO_SUITE = '''
from stc_harness import CheckContext, check, driver_guide, orm_backend
from stc_harness.errors import Unsupported
from stc_harness.sources import DISCOVERY


@check(title="Same everywhere", source=driver_guide("Connection URLs"), params={"a": 1, "b": 2})
async def test_same(ctx: CheckContext, n: int) -> object:
    return n


@check(title="Name differs, documented", source=orm_backend("Differences from SQLite Backend"))
async def test_named(ctx: CheckContext) -> object:
    return {"name": ctx.name}


@check(title="Name differs, undocumented", source=DISCOVERY)
async def test_undoc(ctx: CheckContext) -> object:
    return [ctx.name, None, b"\\x00"]


@check(title="No extensions on turso", source=orm_backend("Limitations"))
async def test_unsup(ctx: CheckContext) -> object:
    if ctx.name == "turso":
        raise Unsupported("extensions", "not loadable")
    return 1
'''

DEMO_REGISTRY = '''
[[difference]]
id = "types.named"
check = "types.named"
title = "Names differ"
source = { document = "000_19b4e4215b591ddb.txt", section = "Differences from SQLite Backend" }
reason = "each backend has its own name"
impact = "cosmetic"
attribution = "turso"
[difference.expect]
turso = { name = "turso" }
'''


def _run_demo(tmp_path: Path, name: str, *extra: str) -> dict[str, Any]:
    root = tmp_path / name
    (root / "suites" / "differences").mkdir(parents=True)
    (root / "suites" / "test_types.py").write_text(textwrap.dedent(DEMO_SUITE))
    (root / "suites" / "differences" / "types.toml").write_text(DEMO_REGISTRY)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
         "--registry=suites/differences", "--report-dir=rep", "--allow-undocumented",
         "-o", "asyncio_default_fixture_loop_scope=function", *extra],
        cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((root / "rep" / "compatibility.json").read_text())


def test_serial_and_xdist_runs_give_the_same_document(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    serial = _run_demo(tmp_path, "serial")
    parallel = _run_demo(tmp_path, "xdist", "-n", "2")
    outcomes = {c["id"]: {b: r["outcome"] for b, r in c["results"].items()} for c in serial["checks"]}
    assert outcomes == {
        "types.named": {"sqlite": "same", "turso": "documented-difference"},
        "types.same[a]": {"sqlite": "same", "turso": "same"},
        "types.same[b]": {"sqlite": "same", "turso": "same"},
        "types.undoc": {"sqlite": "same", "turso": "undocumented-difference"},
        "types.unsup": {"sqlite": "same", "turso": "unsupported"},
    }
    assert comparable(serial) == comparable(parallel)
    assert json.dumps(comparable(serial)) == json.dumps(comparable(parallel))
    merged = merge_reports([("serial.json", serial), ("xdist.json", parallel)])
    assert len(merged["backends"]) == 4
    assert "types.named" in area_md(merged, "types")


def test_markdown_counts_claims_per_section_when_they_are_too_many(monkeypatch: pytest.MonkeyPatch) -> None:
    import stc_harness.report.markdown as markdown

    doc = sample_doc()
    monkeypatch.setattr(markdown, "MD_CLAIMS_LIMIT", 5)
    claims = render_details(doc)["claims.md"]
    assert "This report has 11 claims, more than 5" in claims
    urls = claims.split("### Connection URLs\n")[1].split("\n###")[0]
    assert "- checks: 1\n  - sqlite: same 1\n  - turso: documented-difference 1\n" in urls
    errors = claims.split("### Error handling\n")[1].split("\n###")[0]
    assert "  - turso: drift 1, error 1, crash 1, timeout 1\n" in errors  # in the outcomes' order
    assert "- `" not in claims  # no claim listed one by one


def test_compact_is_exactly_json_dumps_compact() -> None:
    from stc_harness.report.encode import compact

    values: list[Any] = ["text", "ünïcode \u2028 \"quoted\" </script>", 1, 1.0, -0.0, 2**63 - 1, 10**30,
                         float("nan"), float("inf"), True, None, [], {}, [[["integer", 1], ["real", 1.0]]],
                         {"b": [1, {"c": None}], "a": "x"}, b"bytes", Path("/x")]
    for value in values:
        assert compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
