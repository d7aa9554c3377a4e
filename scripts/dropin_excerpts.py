"""Write the README's drop-in proof table from the drop-in reports this checkout produced (`make proofs`).

    python scripts/dropin_excerpts.py            # rewrites the block between the dropin-proofs markers
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports" / "dropin"
#: (folder, what it is), in the order of the table.
SUITES = (
    ("sqlite-utils", "sqlite-utils 4.2.1, its sdist's pytest suite"),
    ("sqlalchemy", "SQLAlchemy 2.1's compliance suite (`sqlalchemy.testing.suite`)"),
    ("alembic", "Alembic 1.20.1, its sdist's pytest suite (never tuned on before its blind grading)"),
    ("django", "Django 5.2.20's own runner (`runtests.py`, 4 apps), command form: stops before any test"),
    ("sqlitedict", "sqlitedict 2.1.0, its sdist's suite (never tuned on before its blind grading)"),
    ("diskcache", "diskcache 5.6.3, its sdist's suite (never tuned on before its blind grading)"),
    ("huey", "huey 3.5.4, its sdist's suite (Redis tests skip; never tuned on before its blind grading)"),
    ("ormar", "ormar 0.26.0, its sdist's suite: SQLAlchemy's asyncio engine on aiosqlite "
              "(never tuned on before its blind grading)"),
    ("aiosql", "aiosql 15.0, its sdist's SQLite tests (sqlite3, aiosqlite; never tuned on before its "
               "blind grading)"),
    ("persist-queue", "persist-queue 1.1.0, its sdist's suite (never tuned on before its blind grading)"),
    ("requests-cache", "requests-cache 1.3.3, its unit and SQLite tests (10 s a test; blind-graded sample)"),
    ("sqlobject", "SQLObject 3.14.0, its sdist's suite (never tuned on before its blind grading)"),
    ("coverage", "coverage.py 7.13.0, its data-file tests (never tuned on before its blind grading)"),
    ("beets", "beets 2.14.1, its database, library and importer tests (blind-graded sample)"),
    ("pony", "Pony 0.7.20's unittest suite, through the command form"),
    ("shop", "our shop app (`tests/dropin_apps/shop`), pytest"),
    ("shop-runtests", "the same app's own `runtests.py` (unittest), command form"),
)
START, END = "<!-- dropin-proofs:start -->", "<!-- dropin-proofs:end -->"


def row(folder: str, label: str) -> str:
    """One table row: tests, Turso-only failures with a divergent call, by confidence, the other counts."""
    doc = json.loads((REPORTS / folder / "dropin.json").read_text(encoding="utf-8"))
    rows = doc["dropin"]["tests"]
    cats = Counter(r["category"] for r in rows)
    only = [r for r in rows if r["category"] == "turso-only"]
    conf = Counter(r.get("confidence") for r in only)
    with_call = sum(1 for r in only if (r.get("evidence") or {}).get("cause") is not None)
    same = cats["same"] + cats["same-with-adaptations"]
    return (f"| {label} | {len(rows):,} | {len(only)} | {with_call} | {conf['proven']} | {conf['likely']} | "
            f"{conf['no known cause']} | {same:,} ({cats['same-with-adaptations']:,}) | "
            f"{cats['did-not-run-on-both']} |")


def table() -> str:
    """The whole block: the table and its header."""
    head = ("| suite | tests | Turso-only failures | with a divergent call | proven | likely "
            "| no known cause "
            "| the same (only thanks to an adaptation) | did not run on both |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [row(folder, label) for folder, label in SUITES if (REPORTS / folder / "dropin.json").exists()]
    return "\n".join([head, *lines])


def main() -> int:
    """Rewrite the README block; exit 1 when a marker is missing."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print("README.md has no dropin-proofs markers", file=sys.stderr)
        return 1
    block = f"{START}\n{table()}\n{END}"
    new = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda m: block, text, flags=re.S)
    readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
