"""`python -m stc_harness registry-attribution REPORT [--write]`: entries' attribution, as a run measured it.

Reads a report written with the tracked SQLite available, collects the measured attribution of every
result an entry covers, and proposes it per entry (an entry whose checks disagree must be split). With
`--write`, sets `attribution = "..."` in the registry files (inserted after the entry's `id` line).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from stc_harness.checks import UNAVAILABLE
from stc_harness.differences import ATTRIBUTIONS, load_registry
from stc_harness.report.schema import ReportError, load_report, refuse_dropin

USAGE = 2


def measured(doc: dict[str, Any]) -> dict[str, set[str]]:
    """Per registry entry id, the attributions measured on the results it covers (unavailable left out)."""
    out: dict[str, set[str]] = {}
    for row in doc["checks"]:
        entry = row.get("entry") or {}
        for res in row["results"].values():
            found = res.get("attribution")
            if entry.get("id") and found and found != UNAVAILABLE:
                out.setdefault(entry["id"], set()).add(found)
    return out


def proposals(doc: dict[str, Any], registry: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(entry id -> measured attribution, entry id -> why none can be proposed) for every entry."""
    found = measured(doc)
    ok: dict[str, str] = {}
    problems: dict[str, str] = {}
    for entry_id in sorted(registry.entries):
        seen = found.get(entry_id, set())
        if len(seen) == 1:
            ok[entry_id] = next(iter(seen))
        elif seen:
            problems[entry_id] = f"its checks disagree ({', '.join(sorted(seen))}): split the entry"
        else:
            problems[entry_id] = "no result measured it (not run, or the tracked SQLite was unavailable)"
    return ok, problems


def write(folder: Path, attribution: dict[str, str]) -> int:
    """Set `attribution` of the given entries in the registry files; returns how many lines changed."""
    changed = 0
    for path in sorted(folder.glob("*.toml")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        out: list[str] = []
        current: str | None = None
        for line in lines:
            if line.startswith("[[difference]]"):
                current = None
            elif current is not None and line.startswith("attribution ="):
                continue  # replaced by the line written after `id`
            out.append(line)
            match = re.match(r'^id = "([^"]+)"', line)
            if match and match.group(1) in attribution:
                current = match.group(1)
                out.append(f'attribution = "{attribution[current]}"\n')
                changed += 1
        path.write_text("".join(out), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Print the proposals; with --write, apply them to the registry; 1 if an entry cannot be attributed."""
    parser = argparse.ArgumentParser(prog="python -m stc_harness registry-attribution", description=__doc__)
    parser.add_argument("command", choices=["registry-attribution"])
    parser.add_argument("report", type=Path, help="a compatibility.json of a run with the tracked SQLite")
    parser.add_argument("--registry", type=Path, default=Path("suites/differences"), metavar="DIR")
    parser.add_argument("--write", action="store_true", help="set the measured attribution in the files")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        doc = refuse_dropin(load_report(args.report), str(args.report), "registry-attribution")
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    registry = load_registry(args.registry)
    ok, problems = proposals(doc, registry)
    for entry_id, found in ok.items():
        current = registry.entries[entry_id].attribution
        mark = "" if current == found else f"  (registry: {current or 'none'})"
        print(f"{found:<15} {entry_id}{mark}  [{ATTRIBUTIONS[found].split(':')[0]}]")
    for entry_id, why in problems.items():
        print(f"{'?':<15} {entry_id}: {why}")
    if args.write:
        print(f"wrote {write(args.registry, ok)} attribution(s) under {args.registry}")
    return 1 if problems else 0
