"""The drop-in summary as terminal lines: headline, Turso-only failures with evidence, migration list."""

from __future__ import annotations

from typing import Any

from stc_harness.report.encode import printable

#: Migration-list rows shown in the terminal (the report has them all).
SHOWN_CAUSES = 10


def cut(text: str, width: int) -> str:
    """`text` on one line, shortened to `width` at a word boundary (a single longer word is cut)."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    head = text[:width + 1].rsplit(" ", 1)[0] if " " in text[:width + 1] else text[:width]
    return head.rstrip(" ,;:") + " …"


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
    return [printable(line) for line in lines]
