"""The drop-in report: the user's tests per engine, as `doc["sections"]` of a compatibility report."""

from __future__ import annotations

import platform
import re
import sqlite3
from collections import Counter
from importlib import metadata
from typing import Any

from stc_harness.differences import Registry
from stc_harness.dropin.adaptations import ADAPTATIONS
from stc_harness.dropin.matching import lead, match
from stc_harness.dropin.records import BAD, GOOD, NOT_RUN
from stc_harness.dropin.runner import EngineRun
from stc_harness.report.build import SCHEMA_VERSION, now_iso

TURSO_ONLY, BOTH, SQLITE_ONLY, SAME = "turso-only", "both", "sqlite-only", "same"
#: Test ids that name the engine they run on (SQLAlchemy's test plugin names its generated classes
#: `<Test>_sqlite+pysqlite_3_40_1` on SQLite, `<Test>_sqlite+turso_3_50_4` on Turso): one key for both.
ENGINE_IN_ID = re.compile(r"sqlite\+\w+?_\d+_\d+_\d+")
NO_CAUSE = "no known cause"


def engine_free_id(nodeid: str) -> str:
    """The id of a test with the engine it ran on left out (equal for its SQLite and its Turso run)."""
    return ENGINE_IN_ID.sub("<engine>", nodeid)


def _record(run: EngineRun, nodeid: str, by_key: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The record of one test on one engine; a test in a module that did not import gets that error."""
    rec = run.results.get(nodeid) or by_key.get(engine_free_id(nodeid))
    if rec is not None:
        return rec
    for prefix, err in run.collect_errors.items():
        if nodeid.startswith(f"{prefix}::") or nodeid == prefix:
            return {"nodeid": nodeid, "outcome": "error", "phase": "collect", "exc_type": "CollectError",
                    "message": err["message"], "chain": [], "line": prefix, "source": "",
                    "longrepr": err.get("longrepr", "")}
    if run.aborted:  # the engine's run ended (e.g. an INTERNALERROR at start-up) before this test ran
        return {"nodeid": nodeid, "outcome": "error", "phase": "session", "exc_type": "RunAborted",
                "message": f"the {run.engine} run ended before this test: {run.aborted}", "chain": [],
                "line": "", "source": ""}
    return {"nodeid": nodeid, "outcome": NOT_RUN, "message": "no record: the engine's run ended early"}


def category(sqlite: str, turso: str) -> str:
    """Which group a test belongs to by its two outcomes."""
    if sqlite in GOOD and turso in BAD:
        return TURSO_ONLY
    if sqlite in BAD and turso in BAD:
        return BOTH
    if sqlite in BAD and turso in GOOD:
        return SQLITE_ONLY
    return SAME


def merge(nodeids: list[str], runs: dict[str, EngineRun], registry: Registry,
          checks: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One row per test: both outcomes, the category, and for Turso-only failures the likely causes."""
    rows = []
    keys = {e: {engine_free_id(n): rec for n, rec in r.results.items()} for e, r in runs.items()}
    known = {engine_free_id(n) for n in nodeids}
    extra = [n for r in runs.values() for n in r.results if engine_free_id(n) not in known]
    for nodeid in [*nodeids, *{engine_free_id(n): n for n in extra}.values()]:
        s, t = _record(runs["sqlite"], nodeid, keys["sqlite"]), _record(runs["turso"], nodeid, keys["turso"])
        row = {"nodeid": nodeid, "sqlite": s, "turso": t, "category": category(s["outcome"], t["outcome"])}
        if row["category"] == TURSO_ONLY:
            row["causes"] = [c.as_dict() for c in match(t, registry, checks)]
            if not row["causes"]:
                row["lead"] = lead(t)
        rows.append(row)
    return rows


def _exception(rec: dict[str, Any]) -> str:
    text = f"{rec.get('exc_type') or ''}: {rec.get('message') or ''}".strip(": ")
    return text if len(text) <= 300 else text[:297] + "..."


def _line(rec: dict[str, Any]) -> str:
    return f"{rec.get('line', '')}: {rec.get('source', '')}".strip(": ") if rec.get("line") else ""


def _causes(row: dict[str, Any]) -> str:
    causes = row.get("causes") or []
    return "; ".join(f"{c['ref']} ({c['why']})" for c in causes) or f"{NO_CAUSE} ({row.get('lead', '')})"


def sections(rows: list[dict[str, Any]], adapt: bool, runs: dict[str, EngineRun],
             known: str = "") -> list[dict[str, Any]]:
    """The report sections: summary, Turso-only failures, top causes, fails-on-both, adaptations."""
    counts = {e: Counter(r[e]["outcome"] for r in rows) for e in ("sqlite", "turso")}
    outcomes = sorted({o for c in counts.values() for o in c})
    cats = Counter(r["category"] for r in rows)
    summary = [[e, *(counts[e][o] for o in outcomes), len(rows), runs[e].attempts, round(runs[e].duration, 1)]
               for e in ("sqlite", "turso")]
    turso_only = [r for r in rows if r["category"] == TURSO_ONLY]
    cause_count: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for r in turso_only:
        fallback = {"ref": f"{NO_CAUSE}: {r.get('lead', '')}", "title": "a lead for a new check"}
        for c in (r.get("causes") or [])[:1] or [fallback]:
            cause_count[c["ref"]] += 1
            titles[c["ref"]] = c["title"]
    out = [
        {"id": "dropin-summary", "title": "Your tests on SQLite and Turso",
         "intro": (f"{len(rows)} tests, each run on both engines: {cats[TURSO_ONLY]} pass on SQLite and fail "
                   f"on Turso, {cats[BOTH]} fail on both, {cats[SQLITE_ONLY]} fail on SQLite only, "
                   f"{cats[SAME]} behave the same. Adaptations {'on' if adapt else 'off (--dropin-raw)'}. "
                   f"{known}").strip()
                  + "".join(f" The {e} run ended early: {r.aborted}" for e, r in runs.items() if r.aborted),
         "columns": ["engine", *outcomes, "total", "child runs", "seconds"], "rows": summary},
        {"id": "dropin-turso-only", "title": "Pass on SQLite, fail on Turso",
         "intro": "Each with the failing line in your code, the exception, and the known difference(s) it "
                  "most likely hits (registry entries and measured checks), or 'no known cause' (a lead for "
                  "a new check).",
         "columns": ["test", "turso", "failing line", "exception", "likely known cause(s)"],
         "rows": [[r["nodeid"], r["turso"]["outcome"], _line(r["turso"]), _exception(r["turso"]), _causes(r)]
                  for r in turso_only]},
        {"id": "dropin-causes", "title": "Top causes of Turso-only failures",
         "intro": "The most likely cause of each Turso-only failure, counted; failures with no known cause "
                  "are grouped by what they miss or by the shape of their error (leads for new checks).",
         "columns": ["cause", "tests", "title"],
         "rows": [[ref, n, titles[ref]] for ref, n in cause_count.most_common()]},
        {"id": "dropin-both", "title": "Fail on both engines (not Turso's problem)",
         "intro": "These tests fail on SQLite too: fix them first; their Turso outcome says nothing.",
         "columns": ["test", "sqlite", "turso", "exception on SQLite"],
         "rows": [[r["nodeid"], r["sqlite"]["outcome"], r["turso"]["outcome"], _exception(r["sqlite"])]
                  for r in rows if r["category"] == BOTH]},
        {"id": "dropin-sqlite-only", "title": "Fail on SQLite only",
         "intro": "Tests that pass on Turso but not on SQLite.",
         "columns": ["test", "sqlite", "exception on SQLite"],
         "rows": [[r["nodeid"], r["sqlite"]["outcome"], _exception(r["sqlite"])]
                  for r in rows if r["category"] == SQLITE_ONLY]},
        {"id": "dropin-adaptations", "title": "Adaptations the drop-in made",
         "intro": ("Changes on top of plain routing, each with the Turso difference it papers over; "
                   "--dropin-raw switches them all off to see pyturso as it is."),
         "columns": ["adaptation", "active", "what it does", "difference it papers over"],
         "rows": [[a.id, "yes" if adapt else "no", a.does, a.papers_over] for a in ADAPTATIONS]},
    ]
    return out


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def build_doc(rows: list[dict[str, Any]], adapt: bool, runs: dict[str, EngineRun],
              known: str = "") -> dict[str, Any]:
    """A compatibility report (schema 1) whose content is the drop-in sections and the per-test data."""
    import turso

    return {
        "schema_version": SCHEMA_VERSION, "generated_at": now_iso(), "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}".strip(), "reference": "sqlite",
        "backends": [
            {"id": "sqlite", "name": "sqlite", "driver": "sqlite3",
             "driver_version": platform.python_version(), "engine_version": sqlite3.sqlite_version,
             "options": {}},
            {"id": "turso", "name": "turso", "driver": "pyturso", "driver_version": _version("pyturso"),
             "engine_version": turso.sqlite_version, "options": {}},
        ],
        "clients": {n: _version(n) for n in ("aiosqlite", "sqlalchemy", "alembic")},
        "registry": [], "summary": {}, "area_summary": {}, "checks": [],
        "sections": sections(rows, adapt, runs, known),
        "dropin": {"adaptations": adapt, "tests": rows,
                   "engines": {e: {"attempts": r.attempts, "complete": r.complete,
                                   "seconds": round(r.duration, 2), "log": r.log} for e, r in runs.items()}},
    }
