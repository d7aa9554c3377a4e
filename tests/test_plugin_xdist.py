"""Under xdist the report is assembled on the controller from every worker and equals the serial run's."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, load_report, outcomes, start_repo, write_registry, write_suite
from stc_harness.report.build import comparable

#: The repository's suites compared by default: the quick ones, which between them have checks that
#: are the same, documented differences (XFAIL), unsupported (SKIP) and parametrized. Set
#: CONFORMANCE_XDIST_SUITES=all to compare every suite (a minute or more), or to a comma-separated list.
QUICK = ("test_smoke.py", "test_limits.py", "test_errors.py", "test_encryption.py")


def suite_files() -> list[str]:
    """The suite files to run serially and under `-n 2`."""
    chosen = os.environ.get("CONFORMANCE_XDIST_SUITES", "")
    if chosen == "all":
        return ["suites"]
    names = [n.strip() for n in chosen.split(",") if n.strip()] or list(QUICK)
    files = [f"suites/engine/{n}" for n in names if (ROOT / "suites" / "engine" / n).exists()]
    return files or ["suites"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, dict[str, Any]]]:
    """The same suites run serially and with `-n 2` (at the same time), each writing its report."""
    base = tmp_path_factory.mktemp("xdist")
    common = [*suite_files(), "--allow-undocumented"]
    procs = {
        "serial": start_repo([*common, f"--report-dir={base / 'serial'}"], base / "tmp-serial"),
        "xdist": start_repo([*common, "-n", "2", "--max-worker-restart=8", f"--report-dir={base / 'xdist'}"],
                            base / "tmp-xdist"),
    }
    out = {}
    for name, proc in procs.items():
        try:
            text, _ = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert (base / name / "compatibility.json").exists(), text
        out[name] = (proc.returncode, text, load_report(base / name))
    return out


def test_xdist_report_equals_the_serial_report(runs: dict[str, Any]) -> None:
    (s_rc, s_out, serial), (x_rc, x_out, dist) = runs["serial"], runs["xdist"]
    assert s_rc == x_rc, (s_out[-3000:], x_out[-3000:])
    assert "gw0" in x_out or "created: 2/2 workers" in x_out or "bringing up nodes" in x_out
    got_serial, got_dist = outcomes(serial), outcomes(dist)
    assert len(got_serial) > 50
    assert {o for o in got_serial.values()} >= {"same", "documented-difference"}
    only = sorted(set(got_serial) ^ set(got_dist))
    assert not only, f"checks in one run only: {only[:20]}"
    differ = {k: (got_serial[k], got_dist[k]) for k in got_serial if got_serial[k] != got_dist[k]}
    assert not differ, differ

    def meta(doc: dict[str, Any]) -> dict[str, Any]:
        return {r["id"]: (r["area"], r["title"], r["source"], (r["entry"] or {}).get("id"))
                for r in doc["checks"]}

    assert meta(serial) == meta(dist)
    assert serial["summary"] == dist["summary"]
    assert serial["backends"] == dist["backends"]
    # Everything but times and notes is the same: observations, baselines, messages, entries.
    a, b = comparable(serial), comparable(dist)
    unequal = [ra["id"] for ra, rb in zip(a["checks"], b["checks"], strict=True) if ra != rb]
    assert not unequal, unequal[:20]
    assert a == b


def test_header_and_report_list_backends_with_driver_and_engine_versions(runs: dict[str, Any]) -> None:
    import turso

    _, text, doc = runs["serial"]
    sqlite_line = f"backend sqlite: aiosqlite {version('aiosqlite')}, engine {sqlite3.sqlite_version}"
    turso_line = f"backend turso: pyturso {version('pyturso')}, engine {turso.sqlite_version}"
    head = text.split("collected", 1)[0]
    assert sqlite_line in head, head
    assert turso_line in head, head
    by_id = {b["id"]: b for b in doc["backends"]}
    assert by_id["sqlite"]["driver"] == "aiosqlite"
    assert by_id["sqlite"]["driver_version"] == version("aiosqlite")
    assert by_id["sqlite"]["engine_version"] == sqlite3.sqlite_version
    assert by_id["turso"]["driver"] == "pyturso"
    assert by_id["turso"]["driver_version"] == version("pyturso")
    assert by_id["turso"]["engine_version"] == str(turso.sqlite_version)


def test_a_usage_error_found_by_the_workers_is_a_usage_error(project: pytest.Pytester) -> None:
    """A registry entry naming an undefined check is found while collecting: on workers, under xdist."""
    write_suite(project, """
        @check(title="one", source=SRC)
        async def test_fx_one(ctx: CheckContext) -> object:
            return 1
    """)
    write_registry(project, """
        [[difference]]
        id = "smoke.fx-ghost"
        check = "smoke.fx_ghost"
        title = "names a check nobody defines"
        source = { document = "001_312a5f9792b0f890.txt", section = "Concurrent writes" }
        reason = "synthetic"
        impact = "cosmetic"
        attribution = "turso"
        expect = { turso = 1 }
    """)
    result = project.runpytest_subprocess("-n", "2", "--registry=reg", timeout=120)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: registry entries name checks no suite defines: smoke.fx-ghost "
                                 "(smoke.toml) -> [[]'smoke.fx_ghost'[]]*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_suite_files_default_to_existing_quick_suites() -> None:
    files = suite_files()
    assert files
    assert all(f == "suites" or Path(ROOT / f).exists() for f in files)
