"""Each new cause of a campaign, exported once as a Turso `.sqltest` case named after the cause.

The case is the cause's smallest repro; its expected output is what the SQLite release Turso tracks
(sqlean.py 3.50.4) returns (`sqltest.export_case`), so it fails on Turso until Turso behaves like it.
Noise and SQLite version-gap causes are not exported; a cause whose repro cannot be exported (the tracked
SQLite fails on a set-up statement) is recorded as skipped, with why, and not tried again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stc_harness.differential.compare import KINDS
from stc_harness.differential.corpus import OPEN, CauseRow, Corpus
from stc_harness.differential.engines import Engine, engine, tracked_engine
from stc_harness.differential.sqltest import export_case, sqltest_name
from stc_harness.outcomes import TURSO_OWN

FOLDER = "sqltest"
SKIPPED = "skipped: "


def exportable(row: CauseRow) -> bool:
    """Whether a cause is exported: open, Turso's own, not noise, not exported before."""
    return row.status == OPEN and not row.noise and not row.version_gap and not row.exported


def as_case(row: CauseRow) -> dict[str, Any]:
    """The cause's repro in the saved-case form `export_case` reads, named after the cause."""
    repro = row.repro
    return {**repro, "signature": row.id, "attribution": TURSO_OWN,
            "kind_means": KINDS.get(repro["kind"], "")}


def export_new(corpus: Corpus, folder: Path | None = None,
               engines: tuple[Engine, Engine | None] | None = None) -> list[tuple[str, str]]:
    """Write `<folder>/differential-<cause>.sqltest` for every cause not exported yet (default folder:
    `sqltest/` in the campaign folder); (cause id, path or "skipped: why") for each one handled."""
    rows = [r for r in corpus.causes().values() if exportable(r)]
    if not rows:
        return []
    target = folder or corpus.folder / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    tracked, turso = engines or (tracked_engine(), engine("turso"))
    out = []
    for row in rows:
        block, why = export_case(as_case(row), tracked, turso)
        if why:
            note = SKIPPED + why
        else:
            path = target / f"{sqltest_name(row.id)}.sqltest"
            path.write_text("@database :memory:\n\n" + block, encoding="utf-8")
            note = str(path)
        corpus.mark_exported(row.id, note)
        out.append((row.id, note))
    return out
