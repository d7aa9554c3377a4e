"""The one view of a report document that Markdown and HTML share, light enough for 50,000 results.

A row keeps its raw results and only the outcomes as plain data; the formatted values of a result (a
`Cell`) are made on demand, so that a report with tens of thousands of results is never copied whole.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from stc_harness.outcomes import (
    ATTRIBUTIONS,
    CRASH,
    DOCUMENTED,
    DRIFT,
    ERROR,
    IMPACTS,
    LAYERS,
    NOT_RUN,
    OUTCOMES,
    TIMEOUT,
    UNDOCUMENTED,
    UNSUPPORTED,
)
from stc_harness.report.encode import compact
from stc_harness.sources import DISCOVERY, DOCUMENTS, DRIVER_CONTRACTS

#: Outcomes that get a section of their own: what each backend observed against the baseline.
DIFF_OUTCOMES = (DOCUMENTED, DRIFT, UNDOCUMENTED, ERROR, CRASH, TIMEOUT)
UNKNOWN_SOURCE = {"document": "unknown", "section": "(the check never reported its source)"}
#: Top-level fields shown at the head of a rendering, with their labels.
META = (("generated_at", "generated at"), ("python", "Python"), ("platform", "platform"),
        ("reference", "reference backend"), ("schema_version", "schema version"))
#: The filter value of a result without an attribution, or of a check whose entry has no impact.
NO_VALUE = "none"
_DIFF_SET = frozenset(DIFF_OUTCOMES)
_ABSENT = object()
#: Types whose equal values (of the same type) are always written alike (a float's sign of zero is not).
_EXACT = frozenset((str, int, bool, type(None)))






def value_diff(observed: Any, baseline: Any, limit: int = 8) -> list[tuple[str, str, str]]:
    """Where an observation differs from its baseline: `(path, observed, baseline)`, at most `limit`."""
    out: list[tuple[str, str, str]] = []

    def show(v: Any) -> str:
        return "(absent)" if v is _ABSENT else compact(v)

    def walk(a: Any, b: Any, path: str) -> None:
        if len(out) >= limit:
            return
        if a is not _ABSENT and type(a) is type(b) and a == b \
                and (type(a) in _EXACT or compact(a) == compact(b)):
            return  # equal as JSON text: 1 and 1.0 (or 1 and true, 0.0 and -0.0) differ as in the report
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


class Cell:
    """One backend's result of one check, its values formatted (made only for checks shown in full)."""

    __slots__ = ("_diff", "backend", "baseline", "expected", "notes", "observed", "outcome", "res")

    def __init__(self, backend: str, outcome: str, res: dict[str, Any] | None, expect: Any = _ABSENT) -> None:
        self.backend, self.outcome, self.res = backend, outcome, res
        raw = res or {}
        #: The observation and the baseline as compact JSON.
        self.observed: str = compact(raw.get("observed"))
        self.baseline: str = compact(raw.get("baseline"))
        #: What the registry entry expects of this backend, as compact JSON (None: no expectation).
        self.expected: str | None = None if expect is _ABSENT else compact(expect)
        #: The result's notes as compact JSON ("" when none).
        self.notes: str = compact(raw["notes"]) if raw.get("notes") else ""
        self._diff: list[tuple[str, str, str]] | None = None

    @property
    def ran(self) -> bool:
        """Whether the report has a result of this check for this backend."""
        return self.res is not None

    @property
    def message(self) -> str:
        """The result's message (or why there is no result)."""
        if self.res is None:
            return "no result for this backend in the report"
        return str(self.res.get("message") or "")

    @property
    def attribution(self) -> str | None:
        """Whose difference this is ("turso", "sqlite-version", "unavailable"), when the run says."""
        value = (self.res or {}).get("attribution")
        return str(value) if value else None

    @property
    def baseline_from(self) -> str:
        """Which backend (or claim) gave the baseline."""
        return str((self.res or {}).get("baseline_from") or "")

    @property
    def diff(self) -> list[tuple[str, str, str]]:
        """Where the observation differs from the baseline."""
        if self._diff is None:
            res = self.res or {}
            self._diff = [] if self.matches_baseline else value_diff(res.get("observed"), res.get("baseline"))
        return self._diff

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


@dataclass
class Row:
    """One check: identity, source, registry entry, its outcome per backend and its raw results."""

    id: str
    area: str
    layer: str | None
    title: str
    document: str
    section: str
    entry: dict[str, Any] | None
    backends: list[dict[str, Any]]
    outcomes: tuple[str, ...]
    results: dict[str, Any]
    is_difference: bool
    _cells: list[Cell] | None = field(default=None, repr=False, compare=False)

    @property
    def anchor(self) -> str:
        """The fragment naming this check in the HTML report (its id)."""
        return self.id

    @property
    def cells(self) -> list[Cell]:
        """A cell per backend; kept for a difference (both renderings show it whole), else made anew."""
        if self._cells is not None:
            return self._cells
        expect = (self.entry or {}).get("expect") or {}
        out = []
        for b, outcome in zip(self.backends, self.outcomes, strict=True):
            res = self.results.get(b["id"])
            out.append(Cell(b["id"], outcome, res if isinstance(res, dict) else None,
                            expect.get(b["name"], _ABSENT)))
        if self.is_difference:
            self._cells = out
        return out

    def forget_cells(self) -> None:
        """Drop the kept cells (a rendering that is done with them frees their memory)."""
        self._cells = None

    @property
    def unsupported(self) -> list[tuple[str, str]]:
        """(backend, reason) of each result whose outcome is `unsupported`."""
        if UNSUPPORTED not in self.outcomes:
            return []
        out = []
        for b, outcome in zip(self.backends, self.outcomes, strict=True):
            if outcome == UNSUPPORTED:
                res = self.results.get(b["id"])
                out.append((b["id"], str((res if isinstance(res, dict) else {}).get("message") or "")))
        return out

    def attributions(self) -> list[str | None]:
        """Per backend, whose difference the result is (None where the result does not say)."""
        out: list[str | None] = []
        for b in self.backends:
            res = self.results.get(b["id"])
            value = res.get("attribution") if isinstance(res, dict) else None
            out.append(str(value) if value else None)
        return out


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
    interrupted: tuple[int, int] | None = None
    sections: list[dict[str, Any]] = field(default_factory=list)
    #: The reference backend's id ("" when the document does not name one).
    reference: str = ""
    #: The drop-in block of a drop-in report (its sections come first, its empty check tables go).
    dropin: dict[str, Any] | None = None
    #: Data derived from the view that several renderings share, made once (by the module deriving it).
    derived: dict[str, Any] = field(default_factory=dict)

    @property
    def is_dropin(self) -> bool:
        """Whether this is a drop-in report (the user's own tests)."""
        return self.dropin is not None

    @cached_property
    def splits(self) -> list[tuple[str, int, int]]:
        """Per backend: (backend, documented upstream, documented by measurement only)."""
        counts = {b: [0, 0] for b in self.backend_ids}
        upstream: dict[int, bool] = {}  # rows share their entry objects: decide once per entry
        for row in self.rows:
            if DOCUMENTED not in row.outcomes:
                continue
            key = id(row.entry)
            if key not in upstream:
                upstream[key] = upstream_documented(row.entry)
            for b, outcome in zip(self.backend_ids, row.outcomes, strict=True):
                if outcome == DOCUMENTED:
                    counts[b][0 if upstream[key] else 1] += 1
        return [(b, up, meas) for b, (up, meas) in counts.items()]

    @cached_property
    def documents(self) -> list[Document]:
        """Checks grouped by the document and section whose claim they measure."""
        return _documents(self.rows)

    @cached_property
    def differences(self) -> list[Row]:
        """Checks with a documented difference, drift, undocumented difference, error, crash or timeout."""
        return [r for r in self.rows if r.is_difference]

    @cached_property
    def unsupported(self) -> list[Row]:
        """Checks some backend could not run for want of a capability."""
        return [r for r in self.rows if UNSUPPORTED in r.outcomes]

    @cached_property
    def layers(self) -> list[str]:
        """The layers the checks name, in the contract's order (empty when no row names one)."""
        if not any(r.layer for r in self.rows):
            return []
        seen = {r.layer or "engine" for r in self.rows}  # the contract's default layer
        return [x for x in LAYERS if x in seen] + sorted(seen - set(LAYERS))

    @cached_property
    def attributions(self) -> list[str]:
        """The attributions the results carry (with `none` for results without one), or empty."""
        if not any("attribution" in res for r in self.rows for res in r.results.values()):
            return []
        seen = {a for r in self.rows for a in r.attributions()}
        if seen <= {None}:
            return []
        named = [x for x in ATTRIBUTIONS if x in seen]
        rest = sorted(str(x) for x in seen - {None, *ATTRIBUTIONS})
        return [*named, *rest, *([NO_VALUE] if None in seen else [])]

    @cached_property
    def impacts(self) -> list[str]:
        """The impact classes the rows' registry entries carry (with `none`), or empty."""
        seen = {impact_of(r.entry) for r in self.rows}
        if seen <= {None}:
            return []
        order = tuple(IMPACTS)
        rest = sorted(str(x) for x in seen - {None, *order})
        return [*(x for x in order if x in seen), *rest, *([NO_VALUE] if None in seen else [])]


def impact_of(entry: dict[str, Any] | None) -> str | None:
    """The impact class of a registry entry, if it has one."""
    value = (entry or {}).get("impact")
    return str(value) if value else None


def source_of(src: Any) -> tuple[str, str]:
    """(document, section) of a source (the unknown source when it is missing)."""
    src = src if isinstance(src, dict) and src.get("document") else UNKNOWN_SOURCE
    return str(src.get("document", "")), str(src.get("section", ""))


def normalise_entry(raw: Any) -> dict[str, Any] | None:
    """A registry entry with every field the renderers show (missing ones empty)."""
    if not isinstance(raw, dict):
        return None
    doc, sec = source_of(raw.get("source"))
    expect = raw.get("expect") if isinstance(raw.get("expect"), dict) else {}
    checks = raw.get("checks") if isinstance(raw.get("checks"), list) else []
    return {"id": str(raw.get("id", "")), "title": str(raw.get("title", "")),
            "file": str(raw.get("file") or ""), "source": {"document": doc, "section": sec},
            "reason": str(raw.get("reason", "")), "impact": impact_of(raw),
            "attribution": str(raw["attribution"]) if raw.get("attribution") else None,
            "checks": [str(c) for c in checks], "expect": expect}


def _backend(raw: dict[str, Any]) -> dict[str, Any]:
    """A backend with every field the renderers show (missing ones empty)."""
    out = {k: str(raw.get(k) or "") for k in ("name", "driver", "driver_version", "engine_version", "python",
                                              "file")}
    out["id"] = str(raw["id"])
    out["name"] = out["name"] or out["id"]
    out["options_text"] = compact(raw["options"]) if raw.get("options") else ""
    return out


def tracked_meta(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The tracked SQLite that attributes differences, or why attribution is unavailable (a meta line)."""
    tracked = doc.get("tracked")
    if not isinstance(tracked, dict):
        return []
    if not tracked.get("available"):
        return [("tracked SQLite", f"attribution unavailable ({tracked.get('why') or 'not configured'})")]
    what = f"{tracked.get('id')}: {tracked.get('driver')} {tracked.get('driver_version')}"
    purpose = tracked.get("purpose") or ""
    return [("tracked SQLite", f"{what} on SQLite {tracked.get('engine_version')}: {purpose}")]


def upstream_documented(entry: dict[str, Any] | None) -> bool:
    """Whether a registry entry cites a source document or an upstream reference (not only a measurement)."""
    if not entry:
        return False
    document = str(entry["source"]["document"])
    return (document in (*DOCUMENTS, *DRIVER_CONTRACTS) or document.startswith(("http://", "https://"))
            or ":COMPAT.md" in document)


def documented_split(rows: list[Row], backend: str) -> tuple[int, int]:
    """(documented upstream, registered from measurement only) among `backend`'s documented differences."""
    upstream = measured = 0
    for row in rows:
        for b, outcome in zip(row.backends, row.outcomes, strict=True):
            if b["id"] == backend and outcome == DOCUMENTED:
                if upstream_documented(row.entry):
                    upstream += 1
                else:
                    measured += 1
    return upstream, measured


def _document_order(name: str) -> tuple[int, str]:
    if name in DOCUMENTS:
        return (0, f"{DOCUMENTS.index(name):04d}")
    if name == DISCOVERY.document:
        return (3, name)
    return (2 if name == UNKNOWN_SOURCE["document"] else 1, name)


def _documents(rows: list[Row]) -> list[Document]:
    """Checks grouped by document and section; a check also appears under its registry entry's source."""
    found: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for n, row in enumerate(rows):
        found.setdefault((row.document, row.section), []).append((row.id, "", n))
        if row.entry:
            doc, sec = row.entry["source"]["document"], row.entry["source"]["section"]
            if (doc, sec) != (row.document, row.section):
                found.setdefault((doc, sec), []).append((row.id, row.entry["id"], n))
    docs: dict[str, Document] = {}
    for doc, sec in sorted(found, key=lambda k: (_document_order(k[0]), k[1])):
        found[(doc, sec)].sort()  # by check id, then the entry it is listed via (tuples sort in C)
        claims = [Claim(rows[n], via or None) for _, via, n in found[(doc, sec)]]
        docs.setdefault(doc, Document(doc)).sections.append(Section(sec, claims))
    return list(docs.values())


def _interrupted(doc: dict[str, Any]) -> tuple[int, int] | None:
    mark = doc.get("interrupted")
    if not isinstance(mark, dict):
        return None
    try:
        return int(mark.get("ran", 0)), int(mark.get("total", 0))
    except (TypeError, ValueError):
        return None


def _sections(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's extra sections, each with every field present (bad ones shown as empty)."""
    out = []
    for i, raw in enumerate(doc.get("sections") or []):
        if not isinstance(raw, dict):
            continue
        columns = [str(c) for c in raw.get("columns") or []]
        rows = [list(r) for r in raw.get("rows") or [] if isinstance(r, list | tuple)]
        out.append({"id": str(raw.get("id") or f"section-{i + 1}"), "title": str(raw.get("title") or ""),
                    "intro": str(raw.get("intro") or ""), "columns": columns, "rows": rows,
                    "lead": bool(raw.get("lead"))})
    return out


def make_view(doc: dict[str, Any]) -> View:
    """The shared view of a (validated) report document; summaries are recomputed from the checks."""
    backends = [_backend(b) for b in doc.get("backends") or []]
    ids = [b["id"] for b in backends]
    known = set(ids)
    for raw in doc["checks"]:  # a merged or hand-made report may name a backend it does not list
        for b in raw["results"]:
            if b not in known:
                known.add(b)
                ids.append(b)
                backends.append(_backend({"id": b}))
    entries: dict[Any, list[tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    shapes: dict[tuple[str, ...], tuple[tuple[str, ...], bool]] = {}  # shared outcome tuples, is_difference
    rows = []
    per_shape: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for raw in doc["checks"]:
        document, section = source_of(raw.get("source"))
        ent = raw.get("entry")
        entry = None
        if isinstance(ent, dict):  # rows citing equal entries share one normalised copy
            alike = entries.setdefault(ent.get("id"), [])
            entry = next((norm for raw_entry, norm in alike if raw_entry == ent), None)
            if entry is None:
                entry = normalise_entry(ent)
                alike.append((ent, entry))
        results = raw["results"]
        outcomes = tuple([str(results[b]["outcome"]) if b in results else NOT_RUN for b in ids])
        shape = shapes.get(outcomes)
        if shape is None:
            shape = shapes[outcomes] = (outcomes, any(o in _DIFF_SET for o in outcomes))
        per_shape[(raw["area"], shape[0])] += 1
        layer = raw.get("layer")
        rows.append(Row(raw["id"], raw["area"], str(layer) if layer else None, str(raw.get("title") or ""),
                        document, section, entry, backends, shape[0], results, shape[1]))
    seen = {o for shape in shapes for o in shape}
    totals: dict[str, dict[str, int]] = {b: {} for b in ids}
    per_area: dict[str, dict[str, dict[str, int]]] = {}
    for (area_name, shape_outcomes), n in per_shape.items():
        area = per_area.setdefault(area_name, {})
        for b, o in zip(ids, shape_outcomes, strict=True):
            totals[b][o] = totals[b].get(o, 0) + n
            counts = area.setdefault(b, {})
            counts[o] = counts.get(o, 0) + n
    outcomes = [*OUTCOMES, *sorted(seen - set(OUTCOMES) - {NOT_RUN}), *([NOT_RUN] if NOT_RUN in seen else [])]
    totals = {b: {o: totals[b].get(o, 0) for o in outcomes} for b in ids}
    areas = sorted(per_area)
    area_rows = [(a, b, {o: per_area[a][b].get(o, 0) for o in outcomes})
                 for a in areas for b in ids if b in per_area[a]]
    meta = [(label, str(doc[k])) for k, label in META if doc.get(k) not in (None, "")]
    meta += tracked_meta(doc)
    for part in doc.get("merged_from") or []:
        meta.append(("merged from", f"{part.get('file')} (generated {part.get('generated_at')}, "
                                    f"python {part.get('python')}, reference {part.get('reference')})"))
    registry = sorted((e for e in map(normalise_entry, doc.get("registry") or []) if e),
                      key=lambda e: e["id"])
    merged = any(b["file"] for b in backends)
    dropin = doc.get("dropin")
    return View(meta, backends, merged, ids, outcomes, areas, totals, area_rows, rows, registry,
                _interrupted(doc), _sections(doc), str(doc.get("reference") or ""),
                dropin if isinstance(dropin, dict) else None)
