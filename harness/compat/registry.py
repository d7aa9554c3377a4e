"""Registry entries for the compat rows where Turso differs, measured: impact from what changed, and
attribution from running the same probe on the tracked SQLite (the release Turso tracks: sqlean.py 3.50.4)."""

from __future__ import annotations

import dataclasses
import importlib
import json
import tempfile
from pathlib import Path
from typing import Any

from stc_harness.compat.observe import shaped_where
from stc_harness.compat.pragmas import PRAGMAS, SHAPE
from stc_harness.compat.probes import Probe, probe
from stc_harness.compat.table import Row, load
from stc_harness.differences import load_file
from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.engines import Engine, run_cases, tracked_engine
from stc_harness.differential.toml_out import registry_text
from stc_harness.outcomes import (
    DIFFERENT_ERROR,
    ERROR_APPEARS_OR_DISAPPEARS,
    MISSING_API,
    SILENT_DATA_CHANGE,
    TURSO_OWN,
    UNDOCUMENTED,
    VERSION_GAP,
)

HEADER = """\
# Documented differences of the compat area (suites/engine/test_compat.py): rows of Turso's compatibility
# table
# whose probe observes something else on Turso than on the reference SQLite. Generated, with every
# attribution measured on the SQLite release Turso tracks (sqlean.py, extensions off), by
#   python -m stc_harness compat-update --registry <report.json of a run of suites/engine/test_compat.py>
# Entries already here are kept as they are; only new differences get a generated entry.
"""
ERRORS_MEANING_MISSING = ("UNSUPPORTED", "SYNTAX", "NO_SUCH_FUNCTION", "NO_SUCH_TABLE", "NO_SUCH_COLUMN")


def run_on(eng: Engine, sqls: tuple[str, ...], file: bool, ordered: bool = True) -> list[dict[str, Any]]:
    """What the statements observe on a raw engine (a fresh database file when `file`), normalised as
    the checks normalise them (rows by storage class; ordered only where the SQL orders them)."""
    if file:
        folder = Path(tempfile.mkdtemp(prefix="compat-"))
        module = importlib.import_module(eng.driver.split(".")[0])
        path = str(folder / "probe.db")
        eng = dataclasses.replace(eng, open=lambda: module.connect(path, isolation_level=None,
                                                                    check_same_thread=False))
    stmts = tuple(Stmt(sql, (), "compat", ordered and " ORDER BY " in sql.upper()) for sql in sqls)
    outcomes = run_cases(eng, [Case("compat", stmts, stateful=True)])[0]
    obs = [o.obs for o in outcomes]
    for o in obs:
        o.pop("rowcount", None)
    return obs


def probe_on(eng: Engine, p: Probe) -> list[dict[str, Any]]:
    """What a compat probe observes on a raw engine, normalised as the check normalises it."""
    return p.observe(run_on(eng, p.sql, p.file))


def impact(turso: Any, ref: Any) -> str:
    """The impact class of the first statement where Turso and the reference part."""
    both_lists = isinstance(turso, list) and isinstance(ref, list)
    pairs = zip(turso, ref, strict=False) if both_lists else [(turso, ref)]
    for t, r in pairs:
        if t == r:
            continue
        t_err, r_err = t.get("error"), r.get("error")
        if t_err and not r_err:
            return MISSING_API if t_err in ERRORS_MEANING_MISSING else ERROR_APPEARS_OR_DISAPPEARS
        if r_err and not t_err:
            return ERROR_APPEARS_OR_DISAPPEARS
        if t_err and r_err:
            return DIFFERENT_ERROR
        return SILENT_DATA_CHANGE
    return SILENT_DATA_CHANGE


def _first_difference(turso: list[Any], ref: list[Any], sql: tuple[str, ...]) -> str:
    for i, (t, r) in enumerate(zip(turso, ref, strict=False)):
        if t != r:
            return (f"statement {i + 1} ({sql[i] if i < len(sql) else '?'}): the reference returns "
                    f"{json.dumps(r)[:160]}, Turso {json.dumps(t)[:160]}")
    return "the observations differ in length"


def entry_for(row: Row, check: dict[str, Any], reference: str, tracked: Engine,
              document: str) -> dict[str, Any]:
    """A registry entry documenting a compat check where Turso differs, attribution measured."""
    p = probe(row)
    assert p is not None
    turso = check["results"]["turso"]["observed"]
    if p.turso_only:
        attribution, kind = TURSO_OWN, MISSING_API
        what = f"Turso's probe fails: {json.dumps(turso)}; the vendor claims {row.claim}"
    else:
        ref = check["results"][reference]["observed"]
        seen = probe_on(tracked, p)
        attribution = VERSION_GAP if seen == turso else TURSO_OWN
        kind = impact(turso, ref)
        what = (_first_difference(turso, ref, p.sql) + f". SQLite {tracked.version} observes "
                + ("the same as Turso." if seen == turso else "what the reference does."
                   if seen == ref else f"{json.dumps(seen)[:160]}."))
    comment = f" ({row.comment})" if row.comment else ""
    return {
        "id": f"compat.{row.key}", "check": check["id"],
        "title": f"COMPAT.md {row.section}: {row.feature} (claims {row.claim}): Turso differs",
        "impact": kind, "attribution": attribution,
        "source": {"document": document, "section": f"{row.section}: {row.feature}"},
        "reason": f"Measured by the row's probe; the vendor's claim: {row.claim}{comment}. {what}",
        "expect": {"turso": turso},
    }


PRAGMA_HEADER = """\
# Documented differences of the pragmas area (suites/engine/test_pragmas.py): PRAGMAs whose read, write,
# read-back or effect differs on Turso from the reference SQLite. Generated, with every attribution
# measured on the SQLite release Turso tracks (sqlean.py, extensions off), by
#   python -m stc_harness compat-update --pragmas-registry <report.json of a run of
#   suites/engine/test_pragmas.py>
# Entries already here are kept as they are; only new differences get a generated entry.
"""


def pragma_entry(name: str, check: dict[str, Any], reference: str, tracked: Engine,
                 claims: dict[str, Row]) -> dict[str, Any]:
    """A registry entry documenting a PRAGMA whose read/set/read-back/effect differs on Turso."""
    sqls = PRAGMAS[name].statements(name)
    turso, ref = check["results"]["turso"]["observed"], check["results"][reference]["observed"]
    seen = shaped_where(run_on(tracked, sqls, file=True, ordered=False), sqls, SHAPE)
    row = claims.get(name)
    claim = f"COMPAT.md claims {row.claim}" + (f" ({row.comment})" if row and row.comment else "") \
        if row else "not in COMPAT.md"
    return {
        "id": f"pragmas.{name}", "check": check["id"],
        "title": f"PRAGMA {name}: Turso's read, write, read-back or effect differs from SQLite",
        "impact": impact(turso, ref), "attribution": VERSION_GAP if seen == turso else TURSO_OWN,
        "source": {"document": "https://www.sqlite.org/pragma.html", "section": f"PRAGMA {name}"},
        "reason": (f"Measured ({claim}). " + _first_difference(turso, ref, sqls)
                   + f". SQLite {tracked.version} observes "
                   + ("the same as Turso." if seen == turso else "what the reference does."
                      if seen == ref else f"{json.dumps(seen)[:160]}.")),
        "expect": {"turso": turso},
    }


def write_pragmas(report: Path, out: Path) -> tuple[int, int]:
    """Add an entry to `out` for every pragmas check of `report` where Turso differs and no entry exists."""
    doc = json.loads(report.read_text(encoding="utf-8"))
    _, rows = load()
    claims = {r.feature.split()[-1]: r for r in rows if r.section == "PRAGMA"}
    existing = {e.id for e in load_file(out)} if out.exists() else set()
    kept = out.read_text(encoding="utf-8") if out.exists() else PRAGMA_HEADER
    tracked = tracked_engine()
    new = []
    for check in doc["checks"]:
        res = check["results"].get("turso", {})
        if check["area"] != "pragmas" or res.get("outcome") != UNDOCUMENTED:
            continue
        name = check["id"].split("[", 1)[1].rstrip("]")
        if f"pragmas.{name}" not in existing:
            new.append(pragma_entry(name, check, doc["reference"], tracked, claims))
    text = kept.rstrip() + "\n" + registry_text("", new).lstrip("\n") if new else kept
    out.write_text(text, encoding="utf-8")
    return len(new), len(existing)


def write(report: Path, out: Path) -> tuple[int, int]:
    """Add an entry to `out` for every compat check of `report` where Turso differs and no entry exists."""
    doc = json.loads(report.read_text(encoding="utf-8"))
    source, rows = load()
    by_key = {r.key: r for r in rows}
    document = f"{source.repository}@{source.commit[:12]}:{source.path}"
    existing = {e.id for e in load_file(out)} if out.exists() else set()
    kept = out.read_text(encoding="utf-8") if out.exists() else HEADER
    tracked = tracked_engine()
    new = []
    for check in doc["checks"]:
        res = check["results"].get("turso", {})
        if check["area"] != "compat" or res.get("outcome") != UNDOCUMENTED:
            continue
        key = check["id"].split("[", 1)[1].rstrip("]")
        if f"compat.{key}" in existing:
            continue
        new.append(entry_for(by_key[key], check, doc["reference"], tracked, document))
    text = kept.rstrip() + "\n" + registry_text("", new).lstrip("\n") if new else kept
    out.write_text(text, encoding="utf-8")
    return len(new), len(existing)
