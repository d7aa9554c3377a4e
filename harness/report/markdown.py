"""The report's per-check detail as Markdown files, split by area, line by line (streamed to their files).

The summary a code forge shows (`compatibility.md`) is `stc_harness.report.summary`; it links here. The
detail lives in a folder beside it (`compatibility-details/`): a README listing the areas, one file per
area (its checks, differences and unsupported checks), the extra sections, the claims of the source
documents and the registry. A difference's heading carries an anchor named by `anchor(check id)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from stc_harness.outcomes import DOCUMENTED, DRIFT, NOT_RUN, UNSUPPORTED
from stc_harness.report.view import Cell, Row, View, make_view, upstream_documented

#: Longest value shown whole in the Markdown (the HTML and JSON always show all of it).
MD_VALUE_LIMIT = 600
#: Differences shown in full in the Markdown; beyond this many, one line points at the JSON and HTML.
MD_DETAIL_LIMIT = 1000
#: Claims listed one per line in the Markdown; a larger report lists counts per document section instead.
MD_CLAIMS_LIMIT = 5000
#: Rows of an extra section shown in the Markdown; beyond this many, one line points at the JSON and HTML.
MD_SECTION_ROWS = 2000

#: Characters that can start Markdown syntax (an underscore only at a word's edge, as in `_em_`; an
#: ampersand only where it would start an entity such as `&lt;`).
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|#~!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?[A-Za-z0-9]+;))")
_TICKS = re.compile(r"`+")
_SLUG = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192)
def md_text(text: str) -> str:
    """Plain text safe in Markdown (also in a table cell): syntax characters escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def md_code(text: str, table: bool = False) -> str:
    """A code span holding `text` verbatim (one line); in a table cell, pipes are escaped."""
    text = str(text)
    if text and "`" not in text and "|" not in text and "\n" not in text and "\r" not in text \
            and not text[0].isspace() and not text[-1].isspace() and text.isprintable():
        return f"`{text}`"  # the common case (an id, a name), without the work below
    text = " ".join(text.splitlines())
    if table:
        text = text.replace("|", "\\|")
    ticks = max((len(m) for m in _TICKS.findall(text)), default=0) + 1
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{'`' * ticks}{pad}{text}{pad}{'`' * ticks}"


def md_block(text: str, indent: str = "") -> list[str]:
    """A fenced code block holding `text` verbatim, indented (to sit inside a list item)."""
    fence = "~" * max(3, max((len(m) for m in re.findall(r"~+", text)), default=0) + 1)
    return [f"{indent}{fence}", *(f"{indent}{line}" for line in text.splitlines()), f"{indent}{fence}"]


@lru_cache(maxsize=4096)
def md_source(document: str, section: str, table: bool = False) -> str:
    """`document` § section."""
    return f"{md_code(document, table)} \u00a7 {md_text(section)}"


def md_value(text: str, limit: int = MD_VALUE_LIMIT) -> str:
    """A value in a code span, cut after `limit` characters (the JSON report keeps it whole)."""
    if len(text) <= limit:
        return md_code(text)
    return f"{md_code(text[:limit])} \u2026 ({len(text) - limit} more characters in the JSON report)"


def md_cell(value: Any) -> str:
    """One cell of an extra section's table: its text (a link cell shows its text), escaped, one line."""
    if isinstance(value, dict):
        value = value.get("text", "")
    return md_text("" if value is None else str(value))


def _md_outcome(outcome: str, ran: bool, row: Row) -> str:
    text = outcome if ran else "\u2014"
    if outcome in (DOCUMENTED, DRIFT) and row.entry:
        kind = "" if upstream_documented(row.entry) else ", measured only"
        text += f" ({md_code(row.entry['id'], table=True)}{kind})"
    return text


def _md_entry(entry: dict[str, Any]) -> list[str]:
    where = f" in {md_code(entry['file'])}" if entry["file"] else ""
    out = [f"- Registry entry {md_code(entry['id'])}{where}: {md_text(entry['title'])}",
           f"  - source: {md_source(entry['source']['document'], entry['source']['section'])}",
           f"  - reason: {md_text(entry['reason'])}"]
    if entry.get("impact"):
        out.append(f"  - impact: {md_text(entry['impact'])}")
    return out


def _md_cell(cell: Cell) -> list[str]:
    out = [f"- **{md_text(cell.backend)}**: {cell.outcome}"]
    if cell.attribution:
        out[0] += f" (attribution: {md_text(cell.attribution)})"
    origin = md_text(cell.baseline_from or "nowhere")
    if cell.has_values and cell.matches_baseline:
        out.append(f"  - observed, equal to the baseline (from {origin}): {md_value(cell.observed)}")
    elif cell.has_values:
        out.append(f"  - observed: {md_value(cell.observed)}")
        out.append(f"  - baseline (from {origin}): {md_value(cell.baseline)}")
        if cell.diff:
            out.append("  - differs at:")
            out += [f"    - {md_code(path)}: {md_value(mine, 200)}, baseline {md_value(base, 200)}"
                    for path, mine, base in cell.diff]
    if cell.expected is not None and cell.has_values and cell.expected_observed:
        out.append("  - registry expects: this observation")
    elif cell.expected is not None:
        out.append(f"  - registry expects: {md_value(cell.expected)}")
    message = cell.message
    if message and "\n" in message:
        out += ["  - message:", *md_block(message, "    ")]
    elif message:
        out.append(f"  - message: {md_text(message)}")
    if cell.notes:
        out.append(f"  - notes: {md_value(cell.notes)}")
    return out


def interrupted_text(ran: int, total: int) -> str:
    """The banner of a report whose run was interrupted."""
    return f"interrupted: {ran} of {total} checks ran"


def about(v: View) -> Iterator[str]:
    """The run's metadata and its backends (the summary ends with them)."""
    yield from (f"- {md_text(k)}: {md_text(val)}" for k, val in v.meta)
    yield ""
    extra = ("Python", "report") if v.merged else ()
    columns = ("backend", "driver", "driver version", "engine version", "options", *extra)
    yield "| " + " | ".join(columns) + " |"
    yield "|---|---|---|---|---|" + "---|" * len(extra)
    for b in v.backends:
        opts = md_code(b["options_text"], table=True) if b["options_text"] else ""
        more = f" {md_text(b['python'])} | {md_code(b['file'], table=True)} |" if v.merged else ""
        yield (f"| {md_text(b['id'])} | {md_text(b['driver'])} | {md_text(b['driver_version'])} "
               f"| {md_text(b['engine_version'])} | {opts} |{more}")


def sections_md(sections: list[dict[str, Any]], limit: int | None = None) -> Iterator[str]:
    """Extra sections as Markdown tables (at most `limit` rows each, default MD_SECTION_ROWS, then a pointer
    to the JSON and HTML)."""
    limit = MD_SECTION_ROWS if limit is None else limit
    for sec in sections:
        yield from ("", f"## {md_text(sec['title'] or sec['id'])}", "")
        if sec["intro"]:
            yield md_text(sec["intro"])
            yield ""
        columns = sec["columns"] or [""]
        yield "| " + " | ".join(md_text(c) for c in columns) + " |"
        yield "|" + "---|" * len(columns)
        for raw in sec["rows"][:limit]:
            cells = [*raw[:len(columns)], *[""] * (len(columns) - len(raw))]
            yield "| " + " | ".join(md_cell(c) for c in cells) + " |"
        if len(sec["rows"]) > limit:
            yield ""
            yield (f"{len(sec['rows']) - limit} more rows (of {len(sec['rows'])}) are in the JSON "
                   f"report (`sections`, id {md_code(sec['id'])}) and the HTML report.")


def _checks(v: View, rows: list[Row]) -> Iterator[str]:
    ids = v.backend_ids
    names = " | ".join(md_text(b) for b in ids)
    yield from ("", "## Checks", "", f"| check | title | {names} | source |",
                "|---|---|" + "---|" * len(ids) + "---|")
    cells: dict[tuple[tuple[str, ...], int], str] = {}  # rows alike in outcomes and entry read alike
    for row in rows:
        key = (row.outcomes, id(row.entry))
        outcomes = cells.get(key)
        if outcomes is None:
            outcomes = cells[key] = " | ".join(_md_outcome(o, o != NOT_RUN, row) for o in row.outcomes)
        yield (f"| {md_code(row.id, table=True)} | {md_text(row.title)} | {outcomes} | "
               f"{md_source(row.document, row.section, table=True)} |")


def shown_in_full(v: View) -> frozenset[str]:
    """The checks whose difference the details folder shows in full: the first MD_DETAIL_LIMIT, area file
    by area file (the summary links only these to their anchor)."""
    made = v.derived.get("shown_in_full")
    if made is None:
        ids: list[str] = []
        for rows in by_area(v).values():
            ids += [r.id for r in rows if r.is_difference][:MD_DETAIL_LIMIT - len(ids)]
        made = v.derived["shown_in_full"] = frozenset(ids)
    return made


def _differences(rows: list[Row], full: frozenset[str]) -> Iterator[str]:
    """The differences among `rows`: those in `full` in full, the rest named."""
    yield from ("", "## Differences", "")
    differences = [r for r in rows if r.is_difference]
    if not differences:
        yield from ("No check differs from its baseline, and none failed to run.", "")
    limit = sum(r.id in full for r in differences)  # the first ones of the area
    for row in differences[:limit]:
        yield from (f'<a id="{anchor(row.id)}"></a>', "", f"### {md_code(row.id)}: {md_text(row.title)}", "",
                    f"- Source: {md_source(row.document, row.section)}")
        yield from _md_entry(row.entry) if row.entry else ["- Registry entry: none"]
        for cell in row.cells:
            yield from _md_cell(cell)
        yield ""
    if len(differences) > limit:
        rest = differences[limit:]
        yield (f"{len(rest)} more differences (of {len(differences)}) are listed in the Checks table above "
               f"(the details folder shows {MD_DETAIL_LIMIT} in full); "
               "their observations are in the JSON report and the HTML report's Differences section: "
               + ", ".join(md_code(r.id) for r in rest[:20]) + (", \u2026" if len(rest) > 20 else "") + ".")
        yield ""


def _unsupported(rows: list[Row]) -> Iterator[str]:
    rows = [r for r in rows if UNSUPPORTED in r.outcomes]
    if rows:
        yield from ("## Unsupported", "")
        for row in rows:
            for backend, reason in row.unsupported:
                yield f"- {md_code(row.id)} on **{md_text(backend)}**: {md_text(reason)}"
        yield ""


def _claims(v: View) -> Iterator[str]:
    yield from ("## Claims of the source documents", "",
                "Every check under the document and section whose claim it measures (and, marked *via*, "
                "under the section its registry entry cites).", "")
    ids = v.backend_ids
    total = sum(len(s.claims) for d in v.documents for s in d.sections)
    brief = total > MD_CLAIMS_LIMIT
    if brief:
        yield (f"This report has {total} claims, more than {MD_CLAIMS_LIMIT}: each section gives its counts; "
               "the HTML report lists every claim (filterable), the JSON report has them all.")
        yield ""
    for document in v.documents:
        yield from (f"### {md_code(document.name)}", "")
        for section in document.sections:
            yield from (f"#### {md_text(section.name)}", "")
            if brief:
                yield from _claim_counts(ids, v.outcomes, section.claims)
                yield ""
                continue
            for claim in section.claims:
                via = f" (via entry {md_code(claim.via)})" if claim.via else ""
                res = ", ".join(f"{md_text(b)}: {o}" for b, o in zip(ids, claim.row.outcomes, strict=True))
                yield f"- {md_code(claim.row.id)} {md_text(claim.row.title)}{via}: {res}"
            yield ""


def _claim_counts(ids: list[str], order: list[str], claims: list[Any]) -> Iterator[str]:
    """One line per backend: how many of a section's claims had each outcome."""
    counts: list[dict[str, int]] = [{} for _ in ids]
    for claim in claims:
        for per, outcome in zip(counts, claim.row.outcomes, strict=True):
            per[outcome] = per.get(outcome, 0) + 1
    yield f"- checks: {len(claims)}"
    for b, per in zip(ids, counts, strict=True):
        yield f"  - {md_text(b)}: " + ", ".join(f"{o} {per[o]}" for o in order if o in per)


def _registry(v: View) -> Iterator[str]:
    yield from ("## Registry of documented differences", "")
    if not v.registry:
        yield from ("The registry is empty.", "")
        return
    yield from ("| entry | title | source | checks | expects on |", "|---|---|---|---|---|")
    for e in v.registry:
        checks = ", ".join(md_code(c, table=True) for c in e["checks"])
        src = md_source(e["source"]["document"], e["source"]["section"], table=True)
        yield (f"| {md_code(e['id'], table=True)} | {md_text(e['title'])} | {src} | {checks} | "
               f"{md_text(', '.join(sorted(e['expect'])))} |")
    yield ""


def anchor(check_id: str) -> str:
    """The anchor of a check's difference in its area's file (lowercase letters, digits and hyphens)."""
    return "check-" + _SLUG.sub("-", check_id.lower()).strip("-")


def area_file(area: str) -> str:
    """The file (in the details folder) holding one area's checks."""
    return f"area-{_SLUG.sub('-', area.lower()).strip('-') or 'none'}.md"


def details_dir(stem: str) -> str:
    """The folder (beside `<stem>.md`) holding the per-check detail."""
    return f"{stem}-details"


def by_area(v: View) -> dict[str, list[Row]]:
    """The view's rows grouped by the file of their area (areas in the view's order; made once)."""
    made = v.derived.get("by_area")
    if made is None:
        made = {}
        for row in v.rows:
            made.setdefault(area_file(row.area), []).append(row)
        v.derived["by_area"] = made
    return made


def _area_lines(v: View, rows: list[Row], summary: str) -> Iterator[str]:
    areas = sorted({r.area for r in rows})
    yield f"# Area {', '.join(md_code(a) for a in areas)}: every check"
    yield ""
    if v.interrupted:
        yield f"> **{interrupted_text(*v.interrupted)}** (this report is partial)"
        yield ""
    yield f"[Back to the summary]({summary}) \u00b7 [all areas](README.md)"
    yield from _checks(v, rows)
    yield from _differences(rows, shown_in_full(v))
    yield from _unsupported(rows)


def _index_lines(v: View, files: dict[str, list[Row]], summary: str,
                 extra: list[tuple[str, str]]) -> Iterator[str]:
    yield "# The report in detail, by area"
    yield ""
    yield (f"[Back to the summary]({summary}). One file per area: its checks with each backend's outcome, "
           "then every difference in full (observed, baseline, registry entry), then the checks a backend "
           "could not run. The HTML report holds the same, filterable; the JSON report holds everything.")
    yield ""
    yield "| area | checks | differences | file |"
    yield "|---|---:|---:|---|"
    for name, rows in files.items():
        areas = ", ".join(md_code(a, table=True) for a in sorted({r.area for r in rows}))
        diffs = sum(r.is_difference for r in rows)
        yield f"| {areas} | {len(rows)} | {diffs} | [{name}]({name}) |"
    yield ""
    for name, title in extra:
        yield f"- [{title}]({name})"


def details_files(v: View, stem: str) -> Iterator[tuple[str, Iterator[str]]]:
    """(file name, its lines) of every file of the details folder, README first."""
    summary = f"../{stem}.md"
    files = by_area(v)
    listed = [*([("sections.md", "Extra sections in full")] if v.sections else []),
              ("claims.md", "Claims of the source documents"),
              ("registry.md", "Registry of documented differences")]
    yield "README.md", _index_lines(v, files, summary, listed)
    for name, rows in files.items():
        yield name, _area_lines(v, rows, summary)
    if v.sections:
        yield "sections.md", _with_title("Extra sections in full", summary, sections_md(v.sections), False)
    yield "claims.md", _with_title("Claims of the source documents", summary, _claims(v))
    yield "registry.md", _with_title("Registry of documented differences", summary, _registry(v))


def _with_title(title: str, summary: str, lines: Iterator[str], promote: bool = True) -> Iterator[str]:
    """A part of the report as a file of its own: `title`, a link back, then the part without its own
    heading (when `promote`, every deeper heading moves one level up)."""
    yield from (f"# {title}", "", f"[Back to the summary]({summary}) \u00b7 [all areas](README.md)")
    for line in lines:
        if promote and line.startswith("## ") and line[3:] == title:
            continue
        if promote and line.startswith("###"):
            line = line[1:]
        yield line


def details_text(doc: dict[str, Any] | View, stem: str = "compatibility") -> dict[str, str]:
    """Every details file as text (for tests and small reports)."""
    v = doc if isinstance(doc, View) else make_view(doc)
    return {name: "\n".join(lines) + "\n" for name, lines in details_files(v, stem)}
