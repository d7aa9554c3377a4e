"""The `conformance` command-line options and ini settings, and reading a folder option."""

from __future__ import annotations

from pathlib import Path

import pytest

from stc_harness.adapters import backend_registry
from stc_harness.outcomes import TRACKED_BACKEND
from stc_harness.variants import DEFAULT_COUNT, DEFAULT_SEED


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the `conformance` group."""
    group = parser.getgroup("conformance", "cross-backend conformance (SQLite vs Turso)")
    group.addoption("--backend", action="append", default=[], dest="conformance_backends",
                    metavar="NAME|all|URL|module:factory",
                    help="backend to run (repeatable); default: every installed backend")
    group.addoption("--reference", default=None, dest="conformance_reference", metavar="NAME",
                    help="backend whose observations are the baseline (default: sqlite); --reference=libsql "
                         "reports what changes from libSQL to Turso")
    group.addoption("--tracked-reference", default=None, dest="conformance_tracked", metavar="NAME|none",
                    help="the tracked SQLite (the release Turso tracks), run on the checks where a backend "
                         f"differs to attribute the difference (default: {TRACKED_BACKEND}; none: off)")
    group.addoption("--registry", default=None, dest="conformance_registry", metavar="DIR",
                    help="folder of your own documented-difference files, added to the built-in "
                         "registry (default: ini conformance_registry)")
    group.addoption("--report-dir", default=None, dest="conformance_report_dir", metavar="DIR",
                    help="write compatibility.json/.md/.html there at the end of the run")
    group.addoption("--allow-undocumented", action="store_true", dest="conformance_allow_undocumented",
                    help="report undocumented differences without failing the run")
    group.addoption("--allow-missing-backends", action="store_true", dest="conformance_allow_missing",
                    help="let a default run go on when a backend installed by default "
                         f"({', '.join(backend_registry.DEFAULT_BACKENDS)}) fails to load")
    group.addoption("--isolate", action="store_true", dest="conformance_isolate",
                    help="run every check in a child process (slow; a check that kills its process "
                         "is then a `crash` even without xdist). @check(isolated=True) does it per check")
    group.addoption("--variants", type=int, default=DEFAULT_COUNT, dest="conformance_variants", metavar="N",
                    help="variants drawn per check with variants= and per backend (default: "
                         f"{DEFAULT_COUNT}; 0: fixed cases only)")
    group.addoption("--variant-seed", type=int, default=DEFAULT_SEED, dest="conformance_variant_seed",
                    metavar="S", help=f"seed of the variants (default: {DEFAULT_SEED}); it is in the report")
    parser.addini("conformance_registry", "folder of your own documented-difference files, added to the "
                  "registry that ships with the package", default="")
    parser.addini("conformance_migrations", "folder of migrations for maketest(..., migrate=True)",
                  default="migrations")
    parser.addini("conformance_report_dir", "default --report-dir", default="")


def path_option(config: pytest.Config, option: str, ini: str) -> Path | None:
    """A folder from the command line (relative to where pytest started) or the ini (relative to its file)."""
    value = config.getoption(option)
    base = config.invocation_params.dir
    if not value:
        value = config.getini(ini)
        base = config.inipath.parent if config.inipath else config.rootpath
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else base / path
