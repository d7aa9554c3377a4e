"""The wheel holds every package and data file of the source tree, and every import uses the installed names.

The folders `harness/` and `backends/` are installed as `stc_harness` and `stc_backends` (pyproject.toml's
package-dir mapping): a package missing from the `packages` list, or a data file outside the
package-data globs, would be absent from an installed harness while the editable checkout works.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: Installed name -> folder in the repository.
PACKAGE_DIR: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]
#: Folder name -> installed name (`harness` -> `stc_harness`).
FOLDERS = {folder: name for name, folder in PACKAGE_DIR.items()}
#: Where the repository's own Python code is (scanned for imports by the folder names).
CODE = ("harness", "backends", "suites", "tests", "scripts", "plugins", "noxfile.py", "conftest.py")


def expected_files() -> set[str]:
    """The wheel paths the source tree calls for: every module of every package, and the package data."""
    out = set()
    for name, folder in PACKAGE_DIR.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" not in path.parts and (path.parent / "__init__.py").exists():
                out.add(f"{name}/{path.relative_to(ROOT / folder).as_posix()}")
    for package, globs in PYPROJECT["tool"]["setuptools"].get("package-data", {}).items():
        base = ROOT / PACKAGE_DIR[package.split(".")[0]] / Path(*package.split(".")[1:])
        for pattern in globs:
            for path in base.glob(pattern):
                if path.is_file():
                    out.add(f"{package.replace('.', '/')}/{path.relative_to(base).as_posix()}")
    return out


def source_packages() -> set[str]:
    """Every folder holding an `__init__.py` under the mapped folders, by its installed dotted name."""
    return {".".join([name, *init.parent.relative_to(ROOT / folder).parts])
            for name, folder in PACKAGE_DIR.items() for init in (ROOT / folder).rglob("__init__.py")
            if "__pycache__" not in init.parts}


def test_every_source_package_is_listed_in_pyproject() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert source_packages() - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - source_packages() == set(), "pyproject.toml lists packages the source tree lacks"


def test_the_wheel_holds_every_package_and_data_file(tmp_path: Path) -> None:
    # A copy, so the build neither writes build/ into the checkout nor picks up a stale build/lib there;
    # symlinked folders (harness/registry) are copied as the files they point to, as the wheel holds them.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in PACKAGE_DIR.values():
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                           str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        held = {n for n in zf.namelist() if n.split("/", 1)[0] in PACKAGE_DIR}
    expected = expected_files()
    assert expected - held == set(), "in the source tree but not in the wheel"
    assert held - expected == set(), "in the wheel but not in the source tree (a stale or generated file?)"
    assert any(fnmatch.fnmatch(n, "stc_harness/registry/*.toml") for n in held)  # the registry ships


# --- the installed names, everywhere -----------------------------------------------------------------


def python_files() -> list[Path]:
    """The repository's Python files (not the venv, not generated reports)."""
    out = []
    for name in CODE:
        path = ROOT / name
        out.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    # this file's own probe strings name the folders on purpose
    return [p for p in out if "__pycache__" not in p.parts and ".venv" not in p.parts
            and p != Path(__file__).resolve()]


def folder_references(path: Path) -> list[str]:
    """`file:line: text` of each import, `-m` or dotted module string naming a folder, not its package."""
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text, str(path))
    except SyntaxError:  # a fixture that is not Python on purpose
        return []
    label = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    submodules = {folder: _submodules(folder) for folder in FOLDERS}
    # `RawError("harness.Closed", ...)`: an error class label, data compared in observations, not a module
    labels = {id(node.args[0]) for node in ast.walk(tree) if isinstance(node, ast.Call) and node.args
              and getattr(node.func, "id", getattr(node.func, "attr", "")) == "RawError"}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in labels:
            # "harness.plugin", "-m harness", "backends.sqlite:SQLiteBackend": module paths in strings
            for folder, subs in submodules.items():
                pattern = rf"(?<![\w./-])(?:-m\s+{folder}\b(?!\.)|{folder}\.(?:{'|'.join(subs)})\b(?![/\\]))"
                if re.search(pattern, node.value):
                    found.append(f"{label}:{node.lineno}: {node.value[:80]!r}")
        for name in names:
            if name.split(".")[0] in FOLDERS:
                found.append(f"{label}:{node.lineno}: import {name}")
    return found


def _submodules(folder: str) -> list[str]:
    base = ROOT / folder
    return sorted({p.stem for p in base.glob("*.py") if p.stem != "__init__"}
                  | {p.name for p in base.iterdir() if (p / "__init__.py").exists()}, key=len, reverse=True)


def test_every_import_uses_the_installed_names() -> None:
    """`stc_harness`/`stc_backends`, never the folder names: a user's own `harness` package would win."""
    found = [line for path in python_files() for line in folder_references(path)]
    assert not found, ("use the installed names (" + ", ".join(f"{f} -> {n}" for f, n in FOLDERS.items())
                       + "):\n" + "\n".join(found))


def test_the_lint_sees_a_folder_name(tmp_path: Path) -> None:
    """The check itself: an import and a module string by folder name are both caught."""
    bad = tmp_path / "probe.py"
    bad.write_text('import harness.checks\nTARGET = "backends.sqlite:SQLiteBackend"\nOK = "harness/x.py"\n',
                   encoding="utf-8")
    found = folder_references(bad)
    assert [f.split(": ", 1)[1] for f in found] == ["import harness.checks",
                                                    "'backends.sqlite:SQLiteBackend'"]
