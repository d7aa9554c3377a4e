"""The report section "Driver layer by theme": per driver area and backend, what differs and how badly."""

from __future__ import annotations

from typing import Any

from stc_harness.outcomes import DRIVER, IMPACTS, SAME, UNSUPPORTED

#: Outcomes that mean "behaves like the reference".
ALIKE = (SAME,)
#: How many differing examples a row names (worst impact first).
EXAMPLES = 3


def _rank(impact: str | None) -> int:
    order = list(IMPACTS)
    return order.index(impact) if impact in order else len(order)


def driver_theme_section(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The section (see `doc["sections"]`) for the driver-layer checks of `doc`, or None if it has none."""
    reference = doc.get("reference")
    areas: dict[str, list[dict[str, Any]]] = {}
    for row in doc.get("checks", []):
        if row.get("layer") == DRIVER:
            areas.setdefault(row["area"], []).append(row)
    if not areas:
        return None
    backends = [b["id"] for b in doc.get("backends", []) if b["id"] != reference]
    rows: list[list[Any]] = []
    for area in sorted(areas):
        for backend in backends:
            ran = [r for r in areas[area] if backend in r["results"]
                   and r["results"][backend]["outcome"] != UNSUPPORTED]
            differ = [r for r in ran if r["results"][backend]["outcome"] not in ALIKE]
            examples: list[dict[str, str]] = []
            seen: set[str] = set()
            for r in sorted(differ, key=lambda r: (_rank((r.get("entry") or {}).get("impact")), r["id"])):
                entry = r.get("entry") or {}
                label = entry.get("title") or r["title"]
                if label in seen:
                    continue
                seen.add(label)
                examples.append({"text": label, "href": f"#{r['id']}"})
                if len(examples) == EXAMPLES:
                    break
            worst = min((_rank((r.get("entry") or {}).get("impact")) for r in differ), default=None)
            rows.append([area.removeprefix("driver_"), backend, len(ran), len(ran) - len(differ), len(differ),
                         list(IMPACTS)[worst] if worst is not None and worst < len(IMPACTS) else "",
                         *(examples + [""] * (EXAMPLES - len(examples)))])
    return {"id": "driver-themes", "title": "Driver layer by theme",
            "intro": "The Python driver modules called directly (sqlite3 and aiosqlite against the "
                     "backend's own modules): per theme, how many checks ran, how many behave like the "
                     "reference, the worst impact among the differences, and the worst examples.",
            "columns": ["theme", "backend", "checks", "same", "differ", "worst impact",
                        *(f"example {i + 1}" for i in range(EXAMPLES))],
            "rows": rows}
