"""The "from <backend> to Turso" report sections: what changes for an application that moves engines.

Computed from the per-backend results already in the document (the same checks on both), so a report
that ran libSQL and Turso shows, impact-ordered like "What will change for your application", every check
where the two observe different things.
"""

from __future__ import annotations

import json
from typing import Any

from stc_harness.outcomes import (
    CRASH,
    DIFFERS,
    DOCUMENTED,
    IMPACTS,
    MISSING_API,
    SAME,
    SQLITE_BACKENDS,
    TIMEOUT,
    UNSUPPORTED,
)
from stc_harness.report.entries import entry_of

TARGET = "turso"
#: Impact classes, worst first; a change no entry explains is "undocumented", listed last.
CHANGE_IMPACTS = (*IMPACTS, "undocumented")
#: Results that say what the backend does (an unsupported feature is an observation too).
OBSERVED = (SAME, *DIFFERS, UNSUPPORTED, CRASH, TIMEOUT)


def _seen(res: dict[str, Any]) -> Any:
    """What a result says the backend does, comparable across backends."""
    if res["outcome"] in (UNSUPPORTED, CRASH, TIMEOUT):
        return {res["outcome"]: res.get("message", "")[:200]}
    return res.get("observed")


def _impact(row: dict[str, Any], backend: str, registry: dict[str, dict[str, Any]],
            reference_id: str) -> str | None:
    """The impact of `backend`'s result differing from the reference SQLite (None: it does not)."""
    res = row["results"][backend]
    reference = row["results"].get(reference_id) or {}
    both_absent = res["outcome"] == UNSUPPORTED and reference.get("outcome") == UNSUPPORTED
    if res["outcome"] == SAME or both_absent:
        return None
    entry = entry_of(row, backend, registry)
    if res["outcome"] == UNSUPPORTED:
        return entry.get("impact") or MISSING_API
    return entry.get("impact") or "undocumented"


def _against_source(row: dict[str, Any], target: str, source: str,
                    registry: dict[str, dict[str, Any]]) -> tuple[str | None, str | None]:
    """(target's, source's) impact in a run judged against `source`: whose entry explains the change."""
    res = row["results"][target]
    if res["outcome"] == UNSUPPORTED:
        return entry_of(row, target, registry).get("impact") or MISSING_API, None
    entry = entry_of(row, target, registry) if res["outcome"] == DOCUMENTED else {}
    expect = registry.get(entry.get("id", ""), entry).get("expect") or {}
    impact = entry.get("impact") or "undocumented"
    if target in expect and source not in expect:
        return impact, None
    if source in expect and target not in expect:
        return None, impact
    return impact, (impact if entry else None)


def reference_lead(doc: dict[str, Any]) -> dict[str, Any] | None:
    """In a run judged against another backend than SQLite (`--reference=libsql`): the first section, what
    changes from that backend to Turso (None: the reference is SQLite, or Turso did not run)."""
    source = str(doc.get("reference"))
    if source in ("None", "sqlite", TARGET):
        return None
    section = migration_section(doc, source)
    if section is None:
        return None
    return {**section, "title": f"What will change for your application: from {source} to {TARGET}"}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def migration_section(doc: dict[str, Any], source: str, target: str = TARGET) -> dict[str, Any] | None:
    """Every check where `source` and `target` observe differently, worst first (None: one is absent)."""
    ids = {b["id"] for b in doc.get("backends", [])}
    if source not in ids or target not in ids:
        return None
    registry = {e["id"]: e for e in doc.get("registry", [])}
    rows: list[tuple[int, str, list[Any]]] = []
    for row in doc["checks"]:
        a, b = row["results"].get(source), row["results"].get(target)
        if not a or not b or a["outcome"] not in OBSERVED or b["outcome"] not in OBSERVED:
            continue
        if a["outcome"] == b["outcome"] == UNSUPPORTED or \
                json.dumps(_seen(a), sort_keys=True) == json.dumps(_seen(b), sort_keys=True):
            continue  # the same on both (two absent features differ only in their reasons)
        ref = str(doc.get("reference"))
        if ref == source:  # judged against `source` itself: the entry covering the target's result says whose
            to_impact, from_impact = _against_source(row, target, source, registry)
        else:
            to_impact, from_impact = _impact(row, target, registry, ref), _impact(row, source, registry, ref)
        impacts = [i for i in (to_impact, from_impact) if i]
        impact = min(impacts, key=CHANGE_IMPACTS.index) if impacts else "undocumented"
        side = ("both differ from SQLite" if len(impacts) == 2 else f"{target} differs from SQLite"
                if to_impact else f"{source} differs from SQLite")
        rows.append((CHANGE_IMPACTS.index(impact), row["id"],
                     [impact, {"text": row["id"], "href": f"#{row['id']}"}, side,
                      _short(_seen(a)), _short(_seen(b)), row["title"]]))
    rows.sort(key=lambda r: r[:2])
    return {"id": f"from-{source}-to-{target}", "title": f"From {source} to {target}: what changes",
            "intro": (f"For an application that runs on {source} today and moves to {target}: every check "
                      f"where the two observe different things, grouped by impact, worst first (the impact "
                      f"of {target}'s registry entry, else of {source}'s). 'whose' says which side differs "
                      f"from the reference SQLite. {len(rows)} checks change."),
            "columns": ["impact", "check", "whose", source, target, "what"],
            "rows": [r[2] for r in rows]}


def migration_sections(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A "from X to Turso" section for every backend of the report but SQLite, the reference and Turso."""
    out = []
    for backend in doc.get("backends", []):
        if backend["id"] in (doc.get("reference"), TARGET, *SQLITE_BACKENDS):
            continue
        section = migration_section(doc, backend["id"])
        if section is not None:
            out.append(section)
    return out
