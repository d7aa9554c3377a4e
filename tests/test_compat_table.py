"""Tests of Turso's compatibility table as data: parsing, the update command, probes, and claim outcomes."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from stc_harness.compat import cli
from stc_harness.compat.observe import shaped
from stc_harness.compat.probes import not_probed, probe
from stc_harness.compat.registry import impact
from stc_harness.compat.table import Row, Source, dump, load, load_text, parse
from stc_harness.compat.verdict import CONTRADICTED, claim_outcome, sections
from stc_harness.errors import UsageError

SAMPLE = """\
# Turso SQLite Compatibility

### Statements

| Statement     | Status     | Comment          |
|---------------|------------|------------------|
| ALTER TABLE   | ✅ Yes     |                  |
| WITH clause   | 🚧 Partial | WITH RECURSIVE not yet supported. |

#### [PRAGMA](https://www.sqlite.org/pragma.html)

| Statement              | Status     | Comment              |
|------------------------|------------|----------------------|
| PRAGMA foreign_keys    | ✅ Yes     |                      |
| PRAGMA count_changes   | Not Needed | deprecated in SQLite |
| PRAGMA analysis_limit  | ❌ No      |                      |

##### Turso-specific PRAGMAs

| PRAGMA                | Comment          |
|-----------------------|------------------|
| PRAGMA require_where  | refuses UPDATE   |

#### Date and time functions

| Function | Status | Comment |
|----------|--------|---------|
| date()   | ✅ Yes |         |

Modifiers:

| Modifier | Status | Comment |
|----------|--------|---------|
| Days     | ✅ Yes |         |
| Days     | ✅ Yes | twice   |
"""


def test_parse_reads_every_row_with_section_claim_and_comment() -> None:
    rows = parse(SAMPLE)
    assert [(r.key, r.claim) for r in rows] == [
        ("statements-alter_table", "Yes"), ("statements-with_clause", "Partial"),
        ("pragma-pragma_foreign_keys", "Yes"), ("pragma-pragma_count_changes", "Not Needed"),
        ("pragma-pragma_analysis_limit", "No"), ("turso_specific_pragmas-pragma_require_where", "Turso-only"),
        ("date_and_time_functions-date", "Yes"), ("date_and_time_functions_modifiers-days", "Yes"),
        ("date_and_time_functions_modifiers-days-2", "Yes")]
    assert rows[1].comment == "WITH RECURSIVE not yet supported."
    assert rows[2].section == "PRAGMA"  # the link in the heading is reduced to its text
    assert rows[7].section == "Date and time functions Modifiers"


def test_parse_refuses_an_unknown_status() -> None:
    with pytest.raises(UsageError, match="unknown status"):
        parse("### S\n\n| Statement | Status | Comment |\n|--|--|--|\n| X | Maybe | |\n")


def test_dump_reads_back_and_load_names_the_fix(tmp_path: Path) -> None:
    source = Source("tursodatabase/turso", "COMPAT.md", "a" * 40, "2026-08-21", "0.8.0-pre.7", "0.8.3")
    rows = parse(SAMPLE)
    assert load_text(dump(source, rows)) == (source, rows)
    with pytest.raises(UsageError, match="compat-update --from"):
        load(tmp_path / "missing.toml")


def test_update_command_reads_compat_md_at_a_revision(tmp_path: Path) -> None:
    repo = tmp_path / "turso"
    repo.mkdir()
    (repo / "COMPAT.md").write_text(SAMPLE, encoding="utf-8")
    (repo / "Cargo.toml").write_text('[workspace.package]\nversion = "9.9.9-pre.1"\n', encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    out = tmp_path / "table.toml"
    assert cli.main(["compat-update", "--from", str(repo), "--pyturso", "0.8.3", "--out", str(out)]) == 0
    source, rows = load(out)
    assert source.crate_version == "9.9.9-pre.1"
    assert len(source.commit) == 40
    assert source.pyturso == "0.8.3"
    assert len(rows) == 9
    assert cli.main(["compat-update", "--from", str(tmp_path / "nothing"), "--out", str(out)]) == 2


def test_the_kept_table_has_every_row_probed_or_a_reason() -> None:
    source, rows = load()
    assert source.repository == "tursodatabase/turso"
    assert len(source.commit) == 40
    assert len(rows) > 700
    for row in rows:
        assert (probe(row) is None) == bool(not_probed(row)), row.key


def test_shape_hides_build_specific_values_but_not_an_ignored_pragma() -> None:
    assert shaped([{"rows": [[["text", "ENABLE_X"]]]}], True) == [{"works": True, "rows": True}]
    assert shaped([{"rows": []}], True) == [{"works": True, "rows": False}]
    assert shaped([{"error": "SYNTAX"}], True) == [{"error": "SYNTAX"}]
    assert shaped([{"rows": []}], False) == [{"rows": []}]


def _row(claim: str, key: str = "statements-select") -> Row:
    return Row(key, "Statements", "SELECT", claim, "")


def _check(turso: Any, ref: Any, outcome: str = "same",
           entry: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": "compat.row[statements-select]", "area": "compat", "entry": entry,
            "results": {"turso": {"outcome": outcome, "observed": turso}, "sqlite": {"observed": ref}}}


@pytest.mark.parametrize(("claim", "turso", "ref", "expected"), [
    ("Yes", [{"rows": []}], [{"rows": []}], "claims Yes, same"),
    ("Yes", [{"rows": [[1]]}], [{"rows": [[2]]}], "claims Yes, differs"),
    ("Yes", [{"error": "SYNTAX"}], [{"rows": []}], "claims Yes, errors"),
    ("Yes", [{"rows": [[1]]}], [{"error": "UNSUPPORTED"}], "claims Yes, works where SQLite refuses"),
    ("No", [{"rows": [[1]]}], [{"rows": [[1]]}], "claims No, works"),
    ("No", [{"error": "UNSUPPORTED"}], [{"rows": []}], "claims No, clear error"),
    ("No", [{"rows": []}], [{"rows": [[1]]}], "claims No, silently ignored"),
    ("Not Needed", [{"error": "SYNTAX"}], [{"error": "SYNTAX"}], "claims No, refused as by SQLite"),
    ("No", [{"rows": []}], [{"rows": []}], "claims No, a no-op as in SQLite"),
    ("Partial", [{"rows": []}], [{"rows": []}], "claims Partial, same on the probe"),
])
def test_claim_outcomes(claim: str, turso: Any, ref: Any, expected: str) -> None:
    assert claim_outcome(_row(claim), _check(turso, ref, "documented-difference"), "sqlite") == expected


def test_a_stated_limitation_that_does_not_hold_is_a_contradiction() -> None:
    row = Row("statements-with_clause", "Statements", "WITH clause", "Partial",
              "WITH RECURSIVE not yet supported.")
    outcome = claim_outcome(row, _check([{"rows": [[1]]}], [{"rows": [[1]]}]), "sqlite")
    assert outcome == "claims Partial, the stated limitation does not hold"
    assert outcome in CONTRADICTED


def test_a_version_gap_is_not_a_contradiction() -> None:
    gap = _check([{"rows": [[1]]}], [{"error": "UNSUPPORTED"}], "documented-difference",
                 {"attribution": "sqlite-version"})
    assert claim_outcome(_row("Yes"), gap, "sqlite") == "claims Yes, same"
    tracked = _check([{"rows": [[1]]}], [{"error": "UNSUPPORTED"}], "documented-difference")
    tracked["results"]["sqlean"] = {"observed": [{"rows": [[2]]}]}
    assert claim_outcome(_row("Yes"), tracked, "sqlite") == "claims Yes, differs"


def test_turso_only_and_unprobed_rows() -> None:
    uuid = Row("uuid-uuid4", "UUID", "uuid4()", "Yes", "")
    works = {"results": {"turso": {"outcome": "same", "observed": {"works": True}}}}
    fails = {"results": {"turso": {"outcome": "undocumented-difference", "observed": {"works": False}}}}
    assert claim_outcome(uuid, works, "sqlite") == "claims Yes, works"
    assert claim_outcome(uuid, fails, "sqlite") == "claims Yes, fails"
    assert "claims Yes, fails" in CONTRADICTED
    capi = Row("database_connection-sqlite3_open", "Database Connection", "sqlite3_open", "Yes", "")
    assert claim_outcome(capi, None, "sqlite") == "not probed"


def test_sections_list_every_row_and_the_contradicted_ones() -> None:
    source = Source("tursodatabase/turso", "COMPAT.md", "b" * 40, "2026-08-21", "0.8.0-pre.7", "0.8.3")
    rows = [_row("Yes"), _row("No", "statements-update")]
    doc = {"reference": "sqlite", "checks": [
        _check([{"rows": [[1]]}], [{"rows": [[2]]}], "documented-difference"),
        {**_check([{"rows": [[1]]}], [{"rows": [[1]]}]), "id": "compat.row[statements-update]"}]}
    every, contradicted = sections(doc, (source, rows))
    assert every["title"] == "Turso's compatibility claims, measured"
    assert len(every["rows"]) == 2
    assert every["rows"][0][0] == {"text": "statements-select", "href": "#compat.row[statements-select]"}
    assert [r[5] for r in contradicted["rows"]] == ["claims Yes, differs", "claims No, works"]
    assert len(every["columns"]) == len(every["rows"][0])
    assert sections({"checks": []}, (source, rows)) == []


def test_impact_of_the_first_difference() -> None:
    assert impact([{"rows": []}, {"error": "UNSUPPORTED"}], [{"rows": []}, {"rows": []}]) == "missing-api"
    assert impact([{"rows": []}], [{"error": "SYNTAX"}]) == "error-appears-or-disappears"
    assert impact([{"error": "BUSY"}], [{"error": "SYNTAX"}]) == "different-error"
    assert impact([{"rows": [[1]]}], [{"rows": [[2]]}]) == "silent-data-change"


def test_a_pragma_accepted_and_ignored_never_observes_what_sqlite_does() -> None:
    pytest.importorskip("sqlean")
    from stc_harness.compat.pragmas import PRAGMAS
    from stc_harness.compat.registry import run_on
    from stc_harness.differential.engines import engine

    sqlean = engine("sqlean")
    for name in ("recursive_triggers", "foreign_keys", "case_sensitive_like", "user_version"):
        spec = PRAGMAS[name]
        full = spec.statements(name)
        # the same statements with the write turned into a no-op: what an engine that ignores it does
        ignored = tuple("SELECT 1 WHERE 0" if s == f"PRAGMA {name} = {spec.value}" else s for s in full)
        assert ignored != full
        assert run_on(sqlean, full, file=True) != run_on(sqlean, ignored, file=True), name


def test_every_pragma_of_the_table_has_a_spec_with_a_read() -> None:
    from stc_harness.compat.pragmas import PRAGMAS

    _, rows = load()
    names = {r.feature.split()[-1] for r in rows if r.section == "PRAGMA"}
    assert names == set(PRAGMAS)
    for name, spec in PRAGMAS.items():
        sqls = spec.statements(name)
        assert any(name in s for s in sqls), name
        if spec.value is not None:
            assert sqls.count(f"PRAGMA {name}") >= 2  # read, and read back after the write
            assert f"PRAGMA {name} = {spec.value}" in sqls
