"""The tracked SQLite is named for its role in code and output; its backend id lives in one constant."""

from __future__ import annotations

import ast
import contextlib
import io
import sys
from pathlib import Path

import pytest

from stc_harness.adapters.backend_registry import BUILTIN, NOT_IN_ALL, select
from stc_harness.differential.cli import parse_args
from stc_harness.differential.engines import ENGINES, Engine, tracked_engine
from stc_harness.errors import DatabaseError
from stc_harness.outcomes import SQLITE_BACKENDS, TRACKED_BACKEND, TRACKED_LABEL

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
#: Where the id may be spelled out: its definition, the built-in registry of implementations (beside
#: `sqlite` and `turso`, as pyproject's entry point), and the drop-in's list of driver *modules* (the
#: Python module `sqlean`, not the backend id).
SPELLED = {"harness/outcomes.py", "harness/adapters/backend_registry.py", "harness/dropin/patches.py"}


def _classify(exc: BaseException) -> DatabaseError:
    raise AssertionError(exc)


def test_no_harness_module_spells_the_tracked_backend_id_but_its_definition() -> None:
    found = sorted(f"{path.relative_to(ROOT)}:{node.lineno}"
                   for path in (ROOT / "harness").rglob("*.py")
                   for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(node, ast.Constant) and node.value == TRACKED_BACKEND
                   and str(path.relative_to(ROOT)) not in SPELLED)
    assert not found, f"name the tracked SQLite by its role (outcomes.TRACKED_BACKEND), not as in {found}"


def test_the_role_constant_selects_the_sqlean_py_backend_everywhere() -> None:
    """One id: the registry, the hunt's engines, the SQLite lanes and pyproject's entry point agree."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    entry = project["project"]["entry-points"]["conformance.backends"][TRACKED_BACKEND]
    assert BUILTIN[TRACKED_BACKEND] == entry == "stc_backends.sqlean:SqleanBackend"
    assert NOT_IN_ALL == (TRACKED_BACKEND,)
    assert TRACKED_BACKEND in ENGINES
    assert TRACKED_BACKEND in SQLITE_BACKENDS


def test_the_hunt_names_the_tracked_sqlite_by_its_role_then_its_implementation() -> None:
    tracked = Engine(TRACKED_BACKEND, "sqlean.py", "3.50.4", open=object, classify=_classify)
    other = Engine("turso", "pyturso", "0.8.3", open=object, classify=_classify)
    assert tracked.describe() == "tracked SQLite (sqlean.py 3.50.4)"
    assert other.describe() == "turso (pyturso 0.8.3)"
    text = io.StringIO()
    with contextlib.redirect_stdout(text), pytest.raises(SystemExit):
        parse_args(["--help"])
    reference = " ".join(text.getvalue().split()).rsplit("--reference REFERENCE", 1)[1].lstrip()
    assert reference.startswith(f"backend whose results are the baseline (default: the {TRACKED_LABEL}")
    assert f"backend {TRACKED_BACKEND}" in reference


def test_the_tracked_engine_and_backend_are_sqlean_py_at_the_tracked_release() -> None:
    pytest.importorskip("sqlean")
    from stc_backends.sqlean import TRACKED_SQLITE

    assert tracked_engine().describe() == f"{TRACKED_LABEL} (sqlean.py {TRACKED_SQLITE})"
    (chosen,), _ = select([TRACKED_BACKEND])
    assert (chosen.id, chosen.backend.name) == (TRACKED_BACKEND, TRACKED_BACKEND)
    assert chosen.backend.info.driver == "sqlean.py"
