"""What the report says about the run itself, beside its records: backends, reference, tracked SQLite."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stc_harness.adapters.backend_registry import Selected
from stc_harness.differences import Registry


@dataclass(frozen=True)
class RunFacts:
    """The run's facts the report builder needs; the plugin fills them (`stc_harness.plugin.collector`)."""

    #: One `{id, name, driver, driver_version, engine_version, options}` per backend, in run order.
    backends: list[dict[str, Any]]
    #: The reference backend's id.
    reference: str
    #: The tracked SQLite (`{available, id, driver, ...}`), or why attribution is unavailable.
    tracked: dict[str, Any]
    #: The registry the run judged with (built-in entries and the user's).
    registry: Registry
    #: The run's base temporary folder, when one was made (test folders under it are scrubbed).
    basetemp: Path | None = None


def backend_facts(selected: Mapping[str, Selected]) -> list[dict[str, Any]]:
    """`RunFacts.backends` from the selected backends (`Selected`, by id)."""
    out = []
    for sel in selected.values():
        info = sel.backend.info
        out.append({"id": sel.id, "name": info.name, "driver": info.driver,
                    "driver_version": info.driver_version, "engine_version": info.engine_version,
                    "options": {k: str(v) for k, v in sorted(sel.options.items())}})
    return out


def tracked_facts(tracked: Selected | None, why: str) -> dict[str, Any]:
    """`RunFacts.tracked`: the tracked SQLite (name, versions, purpose), or why there is none."""
    if tracked is None:
        return {"available": False, "why": why or "not configured", "note": "attribution unavailable"}
    info = tracked.backend.info
    return {"available": True, "id": tracked.id, "driver": info.driver, "driver_version": info.driver_version,
            "engine_version": info.engine_version, "purpose": info.extra.get("purpose", "")}
