"""The project's own files: pyproject's dependencies, the docs' links and size, the package picture."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
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


#: A Markdown link or image: the target up to the closing parenthesis (no spaces in our targets).
LINK = re.compile(r"\]\(([^)\s]+)\)")
#: Fenced code blocks, whose brackets are code, not links.
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
#: How long the README may grow: what it is, set-up, reading the report, three ways in, links.
README_MAX_LINES = 210


def anchors(path: Path) -> set[str]:
    """The heading anchors a code forge makes for a Markdown file (lower case, punctuation dropped)."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


def pages() -> list[Path]:
    """The README and every page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_between_pages_resolve(page: Path) -> None:
    """Every relative link names a file that exists, and an anchor into our own pages names a heading."""
    broken = []
    for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and "reports" not in dest.relative_to(ROOT).parts \
                and anchor not in anchors(dest):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_readme_stays_short() -> None:
    """The README is the front page; topics go to docs/ (a test, so it does not grow back to 900 lines)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move a topic to docs/"


def test_package_picture_is_what_the_code_gives() -> None:
    """docs/architecture.md's diagram is drawn from the code: it must be redrawn after a module moves."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "package_graph.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
