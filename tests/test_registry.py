"""The documented-differences registry: loading and validation, each error naming the entry and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from stc_harness.differences import AREAS, RegistryError, load_file, load_registry
from stc_harness.sources import Source

GOOD = """
[[difference]]
id = "smoke.fx-diff"
check = "smoke.fx_diff"
title = "Turso says something else"
source = { document = "001_312a5f9792b0f890.txt", section = "Concurrent writes" }
reason = "measured"
impact = "cosmetic"
attribution = "turso"
expect = { turso = "turso-ish" }
"""


def write(folder: Path, text: str, name: str = "smoke.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_entry_loads_with_its_origin(tmp_path: Path) -> None:
    write(tmp_path, GOOD + GOOD.replace("fx-diff", "fx-other").replace("fx_diff", "fx_a").replace(
        'check = "smoke.fx_a"', 'check = ["smoke.fx_a", "smoke.fx_b"]'))
    registry = load_registry(tmp_path)
    entry = registry.entries["smoke.fx-diff"]
    assert entry.area == "smoke"
    assert entry.checks == ("smoke.fx_diff",)
    assert entry.source == Source("001_312a5f9792b0f890.txt", "Concurrent writes")
    assert entry.expect == {"turso": "turso-ish"}
    assert entry.origin == "smoke.toml"
    assert registry.for_check("smoke.fx_b") is registry.entries["smoke.fx-other"]
    assert registry.for_check("smoke.nothing") is None


@pytest.mark.parametrize(("edit", "says"), [
    (lambda t: "\n".join(line for line in t.splitlines() if not line.startswith("source")),
     "entry 'smoke.fx-diff': missing source"),
    (lambda t: t.replace('reason = "measured"\n', ""), "entry 'smoke.fx-diff': missing reason"),
    (lambda t: t.replace('reason = "measured"', 'reason = ""'), "entry 'smoke.fx-diff': missing reason"),
    (lambda t: t.replace('section = "Concurrent writes"', 'section = ""'),
     "entry 'smoke.fx-diff': source must be a table with document and section"),
    (lambda t: t.replace('id = "smoke.fx-diff"', 'id = "No-where.fx-diff"'),
     "entry 'No-where.fx-diff': area 'No-where' must be a lowercase identifier such as 'smoke' "
     "(built-in areas: " + ", ".join(AREAS)),
    (lambda t: t.replace('reason = "measured"', 'reason = "measured"\nseverity = "high"'),
     "entry 'smoke.fx-diff': unknown field(s) severity; allowed: id, check, title, source, reason, "
     "expect, impact, attribution, area"),
    (lambda t: t.replace('impact = "cosmetic"\n', ""),
     "entry 'smoke.fx-diff': missing impact (every entry needs id, check, title, source, reason, expect, "
     "impact, attribution; impact is one of silent-data-change, lost-or-extra-writes, "
     "error-appears-or-disappears, different-error, missing-api, cosmetic)"),
    (lambda t: t.replace('attribution = "turso"\n', ""),
     "entry 'smoke.fx-diff': missing attribution (every entry needs id, check, title, source, reason, "
     "expect, impact, attribution; attribution is one of turso, sqlite-version)"),
    (lambda t: t.replace('impact = "cosmetic"', 'impact = "bad"'),
     "entry 'smoke.fx-diff': impact 'bad' is not one of silent-data-change, lost-or-extra-writes"),
    (lambda t: t.replace('attribution = "turso"', 'attribution = "sqlite"'),
     "entry 'smoke.fx-diff': attribution 'sqlite' is not one of turso, sqlite-version"),
    (lambda t: t.replace('check = "smoke.fx_diff"', 'check = "fx_diff"'),
     "entry 'smoke.fx-diff': check must be a check id like 'area.name'"),
    (lambda t: t.replace('expect = { turso = "turso-ish" }', 'expect = "turso-ish"'),
     "entry 'smoke.fx-diff': expect must map backend names"),
    (lambda t: t + "\n[other]\nx = 1\n", "unknown top-level key(s) other"),
    (lambda t: t.replace("[[difference]]", "[[difference]"), "not valid TOML"),
])
def test_each_malformed_entry_is_an_error_naming_it(tmp_path: Path, edit: object, says: str) -> None:
    path = write(tmp_path, edit(GOOD))  # type: ignore[operator]
    with pytest.raises(RegistryError) as info:
        load_file(path)
    assert says in str(info.value)
    assert "smoke.toml" in str(info.value)


def test_duplicate_id_across_files_names_both(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD.replace("fx_diff", "fx_else"), "b.toml")
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    assert "b.toml: duplicate entry id 'smoke.fx-diff' (also in a.toml)" in str(info.value)


def test_a_check_claimed_by_two_entries_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, GOOD + GOOD.replace("fx-diff", "fx-again"))
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    assert "entry 'smoke.fx-again' covers check 'smoke.fx_diff', already covered by entry 'smoke.fx-diff'" \
        in str(info.value)


def test_unused_and_unknown_backend_entries_are_found(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("turso = ", "tursoo = "))
    registry = load_registry(tmp_path)
    assert [(e.id, names) for e, names in registry.unknown_backends(["sqlite", "turso"])] == \
        [("smoke.fx-diff", ["tursoo"])]
    assert [e.id for e in registry.unused({"smoke.other": None}, {"smoke"})] == ["smoke.fx-diff"]
    assert registry.unused({"smoke.fx_diff": None}, {"smoke"}) == []
    assert registry.unused({}, {"types"}) == []  # an area whose suite is not loaded is not judged


def test_a_missing_folder_is_an_empty_registry(tmp_path: Path) -> None:
    assert load_registry(tmp_path / "absent").entries == {}
