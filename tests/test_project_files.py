"""The project's own files: pyproject's dependencies, the docs' links and size, the package picture."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
#: The environment pip would evaluate markers in on Windows (only what the markers here read).
WINDOWS = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}


def dependencies() -> list[Requirement]:
    """The `[project] dependencies` of pyproject.toml, parsed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(line) for line in project["dependencies"]]


def test_a_distribution_listed_twice_has_a_marker_on_every_line() -> None:
    """An unmarked line for a name listed again would apply everywhere and cancel the other line's marker."""
    reqs = dependencies()
    names = [r.name.lower() for r in reqs]
    bare = sorted({r.name for r in reqs if names.count(r.name.lower()) > 1 and r.marker is None})
    assert not bare, f"listed more than once, once without a marker: {bare}"


def test_sqlean_is_not_required_on_windows() -> None:
    """sqlean.py has no Windows wheel: no line may require it there (attribution is unavailable there)."""
    on_windows = [str(r) for r in dependencies()
                  if r.name == "sqlean.py" and (r.marker is None or r.marker.evaluate(WINDOWS))]
    assert not on_windows, f"sqlean.py would be required on Windows by: {on_windows}"
    assert any(r.name == "sqlean.py" for r in dependencies()), "sqlean.py is the tracked SQLite: keep it"
