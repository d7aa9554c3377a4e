"""Checks that panic, hang or kill their process are recorded as `crash`/`timeout`; the run goes on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_plugin_backend import ran

from conftest import load_report, outcomes, write_suite
from stc_harness.report.write import write_all

PANICKY = "fake_backend.backend:make_panicky"


def test_panic_base_exception_is_a_crash_and_the_run_goes_on(project: pytest.Pytester) -> None:
    write_suite(project, """
        @check(title="panic on the driver thread", source=SRC)
        async def test_fx_panic_thread(ctx: CheckContext) -> object:
            conn = await ctx.connect()
            return rows(await conn.fetch_all("SELECT 'PANIC'"))

        @check(title="panic raised by the connection", source=SRC)
        async def test_fx_panic_raw(ctx: CheckContext) -> object:
            conn = await ctx.connect()
            return rows(await conn.fetch_all("SELECT 'PANIC_RAW'"))

        @check(title="panic inside ctx.attempt", source=SRC)
        async def test_fx_panic_attempt(ctx: CheckContext) -> object:
            conn = await ctx.connect()
            return await ctx.attempt(conn.execute("SELECT 'PANIC'"), "panic")

        @check(title="after the panics", source=SRC)
        async def test_fx_after(ctx: CheckContext) -> object:
            conn = await ctx.connect()
            return rows(await conn.fetch_all("SELECT 42"))
    """)
    result = project.runpytest_inprocess("-v", f"--backend={PANICKY}", "--report-dir=out")
    assert ran(result) == {"test_fx_panic_thread[panicky]": "FAILED", "test_fx_panic_raw[panicky]": "FAILED",
                           "test_fx_panic_attempt[panicky]": "FAILED", "test_fx_after[panicky]": "PASSED"}
    result.stdout.fnmatch_lines(["*crash: driver panicked: DatabaseError: *PanicException*unwrap()*"])
    result.stdout.fnmatch_lines(["*crash: driver panicked: PanicException: explicit panic (raw) in fake*"])
    got = outcomes(load_report(project.path / "out"))
    assert got == {("smoke.fx_panic_thread", "panicky"): "crash", ("smoke.fx_panic_raw", "panicky"): "crash",
                   ("smoke.fx_panic_attempt", "panicky"): "crash", ("smoke.fx_after", "panicky"): "same"}


def test_a_hanging_check_is_a_timeout_and_the_run_goes_on(project: pytest.Pytester) -> None:
    write_suite(project, """
        @check(title="hangs", source=SRC, timeout=0.5)
        async def test_fx_hang(ctx: CheckContext) -> object:
            conn = await ctx.connect()
            await asyncio.Event().wait()

        @check(title="after the hang", source=SRC)
        async def test_fx_after(ctx: CheckContext) -> object:
            return 1
    """)
    result = project.runpytest_inprocess("-v", "--report-dir=out")
    assert ran(result) == {"test_fx_hang[sqlite]": "FAILED", "test_fx_hang[turso]": "FAILED",
                           "test_fx_after[sqlite]": "PASSED", "test_fx_after[turso]": "PASSED"}
    result.stdout.fnmatch_lines(["*timeout: did not finish within 0.5s*"])
    got = outcomes(load_report(project.path / "out"))
    assert got[("smoke.fx_hang", "turso")] == got[("smoke.fx_hang", "sqlite")] == "timeout"
    assert got[("smoke.fx_after", "turso")] == "same"
    # no wall-clock bound (a loaded machine is slow): the hang never ends by itself, so the run ending at
    # all, with the message of the 0.5 s limit, is the proof that the timeout ended it


KILLERS = """
import ctypes

@check(title="aborts on turso", source=SRC, isolated=True, expect=1)
async def test_fx_abort(ctx: CheckContext) -> object:
    if ctx.name == "turso":
        os.abort()  # what a Rust panic across threads does
    return 1

@check(title="segfaults on turso", source=SRC, area="limits", params={{"a": 1}}, isolated={isolated},
       expect=1)
async def test_fx_segv(ctx: CheckContext, a: int) -> object:
    if ctx.name == "turso":
        ctypes.string_at(0)  # what a C driver's bad pointer does
    return a

@check(title="an isolated check that passes", source=SRC, isolated=True, params={{"x": "x'00'"}},
       expect=[[["text", "x'00'"], ["blob", "x'00ff'"], ["real", 1.5], ["null", "NULL"]]])
async def test_fx_isolated_ok(ctx: CheckContext, x: str) -> object:
    conn = await ctx.connect()
    return rows(await conn.fetch_all("SELECT ?, x'00ff', 1.5, NULL", (x,)))

@check(title="an ordinary check", source=SRC)
async def test_fx_plain(ctx: CheckContext) -> object:
    return rows(await (await ctx.connect()).fetch_all("SELECT 1"))
"""


@pytest.mark.parametrize("how", ["decorator", "flag"])
def test_isolated_checks_survive_abort_and_segfault_serially(project: pytest.Pytester, how: str) -> None:
    """`@check(isolated=True)` on the segfaulting check, or `--isolate` for every check."""
    write_suite(project, KILLERS.format(isolated=how == "decorator"))
    flags = ["--isolate"] if how == "flag" else []
    # Turso only (each isolated run starts a Python); the isolated checks state `expect`, so no
    # reference run is needed. A subprocess: were isolation broken, the abort would end this run.
    result = project.runpytest_subprocess("-v", "--report-dir=out", "--backend=turso", *flags)
    assert ran(result) == {"test_fx_abort[turso]": "FAILED", "test_fx_segv[turso-a]": "FAILED",
                           "test_fx_isolated_ok[turso-x]": "PASSED", "test_fx_plain[turso]": "PASSED"}
    result.stdout.fnmatch_lines(["*crash: the check's process was killed by SIGABRT*"])
    result.stdout.fnmatch_lines(["*crash: the check's process was killed by SIGSEGV*"])
    doc = load_report(project.path / "out")
    assert outcomes(doc)[("limits.fx_segv[a]", "turso")] == "crash"
    abort = next(r for r in doc["checks"] if r["id"] == "smoke.fx_abort")["results"]["turso"]
    assert "Fatal Python error: Aborted" in abort["notes"]["stderr"]  # faulthandler's trace is kept
    ok = next(r for r in doc["checks"] if r["id"] == "smoke.fx_isolated_ok[x]")["results"]["turso"]
    assert ok["observed"] == [[["text", "x'00'"], ["blob", "x'00ff'"], ["real", 1.5], ["null", "NULL"]]]


def test_main_command_under_xdist_records_crashes_and_completes(project: pytest.Pytester) -> None:
    """`pytest suites -n 2 --max-worker-restart=8 --report-dir=... --allow-undocumented` (the Makefile's)."""
    write_suite(project, KILLERS.format(isolated=False).replace("isolated=True, expect=1)", "expect=1)", 1))
    result = project.runpytest_subprocess("-n", "2", "--max-worker-restart=8", "--report-dir=out",
                                          "--allow-undocumented", "-q", timeout=120)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*worker 'gw*' crashed while running "
                                 "'synth/test_smoke.py::test_fx_abort[[]turso[]]'*"])
    doc = load_report(project.path / "out")
    assert outcomes(doc) == {
        ("smoke.fx_abort", "sqlite"): "same", ("smoke.fx_abort", "turso"): "crash",
        ("limits.fx_segv[a]", "sqlite"): "same", ("limits.fx_segv[a]", "turso"): "crash",
        ("smoke.fx_isolated_ok[x]", "sqlite"): "same", ("smoke.fx_isolated_ok[x]", "turso"): "same",
        ("smoke.fx_plain", "sqlite"): "same", ("smoke.fx_plain", "turso"): "same"}
    segv = next(r for r in doc["checks"] if r["id"] == "limits.fx_segv[a]")
    # The crash record's id, area, title and source come from the other backend's record.
    assert (segv["area"], segv["title"]) == ("limits", "segfaults on turso")
    assert segv["source"] == {"document": "000_19b4e4215b591ddb.txt", "section": "Features"}
    assert "crashed while running" in segv["results"]["turso"]["message"]
    assert {b["id"] for b in doc["backends"]} == {"sqlite", "turso"}
    for name in ("compatibility.json", "compatibility.md", "compatibility.html"):
        assert (project.path / "out" / name).stat().st_size > 0
    result.stdout.fnmatch_lines(["*crash * limits.fx_segv[[]a[]] [[]turso[]]*"])


def test_report_is_replaced_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = {"schema_version": 1, "backends": [], "checks": [], "old": True}
    write_all(old, tmp_path)
    before = (tmp_path / "compatibility.json").read_bytes()

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt("killed before the rename")

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_all({**old, "old": False, "checks": [{"id": "x" * 100_000}]}, tmp_path)
    assert (tmp_path / "compatibility.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compatibility.html", "compatibility.json",
                                                          "compatibility.md"]


def test_a_run_killed_while_writing_leaves_the_previous_report_whole(project: pytest.Pytester) -> None:
    write_suite(project, """
        @check(title="one", source=SRC)
        async def test_fx_one(ctx: CheckContext) -> object:
            return 1
    """)
    # The process is killed (SIGKILL) after the new JSON is written to its temporary file, before the
    # rename: what a kill in the middle of writing does to a non-atomic writer is a truncated file.
    project.makeconftest("""
        import os, signal
        _fsync = os.fsync
        def fsync_then_die(fd):
            _fsync(fd)
            if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".compatibility.json"):
                os.kill(os.getpid(), signal.SIGKILL)
        os.fsync = fsync_then_die
    """)
    out = project.path / "out"
    out.mkdir()
    (out / "compatibility.json").write_text(json.dumps({"schema_version": 1, "previous": True}))
    result = project.runpytest_subprocess("--report-dir=out", "-q")
    assert result.ret == -9
    assert json.loads((out / "compatibility.json").read_text()) == {"schema_version": 1, "previous": True}
