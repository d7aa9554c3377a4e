"""Attribution: whose difference it is (Turso's own or a SQLite version gap), measured and ratcheted."""

from __future__ import annotations

import pytest

from stc_harness.checks import (
    DOCUMENTED,
    DRIFT,
    ERROR,
    SAME,
    TURSO_OWN,
    UNAVAILABLE,
    UNDOCUMENTED,
    UNSUPPORTED,
    VERSION_GAP,
    CheckSpec,
    Run,
    attribute,
    judge,
    with_attribution,
)
from stc_harness.differences import Entry, Registry
from stc_harness.sources import driver_guide

SPEC = CheckSpec("smoke.x", "smoke", "title", driver_guide("Concurrent writes"))


def registry(attribution: str, expect: dict | None = None) -> Registry:
    return Registry([Entry("smoke.e", "smoke", ("smoke.x",), "t", driver_guide("Concurrent writes"), "r",
                           expect or {"turso": 2}, "smoke.toml", "silent-data-change", attribution)])


@pytest.mark.parametrize(("tracked", "expected"), [
    (Run("ok", 2), VERSION_GAP),                      # the tracked SQLite observes what Turso does
    (Run("ok", 1), TURSO_OWN),                        # it observes what the old SQLite does
    (Run("ok", 3), TURSO_OWN),                        # or something else again
    (Run(UNSUPPORTED, message="needs x"), TURSO_OWN),  # SQLite 3.50.4 has no such feature: a measurement
    (Run(ERROR, message="boom"), UNAVAILABLE),        # could not measure: never Turso's own
    (None, UNAVAILABLE),                              # not installed
])
def test_attribute(tracked: Run | None, expected: str) -> None:
    assert attribute(Run("ok", 2), tracked) == expected


def test_a_matching_entry_keeps_its_documented_verdict_and_carries_the_attribution() -> None:
    verdict = judge(SPEC, "turso", Run("ok", 2), "sqlite", Run("ok", 1), registry(TURSO_OWN))
    out = with_attribution(verdict, Run("ok", 2), Run("ok", 1), "sqlean")
    assert (out.outcome, out.attribution, out.tracked_observed) == (DOCUMENTED, TURSO_OWN, 1)


def test_an_entry_blaming_turso_for_a_version_gap_is_drift() -> None:
    verdict = judge(SPEC, "turso", Run("ok", 2), "sqlite", Run("ok", 1), registry(TURSO_OWN))
    out = with_attribution(verdict, Run("ok", 2), Run("ok", 2), "sqlean")
    assert out.outcome == DRIFT
    assert out.message == ("registry entry 'smoke.e' (smoke.toml) says attribution 'turso' but the tracked "
                           "SQLite (sqlean) observed exactly what this backend observed (2): set "
                           "attribution = 'sqlite-version'")


def test_a_version_gap_entry_that_turso_alone_shows_is_drift() -> None:
    verdict = judge(SPEC, "turso", Run("ok", 2), "sqlite", Run("ok", 1), registry(VERSION_GAP))
    out = with_attribution(verdict, Run("ok", 2), Run("ok", 1), "sqlean")
    assert out.outcome == DRIFT
    assert "says attribution 'sqlite-version' but the tracked SQLite (sqlean) observed 1, not what" \
        in out.message
    unsupported = with_attribution(verdict, Run("ok", 2), Run(UNSUPPORTED, message="needs mvcc"), "sqlean")
    assert "observed nothing: it is unsupported there (needs mvcc)" in unsupported.message


def test_unavailable_never_contradicts_an_entry() -> None:
    verdict = judge(SPEC, "turso", Run("ok", 2), "sqlite", Run("ok", 1), registry(VERSION_GAP))
    out = with_attribution(verdict, Run("ok", 2), None, "none")
    assert (out.outcome, out.attribution) == (DOCUMENTED, UNAVAILABLE)


def test_an_undocumented_difference_is_attributed_too() -> None:
    verdict = judge(SPEC, "turso", Run("ok", 2), "sqlite", Run("ok", 1), Registry())
    assert verdict.differs
    out = with_attribution(verdict, Run("ok", 2), Run("ok", 2), "sqlean")
    assert (out.outcome, out.attribution) == (UNDOCUMENTED, VERSION_GAP)


def test_same_is_not_a_difference() -> None:
    verdict = judge(SPEC, "turso", Run("ok", 1), "sqlite", Run("ok", 1), Registry())
    assert (verdict.outcome, verdict.differs, verdict.attribution) == (SAME, False, None)


def test_the_tracked_sqlite_is_covered_by_a_version_gap_entry() -> None:
    gap = registry(VERSION_GAP)
    covered = judge(SPEC, "sqlean", Run("ok", 2), "sqlite", Run("ok", 1), gap, "sqlean")
    assert (covered.outcome, covered.attribution) == (DOCUMENTED, VERSION_GAP)
    assert "sqlean observes what turso does" in covered.message
    older = judge(SPEC, "sqlean", Run("ok", 1), "sqlite", Run("ok", 1), gap, "sqlean")
    assert older.outcome == SAME  # an older SQLite release that still behaves like the stdlib one
    own = judge(SPEC, "sqlean", Run("ok", 2), "sqlite", Run("ok", 1), registry(TURSO_OWN), "sqlean")
    assert own.outcome == UNDOCUMENTED  # a Turso's-own entry does not cover the tracked SQLite


def test_registry_attribution_proposes_and_writes_from_a_report(tmp_path, capsys) -> None:
    import json

    from stc_harness.differences import load_registry
    from stc_harness.registry_attribution import main

    folder = tmp_path / "reg"
    folder.mkdir()
    entry = ('[[difference]]\nid = "smoke.{n}"\nattribution = "turso"\nimpact = "cosmetic"\n'
             'check = {checks}\ntitle = "t"\nsource = {{ document = "d", section = "s" }}\nreason = "r"\n'
             'expect = {{ turso = 1 }}\n')
    mixed = entry.format(n="mixed", checks='["smoke.b", "smoke.c"]')
    text = entry.format(n="gap", checks='"smoke.a"') + "\n" + mixed
    (folder / "smoke.toml").write_text(text, encoding="utf-8")

    def row(check: str, entry_id: str, found: str) -> dict:
        return {"id": check, "area": "smoke", "entry": {"id": entry_id},
                "results": {"sqlite": {"outcome": "same", "attribution": None},
                            "turso": {"outcome": "documented-difference", "attribution": found}}}

    doc = {"schema_version": 2, "backends": [{"id": "sqlite"}, {"id": "turso"}],
           "checks": [row("smoke.a", "smoke.gap", "sqlite-version"), row("smoke.b", "smoke.mixed", "turso"),
                      row("smoke.c", "smoke.mixed", "sqlite-version")]}
    report = tmp_path / "r.json"
    report.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["registry-attribution", str(report), "--registry", str(folder), "--write"]) == 1
    out = capsys.readouterr().out
    assert "sqlite-version  smoke.gap  (registry: turso)" in out
    assert "smoke.mixed: its checks disagree (sqlite-version, turso): split the entry" in out
    entries = load_registry(folder).entries
    assert entries["smoke.gap"].attribution == "sqlite-version"
    assert entries["smoke.mixed"].attribution == "turso"  # not measured consistently: left as it was


def test_what_will_change_lists_turso_own_worst_first_then_version_gaps() -> None:
    from stc_harness.report.build import add_attribution

    def row(check: str, impact: str, found: str | None) -> dict:
        return {"id": check, "area": check.split(".")[0], "title": check,
                "entry": {"id": f"e.{check}", "title": f"entry {check}", "impact": impact},
                "results": {"turso": {"outcome": "documented-difference", "attribution": found}}}

    doc = add_attribution({"checks": [row("a.cosmetic", "cosmetic", "turso"),
                                      row("a.gap", "silent-data-change", "sqlite-version"),
                                      row("b.silent", "silent-data-change", "turso"),
                                      row("b.same", "silent-data-change", None),
                                      row("c.unknown", "different-error", "unavailable")],
                           "sections": [{"id": "other", "title": "x", "intro": "", "columns": [],
                                         "rows": []}]})
    section = doc["sections"][0]
    assert [s["id"] for s in doc["sections"]] == ["what-will-change", "other"]
    assert [(r[0], r[1], r[2]["text"]) for r in section["rows"]] == [
        ("Turso's own", "silent-data-change", "b.silent"), ("Turso's own", "cosmetic", "a.cosmetic"),
        ("attribution unavailable", "different-error", "c.unknown"),
        ("SQLite version gap", "silent-data-change", "a.gap")]
    assert section["rows"][0][2] == {"text": "b.silent", "href": "#b.silent"}
    assert doc["attribution_summary"]["by_area"] == {
        "a": {"turso": 1, "sqlite-version": 1, "unavailable": 0},
        "b": {"turso": 1, "sqlite-version": 0, "unavailable": 0},
        "c": {"turso": 0, "sqlite-version": 0, "unavailable": 1}}
    impacts = list(doc["attribution_summary"]["by_impact"])
    assert impacts == ["silent-data-change", "different-error", "cosmetic"]


def test_a_driver_layer_difference_is_the_drivers_and_a_version_gap_entry_for_it_drifts() -> None:
    from stc_harness.checks import driver_attribution

    own = driver_attribution(judge(SPEC, "turso", Run("ok", 2), "sqlite", Run("ok", 1), registry(TURSO_OWN)))
    assert (own.outcome, own.attribution) == (DOCUMENTED, TURSO_OWN)
    gap = driver_attribution(judge(SPEC, "turso", Run("ok", 2), "sqlite", Run("ok", 1),
                                   registry(VERSION_GAP)))
    assert (gap.outcome, gap.attribution) == (DRIFT, TURSO_OWN)
    assert "set attribution = 'turso'" in gap.message
