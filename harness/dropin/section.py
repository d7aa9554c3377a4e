"""The drop-in report: the user's tests per engine, their divergences and causes, as report sections.

"Same" means ran to completion on both engines with the same outcome; a test that did not run on one of
them (skipped there only, deselected, never reached because a run ended early) is its own category, with
a warning in the headline. Every Turso-only failure is explained by its first divergent call (both sides
shown) and a cause with its confidence; the migration list orders causes by the tests fixing them unblocks.
"""

from __future__ import annotations

import platform
import re
import sqlite3
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path
from typing import Any

from stc_harness.dropin.adaptations import ADAPTATIONS
from stc_harness.dropin.align import divergence_text
from stc_harness.dropin.causes import LIKELY, PROVEN, UNKNOWN, Knowledge
from stc_harness.dropin.explain import TestEvidence, Traces, evidence
from stc_harness.dropin.lock_left import left_by
from stc_harness.dropin.records import BAD, ERROR, GOOD, NOT_RUN, SKIPPED
from stc_harness.dropin.runner import EngineRun, different_code
from stc_harness.dropin.terminal import cut
from stc_harness.report.build import SCHEMA_VERSION, now_iso

TURSO_ONLY, BOTH, SQLITE_ONLY, SAME = "turso-only", "both", "sqlite-only", "same"
SAME_ADAPTED, SKIPPED_BOTH, INCOMPLETE = "same-with-adaptations", "skipped-on-both", "did-not-run-on-both"
#: Each category as pytest's last line counts it.
CATEGORY_LABELS = {TURSO_ONLY: "fail on Turso only", BOTH: "fail on both", SQLITE_ONLY: "fail on SQLite only",
                   SAME: "same", SAME_ADAPTED: "same thanks to an adaptation",
                   SKIPPED_BOTH: "skipped on both", INCOMPLETE: "did not run on both"}
#: Test ids that name the engine they run on (SQLAlchemy's test plugin names its generated classes
#: `<Test>_sqlite+pysqlite_3_40_1` on SQLite, `<Test>_sqlite+turso_3_50_4` on Turso): one key for both.
ENGINE_IN_ID = re.compile(r"sqlite\+\w+?_\d+_\d+_\d+")


def engine_free_id(nodeid: str) -> str:
    """The id of a test with the engine it ran on left out (equal for its SQLite and its Turso run)."""
    return ENGINE_IN_ID.sub("<engine>", nodeid)


def _record(run: EngineRun, nodeid: str, by_key: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The record of one test on one engine; a test in a module that did not import gets that error."""
    rec = run.results.get(nodeid) or by_key.get(engine_free_id(nodeid))
    if rec is not None:
        return rec
    for prefix, err in run.collect_errors.items():
        if nodeid.startswith((f"{prefix}::", f"{prefix}.")) or nodeid == prefix:
            return {
                "nodeid": nodeid,
                "outcome": ERROR,
                "phase": "collect",
                "exc_type": "CollectError",
                "message": err["message"],
                "chain": [],
                "line": prefix,
                "source": "",
                "longrepr": err.get("longrepr", ""),
            }
    why = (
        f"the {run.engine} run ended before this test: {run.aborted}"
        if run.aborted
        else f"no record: the {run.engine} run did not run this test (deselected, or it ended early)"
    )
    return {"nodeid": nodeid, "outcome": NOT_RUN, "message": why}


def category(sqlite: str, turso: str) -> str:
    """Which group a test belongs to by its two outcomes."""
    if NOT_RUN in (sqlite, turso):
        return INCOMPLETE
    if sqlite == SKIPPED and turso == SKIPPED:
        return SKIPPED_BOTH
    if SKIPPED in (sqlite, turso):
        return INCOMPLETE
    if sqlite in GOOD and turso in BAD:
        return TURSO_ONLY
    if sqlite in BAD and turso in BAD:
        return BOTH
    if sqlite in BAD and turso in GOOD:
        return SQLITE_ONLY
    return SAME


def collected_ids(runs: dict[str, EngineRun]) -> list[str]:
    """The tests the engines' runs collected: SQLite's in its order, then any only Turso's run collected."""
    first = runs["sqlite"].collected
    seen = {engine_free_id(n) for n in first}
    return [*first, *(n for n in runs["turso"].collected if engine_free_id(n) not in seen)]


def merge(
    nodeids: list[str],
    runs: dict[str, EngineRun],
    knowledge: Knowledge,
    folder: Path | None = None,
    control: bool = False,
) -> list[dict[str, Any]]:
    """One row per test: both outcomes, the category, and for Turso-only failures the evidence.

    In a control run (both runs on SQLite) every traced test is aligned: any divergence is noise the
    normalisation missed, recorded on the row as `control_divergence`.
    """
    rows = []
    keys = {e: {engine_free_id(n): rec for n, rec in r.results.items()} for e, r in runs.items()}
    known = {engine_free_id(n) for n in nodeids}
    extra = [n for r in runs.values() for n in r.results if engine_free_id(n) not in known]
    for nodeid in [*nodeids, *{engine_free_id(n): n for n in extra}.values()]:
        s, t = _record(runs["sqlite"], nodeid, keys["sqlite"]), _record(runs["turso"], nodeid, keys["turso"])
        rows.append(
            {"nodeid": nodeid, "sqlite": s, "turso": t, "category": category(s["outcome"], t["outcome"])}
        )
    if folder is None:
        return rows
    wanted = rows if control else [r for r in rows if r["category"] in (TURSO_ONLY, SAME)]
    traces = Traces.load(
        folder,
        {r["sqlite"].get("nodeid", r["nodeid"]) for r in wanted},
        {r["turso"].get("nodeid", r["nodeid"]) for r in wanted},
    )
    setups: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        tid = row["turso"].get("nodeid", row["nodeid"])
        if control:
            found = evidence(traces, row["sqlite"].get("nodeid", row["nodeid"]), tid, row["turso"], knowledge)
            if found.divergences:
                row["control_divergence"] = found.divergences[0].as_dict()
        if row["category"] == SAME:
            inert = traces.inert_names(tid)
            if inert:
                row["category"], row["adapted_by"] = SAME_ADAPTED, inert
        elif row["category"] == TURSO_ONLY:
            key = _setup_error(row)
            # the fixture's error where it ran for this test's own class first, else for its module
            scoped = (row["nodeid"].rpartition("::")[0], *key[1:]) if key else ()
            earlier = (setups.get(scoped) or setups.get(key)) if key else None
            ev = evidence(traces, row["sqlite"].get("nodeid", row["nodeid"]), tid, row["turso"], knowledge)
            if earlier is not None and _nothing_of_its_own(ev, traces.turso.get(tid, {}).get("events")):
                # a shared fixture's error re-raised from pytest's cache: the test did not run on Turso
                # (SQLite ran it on); what broke the fixture where it ran is what breaks this test
                row["evidence"] = {**earlier["evidence"], "shared_setup": earlier["nodeid"]}
                row["confidence"] = earlier["confidence"]
                continue
            row["evidence"] = ev.as_dict()
            row["confidence"] = _confidence(ev)
            if key:
                setups.setdefault(key, row)
                setups.setdefault(scoped, row)
    _blame_locks_left_open(rows, traces)
    return rows


def _blame_locks_left_open(rows: list[dict[str, Any]], traces: Traces) -> None:
    """A Turso-only lock that an earlier test's transaction, left open on Turso only, caused: that
    test's cause is this one's (see stc_harness.dropin.lock_left)."""
    by_turso_id = {row["turso"].get("nodeid", row["nodeid"]): row for row in rows}
    for row in rows:
        if row["category"] != TURSO_ONLY or "evidence" not in row or row["evidence"].get("shared_setup"):
            continue
        tid = row["turso"].get("nodeid", row["nodeid"])
        found = left_by(row, traces.sqlite.get(row["sqlite"].get("nodeid", row["nodeid"]), {}),
                        traces.turso.get(tid, {}))
        if found is None:
            continue
        earlier = by_turso_id.get(found[0])
        left = {"left_open_by": found[0], "left_open_file": found[1]}
        if earlier is not None and earlier.get("evidence", {}).get("cause") is not None:
            row["evidence"] = {**earlier["evidence"], **left}
            row["confidence"] = earlier["confidence"]
        else:
            row["evidence"] = {**row["evidence"], **left}


def _nothing_of_its_own(ev: TestEvidence, events: list[Any] | None) -> bool:
    """A test whose Turso trace explains nothing of its set-up failure: no call at all (the fixture's
    cached error), or only a wall with nothing found behind it (its teardown's calls, say)."""
    if not events or ev.cause is None:
        return True
    return ev.divergences[ev.cause].made_inert and ev.then is None and not ev.same_wall


def _setup_error(row: dict[str, Any]) -> tuple[str, ...]:
    """For a test that failed in its set-up on Turso: its module and the error (else empty)."""
    t = row["turso"]
    if t.get("phase") != "setup":
        return ()
    return (row["nodeid"].split("::", 1)[0], str(t.get("exc_type")), str(t.get("message")),
            str(t.get("raised_at")))


def _confidence(ev: TestEvidence) -> str:
    if ev.cause is None:
        return UNKNOWN
    return ev.explanations[ev.cause].confidence


def _cause(row: dict[str, Any]) -> dict[str, Any] | None:
    ev = row.get("evidence") or {}
    index = ev.get("cause")
    return ev["divergences"][index] if index is not None else None


def _exception(rec: dict[str, Any]) -> str:
    text = f"{rec.get('exc_type') or ''}: {rec.get('message') or ''}".strip(": ")
    return cut(text, 300)


def _line(rec: dict[str, Any]) -> str:
    return f"{rec.get('line', '')}: {rec.get('source', '')}".strip(": ") if rec.get("line") else ""


def cause_text(row: dict[str, Any]) -> str:
    """The cause of a Turso-only failure in one line: confidence, reference and title."""
    d = _cause(row)
    if d is None:
        ev = row.get("evidence") or {}
        if ev.get("divergences"):
            return (f"{UNKNOWN}: no call diverged before the failure (the calls listed are what SQLite "
                    f"went on to make after it; the difference is outside the traced calls: files, time, "
                    f"environment); the failure itself: {_exception(row['turso'])}")
        return (
            f"{UNKNOWN}: no divergent call in the traces ({'traced' if ev.get('traced') else 'not traced'});"
            f" the failure itself: {_exception(row['turso'])}"
        )
    e = d["explanation"]
    text = f"{e['confidence']}: {e['ref']} ({cut(e['title'], 160)}); {cut(e['why'], 200)}"
    ev = row.get("evidence") or {}
    if ev.get("then") is not None:  # the cause is a name made inert: what the run met behind it
        n = ev["divergences"][ev["then"]]
        behind = n["explanation"]
        text += (f". Behind that wall (with the name made inert) the test fails at {n['call']} "
                 f"[{n['kind']}]: {behind['confidence']}: {behind['ref']} ({cut(behind['title'], 120)})")
    elif ev.get("same_wall"):
        text += (". Behind that wall the run fails on the same missing name: what the inert call would have "
                 "registered is absent (no such function)")
    if ev.get("left_open_by"):
        text += (f". Seen in {ev['left_open_by']}, which ended on Turso (not on SQLite) with a transaction "
                 f"open on {ev['left_open_file']}: this test is locked out by that transaction")
    if ev.get("shared_setup"):
        text += (f". Seen in {ev['shared_setup']}, whose set-up ran the fixture this test shares: on Turso "
                 "pytest re-raised its error here without running anything")
    return text


def _cause_key(d: dict[str, Any]) -> str:
    return str(d["explanation"]["ref"])


def migration(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """Each cause with the tests it blocks, ordered by how many tests fixing it alone would unblock."""
    blocks: dict[str, set[str]] = defaultdict(set)
    info: dict[str, dict[str, Any]] = {}
    alone: Counter[str] = Counter()
    for row in rows:
        if row["category"] != TURSO_ONLY:
            continue
        ev = row.get("evidence") or {}
        majors = [d for d in ev.get("divergences", []) if d["severity"] == "major"] or (
            [_cause(row)] if _cause(row) else []
        )
        keys = {_cause_key(d) for d in majors}
        if not keys:
            keys = {f"{UNKNOWN}: untraced failure"}
            info.setdefault(next(iter(keys)), {"confidence": UNKNOWN, "title": "no divergent call recorded"})
        for d in majors:
            info.setdefault(
                _cause_key(d),
                {
                    "confidence": d["explanation"]["confidence"],
                    "title": d["explanation"]["title"],
                    "first": divergence_text(d),
                },
            )
        for key in keys:
            blocks[key].add(row["nodeid"])
        if len(keys) == 1:
            alone[next(iter(keys))] += 1
    order = sorted(blocks, key=lambda k: (-alone[k], -len(blocks[k]), k))
    return [
        [
            k,
            alone[k],
            len(blocks[k]),
            info[k]["confidence"],
            cut(info[k]["title"], 200),
            info[k].get("first", ""),
            ", ".join(sorted(blocks[k])[:5]) + (" …" if len(blocks[k]) > 5 else ""),
        ]
        for k in order
    ]


def _drafts(rows: list[dict[str, Any]]) -> list[list[Any]]:
    seen: dict[str, list[Any]] = {}
    for row in rows:
        d = _cause(row)
        if d is None or d["explanation"]["confidence"] != UNKNOWN:
            continue
        key = d["explanation"]["ref"]
        if key in seen:
            seen[key][1] += 1
            continue
        draft = d["explanation"].get("draft", {})
        seen[key] = [
            key,
            1,
            divergence_text(d),
            draft.get("impact", ""),
            row["evidence"].get("repro", ""),
            row["nodeid"],
        ]
    return sorted(seen.values(), key=lambda r: (-r[1], r[0]))


def headline(rows: list[dict[str, Any]], adapt: bool, runs: dict[str, EngineRun], known: str) -> str:
    """The summary sentence: every category, the confidence of the causes, and the warnings."""
    cats = Counter(r["category"] for r in rows)
    conf = Counter(r.get("confidence", UNKNOWN) for r in rows if r["category"] == TURSO_ONLY)
    text = (
        f"{len(rows)} tests. {cats[TURSO_ONLY]} pass on SQLite and fail on Turso (cause {PROVEN}: "
        f"{conf[PROVEN]}, {LIKELY}: {conf[LIKELY]}, {UNKNOWN}: {conf[UNKNOWN]}); {cats[BOTH]} fail on "
        f"both; {cats[SQLITE_ONLY]} fail on SQLite only; {cats[SAME] + cats[SAME_ADAPTED]} behave the same "
        f"(ran to completion on both engines)"
    )
    text += f", {cats[SAME_ADAPTED]} of them only thanks to an adaptation" if cats[SAME_ADAPTED] else ""
    text += f"; {cats[SKIPPED_BOTH]} skipped on both." if cats[SKIPPED_BOTH] else "."
    if cats[INCOMPLETE]:
        text += (
            f" WARNING: {cats[INCOMPLETE]} tests did not run on both engines (skipped on one only, "
            "deselected, or a run ended early): they are not counted as the same."
        )
    mixed = different_code(runs)
    if mixed:
        text += (
            " WARNING: the two engines ran different client code (" + "; ".join(mixed) + "): a suite put "
            "its own copy first on one side only; compare with care."
        )
    if known.startswith("Control run"):
        noisy = sum(1 for r in rows if "control_divergence" in r)
        text += f" CONTROL RUN (SQLite on both sides): {noisy} tests show a divergence (must be 0)."
    text += f" Adaptations {'on' if adapt else 'off (--dropin-raw)'}. {known}".rstrip()
    text += "".join(f" The {e} run ended early: {r.aborted}" for e, r in runs.items() if r.aborted)
    return text


def sections(
    rows: list[dict[str, Any]], adapt: bool, runs: dict[str, EngineRun], known: str = ""
) -> list[dict[str, Any]]:
    """The report sections: summary, Turso-only failures, migration list, leads, the other categories."""
    counts = {e: Counter(r[e]["outcome"] for r in rows) for e in ("sqlite", "turso")}
    outcomes = sorted({o for c in counts.values() for o in c})
    summary = [
        [e, *(counts[e][o] for o in outcomes), len(rows), runs[e].attempts, round(runs[e].duration, 1)]
        for e in ("sqlite", "turso")
    ]
    turso_only = [r for r in rows if r["category"] == TURSO_ONLY]

    def first(r: dict[str, Any]) -> str:
        d = _cause(r)
        return divergence_text(d) if d else "(no divergent call recorded)"

    def more(r: dict[str, Any]) -> str:
        divs = (r.get("evidence") or {}).get("divergences", [])
        cause = (r.get("evidence") or {}).get("cause")
        rest = [divergence_text(d) for i, d in enumerate(divs) if i != cause and d["severity"] == "major"]
        return " | ".join(rest[:4]) + (f" | … {len(rest) - 4} more" if len(rest) > 4 else "")

    return [
        {
            "id": "dropin-summary",
            "title": "Your tests on SQLite and Turso",
            "intro": headline(rows, adapt, runs, known),
            "columns": ["engine", *outcomes, "total", "child runs", "seconds"],
            "rows": summary,
        },
        {
            "id": "dropin-turso-only",
            "title": "Pass on SQLite, fail on Turso",
            "intro": "Each with the call where the two engines first part (what each returned), the "
            "cause and how sure it is (proven: a check of the harness observed this divergence; likely: "
            "its structure matches a check's; no known cause: see the leads below), and the other "
            "divergences the test met (what breaks next once the first is fixed).",
            "columns": [
                "test",
                "turso",
                "failing line",
                "exception",
                "first divergent call",
                "cause",
                "then",
            ],
            "rows": [
                [
                    r["nodeid"],
                    r["turso"]["outcome"],
                    _line(r["turso"]),
                    _exception(r["turso"]),
                    first(r),
                    cause_text(r),
                    more(r),
                ]
                for r in turso_only
            ],
        },
        {
            "id": "dropin-migration",
            "title": "Migration list: what to fix, in order",
            "intro": "Each cause with the Turso-only failures it blocks; 'unblocks alone' counts the tests "
            "whose only "
            "blocking divergence it is (fix those first).",
            "columns": ["cause", "unblocks alone", "blocks", "confidence", "title", "first seen as", "tests"],
            "rows": migration(rows),
        },
        {
            "id": "dropin-leads",
            "title": "No known cause: divergences to adopt as new checks",
            "intro": "Each divergence no check of the harness explains yet, with a drafted registry "
            "entry id, its impact, and a repro to run with sqlite3 and then with turso.",
            "columns": ["draft entry", "tests", "divergence", "impact", "repro", "example test"],
            "rows": _drafts(rows),
        },
        {
            "id": "dropin-incomplete",
            "title": "Did not run on both engines (not counted as the same)",
            "intro": "Skipped on one engine only, deselected, or never reached because one engine's run "
            "ended early.",
            "columns": ["test", "sqlite", "turso", "why"],
            "rows": [
                [
                    r["nodeid"],
                    r["sqlite"]["outcome"],
                    r["turso"]["outcome"],
                    _exception(r["turso"] if r["turso"]["outcome"] in (NOT_RUN, SKIPPED) else r["sqlite"]),
                ]
                for r in rows
                if r["category"] == INCOMPLETE
            ],
        },
        {
            "id": "dropin-control",
            "title": "Control run: divergences between two SQLite runs (noise the traces did not normalise)",
            "intro": "Only in a control run (--dropin-control): both runs on SQLite, so every divergence "
            "listed here is a normalisation gap.",
            "columns": ["test", "first divergence"],
            "rows": [[r["nodeid"], divergence_text(r["control_divergence"])] for r in rows
                     if "control_divergence" in r],
        },
        {
            "id": "dropin-adapted",
            "title": "The same only thanks to an adaptation",
            "intro": "These pass on Turso because the drop-in made a missing name inert; with --dropin-raw "
            "they fail.",
            "columns": ["test", "inert names it used"],
            "rows": [
                [r["nodeid"], ", ".join(r.get("adapted_by", []))]
                for r in rows
                if r["category"] == SAME_ADAPTED
            ],
        },
        {
            "id": "dropin-both",
            "title": "Fail on both engines (not Turso's problem)",
            "intro": "These tests fail on SQLite too: fix them first; their Turso outcome says nothing.",
            "columns": ["test", "sqlite", "turso", "exception on SQLite"],
            "rows": [
                [r["nodeid"], r["sqlite"]["outcome"], r["turso"]["outcome"], _exception(r["sqlite"])]
                for r in rows
                if r["category"] == BOTH
            ],
        },
        {
            "id": "dropin-sqlite-only",
            "title": "Fail on SQLite only",
            "intro": "Tests that pass on Turso but not on SQLite.",
            "columns": ["test", "sqlite", "exception on SQLite"],
            "rows": [
                [r["nodeid"], r["sqlite"]["outcome"], _exception(r["sqlite"])]
                for r in rows
                if r["category"] == SQLITE_ONLY
            ],
        },
        {
            "id": "dropin-adaptations",
            "title": "Adaptations the drop-in made",
            "intro": (
                "Changes on top of plain routing, each with the Turso difference it papers over; "
                "--dropin-raw switches them all off to see pyturso as it is."
            ),
            "columns": ["adaptation", "active", "what it does", "difference it papers over"],
            "rows": [[a.id, "yes" if adapt else "no", a.does, a.papers_over] for a in ADAPTATIONS],
        },
    ]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def interrupted(rows: list[dict[str, Any]], signal_name: str) -> tuple[str, dict[str, Any]]:
    """A stopped run's headline sentence and the report's `interrupted` record: the tests that ran on both."""
    ran = sum(1 for r in rows if NOT_RUN not in (r["sqlite"]["outcome"], r["turso"]["outcome"]))
    sentence = (f"INTERRUPTED ({signal_name}): {ran} of {len(rows)} tests ran on both engines before the run "
                "was stopped; the others are listed as not run. ")
    return sentence, {"ran": ran, "total": len(rows), "signal": signal_name}


def build_doc(
    rows: list[dict[str, Any]], adapt: bool, runs: dict[str, EngineRun], known: str = ""
) -> dict[str, Any]:
    """A compatibility report whose content is the drop-in sections and the per-test data."""
    import turso

    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now_iso(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}".strip(),
        "reference": "sqlite",
        "backends": [
            {
                "id": "sqlite",
                "name": "sqlite",
                "driver": "sqlite3",
                "driver_version": platform.python_version(),
                "engine_version": sqlite3.sqlite_version,
                "options": {},
            },
            {
                "id": "turso",
                "name": "turso",
                "driver": "pyturso",
                "driver_version": _version("pyturso"),
                "engine_version": turso.sqlite_version,
                "options": {},
            },
        ],
        "clients": {n: _version(n) for n in ("aiosqlite", "sqlalchemy", "alembic")},
        "registry": [],
        "summary": {},
        "area_summary": {},
        "checks": [],
        "sections": sections(rows, adapt, runs, known),
        "dropin": {
            "adaptations": adapt,
            "tests": rows,
            "engines": {
                e: {
                    "attempts": r.attempts,
                    "complete": r.complete,
                    "seconds": round(r.duration, 2),
                    "log": r.log,
                }
                for e, r in runs.items()
            },
        },
    }
