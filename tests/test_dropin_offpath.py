"""Drop-in off the happy path (issue 24): runs that cannot start, secrets, odd bytes, signals, folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import clear_xdist_env

#: A token as a user keeps one: in an environment variable whose name says TOKEN.
TOKEN = "tok-3f9a7c2e51d84b06"
#: A file name that is not UTF-8, as `os.fsdecode` gives it (a lone surrogate), and a NUL from quoted SQL.
ODD = "os.fsdecode(b'caf\\xe9') + '\\x00'"

PROJECT_TESTS = f"""\
import os
import sqlite3


def on_turso(conn):
    return type(conn).__module__.startswith("turso")


def test_same():
    assert sqlite3.connect(":memory:").execute("SELECT 1").fetchone() == (1,)


def test_token_in_message():
    conn = sqlite3.connect(":memory:")
    token = os.environ["MY_SERVICE_TOKEN"]
    conn.execute("SELECT ?", (token,)).fetchone()  # in the trace too
    if on_turso(conn):
        raise AssertionError(f"the service refused {{token}}")


def test_odd_bytes_in_message():
    conn = sqlite3.connect(":memory:")
    name = {ODD}
    conn.execute("SELECT ?", (name.encode("utf-8", "surrogateescape"),)).fetchone()
    if on_turso(conn):
        raise AssertionError(f"cannot open {{name}} here")
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project that knows nothing of the harness, with a token in its environment."""
    clear_xdist_env(monkeypatch)
    monkeypatch.setenv("MY_SERVICE_TOKEN", TOKEN)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:hypothesispytest\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_app=PROJECT_TESTS)
    return pytester


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _doc(folder: Path) -> dict:
    return json.loads((folder / "dropin.json").read_text(encoding="utf-8"))


def _row(doc: dict, name: str) -> dict:
    return next(r for r in doc["dropin"]["tests"] if r["nodeid"].endswith(name))


def _dropin(project: pytest.Pytester, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`pytest --dropin=turso` in the project, as a user runs it (its own process, its output kept)."""
    cmd = [sys.executable, "-m", "pytest", "--dropin=turso", "--report-dir=out", *args]
    return subprocess.run(cmd, cwd=project.path, capture_output=True, text=True, timeout=timeout,
                          check=False, errors="backslashreplace")


# --- item 2: a token appears in no output ------------------------------------------------------------


def test_a_token_in_the_environment_appears_in_no_dropin_output(user_project: pytest.Pytester) -> None:
    run = _dropin(user_project, "-k", "token or same")
    assert run.returncode == 1, run.stdout + run.stderr
    files = _files(user_project.path / "out")
    assert {"dropin.json", "dropin.md", "dropin.html", "dropin-runs/turso.log", "dropin-runs/turso.jsonl",
            "dropin-runs/sqlite.log", "dropin-runs/turso.trace.main.jsonl"} <= set(files)
    for name, data in [("stdout", run.stdout.encode()), ("stderr", run.stderr.encode()), *files.items()]:
        assert TOKEN.encode() not in data, f"the token leaks into {name}"
    assert "the service refused <redacted>" in _row(_doc(user_project.path / "out"),
                                                    "test_token_in_message")["turso"]["message"]
    assert "TURSO-ONLY test_app.py::test_token_in_message" in run.stdout


def test_a_token_appears_in_no_output_of_the_command_form(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "test_app.py").write_text(
        "import os, sqlite3, unittest\n\n"
        "class T(unittest.TestCase):\n"
        "    def test_token(self):\n"
        "        conn = sqlite3.connect(':memory:')\n"
        "        token = os.environ['MY_SERVICE_TOKEN']\n"
        "        conn.execute('SELECT ?', (token,)).fetchone()\n"
        "        print('using', token)\n"
        "        if type(conn).__module__.startswith('turso'):\n"
        "            self.fail(f'refused {token}')\n", encoding="utf-8")
    env = {**os.environ, "MY_SERVICE_TOKEN": TOKEN}
    env.pop("PYTEST_ADDOPTS", None)
    run = subprocess.run([sys.executable, "-m", "stc_harness", "dropin", "--report-dir=out", "--",
                          sys.executable, "-m", "unittest", "-v", "test_app"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    files = _files(tmp_path / "out")
    assert "dropin-runs/turso.log" in files
    for name, data in [("stdout", run.stdout.encode()), ("stderr", run.stderr.encode()), *files.items()]:
        assert TOKEN.encode() not in data, f"the token leaks into {name}"
    assert b"using <redacted>" in files["dropin-runs/turso.log"]


# --- item 3: any string, whatever its bytes, is escaped and written ------------------------------------


def test_a_lone_surrogate_and_a_nul_are_escaped_in_every_dropin_output(user_project: pytest.Pytester) -> None:
    run = _dropin(user_project, "-k", "odd or same")
    assert run.returncode == 1, run.stdout + run.stderr  # not 3 (INTERNALERROR), and a report
    out = user_project.path / "out"
    files = _files(out)
    for name in ("dropin.json", "dropin.md", "dropin.html", "dropin-runs/turso.log",
                 "dropin-runs/sqlite.log"):
        data = files[name]
        data.decode("utf-8")  # strict: every file is UTF-8
        assert b"\0" not in data, f"a raw NUL in {name}"
    message = _row(_doc(out), "test_odd_bytes_in_message")["turso"]["message"]
    assert message == "cannot open caf\udce9\x00 here"  # the JSON keeps the string exactly
    assert "cannot open caf\\udce9\\x00 here" in files["dropin.md"].decode()
    assert "cannot open caf\\udce9\\x00 here" in run.stdout


# --- item 1: options that pick tests from pytest's cache, and runs that cannot start ------------------


@pytest.mark.parametrize("option", ["--lf", "--sw"])
def test_cache_selection_is_a_usage_error_before_anything_runs(user_project: pytest.Pytester,
                                                               option: str) -> None:
    user_project.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")  # the cache plugin on
    run = _dropin(user_project, option, "-k", "same")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert f"{option} cannot be used with --dropin" in run.stderr
    assert "fail on both" not in run.stdout
    assert not (user_project.path / "out").exists()


def test_a_run_neither_engine_could_start_is_a_usage_error(user_project: pytest.Pytester) -> None:
    user_project.makeconftest("""
        def pytest_sessionstart(session):
            if session.config.getoption("dropin_engine", None):
                raise RuntimeError("this suite cannot start here")
    """)
    run = _dropin(user_project, "-k", "same")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "neither engine's run could start" in run.stderr
    assert "this suite cannot start here" in run.stderr


def test_a_child_without_hypothesis_gets_no_hypothesis_option(user_project: pytest.Pytester) -> None:
    run = _dropin(user_project, "-k", "same")  # the ini says -p no:hypothesispytest
    assert run.returncode == 0, run.stdout + run.stderr
    assert _row(_doc(user_project.path / "out"), "test_same")["category"] == "same"
    last = run.stdout.rstrip().splitlines()[-1]
    assert "2 deselected, 1 same in " in last, last
    assert "no tests ran" not in run.stdout


# --- items 4 and 5: SIGTERM and Ctrl-C stop the children and keep every finished result ----------------

BLOCKING = """\
import os
import sqlite3
import threading


def test_first():
    assert sqlite3.connect(":memory:").execute("SELECT 1").fetchone() == (1,)


def test_blocks():
    engine = "turso" if type(sqlite3.connect(":memory:")).__module__.startswith("turso") else "sqlite"
    with open(os.path.join(os.environ["MARKERS"], engine), "w") as fh:
        fh.write(str(os.getpid()))
    threading.Event().wait()


def test_never_reached():
    pass
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


@pytest.mark.parametrize("signum", [15, 2], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_both_children_and_keeps_the_finished_results(user_project: pytest.Pytester,
                                                                     signum: int) -> None:
    user_project.makepyfile(test_app=BLOCKING)
    markers = user_project.path / "markers"
    markers.mkdir()
    complete = user_project.path / "out" / "dropin.json"
    complete.parent.mkdir()
    complete.write_text("{}", encoding="utf-8")  # a complete report of an earlier run: left as it was
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "--dropin=turso", "--report-dir=out"],
                            cwd=user_project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "MARKERS": str(markers)}, start_new_session=True)
    try:
        _wait_for(lambda: len(list(markers.iterdir())) == 2, proc)
        pids = [int(p.read_text()) for p in markers.iterdir()]
        proc.send_signal(signum)  # to the parent only, as `timeout` and CI limits send it
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert not [pid for pid in pids if _alive(pid)], "a child outlived its parent"
    assert complete.read_text(encoding="utf-8") == "{}"
    doc = json.loads((user_project.path / "out" / "dropin-interrupted.json").read_text(encoding="utf-8"))
    name = "SIGTERM" if signum == 15 else "SIGINT"
    assert doc["interrupted"] == {"ran": 1, "total": 3, "signal": name}
    assert _row(doc, "test_first")["category"] == "same"  # the finished test's results are kept
    assert _row(doc, "test_blocks")["turso"]["outcome"] == "not-run"
    assert "interrupted: 1 of 3 tests ran on both engines" in out  # the terminal says what the file says
    assert f"INTERRUPTED ({name}): 1 of 3 tests ran" in doc["sections"][0]["intro"]


def _wait_for(ready: object, proc: subprocess.Popen[str], limit: float = 600.0) -> None:
    """Poll (bounded) until `ready()`; fail with the run's output if it ended first."""
    import time

    deadline = time.monotonic() + limit
    while not ready():  # type: ignore[operator]
        if proc.poll() is not None:
            pytest.fail(f"the run ended first: {proc.communicate()[0]}")
        if time.monotonic() > deadline:
            pytest.fail("the run never got there")
        time.sleep(0.05)


# --- item 6: each engine's own working folder; writes outside it are named ------------------------------

WRITERS = """\
import sqlite3


def test_fixed_file_name_in_the_working_folder():
    conn = sqlite3.connect("state.db")  # the same name on both engines' runs
    conn.execute("CREATE TABLE t (x)")  # fails if the other engine's run made it first
    conn.commit()
    conn.close()


def test_writes_into_the_project():
    with open("data/log.txt", "a") as fh:  # an existing file: its link leads into the project
        fh.write("ran\\n")
    with open("data/new.txt", "w") as fh:  # a new file: in the engine's own copy of the folder
        fh.write("made\\n")
"""


def test_each_engine_has_its_own_working_folder_and_writes_outside_are_named(
        user_project: pytest.Pytester) -> None:
    user_project.makepyfile(test_app=WRITERS)
    (user_project.path / "data").mkdir()
    (user_project.path / "data" / "log.txt").write_text("")
    run = _dropin(user_project)
    assert run.returncode == 0, run.stdout + run.stderr
    doc = _doc(user_project.path / "out")
    assert _row(doc, "test_fixed_file_name_in_the_working_folder")["category"] == "same"
    assert not (user_project.path / "state.db").exists()
    assert not (user_project.path / "data" / "new.txt").exists()  # each engine made its own
    assert doc["dropin"]["wrote_outside"] == ["data/log.txt"]
    assert "rerun with --dropin-serial" in doc["sections"][0]["intro"]
    assert (user_project.path / "data" / "log.txt").read_text() == "ran\nran\n"


# --- item 8: the harness's own backends stay unrouted ------------------------------------------------

OWN_FIXTURES = """\
import pytest


@pytest.mark.asyncio
async def test_the_backend_is_what_it_says(connection, conformance_backend):
    module = type(connection.driver_connection).__module__
    assert module.startswith("turso") == (conformance_backend.name == "turso"), module
"""


def test_the_harness_fixtures_are_never_routed_in_a_turso_child(user_project: pytest.Pytester) -> None:
    user_project.makepyfile(test_app=OWN_FIXTURES)
    run = _dropin(user_project)
    assert run.returncode == 0, run.stdout + run.stderr
    doc = _doc(user_project.path / "out")
    assert {r["nodeid"].split("::")[-1]: r["category"] for r in doc["dropin"]["tests"]} == {
        "test_the_backend_is_what_it_says[sqlite]": "same", "test_the_backend_is_what_it_says[turso]": "same"}


def test_a_user_registry_entry_with_a_builtin_id_names_both_files(user_project: pytest.Pytester) -> None:
    from stc_harness.differences import builtin_folder

    builtin = sorted(builtin_folder().glob("*.toml"))[0]
    first = builtin.read_text(encoding="utf-8").split("[[difference]]")[1]
    reg = user_project.path / "reg"
    reg.mkdir()
    (reg / "mine.toml").write_text("[[difference]]" + first, encoding="utf-8")  # a built-in entry's id
    run = _dropin(user_project, "--dropin-registry=reg", "-k", "same")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "mine.toml" in run.stderr, run.stderr
    assert builtin.name in run.stderr, run.stderr
    missing = _dropin(user_project, "--dropin-registry=/nonexistent", "-k", "same")
    assert missing.returncode == pytest.ExitCode.USAGE_ERROR, missing.stdout + missing.stderr
    assert "--dropin-registry /nonexistent: no such folder" in missing.stderr


SHARED_TEMP = """\
import os
import sqlite3
import tempfile


def test_a_database_in_the_temp_folder():
    conn = sqlite3.connect(os.path.join(tempfile.gettempdir(), "app-cache.db"))
    conn.execute("CREATE TABLE t (x)")  # fails if the other engine's run made it first
    conn.commit()
    conn.close()
"""


def test_each_engine_has_its_own_temporary_folder(user_project: pytest.Pytester) -> None:
    """A file a test makes in tempfile.gettempdir() is never the other engine's run's (both run at once)."""
    user_project.makepyfile(test_app=SHARED_TEMP)
    run = _dropin(user_project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert _row(_doc(user_project.path / "out"), "test_a_database_in_the_temp_folder")["category"] == "same"
