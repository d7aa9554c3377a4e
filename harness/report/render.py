"""Markdown and HTML renderings of the report JSON, both made from one view of the document."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks import CRASH, DOCUMENTED, DRIFT, ERROR, OUTCOMES, TIMEOUT, UNDOCUMENTED, UNSUPPORTED
from harness.sources import DISCOVERY, DOCUMENTS

#: Outcomes that get a section of their own: what each backend observed against the baseline.
DIFF_OUTCOMES = (DOCUMENTED, DRIFT, UNDOCUMENTED, ERROR, CRASH, TIMEOUT)
#: Shown where a (merged) report has no result of a check for a backend.
NOT_RUN = "not-run"
#: Longest value shown whole in the Markdown (the HTML and JSON always show all of it).
MD_VALUE_LIMIT = 600
UNKNOWN_SOURCE = {"document": "unknown", "section": "(the check never reported its source)"}
TEMPLATES = Path(__file__).with_name("templates")
#: Top-level fields shown at the head of a rendering, with their labels.
META = (("generated_at", "generated at"), ("python", "Python"), ("platform", "platform"),
        ("reference", "reference backend"), ("schema_version", "schema version"))


def compact(value: Any) -> str:
    """A value as compact one-line JSON (non-ASCII kept readable)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# --- the view both renderers share --------------------------------------------------------------------


@dataclass
class Cell:
    """One backend's result of one check, with its values already formatted."""

    backend: str
    outcome: str
    observed: str = ""
    baseline: str = ""
    baseline_from: str = ""
    expected: str | None = None
    message: str = ""
    notes: str = ""
    ran: bool = True
    diff: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def has_values(self) -> bool:
        """Whether the check completed, so that there is an observation to show."""
        return self.ran and self.outcome not in (ERROR, CRASH, TIMEOUT, UNSUPPORTED)

    @property
    def matches_baseline(self) -> bool:
        """Whether the observation equals the baseline."""
        return self.observed == self.baseline

    @property
    def expected_observed(self) -> bool:
        """Whether the registry expects exactly what was observed."""
        return self.expected == self.observed

    @property
    def res_json(self) -> str:
        """This cell's `[[backend, outcome]]` as JSON (for the HTML filters)."""
        return compact([[self.backend, self.outcome]])


@dataclass
class Row:
    """One check: identity, source, registry entry, and a cell per backend."""

    anchor: str
    id: str
    area: str
    title: str
    document: str
    section: str
    entry: dict[str, Any] | None
    cells: list[Cell]

    @property
    def res_json(self) -> str:
        """The `[backend, outcome]` pairs as JSON (for the HTML filters)."""
        return compact([[c.backend, c.outcome] for c in self.cells])

    @property
    def is_difference(self) -> bool:
        """Whether any backend's outcome deserves a section of its own."""
        return any(c.outcome in DIFF_OUTCOMES for c in self.cells)

    @property
    def unsupported(self) -> list[Cell]:
        """The cells whose outcome is `unsupported`."""
        return [c for c in self.cells if c.outcome == UNSUPPORTED]


@dataclass
class Claim:
    """A check listed under a document section; `via` names the registry entry citing that section."""

    row: Row
    via: str | None = None


@dataclass
class Section:
    """A document section and the checks measuring its claims."""

    name: str
    claims: list[Claim] = field(default_factory=list)


@dataclass
class Document:
    """A source document and its sections, in a stable order."""

    name: str
    sections: list[Section] = field(default_factory=list)


@dataclass
class View:
    """Everything the renderers show, computed once from the report document."""

    meta: list[tuple[str, str]]
    backends: list[dict[str, Any]]
    merged: bool
    backend_ids: list[str]
    outcomes: list[str]
    areas: list[str]
    totals: dict[str, dict[str, int]]
    area_rows: list[tuple[str, str, dict[str, int]]]
    rows: list[Row]
    registry: list[dict[str, Any]]
    documents: list[Document]

    @property
    def differences(self) -> list[Row]:
        """Checks with a documented difference, drift, undocumented difference, error, crash or timeout."""
        return [r for r in self.rows if r.is_difference]

    @property
    def unsupported(self) -> list[Row]:
        """Checks some backend could not run for want of a capability."""
        return [r for r in self.rows if r.unsupported]


def _source_of(src: Any) -> tuple[str, str]:
    src = src if isinstance(src, dict) and src.get("document") else UNKNOWN_SOURCE
    return str(src.get("document", "")), str(src.get("section", ""))


def _entry(raw: Any) -> dict[str, Any] | None:
    """A registry entry with every field the renderers show (missing ones empty)."""
    if not isinstance(raw, dict):
        return None
    doc, sec = _source_of(raw.get("source"))
    expect = raw.get("expect") if isinstance(raw.get("expect"), dict) else {}
    checks = raw.get("checks") if isinstance(raw.get("checks"), list) else []
    return {"id": str(raw.get("id", "")), "title": str(raw.get("title", "")),
            "file": str(raw.get("file") or ""), "source": {"document": doc, "section": sec},
            "reason": str(raw.get("reason", "")),
            "checks": [str(c) for c in checks], "expect": expect}


def _backend(raw: dict[str, Any]) -> dict[str, Any]:
    """A backend with every field the renderers show (missing ones empty)."""
    out = {k: str(raw.get(k) or "") for k in ("name", "driver", "driver_version", "engine_version", "python",
                                              "file")}
    out["id"] = str(raw["id"])
    out["name"] = out["name"] or out["id"]
    out["options_text"] = compact(raw["options"]) if raw.get("options") else ""
    return out


_ABSENT = object()


def value_diff(observed: Any, baseline: Any, limit: int = 8) -> list[tuple[str, str, str]]:
    """Where an observation differs from its baseline: `(path, observed, baseline)`, at most `limit`."""
    out: list[tuple[str, str, str]] = []

    def show(v: Any) -> str:
        return "(absent)" if v is _ABSENT else compact(v)

    def walk(a: Any, b: Any, path: str) -> None:
        if len(out) >= limit or (a is not _ABSENT and b is not _ABSENT and compact(a) == compact(b)):
            return  # compared as JSON text, so that 1 and 1.0 differ as they do in the report
        if isinstance(a, dict) and isinstance(b, dict):
            for k in [*a, *(k for k in b if k not in a)]:
                walk(a.get(k, _ABSENT), b.get(k, _ABSENT), f"{path}.{k}" if path else str(k))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{i}]")
        else:
            out.append((path, show(a), show(b)))

    walk(observed, baseline, "")
    return [] if len(out) == 1 and not out[0][0] else out


def _cell(backend: dict[str, Any], res: dict[str, Any] | None, entry: dict[str, Any] | None) -> Cell:
    if res is None:
        return Cell(backend["id"], NOT_RUN, ran=False, message="no result for this backend in the report")
    expect = (entry or {}).get("expect") or {}
    name = backend.get("name", backend["id"])
    return Cell(
        backend=backend["id"], outcome=str(res.get("outcome")),
        observed=compact(res.get("observed")), baseline=compact(res.get("baseline")),
        baseline_from=str(res.get("baseline_from") or ""),
        expected=compact(expect[name]) if name in expect else None,
        message=str(res.get("message") or ""),
        notes=compact(res["notes"]) if res.get("notes") else "",
        diff=value_diff(res.get("observed"), res.get("baseline")))


def _document_order(name: str) -> tuple[int, str]:
    if name in DOCUMENTS:
        return (0, f"{DOCUMENTS.index(name):04d}")
    if name == DISCOVERY.document:
        return (3, name)
    return (2 if name == UNKNOWN_SOURCE["document"] else 1, name)


def _documents(rows: list[Row]) -> list[Document]:
    """Checks grouped by document and section; a check also appears under its registry entry's source."""
    found: dict[tuple[str, str], list[Claim]] = {}
    for row in rows:
        found.setdefault((row.document, row.section), []).append(Claim(row))
        if row.entry:
            doc, sec = row.entry["source"]["document"], row.entry["source"]["section"]
            if (doc, sec) != (row.document, row.section):
                found.setdefault((doc, sec), []).append(Claim(row, via=row.entry["id"]))
    docs: dict[str, Document] = {}
    for doc, sec in sorted(found, key=lambda k: (_document_order(k[0]), k[1])):
        claims = sorted(found[(doc, sec)], key=lambda c: (c.row.id, c.via or ""))
        docs.setdefault(doc, Document(doc)).sections.append(Section(sec, claims))
    return list(docs.values())


def make_view(doc: dict[str, Any]) -> View:
    """The shared view of a (validated) report document; summaries are recomputed from the checks."""
    backends = [_backend(b) for b in doc.get("backends") or []]
    ids = [b["id"] for b in backends]
    for row in doc["checks"]:  # a merged or hand-made report may name a backend it does not list
        for b in row["results"]:
            if b not in ids:
                ids.append(b)
                backends.append(_backend({"id": b}))
    rows = []
    for i, raw in enumerate(doc["checks"]):
        document, section = _source_of(raw.get("source"))
        entry = _entry(raw.get("entry"))
        cells = [_cell(b, raw["results"].get(b["id"]), entry) for b in backends]
        rows.append(Row(f"c{i + 1}", raw["id"], raw["area"], str(raw.get("title") or ""), document, section,
                        entry, cells))
    seen = {c.outcome for r in rows for c in r.cells}
    outcomes = [*OUTCOMES, *sorted(seen - set(OUTCOMES) - {NOT_RUN}), *([NOT_RUN] if NOT_RUN in seen else [])]
    totals = {b: dict.fromkeys(outcomes, 0) for b in ids}
    per_area: dict[str, dict[str, dict[str, int]]] = {}
    for row in rows:
        for c in row.cells:
            totals[c.backend][c.outcome] += 1
            area = per_area.setdefault(row.area, {})
            area.setdefault(c.backend, dict.fromkeys(outcomes, 0))[c.outcome] += 1
    areas = sorted(per_area)
    area_rows = [(a, b, per_area[a][b]) for a in areas for b in ids if b in per_area[a]]
    meta = [(label, str(doc[k])) for k, label in META if doc.get(k) not in (None, "")]
    for part in doc.get("merged_from") or []:
        meta.append(("merged from", f"{part.get('file')} (generated {part.get('generated_at')}, "
                                    f"python {part.get('python')}, reference {part.get('reference')})"))
    registry = sorted((e for e in map(_entry, doc.get("registry") or []) if e), key=lambda e: e["id"])
    merged = any(b["file"] for b in backends)
    return View(meta, backends, merged, ids, outcomes, areas, totals, area_rows, rows, registry,
                _documents(rows))


# --- Markdown -----------------------------------------------------------------------------------------

#: Characters that can start Markdown syntax (an underscore only at a word's edge, as in `_em_`; an
#: ampersand only where it would start an entity such as `&lt;`).
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|#~!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?[A-Za-z0-9]+;))")


def md_text(text: str) -> str:
    """Plain text safe in Markdown (also in a table cell): syntax characters escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def md_code(text: str, table: bool = False) -> str:
    """A code span holding `text` verbatim (one line); in a table cell, pipes are escaped."""
    text = " ".join(str(text).splitlines())
    if table:
        text = text.replace("|", "\\|")
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0) + 1
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{'`' * ticks}{pad}{text}{pad}{'`' * ticks}"


def md_block(text: str, indent: str = "") -> list[str]:
    """A fenced code block holding `text` verbatim, indented (to sit inside a list item)."""
    fence = "~" * max(3, max((len(m) for m in re.findall(r"~+", text)), default=0) + 1)
    return [f"{indent}{fence}", *(f"{indent}{line}" for line in text.splitlines()), f"{indent}{fence}"]


def md_source(document: str, section: str, table: bool = False) -> str:
    """`document` § section."""
    return f"{md_code(document, table)} \u00a7 {md_text(section)}"


def upstream_documented(entry: dict[str, Any] | None) -> bool:
    """Whether a registry entry cites a source document or an upstream reference (not only a measurement)."""
    from harness.sources import DOCUMENTS, DRIVER_CONTRACTS

    if not entry:
        return False
    document = str(entry["source"]["document"])
    return document in (*DOCUMENTS, *DRIVER_CONTRACTS) or document.startswith(("http://", "https://"))


def documented_split(rows: list[Row], backend: str) -> tuple[int, int]:
    """(documented upstream, registered from measurement only) among `backend`'s documented differences."""
    upstream = measured = 0
    for row in rows:
        for cell in row.cells:
            if cell.backend == backend and cell.outcome == DOCUMENTED:
                if upstream_documented(row.entry):
                    upstream += 1
                else:
                    measured += 1
    return upstream, measured


def _md_outcome(cell: Cell, row: Row) -> str:
    text = cell.outcome if cell.ran else "\u2014"
    if cell.outcome in (DOCUMENTED, DRIFT) and row.entry:
        kind = "" if upstream_documented(row.entry) else ", measured only"
        text += f" ({md_code(row.entry['id'], table=True)}{kind})"
    return text


def _md_entry(entry: dict[str, Any]) -> list[str]:
    where = f" in {md_code(entry['file'])}" if entry["file"] else ""
    return [f"- Registry entry {md_code(entry['id'])}{where}: {md_text(entry['title'])}",
            f"  - source: {md_source(entry['source']['document'], entry['source']['section'])}",
            f"  - reason: {md_text(entry['reason'])}"]


def md_value(text: str, limit: int = MD_VALUE_LIMIT) -> str:
    """A value in a code span, cut after `limit` characters (the JSON report keeps it whole)."""
    if len(text) <= limit:
        return md_code(text)
    return f"{md_code(text[:limit])} \u2026 ({len(text) - limit} more characters in the JSON report)"


def _md_cell(cell: Cell) -> list[str]:
    out = [f"- **{md_text(cell.backend)}**: {cell.outcome}"]
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
    if cell.message and "\n" in cell.message:
        out += ["  - message:", *md_block(cell.message, "    ")]
    elif cell.message:
        out.append(f"  - message: {md_text(cell.message)}")
    if cell.notes:
        out.append(f"  - notes: {md_value(cell.notes)}")
    return out


def md_tracked(doc: dict[str, Any]) -> list[str]:
    """One line naming the tracked SQLite that attributes differences, or that attribution is unavailable."""
    tracked = doc.get("tracked")
    if not tracked:
        return []
    if not tracked.get("available"):
        return [f"- tracked SQLite: attribution unavailable ({md_text(str(tracked.get('why') or ''))})"]
    return [f"- tracked SQLite: {md_text(str(tracked['id']))}, {md_text(str(tracked['driver']))} "
            f"{md_text(str(tracked['driver_version']))} on SQLite {md_text(str(tracked['engine_version']))}: "
            f"{md_text(str(tracked.get('purpose') or ''))}"]


def md_what_will_change(doc: dict[str, Any]) -> list[str]:
    """The "What will change for your application" section as Markdown: counts, then one line a difference."""
    section = next((s for s in doc.get("sections", []) if s.get("id") == "what-will-change"), None)
    if section is None:
        return []
    out = ["## " + md_text(section["title"]), "", md_text(section["intro"]), ""]
    counts = doc.get("attribution_summary", {})
    for backend, per in counts.get("by_backend", {}).items():
        out.append(f"- {md_text(backend)}: {per.get('turso', 0)} Turso's own, {per.get('sqlite-version', 0)} "
                   f"SQLite version gaps, {per.get('unavailable', 0)} unattributed")
    heading = None
    for whose, impact, cell, backend, entry, what in section["rows"]:
        title = f"{whose}: {impact}" if whose == "Turso's own" else whose
        if title != heading:
            out += ["", f"### {md_text(title)}", ""]
            heading = title
        out.append(f"- [{md_code(cell['text'])}]({cell['href']}) ({md_text(backend)}, {md_code(entry)}): "
                   f"{md_text(what)}")
    return [*out, ""]


def interrupted_text(doc: dict[str, Any]) -> str:
    """"interrupted: N of M checks ran ..." for a report of a run that stopped early, else ""."""
    mark = doc.get("interrupted")
    if not isinstance(mark, dict):
        return ""
    return (f"interrupted: {mark.get('ran')} of {mark.get('total')} checks ran; this report is partial "
            "(a complete report of an earlier run, if any, was left in place)")


def interrupted_lines(doc: dict[str, Any]) -> list[str]:
    """The Markdown banner of an interrupted run (none for a complete one)."""
    text = interrupted_text(doc)
    return [f"> **{md_text(text)}**", ""] if text else []


def render_markdown(doc: dict[str, Any]) -> str:
    """The report as Markdown: summaries, a row per check, a section per difference, the claims by source."""
    v = make_view(doc)
    ids = v.backend_ids
    out = ["# Compatibility report", ""]
    out += interrupted_lines(doc)
    out += [f"- {md_text(k)}: {md_text(val)}" for k, val in v.meta] + md_tracked(doc) + [""]
    out += md_what_will_change(doc)
    extra = ("Python", "report") if v.merged else ()
    out += ["## Backends", "", "| " + " | ".join(("backend", "driver", "driver version", "engine version",
                                                   "options", *extra)) + " |",
            "|---|---|---|---|---|" + "---|" * len(extra)]
    for b in v.backends:
        opts = md_code(b["options_text"], table=True) if b["options_text"] else ""
        more = f" {md_text(b['python'])} | {md_code(b['file'], table=True)} |" if v.merged else ""
        out.append(f"| {md_text(b['id'])} | {md_text(b['driver'])} | {md_text(b['driver_version'])} "
                   f"| {md_text(b['engine_version'])} | {opts} |{more}")
    out += ["", "## Summary", "", "| backend | " + " | ".join(v.outcomes) + " | total |",
            "|---|" + "---:|" * (len(v.outcomes) + 1)]
    for b in ids:
        counts = v.totals[b]
        out.append(f"| {md_text(b)} | " + " | ".join(str(counts[o]) for o in v.outcomes)
                   + f" | {sum(counts.values())} |")
    splits = [(b, *documented_split(v.rows, b)) for b in ids]
    if any(up or meas for _, up, meas in splits):
        out += ["", "Where the documented differences are documented: "
                + "; ".join(f"{md_text(b)}: {up} in a source document or upstream reference, {meas} only in "
                            "this project's registry (measured; no document states them)"
                            for b, up, meas in splits if up or meas) + "."]
    out += ["", "### Per area", "", "| area | backend | " + " | ".join(v.outcomes) + " |",
            "|---|---|" + "---:|" * len(v.outcomes)]
    for area, b, counts in v.area_rows:
        out.append(f"| {md_text(area)} | {md_text(b)} | "
                   + " | ".join(str(counts[o]) for o in v.outcomes) + " |")
    out += ["", "## Checks", "", "| check | title | " + " | ".join(md_text(b) for b in ids) + " | source |",
            "|---|---|" + "---|" * len(ids) + "---|"]
    for row in v.rows:
        out.append(f"| {md_code(row.id, table=True)} | {md_text(row.title)} | "
                   + " | ".join(_md_outcome(c, row) for c in row.cells)
                   + f" | {md_source(row.document, row.section, table=True)} |")
    out += ["", "## Differences", ""]
    if not v.differences:
        out += ["No check differs from its baseline, and none failed to run.", ""]
    for row in v.differences:
        out += [f"### {md_code(row.id)}: {md_text(row.title)}", "",
                f"- Source: {md_source(row.document, row.section)}"]
        out += _md_entry(row.entry) if row.entry else ["- Registry entry: none"]
        for cell in row.cells:
            out += _md_cell(cell)
        out.append("")
    if v.unsupported:
        out += ["## Unsupported", ""]
        for row in v.unsupported:
            for cell in row.unsupported:
                out.append(f"- {md_code(row.id)} on **{md_text(cell.backend)}**: {md_text(cell.message)}")
        out.append("")
    out += ["## Claims of the source documents", "",
            "Every check under the document and section whose claim it measures (and, marked *via*, under "
            "the section its registry entry cites).", ""]
    for document in v.documents:
        out += [f"### {md_code(document.name)}", ""]
        for section in document.sections:
            out += [f"#### {md_text(section.name)}", ""]
            for claim in section.claims:
                via = f" (via entry {md_code(claim.via)})" if claim.via else ""
                res = ", ".join(f"{md_text(c.backend)}: {c.outcome}" for c in claim.row.cells)
                out.append(f"- {md_code(claim.row.id)} {md_text(claim.row.title)}{via}: {res}")
            out.append("")
    out += ["## Registry of documented differences", ""]
    if not v.registry:
        out += ["The registry is empty.", ""]
    else:
        out += ["| entry | title | source | checks | expects on |", "|---|---|---|---|---|"]
        for e in v.registry:
            checks = ", ".join(md_code(c, table=True) for c in e["checks"])
            src = md_source(e["source"]["document"], e["source"]["section"], table=True)
            out.append(f"| {md_code(e['id'], table=True)} | {md_text(e['title'])} | {src} | {checks} | "
                       f"{md_text(', '.join(sorted(e['expect'])))} |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --- HTML ---------------------------------------------------------------------------------------------


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["slug"] = lambda s: re.sub(r"[^a-z0-9]+", "-", str(s).lower()).strip("-")
    return env


def render_html(doc: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (inline CSS and JS, autoescaped, filterable)."""
    view = make_view(doc)
    splits = [(b, *documented_split(view.rows, b)) for b in view.backend_ids]
    return _environment().get_template("report.html.j2").render(
        v=view, diff_outcomes=DIFF_OUTCOMES, splits=splits, upstream=upstream_documented,
        interrupted=interrupted_text(doc))
