"""Off the happy path (issue 11): xdist absent, interrupts, hangs, bad paths, secrets and small things."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, TESTS, load_report, outcomes, run_repo, write_registry, write_suite

ONE = """
@check(title="one", source=SRC)
async def test_fx_one(ctx: CheckContext) -> object:
    return 1
"""


def test_serial_run_with_xdist_disabled(project: pytest.Pytester) -> None:
    write_suite(project, ONE)
    result = project.runpytest_subprocess("-p", "no:xdist", "--backend=sqlite", "--report-dir=out")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert outcomes(load_report(project.path / "out")) == {("smoke.fx_one", "sqlite"): "same"}


# --- item 3: an interrupted run never replaces a complete report -------------------------------------

INTERRUPTIBLE = """
@check(title="first", source=SRC)
async def test_fx_a(ctx: CheckContext) -> object:
    return 1

@check(title="second: blocks until interrupted when BLOCK_AT is set", source=SRC, timeout=120)
async def test_fx_b(ctx: CheckContext) -> object:
    marker = os.environ.get("BLOCK_AT")
    if marker:
        open(marker, "w").close()
        await asyncio.Event().wait()
    return 2

@check(title="third", source=SRC)
async def test_fx_c(ctx: CheckContext) -> object:
    return 3
"""


def _wait_for_file(path: Path, proc: subprocess.Popen[str], limit: float = 60.0) -> None:
    """Wait (bounded) until the child created `path`; fail with its output if it ended first."""
    deadline = time.monotonic() + limit
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended before blocking: {proc.communicate()[0]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the run never reached the blocking check")
        time.sleep(0.05)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_an_interrupted_run_writes_its_partial_report_beside_the_complete_one(
        project: pytest.Pytester, workers: list[str]) -> None:
    write_suite(project, INTERRUPTIBLE)
    args = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest", "--backend=sqlite",
            "--report-dir=out", *workers]
    done = subprocess.run(args, cwd=project.path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    complete = (project.path / "out" / "compatibility.json").read_text()
    marker = project.path / "blocked"
    proc = subprocess.Popen(args, cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "BLOCK_AT": str(marker)})
    _wait_for_file(marker, proc)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert (project.path / "out" / "compatibility.json").read_text() == complete
    assert (project.path / "out" / "compatibility-interrupted.json").exists(), out
    partial = json.loads((project.path / "out" / "compatibility-interrupted.json").read_text())
    total = 3
    assert partial["interrupted"]["total"] == total
    assert partial["interrupted"]["ran"] < total
    ran = partial["interrupted"]["ran"]
    mark = f"interrupted: {ran} of {total} checks ran"
    assert mark in (project.path / "out" / "compatibility-interrupted.md").read_text()
    assert mark in (project.path / "out" / "compatibility-interrupted.html").read_text()
    assert mark in out


# --- item 9: output paths are checked before the run; a late failure saves elsewhere ------------------


def test_a_report_dir_that_is_a_file_is_a_usage_error_before_anything_runs(project: pytest.Pytester) -> None:
    write_suite(project, ONE)
    (project.path / "taken").write_text("not a folder")
    result = project.runpytest_inprocess("--backend=sqlite", "--report-dir=taken/out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--report-dir *taken/out: *taken is a file*"])
    result = project.runpytest_inprocess("--backend=sqlite", "--report-dir=taken")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--report-dir *taken is a file, not a folder*"])


def test_a_report_dir_broken_during_the_run_saves_the_results_elsewhere(project: pytest.Pytester) -> None:
    write_suite(project, """
        @check(title="turns the report folder into a file", source=SRC)
        async def test_fx_sabotage(ctx: CheckContext) -> object:
            if not os.path.exists("out"):
                open("out", "w").close()
            return 1
    """)
    result = project.runpytest_subprocess("--backend=sqlite", "--report-dir=out")
    assert result.ret == 0, result.stdout.str()
    line = next(ln for ln in result.stderr.lines if "results were saved in" in ln)
    saved = Path(line.rsplit("saved in ", 1)[1].split(" instead")[0])
    assert "could not write into" in line
    assert str(project.path / "out") in line
    assert outcomes(load_report(saved)) == {("smoke.fx_sabotage", "sqlite"): "same"}
    result.stdout.fnmatch_lines([f"report: {saved}/compatibility.md*"])


def test_hunt_json_in_a_missing_folder_is_refused_first(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from stc_harness.differential.cli import main

    assert main(["hunt", "--json", str(tmp_path / "missing" / "x.json"), "--cases", "1"]) == 2
    err = capsys.readouterr()
    assert "--json" in err.err
    assert "does not exist" in err.err
    assert "hunt: seed" not in err.out


def test_hunt_json_write_failure_saves_elsewhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stc_harness.differential.cli import write_json

    folder = tmp_path / "gone"
    folder.mkdir()
    target = folder / "x.json"
    folder.rmdir()
    saved = write_json(target, {"findings": []})
    assert saved != target
    assert json.loads(saved.read_text()) == {"findings": []}
    assert str(saved.parent) in capsys.readouterr().err


# --- item 11: the small things --------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--budget", "-5"], ["--cases", "-10"], ["--budget", "0"],
                                  ["--timeout", "0"], ["--max-shrinks", "-1"], ["--budget", "nan"]])
def test_hunt_rejects_bad_budgets_and_counts(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from stc_harness.differential.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["hunt", *args])
    assert exc.value.code == 2
    assert args[0] in capsys.readouterr().err


def test_merging_the_same_file_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stc_harness.report.cli import main

    report = ROOT / "reports" / "compatibility.json"
    assert main(["merge", str(report), str(report), "--out", str(tmp_path / "m")]) == 2
    assert "given twice" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_an_unknown_command_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from stc_harness.__main__ import main

    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_a_check_returning_a_non_plain_object_is_an_error_not_a_difference(project: pytest.Pytester) -> None:
    write_suite(project, """
        class Thing:
            pass

        @check(title="returns an object", source=SRC)
        async def test_fx_object(ctx: CheckContext) -> object:
            return {"rows": [1, Thing()]}
    """)
    result = project.runpytest_inprocess("--report-dir=out")
    result.stdout.fnmatch_lines(["*error: the check returned a non-plain object at rows[[]1[]]: *Thing*"])
    got = outcomes(load_report(project.path / "out"))
    assert got == {("smoke.fx_object", "sqlite"): "error", ("smoke.fx_object", "turso"): "error"}


def test_a_drift_message_names_the_path_where_it_differs(project: pytest.Pytester) -> None:
    write_suite(project, """
        @check(title="a nested observation", source=SRC)
        async def test_fx_nested(ctx: CheckContext) -> object:
            return {"a": 1, "b": {"c": ctx.name, "d": 2}}
    """)
    write_registry(project, """
        [[difference]]
        id = "smoke.nested"
        check = "smoke.fx_nested"
        title = "t"
        source = { document = "x", section = "y" }
        reason = "r"
        impact = "cosmetic"
        attribution = "turso"
        [difference.expect.turso]
        a = 1
        b = { c = "turso", d = 3 }
    """)
    result = project.runpytest_inprocess("--registry=reg", "--report-dir=out")
    result.stdout.fnmatch_lines(['*drift: *differs at: b.d: 2, expected 3*'])
    assert "differs at: b.c" not in result.stdout.str()


# --- item 4: timeouts hold whatever the code blocks on ---------------------------------------------------

HANGING = "fake_backend.backend:make_hanging"
HANGS = """
import time

@check(title="the driver call never returns", source=SRC, timeout=1, expect=1)
async def test_fx_driver_hangs(ctx: CheckContext) -> object:
    conn = await ctx.connect()
    await conn.execute("SELECT 'HANG'")
    return 1

@check(title="blocks the event loop", source=SRC, timeout=1, expect=1)
async def test_fx_sleeps(ctx: CheckContext) -> object:
    time.sleep(3600)  # longer than any run: the run ending at all proves the timeout ended it
    return 1

@maketest("sqlite", timeout=1)
async def fx_maketest_sleeps(conn):
    time.sleep(3600)

@check(title="after the hangs", source=SRC, expect=1)
async def test_fx_after(ctx: CheckContext) -> object:
    conn = await ctx.connect()
    return (await conn.fetch_one("SELECT 1"))[0]
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_driver_call_that_never_returns_is_a_timeout_and_the_run_ends(project: pytest.Pytester,
                                                                        workers: list[str]) -> None:
    write_suite(project, HANGS)
    args = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest", f"--backend={HANGING}",
            "--backend=sqlite", "--report-dir=out", "-v", *workers]
    # a bound on a hang, not a speed limit: a loaded machine is slow, and the hangs never end by themselves
    done = subprocess.run(args, cwd=project.path, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    got = outcomes(load_report(project.path / "out"))
    assert got == {("smoke.fx_driver_hangs", "hanging"): "timeout",
                   ("smoke.fx_driver_hangs", "sqlite"): "same",
                   ("smoke.fx_sleeps", "hanging"): "timeout", ("smoke.fx_sleeps", "sqlite"): "timeout",
                   ("smoke.fx_after", "hanging"): "same", ("smoke.fx_after", "sqlite"): "same",
                   ("smoke.fx_maketest_sleeps", "sqlite"): "timeout"}
    assert "timeout: fx_maketest_sleeps did not finish within 1s on sqlite" in done.stdout


# --- item 1: no secret in any id, name, message, log or report -----------------------------------------

KEYS = {"url": "a1" * 32, "option": "b2" * 32, "environment": "c3" * 32, "factory": "d4" * 32}
SECRETS = """
from stc_harness import EncryptionOpts

@check(title="a key passed as an option, then echoed by a failing body", source=SRC, expect=1)
async def test_fx_option_key(ctx: CheckContext) -> object:
    opts = EncryptionOpts("aegis256", "b2" * 32)
    ctx.note(opts=repr(opts), raw="key " + opts.hexkey)
    print("opening with", opts.hexkey)
    raise RuntimeError(f"could not open with {opts.hexkey}")

@check(title="a key from the environment, observed", source=SRC)
async def test_fx_environment_key(ctx: CheckContext) -> object:
    print("key is", os.environ["MY_APP_DB_KEY"])
    return {"key": os.environ["MY_APP_DB_KEY"], "on": "fake" if ctx.name == "fake" else "sqlite"}

@check(title="a key in a drift", source=SRC)
async def test_fx_key_differs(ctx: CheckContext) -> object:
    return os.environ["MY_APP_DB_KEY"] if ctx.name == "fake" else "no key"

@maketest("sqlite")
async def fx_made(conn):
    assert os.environ["MY_APP_DB_KEY"] == "something else"
"""


def _outputs(folder: Path, result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    files = {p.name: p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file()}
    return {"stdout": result.stdout, "stderr": result.stderr, **files}


def test_planted_keys_appear_in_no_output(project: pytest.Pytester) -> None:
    write_suite(project, SECRETS)
    env = {**os.environ, "MY_APP_DB_KEY": KEYS["environment"]}
    base = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest", "-rA", "-v"]
    run = subprocess.run([*base, "--backend=sqlite", "--backend=fake_backend.backend:make_fake",
                          "--report-dir=out", "--junitxml=out/junit.xml"],
                         cwd=project.path, capture_output=True, text=True, env=env, timeout=120, check=False)
    outputs = _outputs(project.path / "out", run)
    assert {"compatibility.json", "compatibility.md", "compatibility.html", "junit.xml"} <= set(outputs)
    assert "<redacted>" in outputs["compatibility.json"]
    assert "could not open with <redacted>" in run.stdout
    refused = {}
    for where, value in [("url", f"turso:x.db?encryption_key={KEYS['url']}&cipher=aegis256"),
                         ("url", f"turso::memory:?concurrent_writes=1&hexkey={KEYS['url']}"),
                         ("url", f"sqlite::memory:?opaque={KEYS['url']}"),
                         ("factory", f"fake_backend.backend:make_fake?key={KEYS['factory']}"),
                         ("factory", f"fake_backend.backend:make_fake({KEYS['factory']})")]:
        for how in ("argument", "environment"):
            args, extra = ([f"--backend={value}"], {}) if how == "argument" else \
                ([], {"PYTEST_ADDOPTS": f"--backend={value}"})
            res = subprocess.run([*base, *args, "--report-dir=refused", "--junitxml=refused/junit.xml"],
                                 cwd=project.path, capture_output=True, text=True, env={**env, **extra},
                                 timeout=120, check=False)
            assert res.returncode == pytest.ExitCode.USAGE_ERROR, (value, res.stdout, res.stderr)
            refused[f"{where} {value[:30]} ({how})"] = res.stdout + res.stderr
            assert not (project.path / "refused").exists()
    for name, text in [*outputs.items(), *refused.items()]:
        for key in KEYS.values():
            assert key not in text, f"a key leaks into {name}"
            assert key.upper() not in text, f"a key leaks into {name}"
    assert any("holds a secret" in text for text in refused.values())


# --- item 5: a third-party backend gets the same outcomes as a built-in one, child processes included ----


def test_a_module_factory_backend_matches_sqlite_in_children(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    proc = run_repo(["suites/engine/test_features.py", "suites/engine/test_discovery.py", "-k",
                     "plain_multiprocess_wal or replay and jsonarrow2 and crash",
                     "--backend=sqlite", "--backend=fake_backend.backend:make_fake",
                     f"--report-dir={tmp_path / 'out'}"], tmp_path / "tmp")
    got = outcomes(load_report(tmp_path / "out"))
    checks = {check for check, _ in got}
    assert len(checks) == 2, proc.stdout
    for check in checks:
        assert got[(check, "fake")] == got[(check, "sqlite")] == "same", (check, proc.stdout[-3000:])


# --- item 6: fixtures honour the URL's options and path; the test id says what the connection is ----------

FIXTURES = """
import json

@pytest.mark.asyncio
async def test_fx_fixture(connection, database_url, conformance_backend):
    mode = (await connection.fetch_one("PRAGMA journal_mode"))[0]
    await connection.execute("CREATE TABLE IF NOT EXISTS seen (x INTEGER)")
    with open("seen.json", "w") as fh:
        json.dump({"mode": mode, "url": database_url}, fh)
"""


def test_fixtures_use_the_url_options_and_the_id_says_memory(project: pytest.Pytester) -> None:
    write_suite(project, FIXTURES)
    result = project.runpytest_inprocess("-v", "--backend=turso::memory:?concurrent_writes=1")
    result.stdout.fnmatch_lines(["*test_fx_fixture[[]turso+memory+concurrent_writes[]] PASSED*"])
    seen = json.loads((project.path / "seen.json").read_text())
    assert seen == {"mode": "mvcc", "url": "turso::memory:"}


def test_fixtures_open_the_url_path_and_a_missing_folder_is_refused(project: pytest.Pytester) -> None:
    write_suite(project, FIXTURES)
    (project.path / "data").mkdir()
    result = project.runpytest_inprocess("-v", "--backend=sqlite:data/app.db")
    result.stdout.fnmatch_lines(["*test_fx_fixture[[]sqlite+app.db[]] PASSED*"])
    seen = json.loads((project.path / "seen.json").read_text())
    assert seen["url"] == f"sqlite:{project.path / 'data' / 'app.db'}"
    assert (project.path / "data" / "app.db").stat().st_size > 0
    result = project.runpytest_inprocess("--backend=turso:/nonexistent/dir/x.db")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*folder /nonexistent/dir does not exist*"])


# --- item 10: a default run that loses a default backend fails, naming it -------------------------------


def test_a_default_backend_that_fails_to_load_fails_the_run(project: pytest.Pytester) -> None:
    write_suite(project, ONE)
    shadow = project.path / "shadow" / "turso"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('pyturso is not installed (simulated)')\\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow.parent), os.environ["PYTHONPATH"]])}
    base = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest"]
    res = subprocess.run(base, cwd=project.path, capture_output=True, text=True, env=env, timeout=120,
                         check=False)
    assert res.returncode == pytest.ExitCode.USAGE_ERROR, res.stdout + res.stderr
    assert "backend 'turso' is installed by default but did not load" in res.stderr
    assert "--allow-missing-backends" in res.stderr
    res = subprocess.run([*base, "--allow-missing-backends"], cwd=project.path, capture_output=True,
                         text=True, env=env, timeout=120, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "backend turso: not installed" in res.stdout


# --- item 7: the registry ships with the package; a user's own tests and areas get a report --------------

OWN = """
@check(title="my own area", source=SRC, area="myapp")
async def test_fx_mine(ctx: CheckContext) -> object:
    return 2 if ctx.name == "turso" else 1

@maketest("sqlite", "turso")
async def fx_made(conn):
    '''My maketest: one row.'''
    assert await conn.fetch_value("SELECT 1") == 1

@maketest("sqlite", "turso")
async def fx_made_differs(conn):
    assert (await conn.fetch_one("PRAGMA journal_mode"))[0] == "delete"

@pytest.mark.asyncio
async def test_fx_fixture(connection):
    assert await connection.fetch_value("SELECT 2") == 2
"""


def test_own_tests_and_areas_get_a_report_and_the_builtin_registry_loads(project: pytest.Pytester) -> None:
    write_suite(project, OWN, name="test_myapp")
    write_registry(project, """
        [[difference]]
        id = "myapp.mine"
        check = "myapp.fx_mine"
        title = "turso says 2"
        source = { document = "mine", section = "mine" }
        reason = "measured"
        impact = "cosmetic"
        attribution = "turso"
        expect = { turso = 2 }
    """, name="myapp.toml")
    result = project.runpytest_inprocess("--registry=reg", "--report-dir=out")
    result.stdout.fnmatch_lines(["reference: sqlite; registry: * differences (* built in, 1 yours)"])
    got = outcomes(load_report(project.path / "out"))
    assert got == {
        ("myapp.fx_mine", "sqlite"): "same", ("myapp.fx_mine", "turso"): "documented-difference",
        ("myapp.fx_made", "sqlite"): "same", ("myapp.fx_made", "turso"): "same",
        ("myapp.fx_made_differs", "sqlite"): "same",
        ("myapp.fx_made_differs", "turso"): "undocumented-difference",
        ("myapp.fx_fixture", "sqlite"): "same", ("myapp.fx_fixture", "turso"): "same",
    }
    doc = load_report(project.path / "out")
    assert next(r for r in doc["checks"] if r["id"] == "myapp.fx_made")["title"] == "My maketest: one row."
    assert [e["id"] for e in doc["registry"]] == ["myapp.mine"]


def test_a_users_check_named_like_a_built_in_one_is_a_usage_error(project: pytest.Pytester) -> None:
    """It would inherit the built-in registry entry and be reported as drift against it."""
    write_suite(project, """
@check(title="mine", source=SRC)
async def test_default_journal_mode(ctx: CheckContext) -> object:
    return 1
""", name="test_transactions")
    result = project.runpytest_subprocess("--backend=sqlite")  # this process may hold the built-in one
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*your check 'transactions.default_journal_mode' (*) has the id of a "
                                 "built-in check that registry entry "
                                 "'transactions.file-databases-start-in-wal' (*"])


@pytest.mark.parametrize("value", ["missing", "empty"])
def test_a_mistyped_registry_is_a_usage_error(project: pytest.Pytester, value: str) -> None:
    write_suite(project, ONE)
    (project.path / "empty").mkdir()
    result = project.runpytest_inprocess(f"--registry={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--registry *{value}: *"])


def test_an_entry_with_an_area_no_check_declares_is_refused(project: pytest.Pytester) -> None:
    write_suite(project, ONE)
    write_registry(project, """
        [[difference]]
        id = "elsewhere.x"
        check = "elsewhere.fx_x"
        title = "t"
        source = { document = "d", section = "s" }
        reason = "r"
        impact = "cosmetic"
        attribution = "turso"
        expect = { turso = 1 }
    """)
    result = project.runpytest_inprocess("--registry=reg")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*entry 'elsewhere.x': unknown area 'elsewhere'*"])


def test_the_hunt_finds_the_builtin_registry_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from stc_harness.differential import cli

    monkeypatch.chdir(tmp_path)
    seen = {}
    monkeypatch.setattr(cli, "hunt", lambda config: seen.setdefault("registry", config.registry) and 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main(["hunt", "--cases", "1"])
    assert len(seen["registry"].entries) > 50
    assert cli.main(["hunt", "--registry", "nowhere"]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_a_check_stuck_holding_the_interpreter_is_a_timeout_under_xdist(project: pytest.Pytester) -> None:
    write_suite(project, """
        import re

        @check(title="catastrophic backtracking: a C call that never releases the GIL", source=SRC, timeout=1,
               expect=1)
        async def test_fx_holds_the_gil(ctx: CheckContext) -> object:
            return 1 if re.match(r"(a+)+$", "a" * 64 + "b") else 1

        @check(title="after", source=SRC, expect=1)
        async def test_fx_after(ctx: CheckContext) -> object:
            return 1
    """)
    args = [sys.executable, "-m", "pytest", "-p", "no:hypothesispytest", "--backend=sqlite", "-n", "2",
            "--max-worker-restart=4", "--report-dir=out"]
    # the backtracking never ends by itself: the run ending at all proves the watchdog replaced the worker
    done = subprocess.run(args, cwd=project.path, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    doc = load_report(project.path / "out")
    assert outcomes(doc) == {("smoke.fx_holds_the_gil", "sqlite"): "timeout",
                             ("smoke.fx_after", "sqlite"): "same"}
    row = next(r for r in doc["checks"] if r["id"] == "smoke.fx_holds_the_gil")
    assert "stuck holding the interpreter" in row["results"]["sqlite"]["message"]
