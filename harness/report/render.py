"""Markdown and HTML renderings of the report JSON, both made from one view of the document.

The view is `stc_harness.report.view`, the Markdown `stc_harness.report.markdown`, the HTML page
`stc_harness.report.page`; this module is their entry point (and keeps the names older code imports).
"""

from __future__ import annotations

from typing import Any

from stc_harness.report.markdown import (
    MD_DETAIL_LIMIT,
    MD_VALUE_LIMIT,
    markdown_lines,
    md_block,
    md_code,
    md_source,
    md_text,
    md_value,
)
from stc_harness.report.page import html_chunks, render_html
from stc_harness.report.view import (
    DIFF_OUTCOMES,
    NOT_RUN,
    Cell,
    Row,
    View,
    compact,
    documented_split,
    make_view,
    upstream_documented,
    value_diff,
)

__all__ = ["DIFF_OUTCOMES", "MD_DETAIL_LIMIT", "MD_VALUE_LIMIT", "NOT_RUN", "Cell", "Row", "View",
           "compact", "documented_split", "html_chunks", "make_view", "markdown_lines", "md_block", "md_code",
           "md_source", "md_text", "md_value", "render_html", "render_markdown", "upstream_documented",
           "value_diff"]


def render_markdown(doc: dict[str, Any]) -> str:
    """The report as Markdown: summaries, a row per check, a section per difference, the claims by source."""
    return "\n".join(markdown_lines(doc)) + "\n"
