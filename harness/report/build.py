"""Build the report document (a versioned JSON-ready dict) from the collected check records."""

from __future__ import annotations

import copy
import datetime as dt
import platform
import re
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from stc_harness.checks import DEFINED
from stc_harness.compat.verdict import sections as compat_sections
from stc_harness.outcomes import (
    ATTRIBUTION_LABELS,
    ATTRIBUTIONS,
    IMPACTS,
    OUTCOMES,
    TRACKED_LABEL,
    TURSO_OWN,
    UNAVAILABLE,
)
from stc_harness.report.entries import entry_of
from stc_harness.report.facts import RunFacts
from stc_harness.report.layers import driver_theme_section
from stc_harness.report.migration import migration_sections, reference_lead

SCHEMA_VERSION = 2
#: Versions `stc_harness.report.schema` reads: 1 is upgraded on load (its attribution is unknown).
READABLE_VERSIONS = (1, 2)

#: The fields of one backend's result of one check, in the order the document lists them.
RESULT_FIELDS = ("outcome", "message", "observed", "baseline", "baseline_from", "attribution",
                 "tracked_observed", "notes", "duration", "nodeid")

#: Fields that differ between two runs of the same checks: `comparable` drops them. Notes are by design
#: shown but never compared (raw messages, timings, retry counts).
VOLATILE_TOP = ("generated_at",)
VOLATILE_RESULT = ("duration", "notes")


#: Where pytest puts a test's `tmp_path` by default: `<tmp>/pytest-of-<user>/pytest-<n>[/popen-gw<k>]/<test>`.
DEFAULT_TMP = r"/(?:[^\s'\"/]+/)*pytest-of-[^\s'\"/]+/pytest-\d+"
TMP_PLACEHOLDER = "<tmp_path>"


def tmp_pattern(basetemp: Any = None) -> re.Pattern[str]:
    """Matches a test's own temporary folder (pytest's default place, or under `basetemp`)."""
    roots = [DEFAULT_TMP] + ([re.escape(str(basetemp).rstrip("/"))] if basetemp else [])
    return re.compile(f"(?:{'|'.join(roots)})(?:/popen-gw\\d+)?/[^\\s'\"/]+")


def scrub_paths(value: Any, pattern: re.Pattern[str]) -> Any:
    """`value` with every test's temporary folder written as `<tmp_path>` (stable across runs and workers)."""
    if isinstance(value, str):
        return pattern.sub(TMP_PLACEHOLDER, value)
    if isinstance(value, dict):
        return {k: scrub_paths(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_paths(v, pattern) for v in value]
    return value


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def outcome_counts(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per backend, how many checks had each outcome."""
    out: dict[str, dict[str, int]] = {}
    for rec in records:
        per = out.setdefault(rec["backend"], dict.fromkeys(OUTCOMES, 0))
        per[rec["outcome"]] = per.get(rec["outcome"], 0) + 1
    return out


def flat_results(checks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One `{check, area, backend, outcome}` per result of every check row."""
    return [{"check": row["id"], "area": row["area"], "backend": backend, "outcome": res["outcome"]}
            for row in checks for backend, res in row["results"].items()]


def area_counts(results: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """Per area, then per backend, how many checks had each outcome (areas sorted)."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for res in results:
        per = out.setdefault(res["area"], {}).setdefault(res["backend"], dict.fromkeys(OUTCOMES, 0))
        per[res["outcome"]] = per.get(res["outcome"], 0) + 1
    return {area: out[area] for area in sorted(out)}


def summarise(doc: dict[str, Any]) -> dict[str, Any]:
    """Recompute `summary` (backend x outcome) and `area_summary` (area x backend x outcome) from `checks`."""
    order = [b["id"] for b in doc["backends"]]
    results = flat_results(doc["checks"])
    counts = outcome_counts(results)
    doc["summary"] = {b: counts[b] for b in [*order, *sorted(set(counts) - set(order))] if b in counts}
    doc["area_summary"] = area_counts(results)
    return doc


#: Impact classes a registry entry states, worst first (the order "What will change for your application"
#: lists them in; a difference without an entry is "undocumented", listed first).
ENTRY_IMPACTS = tuple(IMPACTS)
#: The attributions as "What will change for your application" names them (an unmeasured one in full).
WHOSE = {**ATTRIBUTION_LABELS, UNAVAILABLE: "attribution unavailable"}
#: The order of its groups: Turso's own first, then the unmeasured, then the version gaps.
WHOSE_GROUP = {TURSO_OWN: 0, UNAVAILABLE: 1}
WHAT_WILL_CHANGE = "what-will-change"


def attribution_counts(checks: Iterable[dict[str, Any]],
                       registry: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Results that differ, counted by attribution: per backend, per area and per impact (of the entry)."""
    out: dict[str, dict[str, dict[str, int]]] = {"by_backend": {}, "by_area": {}, "by_impact": {}}
    for row in checks:
        for backend, res in row["results"].items():
            found = res.get("attribution")
            if not found:
                continue
            impact = entry_of(row, backend, registry or {}).get("impact") or "undocumented"
            for part, key in (("by_backend", backend), ("by_area", row["area"]), ("by_impact", impact)):
                per = out[part].setdefault(key, dict.fromkeys(ATTRIBUTIONS, 0))
                per[found] = per.get(found, 0) + 1
    for part in ("by_area", "by_impact"):
        order = ENTRY_IMPACTS if part == "by_impact" else sorted(out[part])
        keys = [*order, *sorted(set(out[part]) - set(order))]
        out[part] = {k: out[part][k] for k in keys if k in out[part]}
    return out


def _cell(check_id: str) -> dict[str, str]:
    return {"text": check_id, "href": f"#{check_id}"}


def what_will_change(doc: dict[str, Any]) -> dict[str, Any]:
    """The first report section: Turso's own differences by impact, worst first; then the version gaps."""
    rows: list[tuple[int, int, str, list[Any]]] = []
    registry = {e["id"]: e for e in doc.get("registry", [])}
    for row in doc["checks"]:
        for backend, res in row["results"].items():
            found = res.get("attribution")
            if not found:
                continue
            entry = entry_of(row, backend, registry)
            impact = entry.get("impact") or "undocumented"
            rank = ENTRY_IMPACTS.index(impact) if impact in ENTRY_IMPACTS else -1
            group = WHOSE_GROUP.get(found, 2)
            rows.append((group, rank, row["id"], [WHOSE.get(found, found), impact,
                                                  _cell(row["id"]), backend, entry.get("id") or "(none)",
                                                  entry.get("title") or row["title"]]))
    rows.sort(key=lambda r: r[:3])
    tracked = doc.get("tracked") or {}
    if tracked.get("available"):
        by = (f"Attributed by the {TRACKED_LABEL}, SQLite {tracked.get('engine_version')} "
              f"({tracked.get('driver')} {tracked.get('driver_version')})"
              f"{': ' + tracked['purpose'] if tracked.get('purpose') else ''}. ")
    else:
        why = tracked.get("why") or "no tracked SQLite"
        by = f"Attribution unavailable ({why}): no difference is called Turso's own or a version gap. "
    return {"id": WHAT_WILL_CHANGE, "title": "What will change for your application", "lead": True,
            "intro": by + "Every difference a backend shows against the reference SQLite, one line each: "
                     "Turso's own first, grouped by impact, worst first (silent data change, lost or extra "
                     "writes, an error appearing or disappearing, a different error, a missing API or "
                     "refused feature, cosmetic); then the SQLite version gaps, where the SQLite release "
                     "Turso tracks observes exactly what Turso does (a newer SQLite brings it too).",
            "columns": ["whose", "impact", "check", "backend", "registry entry", "what"],
            "rows": [r[3] for r in rows]}


def add_attribution(doc: dict[str, Any]) -> dict[str, Any]:
    """Add the attribution summary and the "What will change" section (first in `sections`)."""
    doc["attribution_summary"] = attribution_counts(doc["checks"],
                                                    {e["id"]: e for e in doc.get("registry", [])})
    sections = [s for s in doc.get("sections", []) if s.get("id") != WHAT_WILL_CHANGE]
    lead = reference_lead(doc)  # judged against libSQL: what changes from it to Turso comes first
    doc["sections"] = [*([lead] if lead else []), what_will_change(doc),
                       *(s for s in sections if not lead or s.get("id") != lead["id"])]
    return doc


def new_row(check_id: str, area: str, **more: Any) -> dict[str, Any]:
    """An empty report row of one check (`more` fields before its results): records or rows fill it in."""
    return {"id": check_id, "area": area, "layer": None, "title": "", "source": None, "entry": None, **more,
            "results": {}}


def fill_row(row: dict[str, Any], part: dict[str, Any]) -> None:
    """Take layer, title and source from a record or another report's row where `row` lacks them.

    A crash record (and a version 1 report) may not know them: the first that does wins.
    """
    row["layer"] = row["layer"] or part.get("layer")
    row["title"] = row["title"] or part.get("title") or ""
    row["source"] = row["source"] or part.get("source")


def check_rows(records: Iterable[dict[str, Any]], registry: Any = None,
               tmp: re.Pattern[str] | None = None) -> list[dict[str, Any]]:
    """Group records into one row per check (sorted by id), with results keyed by backend id (sorted).

    Messages and notes name each test's temporary folder as `<tmp_path>`, so that two runs of the same
    checks (serial or on xdist workers) give the same document.
    """
    tmp = tmp or tmp_pattern()
    rows: dict[str, dict[str, Any]] = {}
    for rec in sorted(records, key=lambda r: (r["check"], r["backend"])):
        row = rows.get(rec["check"])
        if row is None:
            row = rows[rec["check"]] = new_row(rec["check"], rec["area"])
        fill_row(row, rec)
        if rec.get("entry"):
            row.setdefault("_entries", {})[rec["backend"]] = rec["entry"]
        res = {k: rec.get(k) for k in RESULT_FIELDS}
        res["message"], res["notes"] = scrub_paths(res["message"], tmp), scrub_paths(res["notes"], tmp)
        row["results"][rec["backend"]] = res
    for row in rows.values():
        spec = DEFINED.get(row["id"])  # a check defined in this process: a crash record lacks its title
        if spec is not None:
            row["title"] = row["title"] or spec.title
            row["source"] = row["source"] or spec.source.as_dict()
        row["layer"] = row["layer"] or (spec.layer if spec is not None else "engine")
        per_backend = row.pop("_entries", {})
        main = registry.for_check(row["id"]) if registry is not None else None
        row["entry"] = main.as_dict() if main is not None else next(iter(per_backend.values()), None)
        main_id = row["entry"]["id"] if row["entry"] else None
        others = {b: e["id"] for b, e in per_backend.items() if main_id and e["id"] != main_id}
        if others:  # a plugin backend's own entry beside the main one (see Registry)
            row["entries"] = others
        if not row["title"]:
            row["title"] = "(unknown: the check never reported its title)"
    return [rows[k] for k in sorted(rows)]


def build_report(facts: RunFacts, records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The report: schema version, backends with versions, the registry, summaries, one row per check."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now_iso(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}".strip(),
        "reference": facts.reference,
        "tracked": facts.tracked,
        "backends": facts.backends,
        "registry": sorted((e.as_dict() for e in facts.registry.entries.values()), key=lambda e: e["id"]),
        "summary": {},
        "area_summary": {},
        "checks": check_rows(records, facts.registry, tmp_pattern(facts.basetemp)),
    }
    add_sections(add_attribution(summarise(doc)))
    section = driver_theme_section(doc)
    if section is not None:
        doc.setdefault("sections", []).append(section)
    doc.setdefault("sections", []).extend(migration_sections(doc))
    return doc


def add_sections(doc: dict[str, Any]) -> dict[str, Any]:
    """Append the compat sections (Turso's compatibility claims, measured) when the run has compat checks."""
    found = compat_sections(doc)
    if found:
        doc.setdefault("sections", []).extend(found)
    return doc


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of `doc` without what differs between two runs of the same checks (times, durations, notes)."""
    out = copy.deepcopy(doc)
    for key in VOLATILE_TOP:
        out.pop(key, None)
    for part in out.get("merged_from", []):
        for key in VOLATILE_TOP:
            part.pop(key, None)
    for row in out.get("checks", []):
        for res in row.get("results", {}).values():
            for key in VOLATILE_RESULT:
                res.pop(key, None)
    return out


# --- merging several reports ---------------------------------------------------------------------------

#: How `merge_reports` labels backends: "auto" keeps ids unless they collide.
LABEL_MODES = ("auto", "backend", "python", "file")


def _minor(python: Any) -> str:
    return ".".join(str(python or "?").split(".")[:2])


def _label(backend: dict[str, Any], doc: dict[str, Any], stem: str, mode: str) -> str:
    """The first-choice label of one backend of one report under `mode`."""
    bid = str(backend["id"])
    if mode == "backend":
        return f"{bid}@{backend.get('driver_version') or '?'}"
    if mode == "python":
        return f"{bid}/py{_minor(doc.get('python'))}"
    if mode == "file":
        return f"{bid}/{stem}"
    return bid


def _file_tags(names: list[str]) -> list[str]:
    """A short tag per report file: its stem, else its folder's name, whichever tells them apart."""
    stems = [PurePath(n).stem for n in names]
    folders = [PurePath(n).parent.name or PurePath(n).stem for n in names]
    return stems if len(set(stems)) == len(stems) or len(set(folders)) != len(folders) else folders


def backend_labels(docs: list[tuple[str, dict[str, Any]]], mode: str = "auto") -> list[dict[str, str]]:
    """Per report, backend id -> a label unique across all reports.

    `auto` keeps ids that are unique and turns colliding ones into `id@driver_version/pyX.Y`; any label
    still shared gets `/<file tag>` appended (the file's stem, or its folder's name when stems repeat),
    then `/<n>`, n being the report's position (from 1).
    """
    if mode not in LABEL_MODES:
        raise ValueError(f"label mode {mode!r}: choose one of {', '.join(LABEL_MODES)}")
    keys = [(i, str(b["id"])) for i, (_, doc) in enumerate(docs) for b in doc["backends"]]
    info = {(i, str(b["id"])): b for i, (_, doc) in enumerate(docs) for b in doc["backends"]}
    tags = _file_tags([name for name, _ in docs])
    labels = {k: _label(info[k], docs[k[0]][1], tags[k[0]], mode) for k in keys}

    def clashing() -> set[tuple[int, str]]:
        seen: dict[str, list[tuple[int, str]]] = {}
        for k in keys:
            seen.setdefault(labels[k], []).append(k)
        return {k for ks in seen.values() if len(ks) > 1 for k in ks}

    if mode == "auto":
        for k in clashing():
            python = _minor(docs[k[0]][1].get("python"))
            labels[k] = f"{k[1]}@{info[k].get('driver_version') or '?'}/py{python}"
    if mode != "file":
        for k in clashing():
            labels[k] = f"{labels[k]}/{tags[k[0]]}"
    for k in clashing():
        labels[k] = f"{labels[k]}/{k[0] + 1}"
    return [{bid: labels[(i, bid)] for (j, bid) in keys if j == i} for i in range(len(docs))]


def merge_reports(docs: list[tuple[str, dict[str, Any]]], mode: str = "auto") -> dict[str, Any]:
    """One report from several `(file name, validated doc)`: backends relabelled, checks united by id."""
    labels = backend_labels(docs, mode)
    backends: list[dict[str, Any]] = []
    rows: dict[str, dict[str, Any]] = {}
    registry: dict[str, dict[str, Any]] = {}
    merged_from = []
    for (name, doc), relabel in zip(docs, labels, strict=True):
        for b in doc["backends"]:
            backends.append({**b, "id": relabel[str(b["id"])], "original_id": b["id"], "file": name,
                             "python": doc.get("python")})
        ref = doc.get("reference")
        merged_from.append({"file": name, "generated_at": doc.get("generated_at"),
                            "python": doc.get("python"), "platform": doc.get("platform"),
                            "reference": relabel.get(str(ref), ref)})
        for entry in doc.get("registry") or []:
            known = registry.get(str(entry.get("id")))
            if known is None or (entry.get("impact") and not known.get("impact")):  # v2's entry over v1's
                registry[str(entry.get("id"))] = entry
        for raw in doc["checks"]:
            row = rows.get(raw["id"])
            if row is None:
                row = rows[raw["id"]] = new_row(raw["id"], raw["area"], entries={})
            fill_row(row, raw)
            newer = raw.get("entry") or {}
            if not row["entry"] or (not row["entry"].get("impact") and newer.get("impact")):
                row["entry"] = newer or row["entry"]
            for bid, res in raw["results"].items():
                row["results"][relabel.get(bid, f"{bid}/{name}")] = res
            for bid, eid in (raw.get("entries") or {}).items():
                row["entries"][relabel.get(bid, f"{bid}/{name}")] = eid
    pythons = sorted({str(d.get("python")) for _, d in docs if d.get("python")})
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now_iso(),
        "python": ", ".join(pythons),
        "reference": merged_from[0]["reference"] if merged_from else None,
        "merged_from": merged_from,
        # a report that measured attribution says how (a v1 report, upgraded, says it did not)
        "tracked": next((d["tracked"] for _, d in docs if (d.get("tracked") or {}).get("available")),
                        next((d["tracked"] for _, d in docs if d.get("tracked")), None)),
        "backends": backends,
        "registry": [registry[k] for k in sorted(registry)],
        "summary": {},
        "area_summary": {},
        "checks": [rows[k] for k in sorted(rows)],
    }
    order = {b["id"]: i for i, b in enumerate(backends)}
    for row in doc["checks"]:
        row["results"] = {k: row["results"][k]
                          for k in sorted(row["results"], key=lambda k: (order.get(k, len(order)), k))}
        for key in ("layer", "entries"):
            if not row[key]:
                del row[key]
    return add_attribution(summarise(doc))
