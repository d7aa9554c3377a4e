"""The `--backend` flag: names, `all`, URLs, `module:factory`, entry points, errors and the header."""

from __future__ import annotations

import re
from importlib.metadata import version

import pytest

from conftest import load_report, run_repo, write_entry_point, write_suite

SUITE = """
@check(title="one", source=SRC)
async def test_fx_one(ctx: CheckContext) -> object:
    conn = await ctx.connect()
    return rows(await conn.fetch_all("SELECT 1"))

@check(title="journal mode is MVCC", source=SRC)
async def test_fx_journal(ctx: CheckContext) -> object:
    conn = await ctx.connect()
    return (await conn.fetch_one("PRAGMA journal_mode"))[0] == "mvcc"

@maketest()
async def fx_plain(conn):
    assert await conn.fetch_all("SELECT 2") == [(2,)]
"""


def ran(result: pytest.RunResult) -> dict[str, str]:
    """`{test id: outcome word}` from a `-v` run's output lines."""
    out = {}
    for line in result.outlines:
        m = re.match(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)", line)
        if m:
            out[m[1].split("::", 1)[1]] = m[2]
    return out


def test_default_runs_every_installed_backend_and_header_names_versions(project: pytest.Pytester) -> None:
    write_suite(project, SUITE)
    result = project.runpytest_inprocess("-v", "-rs")
    result.assert_outcomes(passed=6)
    assert set(ran(result)) == {"test_fx_one[sqlite]", "test_fx_one[turso]", "test_fx_journal[sqlite]",
                                "test_fx_journal[turso]", "test_fx_plain_sqlite", "test_fx_plain_turso"}
    import sqlite3

    import turso

    result.stdout.fnmatch_lines([
        f"backend sqlite: aiosqlite {version('aiosqlite')}, engine {sqlite3.sqlite_version}",
        f"backend turso: pyturso {version('pyturso')}, engine {turso.sqlite_version}",
        "reference: sqlite; registry: * documented differences (* built in, 0 yours)",
    ])


@pytest.mark.parametrize(("chosen", "other"), [("sqlite", "turso"), ("turso", "sqlite")])
def test_one_backend_runs_only_its_tests(project: pytest.Pytester, chosen: str, other: str) -> None:
    write_suite(project, SUITE)
    result = project.runpytest_inprocess("-v", "-rs", f"--backend={chosen}")
    got = ran(result)
    assert got == {f"test_fx_one[{chosen}]": "PASSED", f"test_fx_journal[{chosen}]": "PASSED",
                   f"test_fx_plain_{chosen}": "PASSED", f"test_fx_plain_{other}": "SKIPPED"}
    result.stdout.fnmatch_lines([f"SKIPPED * backend '{other}' not selected (selected: {chosen})"])
    assert f"backend {other}:" not in result.stdout.str()


@pytest.mark.parametrize("args", [["--backend=all"], ["--backend=sqlite", "--backend=turso"],
                                  ["--backend=turso", "--backend=sqlite", "--backend=turso"]])
def test_all_and_repeated_select_both(project: pytest.Pytester, args: list[str]) -> None:
    write_suite(project, SUITE)
    result = project.runpytest_inprocess("-v", *args)
    result.assert_outcomes(passed=6)
    assert {"test_fx_one[sqlite]", "test_fx_one[turso]"} <= set(ran(result))


def test_url_selects_backend_with_options(project: pytest.Pytester) -> None:
    write_suite(project, SUITE)
    result = project.runpytest_inprocess("-v", "--backend=turso::memory:?concurrent_writes=1",
                                         "--report-dir=out", "--allow-undocumented")
    got = ran(result)
    assert "test_fx_journal[turso+memory+concurrent_writes]" in got
    assert not any("[sqlite" in t or "[turso]" in t for t in got)
    result.stdout.fnmatch_lines(["backend turso+memory+concurrent_writes: pyturso *, engine *"
                                 " options {'concurrent_writes': '1'}"])
    doc = load_report(project.path / "out")
    journal = next(r for r in doc["checks"] if r["id"] == "smoke.fx_journal")
    res = journal["results"]["turso+memory+concurrent_writes"]
    # The option reached the connection: an MVCC journal, where SQLite (the reference) has none.
    assert (res["observed"], res["baseline"], res["outcome"]) == (True, False, "undocumented-difference")


def test_unknown_backend_is_a_usage_error_listing_known_ones(project: pytest.Pytester) -> None:
    write_suite(project, SUITE)
    result = project.runpytest_inprocess("--backend=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: unknown backend 'nope'; known backends: sqlean, sqlite, turso*"])


@pytest.mark.parametrize("target", ["fake_backend.backend:make_fake", "fake_backend:make_fake"])
def test_module_factory_backend(project: pytest.Pytester, target: str) -> None:
    write_suite(project, SUITE)
    result = project.runpytest_inprocess("-v", f"--backend={target}")
    got = ran(result)
    assert got == {"test_fx_one[fake]": "PASSED", "test_fx_journal[fake]": "PASSED",
                   "test_fx_plain_sqlite": "SKIPPED", "test_fx_plain_turso": "SKIPPED"}
    result.stdout.fnmatch_lines(["backend fake: fake-driver 0.0.1-fake, engine *"])


@pytest.mark.parametrize(("target", "says"), [
    ("fake_backend.backend:nothing", "has no callable 'nothing'"),
    ("no_such_pkg.mod:make", "cannot import 'no_such_pkg.mod'"),
])
def test_bad_factory_is_a_usage_error(project: pytest.Pytester, target: str, says: str) -> None:
    write_suite(project, SUITE)
    result = project.runpytest_inprocess(f"--backend={target}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert says in result.stderr.str()


def test_entry_point_backend_is_installed_and_selectable(project: pytest.Pytester) -> None:
    write_suite(project, SUITE)
    write_entry_point(project.path, "fake", "fake_backend.backend:make_fake")
    project.syspathinsert()
    everything = project.runpytest_inprocess("-v")
    assert {"test_fx_one[fake]", "test_fx_one[sqlite]", "test_fx_one[turso]"} <= set(ran(everything))
    everything.stdout.fnmatch_lines(["backend fake: fake-driver 0.0.1-fake, engine *"])
    only = project.runpytest_inprocess("-v", "--backend=fake")
    assert ran(only)["test_fx_one[fake]"] == "PASSED"
    assert not any("[sqlite]" in t or "[turso]" in t for t in ran(only))
    nope = project.runpytest_inprocess("--backend=nope")
    nope.stderr.fnmatch_lines(["ERROR: unknown backend 'nope'; known backends: fake, sqlean, sqlite, turso*"])


def test_entry_point_in_a_subprocess(project: pytest.Pytester) -> None:
    """The same through a fresh interpreter: discovery by the installed-distribution machinery only."""
    write_suite(project, SUITE)
    write_entry_point(project.path, "fake", "fake_backend.backend:make_fake")
    result = project.runpytest_subprocess("-v", "--backend=fake")
    # `maketest()` with no backend names covers every installed one, the entry point's included.
    assert ran(result) == {"test_fx_one[fake]": "PASSED", "test_fx_journal[fake]": "PASSED",
                           "test_fx_plain_fake": "PASSED", "test_fx_plain_sqlite": "SKIPPED",
                           "test_fx_plain_turso": "SKIPPED"}


def test_broken_entry_point_shows_in_header_and_others_still_run(project: pytest.Pytester) -> None:
    write_suite(project, SUITE)
    write_entry_point(project.path, "broken", "no_such_pkg.mod:make")
    project.syspathinsert()
    result = project.runpytest_inprocess("-v", "-rs")
    result.stdout.fnmatch_lines(["backend broken: not installed (backend target 'no_such_pkg.mod:make'*"])
    result.assert_outcomes(passed=6, skipped=1)
    assert ran(result)["test_fx_plain_broken"] == "SKIPPED"
    result.stdout.fnmatch_lines(["SKIPPED * backend 'broken' is not installed: backend target*"])


@pytest.mark.parametrize("backend", ["sqlite", "turso"])
def test_repository_suites_collect_only_the_chosen_backend(tmp_path: pytest.TempPathFactory,
                                                           backend: str) -> None:
    proc = run_repo(["suites", f"--backend={backend}", "--co", "-q"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    checks = [i for i in ids if i.endswith("]")]
    assert checks, proc.stdout
    assert all(re.search(rf"\[{backend}(\+[^\]-]*)?(-[^\]]*)?\]$", i) for i in checks), checks
    other = "turso" if backend == "sqlite" else "sqlite"
    assert not [i for i in checks if f"[{other}" in i]


def test_repository_unknown_backend_names_sqlite_and_turso(tmp_path: pytest.TempPathFactory) -> None:
    proc = run_repo(["--backend=nope"], tmp_path)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert "unknown backend 'nope'; known backends: sqlean, sqlite, turso" in proc.stderr
