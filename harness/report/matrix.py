"""The version matrix: each check's outcome per report (backend x pyturso x Python), changes first.

`python -m stc_harness matrix [--out DIR] [--title TEXT] REPORT...` reads several compatibility reports
(a `compatibility.json`, a folder holding one, or `LABEL=PATH`) and writes `matrix.json`, `matrix.md`
and `matrix.html` into DIR. A report's column label is its folder name unless given as `LABEL=`.

Two results of a check are the same *behaviour* when both the outcome and the observation are equal
(notes, messages and timings are never compared). Columns of one backend and one Python version form
a series ordered by driver version; a check whose behaviour differs between consecutive versions is
listed under "what changed in <driver> <version>". Differences between Python versions of one driver
version, and between runs of the very same driver version, are listed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jinja2

from stc_harness.outcomes import DIFFERS, DOCUMENTED, LOUD, OUTCOMES, SAME, SQLITE_BACKENDS, UNDOCUMENTED
from stc_harness.report.matrix_grid import ABSENT, grid, version_key
from stc_harness.report.schema import ReportError, load_report
from stc_harness.report.write import write_atomic

MATRIX_SCHEMA_VERSION = 1
TEMPLATES = Path(__file__).parent / "templates"
OUTCOME_ORDER = (*OUTCOMES, ABSENT)
#: What the "changed in" column says of a check that differs for another reason than the version.
STATUS_NOTE = {"python": "Python version", "unstable": "between runs"}
#: Shorter names of the two long outcomes, for table cells.
SHORT = {DOCUMENTED: "documented", UNDOCUMENTED: "undocumented"}


@dataclass(frozen=True)
class Column:
    """One backend of one report: a column of the matrix."""

    label: str
    backend: str
    name: str
    driver: str
    driver_version: str
    engine_version: str
    python: str
    report: str

    @property
    def python_minor(self) -> str:
        """`3.11` of `3.11.7`."""
        return ".".join(self.python.split(".")[:2])


# --- reading ------------------------------------------------------------------------------------------


def resolve(spec: str) -> tuple[str, Path]:
    """`LABEL=PATH`, a report file or a folder holding `compatibility.json` -> (label, file)."""
    label, sep, rest = spec.partition("=")
    path = Path(rest if sep and label and "/" not in label else spec)
    label = label if sep and label and "/" not in label else ""
    if path.is_dir():
        path = path / "compatibility.json"
    if not label:
        label = path.parent.name if path.name == "compatibility.json" and path.parent.name else path.stem
    return label, path


def columns_of(label: str, doc: dict[str, Any], report: str = "") -> list[Column]:
    """The columns of one report: one per backend it ran (labelled `label/backend` when several)."""
    backends = doc.get("backends") or []
    out = []
    for b in backends:
        out.append(Column(label=label if len(backends) == 1 else f"{label}/{b['id']}", backend=b["id"],
                          name=str(b.get("name") or b["id"]), driver=str(b.get("driver") or ""),
                          driver_version=str(b.get("driver_version") or "unknown"),
                          engine_version=str(b.get("engine_version") or "unknown"),
                          python=str(doc.get("python") or "unknown"), report=report))
    return out


# --- the model ----------------------------------------------------------------------------------------


def _cell(res: dict[str, Any] | None) -> dict[str, Any]:
    if res is None:
        return {"outcome": ABSENT, "observed": None, "message": "this report has no result for the check"}
    return {"outcome": res.get("outcome", ABSENT), "observed": res.get("observed"),
            "message": res.get("message") or ""}


def behaviour(cell: dict[str, Any]) -> str:
    """What two cells must share to behave the same: outcome and observation (canonical JSON)."""
    return json.dumps([cell["outcome"], cell["observed"]], sort_keys=True, default=str)


def _series(columns: list[Column]) -> dict[tuple[str, str], list[list[Column]]]:
    """(backend, Python) -> columns grouped by driver version, oldest first."""
    out: dict[tuple[str, str], dict[str, list[Column]]] = {}
    for col in columns:
        out.setdefault((col.backend, col.python_minor), {}).setdefault(col.driver_version, []).append(col)
    return {key: [groups[v] for v in sorted(groups, key=version_key)] for key, groups in out.items()}


SAME_PART = "\u2026"


def delta(before: Any, after: Any) -> tuple[Any, Any]:
    """The parts of two observations that differ: equal dict keys dropped, equal list items as `\u2026`."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in {**before, **after} if before.get(k, ABSENT) != after.get(k, ABSENT)]
        pairs = {k: delta(before.get(k, ABSENT), after.get(k, ABSENT)) for k in keys}
        return ({k: b for k, (b, _) in pairs.items() if k in before},
                {k: a for k, (_, a) in pairs.items() if k in after})
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        items = [delta(b, a) if b != a else (SAME_PART, SAME_PART)
                 for b, a in zip(before, after, strict=True)]
        return [b for b, _ in items], [a for _, a in items]
    return before, after


def _change(row: dict[str, Any], before: Column, after: Column) -> dict[str, Any] | None:
    a, b = row["cells"][before.label], row["cells"][after.label]
    if behaviour(a) == behaviour(b):
        return None
    what = "outcome" if a["outcome"] != b["outcome"] else "observation"
    out = {"check": row["id"], "title": row["title"], "what": what, "before": a, "after": b,
           "python": after.python_minor, "delta": None}
    if a["observed"] is not None and b["observed"] is not None and a["observed"] != b["observed"]:
        d_before, d_after = delta(a["observed"], b["observed"])
        out["delta"] = {"before": d_before, "after": d_after}
    return out


def _version_changes(rows: list[dict[str, Any]], columns: list[Column]) -> list[dict[str, Any]]:
    """Per (backend, from -> to version): the checks that behave differently, on which Pythons."""
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for (backend, _py), versions in sorted(_series(columns).items()):
        for older, newer in itertools.pairwise(versions):
            before, after = older[0], newer[0]
            key = (backend, after.driver, before.driver_version, after.driver_version)
            group = groups.setdefault(key, {
                "backend": backend, "driver": after.driver, "from": before.driver_version,
                "to": after.driver_version, "pythons": [], "columns": [], "checks": {}})
            group["pythons"].append(after.python_minor)
            group["columns"].append([before.label, after.label])
            for row in rows:
                change = _change(row, before, after)
                if change is not None:
                    got = group["checks"].setdefault(row["id"], {**change, "pythons": []})
                    got["pythons"].append(after.python_minor)
    out = []
    for key in sorted(groups, key=lambda k: (k[0], version_key(k[3]), version_key(k[2]))):
        group = groups[key]
        group["checks"] = [group["checks"][c] for c in sorted(group["checks"])]
        out.append(group)
    return out


def _spread(rows: list[dict[str, Any]], sets: Iterable[tuple[str, list[Column]]]) -> list[dict[str, Any]]:
    """For each named set of columns, the checks whose behaviour is not the same in all of them."""
    out = []
    for name, cols in sets:
        if len(cols) < 2:
            continue
        checks = []
        for row in rows:
            seen = {behaviour(row["cells"][c.label]) for c in cols}
            if len(seen) > 1:
                checks.append({"check": row["id"], "title": row["title"],
                               "cells": {c.label: row["cells"][c.label] for c in cols}})
        out.append({"set": name, "columns": [c.label for c in cols], "checks": checks})
    return out


def build_matrix(reports: list[tuple[str, dict[str, Any]]], title: str = "Compatibility matrix",
                 paths: dict[str, str] | None = None) -> dict[str, Any]:
    """The matrix document from (label, report) pairs: columns, per-check cells, and what changed."""
    columns: list[Column] = []
    results: dict[str, dict[str, dict[str, Any]]] = {}  # column label -> check id -> result
    meta: dict[str, dict[str, Any]] = {}
    for label, doc in reports:
        for col in columns_of(label, doc, (paths or {}).get(label, "")):
            if col.label in results:
                raise ValueError(f"two reports have the label {col.label!r}: name them LABEL=PATH")
            columns.append(col)
            results[col.label] = {row["id"]: row.get("results", {}).get(col.backend)
                                  for row in doc.get("checks", [])}
        for row in doc.get("checks", []):
            info = meta.setdefault(row["id"], {"id": row["id"], "area": row.get("area", ""), "title": "",
                                               "source": None})
            info["title"] = info["title"] or row.get("title") or ""
            info["source"] = info["source"] or row.get("source")
    columns.sort(key=lambda c: (c.name != "sqlite", c.backend, version_key(c.driver_version),
                                version_key(c.python), c.label))
    rows = [{**meta[cid], "cells": {c.label: _cell(results[c.label].get(cid)) for c in columns}}
            for cid in sorted(meta)]
    changes = _version_changes(rows, columns)
    python_sets = []
    by_version: dict[tuple[str, str], list[Column]] = {}
    for col in columns:
        by_version.setdefault((col.backend, col.driver_version), []).append(col)
    for (backend, version), cols in sorted(by_version.items()):
        firsts = {c.python_minor: c for c in reversed(cols)}
        ordered = sorted(firsts.values(), key=lambda c: version_key(c.python))
        python_sets.append((f"{backend} {version}", ordered))
    repeat_sets = [(f"{backend} {group[0].driver_version} on Python {py}", group)
                   for (backend, py), versions in sorted(_series(columns).items()) for group in versions]
    changed_in: dict[str, list[str]] = {}
    for group in changes:
        for change in group["checks"]:
            changed_in.setdefault(change["check"], []).append(f"{group['backend']} {group['to']}")
    python_diffs = [s for s in _spread(rows, python_sets) if s["checks"]]
    unstable = [s for s in _spread(rows, repeat_sets) if s["checks"]]
    py_ids = {c["check"] for s in python_diffs for c in s["checks"]}
    unstable_ids = {c["check"] for s in unstable for c in s["checks"]}
    for row in rows:
        row["changed_in"] = sorted(set(changed_in.get(row["id"], [])))
        row["status"] = ("changed" if row["changed_in"] else "python" if row["id"] in py_ids
                         else "unstable" if row["id"] in unstable_ids else "stable")
    rank = {"changed": 0, "python": 1, "unstable": 2, "stable": 3}
    rows.sort(key=lambda r: (rank[r["status"]], r["id"]))
    summary = {col.label: dict.fromkeys(OUTCOME_ORDER, 0) for col in columns}
    for row in rows:
        for label, cell in row["cells"].items():
            summary[label][cell["outcome"]] = summary[label].get(cell["outcome"], 0) + 1
    return {
        "schema": "conformance-matrix",
        "schema_version": MATRIX_SCHEMA_VERSION,
        "title": title,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "columns": [{**asdict(c), "header": h} for c, h in zip(columns, headers(columns), strict=True)],
        "summary": summary,
        "changes": changes,
        "python_differences": python_diffs,
        "unstable": unstable,
        "sqlite_axis": sqlite_axis(rows, columns),
        "checks": rows,
    }


def sqlite_axis(rows: list[dict[str, Any]], columns: list[Column]) -> dict[str, Any]:
    """For each check where Turso differs, the SQLite releases observing what Turso does, and the first.

    The points are the columns of the SQLite backends (`SQLITE_BACKENDS`: the stdlib one and sqlean.py's,
    the tracked SQLite at its pinned release), one per engine version (the newest Python's column where
    several); Turso's column is its newest driver version.
    """
    points: dict[str, Column] = {}
    for col in sorted(columns, key=lambda c: version_key(c.python)):
        if col.name in SQLITE_BACKENDS:
            points[col.engine_version] = col
    releases = sorted(points, key=version_key)
    tursos = [c for c in columns if c.name == "turso"]
    if not releases or not tursos:
        return {"releases": releases, "turso": None, "gaps": []}
    turso = max(tursos, key=lambda c: (version_key(c.driver_version), version_key(c.python)))
    gaps = []
    for row in rows:
        cell = row["cells"][turso.label]
        if cell["outcome"] not in DIFFERS or cell["observed"] is None:
            continue
        seen = compact(cell["observed"])
        like = {v for v in releases if row["cells"][points[v].label]["observed"] is not None
                and compact(row["cells"][points[v].label]["observed"]) == seen}
        if like:
            gaps.append({"check": row["id"], "title": row["title"], "first": min(like, key=version_key),
                         "like_turso": {v: v in like for v in releases}})
    gaps.sort(key=lambda g: (version_key(g["first"]), g["check"]))
    return {"releases": releases, "turso": turso.label, "gaps": gaps}


def headers(columns: list[Column]) -> list[str]:
    """Column headings: backend, driver and version (and Python when several); the labels if ambiguous."""
    several_pythons = len({c.python_minor for c in columns}) > 1
    out = [f"{c.backend} ({c.driver} {c.driver_version}" + (f", py{c.python_minor})" if several_pythons
                                                              else ")") for c in columns]
    if len(set(out)) < len(out):
        return [c.label for c in columns]
    return out


# --- Markdown -----------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def md(text: Any) -> str:
    """Plain one-line text, safe in Markdown and in a table cell."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def md_code(text: str, limit: int = 160) -> str:
    """Text as a one-line code span for a table cell (shortened, pipes escaped)."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    text = text.replace("|", "\\|")
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def compact(value: Any) -> str:
    """An observation as one line of JSON (keys sorted, non-ASCII kept)."""
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def short(outcome: str) -> str:
    """A table cell for an outcome: loud ones in capitals."""
    text = SHORT.get(outcome, outcome)
    return f"**{text.upper()}**" if outcome in LOUD else ("\u2014" if outcome == ABSENT else text)


def _md_behaviour(cell: dict[str, Any], observed: Any = None) -> str:
    if cell["observed"] is not None:
        shown = cell["observed"] if observed is None else observed
        return f"{short(cell['outcome'])} {md_code(compact(shown))}"
    return f"{short(cell['outcome'])}: {md(cell['message'][:160])}"


def render_markdown(matrix: dict[str, Any]) -> str:
    """The matrix as Markdown: columns, what changed per version, other disagreements, every check."""
    cols = matrix["columns"]
    rows = matrix["checks"]
    n_changed = sum(r["status"] != "stable" for r in rows)
    out = [f"# {md(matrix['title'])}", "",
           f"{len(rows)} checks in {len(cols)} columns; {n_changed} behave differently across versions "
           "or runs (outcome or observation).", "",
           "| column | backend | driver | engine | Python | same | documented | other |",
           "|---|---|---|---|---|---|---|---|"]
    for col in cols:
        counts = matrix["summary"][col["label"]]
        other = ", ".join(f"{n} {'not in report' if o == ABSENT else SHORT.get(o, o)}"
                          for o, n in counts.items() if n and o not in (SAME, DOCUMENTED))
        out.append(f"| {md(col['header'])} ({md_code(col['label'])}) | {md(col['backend'])} | "
                   f"{md(col['driver'])} {md(col['driver_version'])} | {md(col['engine_version'])} | "
                   f"{md(col['python'])} | {counts[SAME]} | {counts[DOCUMENTED]} | "
                   f"{md(other) or '0'} |")
    out.append("")
    for group in matrix["changes"]:
        head = f"## What changed in {md(group['driver'])} {md(group['to'])} ({md(group['backend'])}, " \
               f"from {md(group['from'])})"
        out += [head, ""]
        if not group["checks"]:
            out += ["Nothing: every check behaves as before.", ""]
            continue
        out += [f"| check | {md(group['from'])} | {md(group['to'])} | Python |", "|---|---|---|---|"]
        for ch in group["checks"]:
            pys = ", ".join(ch["pythons"])
            d = ch["delta"] or {"before": None, "after": None}
            out.append(f"| {md_code(ch['check'])} {md(ch['title'])} | "
                       f"{_md_behaviour(ch['before'], d['before'])} | "
                       f"{_md_behaviour(ch['after'], d['after'])} | {md(pys)} |")
        out.append("")
    for key, heading in (("python_differences", "Differences between Python versions"),
                         ("unstable", "Differences between runs of the same versions")):
        if not matrix[key]:
            continue
        out += [f"## {heading}", ""]
        for spread in matrix[key]:
            out.append(f"- {md(spread['set'])}: " + ", ".join(md_code(c["check"]) for c in spread["checks"]))
        out.append("")
    out += md_sqlite_axis(matrix)
    header = [next(c["header"] for c in cols if c["label"] == label) for label in (c["label"] for c in cols)]
    out += ["## Every check", "",
            "Checks that behave differently across columns come first. Cells: the outcome "
            "(loud ones in capitals; \u2014 = not in that report).", "",
            "| check | changed in | " + " | ".join(md(h) for h in header) + " |",
            "|---|---|" + "---|" * len(cols)]
    for row in rows:
        changed = ", ".join(row["changed_in"]) or STATUS_NOTE.get(row["status"], "")
        cells = " | ".join(short(row["cells"][c["label"]]["outcome"]) for c in cols)
        out.append(f"| {md_code(row['id'])} | {md(changed)} | {cells} |")
    return "\n".join(out) + "\n"


def md_sqlite_axis(matrix: dict[str, Any]) -> list[str]:
    """The SQLite-version axis: for each version gap, the first SQLite release that behaves like Turso."""
    axis = matrix.get("sqlite_axis") or {}
    if not axis.get("gaps"):
        return []
    releases = axis["releases"]
    out = ["## SQLite releases that behave like Turso", "",
           f"Checks where Turso ({md_code(axis['turso'])}) differs from the reference and a SQLite "
           "release observes exactly what Turso does: a SQLite version gap, not Turso's own "
           "(\u2713 = observes what Turso does).", "",
           "| check | first SQLite release | " + " | ".join(md(v) for v in releases) + " |",
           "|---|---|" + "---|" * len(releases)]
    for gap in axis["gaps"]:
        marks = " | ".join("\u2713" if gap["like_turso"][v] else "" for v in releases)
        out.append(f"| {md_code(gap['check'])} | {md(gap['first'])} | {marks} |")
    return [*out, ""]


# --- HTML ---------------------------------------------------------------------------------------------


def render_html(matrix: dict[str, Any]) -> str:
    """The matrix as one self-contained HTML page (Jinja2, autoescaped, inline CSS, no scripts)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["compact"] = compact
    env.filters["short"] = lambda o: {**SHORT, ABSENT: "\u2014"}.get(o, o)
    areas, series = grid(matrix)
    return env.get_template("matrix.html.j2").render(m=matrix, outcomes=OUTCOME_ORDER, areas=areas,
                                                     series=series)


# --- command line -------------------------------------------------------------------------------------


def write_matrix(matrix: dict[str, Any], out: Path) -> list[Path]:
    """Write matrix.json, matrix.md and matrix.html into `out` (atomically)."""
    files = [(out / "matrix.json", json.dumps(matrix, indent=2) + "\n"),
             (out / "matrix.md", render_markdown(matrix)),
             (out / "matrix.html", render_html(matrix))]
    for path, text in files:
        write_atomic(path, text)
    return [p for p, _ in files]


def main(argv: list[str]) -> int:
    """`matrix [--out DIR] [--title TEXT] REPORT...`: merge reports into the version matrix."""
    parser = argparse.ArgumentParser(prog="python -m stc_harness matrix", description=main.__doc__)
    parser.add_argument("reports", nargs="+", metavar="REPORT",
                        help="compatibility.json, a folder holding one, or LABEL=PATH")
    parser.add_argument("--out", default="reports/matrix", help="folder for matrix.{json,md,html}")
    parser.add_argument("--title", default="Compatibility matrix")
    args = parser.parse_args(argv[1:])
    loaded, paths = [], {}
    try:
        for spec in args.reports:
            label, path = resolve(spec)
            loaded.append((label, load_report(path)))
            paths[label] = str(path)
        matrix = build_matrix(loaded, args.title, paths)
    except (ReportError, ValueError) as exc:
        print(f"matrix: {exc}")
        return 2
    paths = write_matrix(matrix, Path(args.out))
    changed = sum(len(g["checks"]) for g in matrix["changes"])
    print(f"matrix: {len(matrix['columns'])} columns, {len(matrix['checks'])} checks, "
          f"{changed} version changes -> {paths[1]} (.json, .html)")
    return 0
