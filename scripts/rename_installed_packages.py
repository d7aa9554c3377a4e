"""Install `harness/` and `backends/` as `stc_harness` and `stc_backends` (stc: sqlite-turso-conformance).

A project with its own `harness` or `backends` package (common names) would shadow ours, or be shadowed
by ours: both cannot be `sys.modules["harness"]`. The repository layout stays (`harness/`, `backends/`);
pyproject.toml maps the installed names onto those folders, and every import and module-path string
in the tree is rewritten to the installed names. Idempotent: run it again after merging branches that
added files (`python scripts/rename_installed_packages.py`, then `make .venv/.installed` and
`ruff check --fix --select I .` to re-sort the rewritten imports).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Folder in the repository -> name it is installed and imported as.
NAMES = {"harness": "stc_harness", "backends": "stc_backends"}
#: Where module paths appear: Python sources, and the files that name modules or `python -m` commands.
GLOBS = ("harness/**/*.py", "backends/**/*.py", "suites/**/*.py", "tests/**/*.py", "scripts/**/*.py",
         "*.py", "Makefile", "README.md", "docs/*.md", ".github/workflows/*.yml", ".ci/*")
SKIP = {Path(__file__).resolve()}
#: ruff's line length (pyproject.toml).
LINE_LENGTH = 110


def rewrite(text: str) -> str:
    """Rewrite every module path `harness...`/`backends...` in `text` to the installed names."""
    for old, new in NAMES.items():
        # import statements: `from harness.x import y`, `import harness`, `from backends import z`
        text = re.sub(rf"(^[ \t]*from[ \t]+){old}(?=[.\s])", rf"\g<1>{new}", text, flags=re.M)
        text = re.sub(rf"(^[ \t]*import[ \t]+){old}(?=[.\s,]|$)", rf"\g<1>{new}", text, flags=re.M)
        # dotted module paths anywhere: "harness.plugin", `harness.protocol.Backend`, backends.sqlite:X
        # (a `backends.` that is a list's method call stays: only our submodules follow the dot; a
        # `RawError("harness.Closed", ...)` class label is data, compared in observations: it stays too)
        subs = "|".join(sorted(_submodules(old), key=len, reverse=True))
        exports = "|".join(sorted(_exports(old), key=len, reverse=True)) or "(?!)"
        follow = rf"(?:[a-z_]|(?:{exports})\b)" if old == "harness" else rf"(?:{subs})\b"
        text = re.sub(rf"(?<![\w./-])(?<!RawError\(\"){old}\.(?={follow})", f"{new}.", text)
        # `python -m harness ...` and ["-m", "harness"]
        text = re.sub(rf"(-m[ \t]+){old}\b(?!\.)", rf"\g<1>{new}", text)
        text = re.sub(rf"(\"-m\",[ \t]*\"){old}\"", rf'\g<1>{new}"', text)
        # find_spec("harness")
        text = re.sub(rf"(find_spec\(\"){old}\"", rf'\g<1>{new}"', text)
    return text


def _exports(folder: str) -> set[str]:
    """The names a mapped package exports (`__all__` of its `__init__.py`): `harness.EncryptionOpts`."""
    init = (ROOT / folder / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r"__all__\s*=\s*\[([^\]]*)\]", init)
    return set(re.findall(r"[\"'](\w+)[\"']", found[1])) if found else set()


def _submodules(folder: str) -> set[str]:
    """Names of the modules and packages directly inside a mapped folder."""
    base = ROOT / folder
    return {p.stem for p in base.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in base.iterdir() if (p / "__init__.py").exists()}


def pyproject(text: str) -> str:
    """Entry points and scripts name the installed modules; the folders map onto the installed names."""
    text = rewrite(text)
    if "[tool.setuptools.package-dir]" not in text:
        text = text.replace(
            "[tool.setuptools.packages.find]\n",
            "[tool.setuptools.package-dir]\n"
            + "".join(f'{new} = "{old}"\n' for old, new in NAMES.items())
            + "\n[tool.setuptools.packages.find]\n")
    packages = sorted(_packages())
    text = re.sub(r"\[tool\.setuptools\.packages\.find\]\ninclude = \[[^\]]*\]\n",
                  "[tool.setuptools]\npackages = [" + ", ".join(f'"{p}"' for p in packages) + "]\n", text)
    text = re.sub(r"(\[tool\.setuptools\]\n)packages = \[[^\]]*\]\n",
                  r"\g<1>packages = [" + ", ".join(f'"{p}"' for p in packages).replace("\\", "\\\\") + "]\n",
                  text)
    for old, new in NAMES.items():
        text = re.sub(rf"^{old} = (\[\"report)", rf"{new} = \g<1>", text, flags=re.M)
    return text


def _packages() -> set[str]:
    """Every package under the mapped folders, by its installed name."""
    out = set()
    for old, new in NAMES.items():
        for init in (ROOT / old).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / old)
            out.add(".".join([new, *rel.parts]))
    return out


def main() -> int:
    """Rewrite the tree in place; print each changed file."""
    changed = []
    for pattern in GLOBS:
        for path in sorted(ROOT.glob(pattern)):
            if not path.is_file() or path.resolve() in SKIP or ".venv" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            new = rewrite(text)
            if new != text:
                path.write_text(new, encoding="utf-8")
                changed.append(path)
    project = ROOT / "pyproject.toml"
    text = project.read_text(encoding="utf-8")
    new = pyproject(text)
    if new != text:
        project.write_text(new, encoding="utf-8")
        changed.append(project)
    for path in changed:
        print(path.relative_to(ROOT))
    long = [f"{p.relative_to(ROOT)}:{i}" for p in changed if p.suffix == ".py"
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if len(line) > LINE_LENGTH]
    if long:
        print("lines now longer than the limit (after `ruff check --fix --select I .`, wrap what remains):",
              *long, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
