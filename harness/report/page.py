"""The HTML report: a small page whose tables are drawn in the browser from data embedded once, compactly.

The page holds the summary as HTML and every check, difference, claim and extra section as JSON in a
`<script type="application/json">` block (every `<`, `>` and `&` written as a `\\u` escape, so that no
text in the data can end the block); the page's script builds the tables a page at a time with
`textContent`, never with markup from the data. The data is produced and written in chunks.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stc_harness.outcomes import IMPACT_LABELS, LOUD, UNSUPPORTED
from stc_harness.report.chart import chart_svg
from stc_harness.report.decision import (
    IMPACT_MEANING,
    STATUS_MARK,
    Decision,
    chart_rows,
    decide,
)
from stc_harness.report.markdown import interrupted_text
from stc_harness.report.view import (
    DIFF_OUTCOMES,
    NO_VALUE,
    Row,
    View,
    compact,
    impact_of,
    make_view,
    upstream_documented,
)

TEMPLATES = Path(__file__).with_name("templates")
#: Rows serialised per chunk of the embedded data.
CHUNK = 500


def _dumps(value: Any) -> str:
    """Compact JSON safe inside a script element: `<`, `>` and `&` (only ever inside strings) escaped."""
    return compact(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["slug"] = lambda s: re.sub(r"[^a-z0-9]+", "-", str(s).lower()).strip("-")
    return env


class _Index:
    """Strings numbered in first-seen order (the data names an area or a section by its number)."""

    def __init__(self, initial: list[str] | None = None) -> None:
        self.items: list[str] = list(initial or [])
        self._at = {s: i for i, s in enumerate(self.items)}

    def __call__(self, value: str) -> int:
        at = self._at.get(value)
        if at is None:
            at = self._at[value] = len(self.items)
            self.items.append(value)
        return at


def _detail(row: Row) -> list[list[Any]]:
    """Per backend: outcome, observed, baseline (null: equal to observed), baseline from, expected (null:
    none; true: equal to observed), message, notes. The page finds where observed and baseline differ."""
    out = []
    for c in row.cells:
        if c.has_values:
            observed: Any = c.observed
            baseline: Any = None if c.matches_baseline else c.baseline
        else:
            observed = baseline = None
        expected: Any = None
        if c.expected is not None:
            expected = True if c.has_values and c.expected_observed else c.expected
        out.append([c.outcome, observed, baseline, c.baseline_from, expected,
                    c.message if c.ran else "", c.notes])
    return out


def _check_rows(v: View, outcome_at: dict[str, int], areas: _Index, texts: _Index,
                entry_at: dict[int, int]) -> Iterator[list[Any]]:
    """One compact list per check: id, area, layer, title, document, section, entry, outcomes,
    attributions, impact, detail (for a difference)."""
    layers = {x: i for i, x in enumerate(v.layers)}
    attrs = {x: i for i, x in enumerate(v.attributions)}
    impacts = {x: i for i, x in enumerate(v.impacts)}
    shapes: dict[tuple[str, ...], list[int]] = {}  # outcome tuples are shared: number each once
    for row in v.rows:
        entry = entry_at.get(id(row.entry), -1) if row.entry else -1
        attributions = [attrs[a or NO_VALUE] for a in row.attributions()] if attrs else 0
        shape = shapes.get(row.outcomes)
        if shape is None:
            shape = shapes[row.outcomes] = [outcome_at[o] for o in row.outcomes]
        yield [row.id, areas(row.area), layers.get(row.layer or "engine", -1), row.title, texts(row.document),
               texts(row.section), entry, shape, attributions,
               impacts[impact_of(row.entry) or NO_VALUE] if impacts else -1,
               _detail(row) if row.is_difference else 0]
        row.forget_cells()  # the Markdown is written by now: the formatted values are no longer needed


def _entries(v: View, texts: _Index) -> tuple[list[list[Any]], dict[int, int]]:
    """The registry entries the checks cite (once each), and where each is in that list."""
    out: list[list[Any]] = []
    at: dict[int, int] = {}
    for row in v.rows:
        e = row.entry
        if e is not None and id(e) not in at:
            at[id(e)] = len(out)
            out.append([e["id"], e["title"], e["file"], texts(e["source"]["document"]),
                        texts(e["source"]["section"]), e["reason"], e.get("impact") or "",
                        upstream_documented(e)])
    return out, at


def _claims(v: View, texts: _Index, row_at: dict[int, int]) -> Iterator[list[Any]]:
    """Per claim: document, section, check (its position), via entry id ("" when direct)."""
    for document in v.documents:
        d = texts(document.name)
        for section in document.sections:
            s = texts(section.name)
            for claim in section.claims:
                yield [d, s, row_at[id(claim.row)], claim.via or ""]


def _chunks(items: Iterator[Any]) -> Iterator[str]:
    """A JSON array written in chunks of CHUNK items."""
    yield "["
    batch: list[Any] = []
    first = True
    for item in items:
        batch.append(item)
        if len(batch) == CHUNK:
            yield ("" if first else ",") + _dumps(batch)[1:-1]
            first, batch = False, []
    if batch:
        yield ("" if first else ",") + _dumps(batch)[1:-1]
    yield "]"


def _data(v: View) -> Iterator[str]:
    """The embedded data, as chunks of one JSON object."""
    texts = _Index()
    areas = _Index(v.areas)
    outcome_at = {o: i for i, o in enumerate(v.outcomes)}
    entries, entry_at = _entries(v, texts)
    row_at = {id(r): i for i, r in enumerate(v.rows)}
    backend_at = {b: i for i, b in enumerate(v.backend_ids)}
    unsupported = [[row_at[id(r)], backend_at[b], reason]
                   for r in v.unsupported for b, reason in r.unsupported]
    head = {"backends": v.backend_ids, "outcomes": v.outcomes, "diffOutcomes": list(DIFF_OUTCOMES),
            "unsupported_outcome": UNSUPPORTED, "areas": areas.items, "layers": v.layers,
            "attributions": v.attributions, "impacts": v.impacts, "sections": v.sections,
            "entries": entries, "unsupported": unsupported}
    yield _dumps(head)[:-1] + ',"checks":'
    yield from _chunks(_check_rows(v, outcome_at, areas, texts, entry_at))
    yield ',"claims":'
    yield from _chunks(_claims(v, texts, row_at))
    yield ',"texts":' + _dumps(texts.items) + "}"


def charts(decision: Decision) -> list[Any]:
    """The chart of each backend's decision (inline SVG markup), in the decision's order."""
    return [chart_svg(chart_rows(d), d.layer_names, f"c{n}",
                      f"Differences of {d.backend} from {decision.reference} by impact and layer")
            for n, d in enumerate(decision.backends)]


def html_chunks(doc: dict[str, Any] | View) -> Iterator[str]:
    """The HTML report as a sequence of text chunks (the page around the data, and the data)."""
    v = doc if isinstance(doc, View) else make_view(doc)
    splits = v.splits
    banner = interrupted_text(*v.interrupted) if v.interrupted else ""
    loud = [o for o in v.outcomes if o in LOUD]
    mark = f"@@report-data-{uuid.uuid4().hex}@@"  # where the data goes; no text of the report can hold it
    decision = decide(v)
    page = _environment().get_template("report.html.j2").render(
        v=v, splits=splits, banner=banner, data_mark=mark,
        glance_order=[*loud, *(o for o in v.outcomes if o not in loud)],
        decision=decision, charts=charts(decision), chart_rows=chart_rows, labels=IMPACT_LABELS,
        meaning=IMPACT_MEANING, marks=STATUS_MARK, no_checks=v.is_dropin and not v.rows)
    before, after = page.split(mark, 1)
    yield before
    yield from _data(v)
    yield after


def render_html(doc: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (inline CSS and JS, data embedded once, escaped)."""
    return "".join(html_chunks(doc))
