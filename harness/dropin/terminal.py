"""The drop-in summary as terminal lines: headline, Turso-only failures with evidence, migration list."""

from __future__ import annotations

from typing import Any

#: Migration-list rows shown in the terminal (the report has them all).
SHOWN_CAUSES = 10


def cut(text: str, width: int) -> str:
    """`text` shortened to `width` at a word boundary."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    return text[:width].rsplit(" ", 1)[0] + " …"


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """What a drop-in run prints at its end."""
    secs = {s["id"]: s for s in doc["sections"]}
    lines = [secs["dropin-summary"]["intro"]]
    for row in secs["dropin-turso-only"]["rows"]:
        lines.append(f"TURSO-ONLY {row[0]} [{row[1]}] {cut(row[3], 160)}")
        lines.append(f"    diverges at {cut(row[4], 300)}")
        lines.append(f"    cause: {cut(row[5], 240)}")
    migration = secs["dropin-migration"]["rows"]
    if migration:
        lines.append("migration list (cause: tests it unblocks alone / tests it blocks):")
    lines.extend(f"  {row[0]}: {row[1]} / {row[2]} [{row[3]}]" for row in migration[:SHOWN_CAUSES])
    return lines
