"""Build the report document (a versioned JSON-ready dict) from the collected check records."""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Iterable
from typing import Any

from harness.checks import OUTCOMES

SCHEMA_VERSION = 1


def outcome_counts(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per backend, how many checks had each outcome."""
    out: dict[str, dict[str, int]] = {}
    for rec in records:
        per = out.setdefault(rec["backend"], dict.fromkeys(OUTCOMES, 0))
        per[rec["outcome"]] = per.get(rec["outcome"], 0) + 1
    return out


def build_report(state: Any, config: Any = None) -> dict[str, Any]:
    """The report: schema version, backends with versions, and one row per check with every backend."""
    backends = []
    for sel in state.selected.values():
        info = sel.backend.info
        backends.append({"id": sel.id, "name": info.name, "driver": info.driver,
                         "driver_version": info.driver_version, "engine_version": info.engine_version,
                         "options": {k: str(v) for k, v in sel.options.items()}})
    checks: dict[str, dict[str, Any]] = {}
    for rec in sorted(state.records.values(), key=lambda r: (r["check"], r["backend"])):
        row = checks.setdefault(rec["check"], {"id": rec["check"], "area": rec["area"], "title": rec["title"],
                                               "source": rec["source"], "entry": rec["entry"], "results": {}})
        row["title"] = row["title"] or rec["title"]
        row["source"] = row["source"] or rec["source"]
        row["entry"] = row["entry"] or rec["entry"]
        row["results"][rec["backend"]] = {k: rec[k] for k in (
            "outcome", "message", "observed", "baseline", "baseline_from", "notes", "duration", "nodeid")}
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "reference": state.reference.id,
        "backends": backends,
        "registry": [e.as_dict() for e in state.registry.entries.values()],
        "summary": outcome_counts(state.records.values()),
        "checks": list(checks.values()),
    }
