"""Helpers for the harness's own tests: synthetic suites run through pytester, and the fake backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
#: Sample applications for the drop-in mode, with their own pytest settings: not the harness's tests.
collect_ignore = ["dropin_apps"]

#: Settings of a pytester project (the repository's pyproject settings that matter to the plugin).
INI = """\
[pytest]
addopts = --strict-markers -p no:cacheprovider -p no:hypothesispytest
xfail_strict = true
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
asyncio_default_test_loop_scope = function
"""

#: Imports every synthetic suite starts with.
PRELUDE = """\
import asyncio, os
import pytest
from stc_harness import CheckContext, check, maketest, maketest_sqlite, maketest_turso, orm_backend, rows
SRC = orm_backend("Features")
"""


@pytest.fixture(autouse=True)
def _two_backend_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness's own tests assert what a default (sqlite + turso) run does: plugin backends sit out.

    tests/test_libsql_plugin.py names the libsql backend explicitly (or by target), which this leaves alone.
    """
    monkeypatch.setenv("CONFORMANCE_EXCLUDE_BACKENDS", "libsql")


def dedent(text: str) -> str:
    """Strip the common indentation of a test's embedded source."""
    return textwrap.dedent(text).lstrip("\n")


#: Variables an xdist worker sets, which must not leak into the pytest runs a test starts.
XDIST_ENV = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID", "PYTEST_ADDOPTS")


def clear_xdist_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep this xdist worker's variables (and PYTEST_ADDOPTS) out of the pytest runs a test starts."""
    for name in XDIST_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester folder with the plugin's ini settings and the fake backend importable."""
    pytester.makeini(INI)
    clear_xdist_env(monkeypatch)
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)
    pytester.syspathinsert(TESTS)
    return pytester


def write_suite(pytester: pytest.Pytester, body: str, name: str = "test_smoke") -> Path:
    """Write a synthetic suite module `synth/<name>.py` (area from its name) after the standard prelude.

    The `synth` package keeps its module names apart from the repository's own suites, which may be
    imported in this process too (`pytest tests suites`).
    """
    init = pytester.path / "synth" / "__init__.py"
    init.parent.mkdir(exist_ok=True)
    init.touch()
    return pytester.makepyfile(**{f"synth/{name}": PRELUDE + "\n" + dedent(body)})


def write_registry(pytester: pytest.Pytester, toml: str, name: str = "smoke.toml") -> Path:
    """Write one registry file into `reg/` of the pytester folder."""
    folder = pytester.path / "reg"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(dedent(toml), encoding="utf-8")
    return path


def write_entry_point(folder: Path, name: str, target: str) -> Path:
    """Make a dist-info in `folder` that registers `name = target` in `conformance.backends`."""
    dist = folder / f"conformance_fake_{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: conformance-fake-{name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[conformance.backends]\n{name} = {target}\n")
    return dist


def outcomes(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """`{(check, backend): outcome}` of a JSON report."""
    return {(row["id"], b): res["outcome"] for row in doc["checks"] for b, res in row["results"].items()}


def load_report(folder: Path) -> dict[str, Any]:
    """The JSON report written into `folder`."""
    return json.loads((folder / "compatibility.json").read_text(encoding="utf-8"))


#: Plugins the repository runs need not load (hypothesis's costs ~1 s per run without bytecode caching).
QUIET = ("-p", "no:hypothesispytest")


def run_repo(args: list[str], basetemp: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run pytest on this repository (its ini, registry and suites) in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k not in XDIST_ENV}
    cmd = [sys.executable, "-m", "pytest", *QUIET, *args, f"--basetemp={basetemp}"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout,
                          check=False)


def start_repo(args: list[str], basetemp: Path) -> subprocess.Popen[str]:
    """Start pytest on this repository in a subprocess (collect its output with `.communicate()`)."""
    env = {k: v for k, v in os.environ.items() if k not in XDIST_ENV}
    cmd = [sys.executable, "-m", "pytest", *QUIET, *args, f"--basetemp={basetemp}"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
