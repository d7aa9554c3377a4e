"""The compatibility matrix: the suites per backend and pyturso version, each in its own venv, then merged.

    nox -s matrix            run every `suites` session below, then merge them into reports/matrix/
    nox -s matrix_report     merge the reports already in reports/matrix/ (no suite runs)
    nox -l                   list the sessions

Environment variables narrow or widen the matrix (space- or comma-separated):

    MATRIX_PYTHONS     Python versions, found on PATH, never downloaded (default: the one running nox)
    PYTURSO_VERSIONS   pyturso releases (default: the newest of the 0.6, 0.7 and 0.8 series)
    MATRIX_BACKENDS    backends (default: sqlite turso)
    LIBSQL_VERSIONS    libsql releases of the libSQL axis (default: 0.1.5 0.1.8 0.1.11, every series of
                       wheels that installs here); "none" skips it
    SQLEAN_VERSIONS    sqlean.py releases of the SQLite-version axis (default: 3.47.0 3.49.1 3.50.4.5,
                       i.e. SQLite 3.47.0, 3.49.1 and 3.50.4, the release Turso tracks); "none" skips it
    MATRIX_XDIST       pytest-xdist workers per suites run (default: 1, one worker that is replaced when
                       a check aborts the interpreter, as pyturso 0.6.1 does in a driver check; 0: in-process)

SQLite does not depend on pyturso, so by default it runs once per Python version, with the newest
pyturso; set MATRIX_FULL=1 to run every backend with every pyturso version (what CI does).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
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
# 3.45.1 is the SQLite libSQL is based on: the point that decides libSQL's version gaps.
SQLEAN_VERSIONS = [v for v in _listed("SQLEAN_VERSIONS", ["3.45.1", "3.47.0", "3.49.1", "3.50.4.5"])
                   if v != "none"]
LIBSQL_VERSIONS = [v for v in _listed("LIBSQL_VERSIONS", ["0.1.5", "0.1.8", "0.1.11"]) if v != "none"]


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
XDIST = int(os.environ.get("MATRIX_XDIST", "1") or 0)

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


def sqlite_label(python: str, sqlean: str) -> str:
    """The report folder of one point of the SQLite-version axis: `py3.11-sqlean3.47.0-sqlean`."""
    return f"py{python}-sqlean{sqlean}-sqlean"


@nox.session(python=PYTHONS)
@nox.parametrize("sqlean", SQLEAN_VERSIONS, ids=SQLEAN_VERSIONS)
def sqlite_axis(session: nox.Session, sqlean: str) -> None:
    """The suites on one SQLite release (the stdlib sqlite3 API through sqlean.py), judged like Turso."""
    folder = OUT / sqlite_label(str(session.python), sqlean)
    shutil.rmtree(folder, ignore_errors=True)
    session.install("-e", ".")
    session.install(f"sqlean.py=={sqlean}")  # over pyproject's pin: older releases are points of the axis
    # The engine layer only: the driver and client layers compare Python modules, and sqlean.py's module
    # is not the stdlib's (docs/design.md, "Attribution outside the engine layer").
    args = ["pytest", "suites", "--ignore=suites/driver", "--ignore=suites/client", "--backend=sqlean",
            f"--report-dir={folder}", "--allow-undocumented",
            "-q", "-p", "no:cacheprovider", "-o", "console_output_style=classic", "--no-header"]
    if XDIST:
        args += ["-n", str(XDIST), "--max-worker-restart=8"]
    session.run(*args, success_codes=[0, 1], env={"PYTHONDONTWRITEBYTECODE": "1"})
    if not (folder / "compatibility.json").exists():
        session.error(f"the run wrote no report to {folder}")


def libsql_label(python: str, libsql: str) -> str:
    """The report folder of one point of the libSQL axis: `py3.11-libsql0.1.11-libsql`."""
    return f"py{python}-libsql{libsql}-libsql"


@nox.session(python=PYTHONS)
@nox.parametrize("libsql", LIBSQL_VERSIONS, ids=LIBSQL_VERSIONS)
def libsql_axis(session: nox.Session, libsql: str) -> None:
    """The suites on one libsql release (the plugins/libsql backend), judged against stdlib SQLite."""
    folder = OUT / libsql_label(str(session.python), libsql)
    shutil.rmtree(folder, ignore_errors=True)
    session.install("-e", ".", "-e", str(ROOT / "plugins" / "libsql"))
    session.install("--only-binary=libsql", f"libsql=={libsql}")
    args = ["pytest", "suites", "--backend=libsql", f"--report-dir={folder}", "--allow-undocumented",
            "-q", "-p", "no:cacheprovider", "-o", "console_output_style=classic", "--no-header"]
    if XDIST:
        args += ["-n", str(XDIST), "--max-worker-restart=8"]
    session.run(*args, success_codes=[0, 1], env={"PYTHONDONTWRITEBYTECODE": "1"})
    if not (folder / "compatibility.json").exists():
        session.error(f"the run wrote no report to {folder}")


def _merge(session: nox.Session, reports: list[Path]) -> None:
    session.install("-e", ".")
    missing = [p for p in reports if not p.exists()]
    if missing:
        session.error("missing reports: " + ", ".join(str(p) for p in missing))
    session.run("python", "-m", "stc_harness", "matrix", "--out", str(OUT), *map(str, reports))


@nox.session(python=PYTHONS[-1], requires=["suites", *(["sqlite_axis"] if SQLEAN_VERSIONS else []),
                                             *(["libsql_axis"] if LIBSQL_VERSIONS else [])])
def matrix(session: nox.Session) -> None:
    reports = [OUT / label(py, v, b) / "compatibility.json" for py in PYTHONS for v, b in COMBOS]
    reports += [OUT / sqlite_label(py, v) / "compatibility.json" for py in PYTHONS for v in SQLEAN_VERSIONS]
    reports += [OUT / libsql_label(py, v) / "compatibility.json" for py in PYTHONS for v in LIBSQL_VERSIONS]
    _merge(session, reports)


@nox.session(python=PYTHONS[-1])
def matrix_report(session: nox.Session) -> None:
    reports = sorted(OUT.glob("*/compatibility.json"))
    if not reports:
        session.error(f"no reports under {OUT}: run `nox -s matrix` first")
    _merge(session, reports)


# --- drop-in proofs: third-party suites, unchanged, on SQLite and Turso ---------------------------------

DROPIN_OUT = ROOT / "reports" / "dropin"
SQLITE_UTILS = os.environ.get("SQLITE_UTILS_VERSION", "4.2.1")
#: sqlite-utils' own test needs (its `dev` dependency group, less linters and type checkers).
#: The pytest the proof suites run under (as tested here).
PYTEST = ["pytest>=9.2,<10"]
SQLITE_UTILS_TEST_DEPS = [*PYTEST, "hypothesis>=6.168,<7", "cogapp>=3.4,<4", "click>=8.3.1,<9"]


def _sdist(session: nox.Session, name: str, version: str) -> Path:
    """Download and unpack `name==version`'s sdist from the package index (once); return its folder."""
    import tarfile

    # outside this checkout: pytest must not find this project's pyproject.toml as the suite's ini file
    dest = Path(os.environ.get("DROPIN_SRC", Path(tempfile.gettempdir()) / "conformance-dropin-src"))
    folder = dest / f"{name.replace('-', '_')}-{version}"
    if not folder.is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        # nox's own interpreter has pip (uv-made session venvs do not)
        session.run(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    f"{name}=={version}", "-d", str(dest), external=True)
        archive = next(dest.glob(f"{name.replace('-', '_')}-{version}.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    return folder


def _timed(session: nox.Session, *args: str, **kwargs: object) -> float:
    import time

    start = time.perf_counter()
    session.run(*args, **kwargs)  # type: ignore[arg-type]
    return time.perf_counter() - start


#: How each proof runs pytest: quietly, no cache, in collection order.
PYTEST_QUIET = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-header"]
PROOF_ENV = {"PYTHONDONTWRITEBYTECODE": "1"}


def _fresh_copy(session: nox.Session, name: str, version: str) -> Path:
    """An untouched copy of `name==version`'s sdist for this run (for suites that write into their tree)."""
    src = Path(tempfile.mkdtemp(prefix=f"{name}-")) / "src"
    shutil.copytree(_sdist(session, name, version), src)
    return src


def _dropin_pytest(session: nox.Session, report: str, *args: str) -> float:
    """`pytest ARGS --dropin=turso` in the current folder, into reports/dropin/REPORT; its seconds."""
    return _timed(session, "pytest", *args, *PYTEST_QUIET, "--dropin=turso",
                  f"--report-dir={DROPIN_OUT / report}", success_codes=[0, 1], env=PROOF_ENV)


def _dropin_pytest_timed(session: nox.Session, report: str, versions: dict[str, str], *args: str) -> None:
    """A plain pytest run on SQLite, then the drop-in run; both timings in reports/dropin/REPORT/timing.json
    (the drop-in's overhead on a real suite)."""
    plain = _timed(session, "pytest", *args, *PYTEST_QUIET, success_codes=[0, 1], env=PROOF_ENV)
    both = _dropin_pytest(session, report, *args)
    timing = {"plain_sqlite_seconds": round(plain, 1), "dropin_both_seconds": round(both, 1),
              "ratio": round(both / plain, 2), **versions}
    (DROPIN_OUT / report / "timing.json").write_text(json.dumps(timing, indent=2) + "\n", encoding="utf-8")
    session.log(f"drop-in overhead: {timing}")


def _sdist_suite(session: nox.Session, name: str, version: str, deps: Sequence[str], *args: str,
                 fresh: bool = False, timed: bool = False) -> None:
    """`name==version`'s own tests (ARGS, from its sdist: a fresh copy for suites that write into their
    tree) through --dropin=turso into reports/dropin/NAME; after a plain SQLite run when `timed`."""
    src = (_fresh_copy if fresh else _sdist)(session, name, version)
    session.install("-e", f"{ROOT}[clients]", f"{name}=={version}", *deps)
    with session.chdir(src):
        if timed:
            _dropin_pytest_timed(session, name, {name.replace("-", "_"): version}, *args)
        else:
            _dropin_pytest(session, name, *args)


@nox.session(python=PYTHONS[-1])
def dropin_sqlite_utils(session: nox.Session) -> None:
    """sqlite-utils' own test suite (its sdist, pinned), unchanged: plain on SQLite, then --dropin=turso."""
    _sdist_suite(session, "sqlite-utils", SQLITE_UTILS, SQLITE_UTILS_TEST_DEPS, "tests", timed=True)


@nox.session(python=PYTHONS[-1])
def dropin_sqlalchemy(session: nox.Session) -> None:
    """SQLAlchemy's dialect compliance suite (sqlalchemy.testing.suite), unchanged, through --dropin=turso."""
    session.install("-e", f"{ROOT}[clients]")
    out = DROPIN_OUT / "sqlalchemy"
    suite = ROOT / "scripts" / "sqlalchemy_suite"
    with session.chdir(suite):
        session.run("pytest", "test_suite.py", "-q", "-p", "no:cacheprovider", "--no-header",
                    "--dropin=turso", f"--report-dir={out}", success_codes=[0, 1], env=PROOF_ENV)


ALEMBIC = os.environ.get("ALEMBIC_VERSION", "1.20.1")


@nox.session(python=PYTHONS[-1])
def dropin_alembic(session: nox.Session) -> None:
    """Alembic's own test suite (its sdist, pinned), unchanged: plain on SQLite, then --dropin=turso."""
    _sdist_suite(session, "alembic", ALEMBIC, PYTEST, "tests", timed=True)


SQLITEDICT = os.environ.get("SQLITEDICT_VERSION", "2.1.0")


@nox.session(python=PYTHONS[-1])
def dropin_sqlitedict(session: nox.Session) -> None:
    """sqlitedict's own test suite (its sdist, pinned), unchanged, through --dropin=turso."""
    # its tests write databases into tests/db-*
    _sdist_suite(session, "sqlitedict", SQLITEDICT, PYTEST, "tests", fresh=True)


DISKCACHE = os.environ.get("DISKCACHE_VERSION", "5.6.3")


@nox.session(python=PYTHONS[-1])
def dropin_diskcache(session: nox.Session) -> None:
    """diskcache's own test suite (its sdist, pinned; less its Django and doctest modules), --dropin=turso."""
    _sdist_suite(session, "diskcache", DISKCACHE, PYTEST, "tests", "--ignore=tests/test_djangocache.py",
                 "--ignore=tests/test_doctest.py", fresh=True)


HUEY = os.environ.get("HUEY_VERSION", "3.5.4")


@nox.session(python=PYTHONS[-1])
def dropin_huey(session: nox.Session) -> None:
    """huey's own test suite (its sdist, pinned; its Redis tests skip without a server), --dropin=turso."""
    # its tests write huey_storage.db where they run
    _sdist_suite(session, "huey", HUEY, PYTEST, "huey/tests", fresh=True)


ORMAR = os.environ.get("ORMAR_VERSION", "0.26.0")
#: What ormar's tests import beyond ormar (its dev group, as tested here).
ORMAR_TEST_DEPS = [*PYTEST, "pytest-asyncio>=1.1,<2", "aiosqlite>=0.22,<0.23", "fastapi>=0.125,<1",
                   "httpx>=0.28,<1", "asgi-lifespan>=2.1,<3", "cryptography>=46,<52",
                   "email-validator>=2.2,<3", "pydantic-extra-types>=2.10,<3", "faker>=30,<41",
                   "nest-asyncio>=1.6,<2"]


@nox.session(python=PYTHONS[-1])
def dropin_ormar(session: nox.Session) -> None:
    """ormar's own test suite (its sdist, pinned): an async ORM on SQLAlchemy's asyncio engine with
    sqlite+aiosqlite, plain on SQLite, then --dropin=turso."""
    # its tests write test.db where they run
    _sdist_suite(session, "ormar", ORMAR, ORMAR_TEST_DEPS, "tests", fresh=True, timed=True)


AIOSQL = os.environ.get("AIOSQL_VERSION", "15.0")
#: aiosql's SQLite test files (its other adapters need servers or drivers not measured here).
AIOSQL_TESTS = ["tests/test_loading.py", "tests/test_patterns.py", "tests/test_sqlite3.py",
                "tests/test_aiosqlite.py"]


@nox.session(python=PYTHONS[-1])
def dropin_aiosql(session: nox.Session) -> None:
    """aiosql's own SQLite tests (its sdist, pinned): sqlite3 and aiosqlite adapters, --dropin=turso."""
    _sdist_suite(session, "aiosql", AIOSQL, [*PYTEST, "pytest-asyncio>=1.1,<2", "aiosqlite>=0.22,<0.23"],
                 "--asyncio-mode=auto", *AIOSQL_TESTS, fresh=True)


PERSIST_QUEUE = os.environ.get("PERSIST_QUEUE_VERSION", "1.1.0")
#: What persist-queue's tests import (its extras and test requirements, less tox and linters).
PERSIST_QUEUE_TEST_DEPS = [*PYTEST, f"persist-queue[extra,async]=={PERSIST_QUEUE}", "msgpack>=0.5.6,<2",
                           "cbor2>=5.6,<7", "mock>=2,<6"]


@nox.session(python=PYTHONS[-1])
def dropin_persist_queue(session: nox.Session) -> None:
    """persist-queue's own tests (its sdist, pinned; the MySQL ones need a server), --dropin=turso."""
    _sdist_suite(session, "persist-queue", PERSIST_QUEUE, PERSIST_QUEUE_TEST_DEPS, "persistqueue/tests",
                 "--ignore=persistqueue/tests/test_mysqlqueue.py", fresh=True)


REQUESTS_CACHE = os.environ.get("REQUESTS_CACHE_VERSION", "1.3.3")
#: What requests-cache's unit and SQLite tests import (its dev group less linters, and the serializers'
#: optional packages), with a local httpbin server instead of httpbin.org (USE_PYTEST_HTTPBIN).
REQUESTS_CACHE_TEST_DEPS = [*PYTEST, "psutil>=7.2,<8", "pytest-rerunfailures>=16,<17",
                            "requests-mock>=1.12,<2", "responses>=0.26,<1", "tenacity>=8.5,<9",
                            "time-machine>=2.19,<3", "rich>=15,<16", "itsdangerous>=2.2,<3", "pyyaml>=6,<7",
                            "ujson>=6,<7", "orjson>=3.13,<4", "pytest-httpbin>=2.1,<3",
                            "httpbin>=0.10.4,<0.11"]


@nox.session(python=PYTHONS[-1])
def dropin_requests_cache(session: nox.Session) -> None:
    """requests-cache's unit, compatibility and SQLite tests (its sdist, pinned), --dropin=turso; 19 of its
    tests retry a lock forever on Turso, so each test gets 10 s, not 60."""
    session.env["USE_PYTEST_HTTPBIN"] = "true"
    # httpbin 0.10.4 caps greenlet below 3 on Python < 3.12 (for gevent, which the tests do not use); the
    # clients extra needs greenlet 3 (SQLAlchemy's asyncio): uv takes the extra's range over httpbin's
    overrides = Path(session.create_tmp()) / "overrides.txt"
    overrides.write_text("greenlet>=3.1,<4\n", encoding="utf-8")
    deps = [*REQUESTS_CACHE_TEST_DEPS, "--override", str(overrides)]
    _sdist_suite(session, "requests-cache", REQUESTS_CACHE, deps, "tests/unit", "tests/compat",
                 "tests/integration/test_sqlite.py", "--dropin-timeout=10", fresh=True)


SQLOBJECT = os.environ.get("SQLOBJECT_VERSION", "3.14.0")


@nox.session(python=PYTHONS[-1])
def dropin_sqlobject(session: nox.Session) -> None:
    """SQLObject's own test suite (its sdist, pinned; its default database, in memory), --dropin=turso."""
    _sdist_suite(session, "sqlobject", SQLOBJECT, PYTEST, "sqlobject/tests", fresh=True)


COVERAGE = os.environ.get("COVERAGE_VERSION", "7.13.0")
#: coverage.py's test files about its data file (a SQLite database), and what its pytest settings need.
COVERAGE_TESTS = ["tests/test_data.py", "tests/test_sqlitedb.py", "tests/test_numbits.py",
                  "tests/test_api.py", "tests/test_context.py"]
COVERAGE_TEST_DEPS = [*PYTEST, "flaky>=3.8,<4", "hypothesis>=6.140,<7", "pytest-xdist>=3.8,<4"]


@nox.session(python=PYTHONS[-1])
def dropin_coverage(session: nox.Session) -> None:
    """coverage.py's own tests of its data file (its sdist, pinned), --dropin=turso; its addopts name pytest's
    cache (--failed-first) and xdist (-n auto, turned off here), so its own pytest options are kept."""
    src = _fresh_copy(session, "coverage", COVERAGE)
    session.install("-e", f"{ROOT}[clients]", f"coverage=={COVERAGE}", *COVERAGE_TEST_DEPS)
    with session.chdir(src):
        session.run("pytest", *COVERAGE_TESTS, "-n", "0", "--no-header", "--dropin=turso",
                    f"--report-dir={DROPIN_OUT / 'coverage'}", success_codes=[0, 1], env=PROOF_ENV)


BEETS = os.environ.get("BEETS_VERSION", "2.14.1")
#: beets' tests of its database layer, library and importer (its other tests are plugins').
BEETS_TESTS = ["test/dbcore", "test/test_library.py", "test/library", "test/test_importer.py"]
BEETS_TEST_DEPS = [*PYTEST, "pytest-factoryboy>=2.8,<3", "pytest-flask>=1.3,<2", "requests-mock>=1.12,<2",
                   "responses>=0.26,<1"]


@nox.session(python=PYTHONS[-1])
def dropin_beets(session: nox.Session) -> None:
    """beets' own tests of its database layer, library and importer (its sdist, pinned), --dropin=turso."""
    _sdist_suite(session, "beets", BEETS, BEETS_TEST_DEPS, *BEETS_TESTS, fresh=True)


DJANGO = os.environ.get("DJANGO_VERSION", "5.2.20")
#: A few of Django's own test apps: its runner stops before the first test on Turso whichever are chosen.
DJANGO_APPS = ["basic", "queries", "transactions", "schema"]


@nox.session(python=PYTHONS[-1])
def dropin_django(session: nox.Session) -> None:
    """Django's own test runner (its sdist, pinned) on a few of its apps, unchanged, in the command form."""
    src = _sdist(session, "django", DJANGO)
    session.install("-e", f"{ROOT}[clients]", "-e", str(src))
    with session.chdir(src / "tests"):
        session.run("python", "-m", "stc_harness", "dropin", f"--report-dir={DROPIN_OUT / 'django'}", "--",
                    "python", "runtests.py", "--parallel", "1", *DJANGO_APPS,
                    success_codes=[0, 1], env=PROOF_ENV)


PONY = os.environ.get("PONY_VERSION", "0.7.20")
SHOP = ROOT / "tests" / "dropin_apps" / "shop"


@nox.session(python=PYTHONS[-1])
def dropin_pony(session: nox.Session) -> None:
    """Pony ORM's own unittest suite (its sdist, pinned), unchanged, through the command form."""
    src = _sdist(session, "pony", PONY)
    session.install("-e", f"{ROOT}[clients]", f"pony=={PONY}")
    with session.chdir(src):
        session.run("python", "-m", "stc_harness", "dropin", f"--report-dir={DROPIN_OUT / 'pony'}", "--",
                    "python", "-m", "unittest", "discover", "-s", "pony/orm/tests", "-t", ".",
                    success_codes=[0, 1], env=PROOF_ENV)


@nox.session(python=PYTHONS[-1])
def dropin_shop(session: nox.Session) -> None:
    """Our own small application (tests/dropin_apps/shop): its pytest suite and its own unittest runner."""
    session.install("-e", f"{ROOT}[clients]")
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    with session.chdir(SHOP):
        session.run("pytest", "-q", "-p", "no:cacheprovider", "--no-header", "--dropin=turso",
                    f"--report-dir={DROPIN_OUT / 'shop'}", success_codes=[0, 1], env=env)
        session.run("python", "-m", "stc_harness", "dropin", f"--report-dir={DROPIN_OUT / 'shop-runtests'}",
                    "--", "python", "runtests.py", success_codes=[0, 1], env=env)


# --- the client layer across SQLAlchemy releases -----------------------------------------------------------

SQLALCHEMY_VERSIONS = _listed("SQLALCHEMY_VERSIONS", ["2.0.45", "2.1.9"])
CLIENTS_OUT = ROOT / "reports" / "clients"


@nox.session(python=PYTHONS[-1])
@nox.parametrize("sqlalchemy", SQLALCHEMY_VERSIONS)
def clients(session: nox.Session, sqlalchemy: str) -> None:
    """The client-layer suites (SQLAlchemy, Alembic) with one SQLAlchemy release, on SQLite and Turso."""
    folder = CLIENTS_OUT / f"sqlalchemy-{sqlalchemy}"
    shutil.rmtree(folder, ignore_errors=True)
    session.install("-e", f"{ROOT}[clients]")
    session.install(f"sqlalchemy=={sqlalchemy}")
    # exit 1: a registry entry drifted under this release (a finding for the matrix, not a broken session)
    session.run("pytest", str(ROOT / "suites" / "client"), f"--report-dir={folder}", "--allow-undocumented",
                "-q", "-p", "no:cacheprovider", "--no-header", success_codes=[0, 1],
                env={"PYTHONDONTWRITEBYTECODE": "1"})


@nox.session(python=PYTHONS[-1], requires=["clients"])
def clients_matrix(session: nox.Session) -> None:
    """Merge the client-layer reports of every SQLAlchemy release into reports/clients/matrix.*."""
    session.install("-e", ".")
    reports = [f"sqlalchemy-{v}={CLIENTS_OUT / f'sqlalchemy-{v}' / 'compatibility.json'}"
               for v in SQLALCHEMY_VERSIONS]
    session.run("python", "-m", "stc_harness", "matrix", "--out", str(CLIENTS_OUT),
                "--title", "Client layer across SQLAlchemy releases", *reports)
