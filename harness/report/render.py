"""Markdown and HTML renderings of the report JSON (minimal; extended by the report work)."""

from __future__ import annotations

from typing import Any


def render_markdown(doc: dict[str, Any]) -> str:
    """A Markdown table: one row per check, one column per backend."""
    ids = [b["id"] for b in doc["backends"]]
    lines = ["# Compatibility report", "", "| check | " + " | ".join(ids) + " | source |",
             "|---|" + "---|" * len(ids) + "---|"]
    for row in doc["checks"]:
        src = row["source"] or {}
        cells = [row["results"].get(b, {}).get("outcome", "-") for b in ids]
        lines.append(f"| `{row['id']}` | " + " | ".join(cells) + f" | {src.get('document', '')} "
                     f"{src.get('section', '')} |")
    return "\n".join(lines) + "\n"


def render_html(doc: dict[str, Any]) -> str:
    """Placeholder until the templated renderer lands: the Markdown inside <pre>, escaped."""
    import html

    return "<!doctype html><meta charset=utf-8><pre>" + html.escape(render_markdown(doc)) + "</pre>\n"
