"""Drop-in off the happy path (issue 24): runs that cannot start, secrets, odd bytes, signals, shared folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
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


def _dropin(project: pytest.Pytester, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
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
                         capture_output=True, text=True, timeout=240, check=False)
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
    for name in ("dropin.json", "dropin.md", "dropin.html", "dropin-runs/turso.log", "dropin-runs/sqlite.log"):
        data = files[name]
        data.decode("utf-8")  # strict: every file is UTF-8
        assert b"\0" not in data, f"a raw NUL in {name}"
    message = _row(_doc(out), "test_odd_bytes_in_message")["turso"]["message"]
    assert message == "cannot open caf\udce9\x00 here"  # the JSON keeps the string exactly
    assert "cannot open caf\\udce9\\x00 here" in files["dropin.md"].decode()
    assert "cannot open caf\\udce9\\x00 here" in run.stdout
