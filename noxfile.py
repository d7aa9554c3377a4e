"""The compatibility matrix: the suites per backend and pyturso version, each in its own venv, then merged.

    nox -s matrix            run every `suites` session below, then merge them into reports/matrix/
    nox -s matrix_report     merge the reports already in reports/matrix/ (no suite runs)
    nox -l                   list the sessions

Environment variables narrow or widen the matrix (space- or comma-separated):

    MATRIX_PYTHONS     Python versions, found on PATH, never downloaded (default: the one running nox)
    PYTURSO_VERSIONS   pyturso releases (default: the newest of the 0.6, 0.7 and 0.8 series)
    MATRIX_BACKENDS    backends (default: sqlite turso)
    MATRIX_XDIST       pytest-xdist workers per suites run (default: 0, serial)

SQLite does not depend on pyturso, so by default it runs once per Python version, with the newest
pyturso; set MATRIX_FULL=1 to run every backend with every pyturso version (what CI does).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
OUT = ROOT / "reports" / "matrix"

# Never download an interpreter: use the Pythons on PATH (pyenv, setup-python, the system's).
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

nox.options.default_venv_backend = "uv|virtualenv"
if hasattr(nox.options, "download_python"):  # nox >= 2025.5
    nox.options.download_python = "never"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["matrix"]


def _listed(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").replace(",", " ").split()
    return raw or default


PYTHONS = _listed("MATRIX_PYTHONS", [f"{sys.version_info.major}.{sys.version_info.minor}"])
PYTURSO_VERSIONS = _listed("PYTURSO_VERSIONS", ["0.6.1", "0.7.2", "0.8.3"])
BACKENDS = _listed("MATRIX_BACKENDS", ["sqlite", "turso"])


def _add_pyenv_interpreters(versions: list[str]) -> None:
    """Put pyenv's interpreters of `versions` on PATH (its shims only answer for activated versions)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for version in versions:
        found = sorted(root.glob(f"{version}.*/bin/python{version}"),
                       key=lambda p: [int(x) for x in p.parent.parent.name.split(".") if x.isdigit()])
        if found and shutil.which(f"python{version}", path=str(found[-1].parent)):
            os.environ["PATH"] = f"{found[-1].parent}{os.pathsep}{os.environ.get('PATH', '')}"


_add_pyenv_interpreters(PYTHONS)
NEWEST = max(PYTURSO_VERSIONS, key=lambda v: tuple(int(p) for p in v.split(".") if p.isdigit()))
FULL = os.environ.get("MATRIX_FULL", "") not in ("", "0", "false", "no")
XDIST = int(os.environ.get("MATRIX_XDIST", "0") or 0)

#: (pyturso, backend) pairs; the reference backend does not depend on pyturso unless MATRIX_FULL is set.
COMBOS = [(v, b) for b in BACKENDS for v in PYTURSO_VERSIONS if FULL or b != "sqlite" or v == NEWEST]


def label(python: str, pyturso: str, backend: str) -> str:
    """The report folder (and matrix column) of one run: `py3.11-pyturso0.6.1-turso`."""
    return f"py{python}-pyturso{pyturso}-{backend}"


@nox.session(python=PYTHONS)
@nox.parametrize(("pyturso", "backend"), COMBOS, ids=[f"{b}-{v}" for v, b in COMBOS])
def suites(session: nox.Session, pyturso: str, backend: str) -> None:
    folder = OUT / label(str(session.python), pyturso, backend)
    shutil.rmtree(folder, ignore_errors=True)
    session.install("-e", ".")
    # A second step, so a release outside pyproject's pin can be tried (PYTURSO_VERSIONS=0.5.1).
    session.install(f"pyturso=={pyturso}")
    args = ["pytest", "suites", f"--backend={backend}", f"--report-dir={folder}", "--allow-undocumented",
            "-q", "-p", "no:cacheprovider", "-o", "console_output_style=classic", "--no-header"]
    if XDIST:
        args += ["-n", str(XDIST), "--max-worker-restart=8"]
    # Exit 1 means some check failed (e.g. a registry entry drifted on an older pyturso): that is a
    # result for the matrix, written to the report. Usage errors (2+) still fail the session.
    session.run(*args, success_codes=[0, 1], env={"PYTHONDONTWRITEBYTECODE": "1"})
    if not (folder / "compatibility.json").exists():
        session.error(f"the run wrote no report to {folder}")


def _merge(session: nox.Session, reports: list[Path]) -> None:
    session.install("-e", ".")
    missing = [p for p in reports if not p.exists()]
    if missing:
        session.error("missing reports: " + ", ".join(str(p) for p in missing))
    session.run("python", "-m", "harness", "matrix", "--out", str(OUT), *map(str, reports))


@nox.session(python=PYTHONS[-1], requires=["suites"])
def matrix(session: nox.Session) -> None:
    reports = [OUT / label(py, v, b) / "compatibility.json" for py in PYTHONS for v, b in COMBOS]
    _merge(session, reports)


@nox.session(python=PYTHONS[-1])
def matrix_report(session: nox.Session) -> None:
    reports = sorted(OUT.glob("*/compatibility.json"))
    if not reports:
        session.error(f"no reports under {OUT}: run `nox -s matrix` first")
    _merge(session, reports)
