"""Compare two compatibility.json reports check by check: outcome, observation, attribution, tracked
observation, registry entry and layer per backend (times, notes and node ids are left out).

    python scripts/compare_reports.py BEFORE.json AFTER.json    # exit 1 when a check differs

Used to show that a refactoring (the house moves) left every verdict as it was.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def verdicts(path: Path) -> dict[str, Any]:
    """Per check id: what each backend's verdict says, its entry and its layer."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for row in doc["checks"]:
        per_backend = {
            name: [result.get(k) for k in ("outcome", "observed", "attribution", "tracked_observed")]
            for name, result in (row.get("results") or {}).items()
        }
        out[row["id"]] = [per_backend, (row.get("entry") or {}).get("id"), row.get("layer")]
    return out


def main(argv: list[str]) -> int:
    """Print the checks whose verdicts differ; 1 if any does."""
    before, after = verdicts(Path(argv[1])), verdicts(Path(argv[2]))
    differ = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    for check in differ:
        was, now = json.dumps(before.get(check))[:200], json.dumps(after.get(check))[:200]
        print(f"differs: {check}: {was} | {now}")
    print(f"{len(before)} checks before, {len(after)} after, {len(differ)} with another verdict")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
