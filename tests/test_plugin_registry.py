"""The ratchet via pytest: documented -> XFAIL, edited -> drift, deleted -> undocumented, gone -> XPASS."""

from __future__ import annotations

import pytest
from test_plugin_backend import ran

from conftest import load_report, write_registry, write_suite

#: A synthetic check on which Turso observes something else than SQLite (unless SAME is set).
SUITE = """
SAME = {same}

@check(title="a difference", source=SRC)
async def test_fx_diff(ctx: CheckContext) -> object:
    conn = await ctx.connect()
    value = "sqlite-ish" if SAME or ctx.name in ("sqlite", "sqlean") else "turso-ish"
    return rows(await conn.fetch_all("SELECT ?", (value,)))

@check(title="no difference", source=SRC)
async def test_fx_same(ctx: CheckContext) -> object:
    return 1
"""

ENTRY = """
[[difference]]
id = "smoke.fx-diff"
check = "smoke.fx_diff"
title = "Turso says something else"
source = {{ document = "001_312a5f9792b0f890.txt", section = "Concurrent writes" }}
reason = "synthetic, for the harness's own tests"
impact = "cosmetic"
attribution = "turso"
expect = {{ turso = [[["text", "{turso}"]]] }}
"""


def setup(pytester: pytest.Pytester, *, same: bool = False, turso: str | None = "turso-ish") -> None:
    """The synthetic suite, and a registry holding the entry (expecting `turso`) unless `turso` is None."""
    write_suite(pytester, SUITE.format(same=same))
    write_registry(pytester, "" if turso is None else ENTRY.format(turso=turso))


def outcome_of(pytester: pytest.Pytester, backend: str = "turso") -> str:
    """The report's outcome of `smoke.fx_diff` on `backend`."""
    doc = load_report(pytester.path / "out")
    row = next(r for r in doc["checks"] if r["id"] == "smoke.fx_diff")
    return row["results"][backend]["outcome"]


def test_documented_difference_is_xfail(project: pytest.Pytester) -> None:
    setup(project)
    result = project.runpytest_inprocess("-v", "-rx", "--registry=reg", "--report-dir=out")
    assert result.ret == pytest.ExitCode.OK
    assert ran(result) == {"test_fx_diff[sqlite]": "PASSED", "test_fx_diff[turso]": "XFAIL",
                           "test_fx_same[sqlite]": "PASSED", "test_fx_same[turso]": "PASSED"}
    result.stdout.fnmatch_lines(["XFAIL synth/test_smoke.py::test_fx_diff[[]turso[]] - smoke.fx-diff: *"])
    assert outcome_of(project) == "documented-difference"
    doc = load_report(project.path / "out")
    row = next(r for r in doc["checks"] if r["id"] == "smoke.fx_diff")
    assert row["entry"]["source"] == {"document": "001_312a5f9792b0f890.txt", "section": "Concurrent writes"}


def test_edited_entry_is_drift_and_fails_naming_it(project: pytest.Pytester) -> None:
    setup(project, turso="turso-was-different")
    result = project.runpytest_inprocess("-v", "--registry=reg", "--report-dir=out")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert ran(result)["test_fx_diff[turso]"] == "FAILED"
    result.stdout.fnmatch_lines(["drift: registry entry 'smoke.fx-diff' (smoke.toml) expects turso to "
                                 "observe *turso-was-different* but it observed *turso-ish*: "
                                 "update entry 'smoke.fx-diff'*",
                                 "*drift * smoke.fx_diff [[]turso[]]*"])
    assert outcome_of(project) == "drift"


def test_deleted_entry_is_an_undocumented_difference(project: pytest.Pytester) -> None:
    setup(project, turso=None)
    result = project.runpytest_inprocess("-v", "--registry=reg", "--report-dir=out")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert ran(result)["test_fx_diff[turso]"] == "FAILED"
    result.stdout.fnmatch_lines(["undocumented-difference: turso observed *turso-ish*, sqlite *sqlite-ish*; "
                                 "no registry entry documents this*"])
    assert outcome_of(project) == "undocumented-difference"
    allowed = project.runpytest_inprocess("-v", "--registry=reg", "--report-dir=out", "--allow-undocumented")
    assert allowed.ret == pytest.ExitCode.OK
    allowed.stdout.fnmatch_lines(["*undocumented-difference  smoke.fx_diff [[]turso[]]*"])
    assert outcome_of(project) == "undocumented-difference"


def test_vanished_difference_is_strict_xpass_naming_the_entry(project: pytest.Pytester) -> None:
    setup(project, same=True)
    result = project.runpytest_inprocess("-v", "-rX", "--registry=reg", "--report-dir=out")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert ran(result)["test_fx_diff[turso]"] == "FAILED"
    result.stdout.fnmatch_lines(["*[[]XPASS(strict)[]] smoke.fx-diff: *remove the 'turso' expectation of "
                                 "entry 'smoke.fx-diff'*"])
    assert outcome_of(project) == "drift"


@pytest.mark.parametrize(("edit", "says"), [
    (lambda t: t.replace('reason = "synthetic, for the harness\'s own tests"\n', ""),
     "smoke.toml: entry 'smoke.fx-diff': missing reason"),
    (lambda t: t.replace("source = ", "origin = "), "smoke.toml: entry 'smoke.fx-diff': missing source"),
    (lambda t: t.replace('id = "smoke.', 'id = "nowhere.'),
     "entry 'nowhere.fx-diff': unknown area 'nowhere'"),
    (lambda t: t + t, "smoke.toml: duplicate entry id 'smoke.fx-diff'"),
    (lambda t: t.replace("title =", "severity = 1\ntitle ="),
     "entry 'smoke.fx-diff': unknown field(s) severity"),
    (lambda t: t.replace("{ turso =", "{ tursoo ="), "entry 'smoke.fx-diff': expect names unknown backend(s) "
                                                     "tursoo; known backends: sqlean, sqlite, turso"),
    (lambda t: t.replace('check = "smoke.fx_diff"', 'check = "smoke.fx_ghost"'),
     "registry entries name checks no suite defines: smoke.fx-diff (smoke.toml) -> ['smoke.fx_ghost']"),
])
def test_invalid_registry_is_a_usage_error_naming_the_entry(project: pytest.Pytester, edit: object,
                                                             says: str) -> None:
    write_suite(project, SUITE.format(same=False))
    write_registry(project, edit(ENTRY.format(turso="turso-ish")))  # type: ignore[operator]
    result = project.runpytest_inprocess("--registry=reg")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert says in result.stderr.str()
