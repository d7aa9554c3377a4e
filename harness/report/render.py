"""Markdown and HTML renderings of the report JSON, both made from one view of the document.

The view is `stc_harness.report.view`, the summary Markdown `stc_harness.report.summary`, the detail
Markdown by area `stc_harness.report.markdown`, the HTML page
`stc_harness.report.page`; this module is their entry point (and keeps the names older code imports).
"""

from __future__ import annotations

from typing import Any

from stc_harness.outcomes import NOT_RUN
from stc_harness.report.markdown import (
    MD_DETAIL_LIMIT,
    MD_VALUE_LIMIT,
    details_text,
    md_block,
    md_code,
    md_source,
    md_text,
    md_value,
)
from stc_harness.report.page import html_chunks, render_html
from stc_harness.report.summary import summary_lines
from stc_harness.report.view import (
    DIFF_OUTCOMES,
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
           "compact", "details_text", "documented_split", "html_chunks", "make_view", "md_block", "md_code",
           "md_source", "md_text", "md_value", "render_details", "render_html", "render_markdown",
           "summary_lines", "upstream_documented", "value_diff"]


def render_markdown(doc: dict[str, Any], stem: str = "compatibility") -> str:
    """The summary Markdown (`<stem>.md`): the decision, what will change, the counts, the run."""
    return "\n".join(summary_lines(make_view(doc), stem)) + "\n"


def render_details(doc: dict[str, Any], stem: str = "compatibility") -> dict[str, str]:
    """The details folder's files (name -> Markdown): a row per check and a section per difference, by area;
    the claims by source; the registry."""
    return details_text(doc, stem)
