"""The README's and the docs' excerpts are generated: the scripts fill every marker from a run's files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: marker name -> the file (relative to the checkout) that holds it.
MARKERS = {"report-decision": "README.md", "report-excerpt": "docs/report.md",
           "matrix-excerpt": "docs/matrix.md", "bench": "docs/performance.md",
           "dropin-proofs": "README.md"}
#: A run's files the excerpts are read from (committed in this checkout).
RUN_FILES = ("reports/compatibility.md", "reports/compatibility-details/area-pooling.md",
             "reports/matrix/matrix.md")


def block(text: str, name: str) -> str:
    """What sits between a marker pair."""
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert match, f"no {name} markers"
    return match.group(1)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the files the scripts read and write, every excerpt emptied."""
    scripts = ("scripts/readme_excerpts.py", "scripts/dropin_excerpts.py")
    for rel in (*scripts, *set(MARKERS.values()), *RUN_FILES):
        dest = tmp_path / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, dest)
    for rel in set(MARKERS.values()):
        path = tmp_path / rel
        text = path.read_text(encoding="utf-8")
        for name, holder in MARKERS.items():
            if holder == rel:
                text = text.replace(block(text, name), "")
        path.write_text(text, encoding="utf-8")
    return tmp_path


def run(script: Path, *args: str) -> None:
    """Run one of the copied scripts."""
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_every_marker_exists_once_where_the_scripts_write() -> None:
    """Each excerpt's markers are in the file the scripts name, once."""
    for name, rel in MARKERS.items():
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert text.count(f"<!-- {name}:start -->") == 1 == text.count(f"<!-- {name}:end -->"), (name, rel)


def test_readme_excerpts_fill_the_readme_and_the_docs(checkout: Path) -> None:
    """The decision comes from the report; links are relative to the file each excerpt sits in."""
    bench = checkout / "bench.txt"
    bench.write_text("5000 inserts ...; best of 3\nbackend ...\n", encoding="utf-8")
    run(checkout / "scripts" / "readme_excerpts.py", str(bench))
    report = (checkout / "reports" / "compatibility.md").read_text(encoding="utf-8")
    verdict = next(line for line in report.splitlines() if line.startswith("**"))
    readme = block((checkout / "README.md").read_text(encoding="utf-8"), "report-decision")
    assert verdict in readme
    assert "](reports/compatibility-details/" in readme
    excerpt = block((checkout / "docs" / "report.md").read_text(encoding="utf-8"), "report-excerpt")
    assert verdict in excerpt
    assert "](../reports/compatibility-details/" in excerpt
    assert "](reports/" not in excerpt
    docs = checkout / "docs"
    assert "| column |" in block((docs / "matrix.md").read_text(encoding="utf-8"), "matrix-excerpt")
    assert "best of 3" in block((docs / "performance.md").read_text(encoding="utf-8"), "bench")


def test_dropin_excerpts_fill_the_proofs_table(checkout: Path) -> None:
    """One drop-in report gives one row of the README's proofs table, counted from its tests."""
    rows = [{"category": "turso-only", "confidence": "proven", "evidence": {"cause": {"call": "x"}}},
            {"category": "same"}, {"category": "same-with-adaptations"}]
    folder = checkout / "reports" / "dropin" / "shop"
    folder.mkdir(parents=True)
    (folder / "dropin.json").write_text(json.dumps({"dropin": {"tests": rows}}), encoding="utf-8")
    run(checkout / "scripts" / "dropin_excerpts.py")
    table = block((checkout / "README.md").read_text(encoding="utf-8"), "dropin-proofs")
    assert "| our shop app (`tests/dropin_apps/shop`), pytest | 3 | 1 | 1 | 1 | 0 | 0 | 2 (1) | 0 |" in table
