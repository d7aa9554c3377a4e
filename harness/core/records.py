"""The record of one check on one backend: the one shape the live run, crash records and user tests share."""

from __future__ import annotations

from typing import Any

#: A record's fields, in the order every record has them (extras, like `variants`, come after).
RECORD_FIELDS = ("check", "area", "layer", "title", "source", "backend", "outcome", "message", "observed",
                 "baseline", "baseline_from", "entry", "attribution", "tracked_observed", "notes",
                 "duration", "nodeid")


def check_record(check: str, area: str, backend: str, outcome: str, *, layer: str | None = None,
                 title: str = "", source: dict[str, Any] | None = None, message: str = "",
                 observed: Any = None, baseline: Any = None, baseline_from: str | None = None,
                 entry: dict[str, Any] | None = None, attribution: str | None = None,
                 tracked_observed: Any = None, notes: dict[str, Any] | None = None,
                 duration: float = 0.0, nodeid: str = "") -> dict[str, Any]:
    """A record (JSON-ready): what the report builder groups into rows; a field not known is None/empty."""
    return {"check": check, "area": area, "layer": layer, "title": title, "source": source,
            "backend": backend, "outcome": outcome, "message": message, "observed": observed,
            "baseline": baseline, "baseline_from": baseline_from, "entry": entry,
            "attribution": attribution, "tracked_observed": tracked_observed,
            "notes": {} if notes is None else notes, "duration": round(duration, 4), "nodeid": nodeid}
