"""Re-triage saved regression cases on the tracked-SQLite basis: a case whose finding SQLite 3.50.4
shares (its statements give the same outcomes on sqlean.py as on Turso) is a SQLite version gap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.compare import first_disagreement
from stc_harness.differential.engines import Engine, engine, run_cases, tracked_engine
from stc_harness.differential.replay import ISOLATED_KINDS, load_cases
from stc_harness.outcomes import TURSO_OWN, VERSION_GAP


def as_case(record: dict[str, Any]) -> Case:
    """The saved case's statements as a runnable case (one fresh database)."""
    stmts = tuple(Stmt(s["sql"], (), s.get("kind", "select"), bool(s.get("ordered")))
                  for s in record["statements"])
    return Case(record.get("category", "dml"), stmts, stateful=True)


def measure(record: dict[str, Any], tracked: Engine, other: Engine) -> str:
    """`sqlite-version` when the tracked SQLite observes exactly what the case's backend does, else
    `turso`."""
    if record.get("kind") in ISOLATED_KINDS:
        return TURSO_OWN  # a crash or hang is the engine's own by nature; never re-run it in this process
    case = as_case(record)
    a, b = run_cases(tracked, [case])[0], run_cases(other, [case])[0]
    return VERSION_GAP if first_disagreement(a, b) is None else TURSO_OWN


def retriage(folder: Path) -> dict[str, str]:
    """Measure and record the attribution of every saved case in `folder` (rewrites the case files)."""
    tracked = tracked_engine()
    engines: dict[str, Engine] = {}
    out = {}
    for sig, record in load_cases(folder).items():
        backend = record["backend"]
        engines.setdefault(backend, engine(backend))
        label = measure(record, tracked, engines[backend])
        out[sig] = label
        if record.get("attribution") != label:
            record["attribution"] = label
            path = folder / f"{sig}.json"
            lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in record.items()]
            path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    return out
