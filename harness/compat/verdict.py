"""How each of Turso's compatibility claims fares: the row's claim against what its probe observed.

The claim is about SQLite as Turso tracks it (3.50.4), so a row where Turso differs only from an older
stdlib SQLite (registry attribution `sqlite-version`, or the tracked SQLite in the run agreeing with
Turso) counts as behaving as SQLite does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from stc_harness.compat.probes import LIMITATION_PROBED, probe
from stc_harness.compat.table import Row, Source, load
from stc_harness.outcomes import BROKEN, SAME, TRACKED_BACKEND, VERSION_GAP

#: Outcomes that contradict the vendor's claim (its own section in the report).
CONTRADICTED = ("claims Yes, differs", "claims Yes, errors", "claims Yes, fails", "claims No, works",
                "claims Partial, the stated limitation does not hold")


def _has_new_error(turso: Any, ref: Any) -> bool:
    if not isinstance(turso, list) or not isinstance(ref, list):
        return isinstance(turso, dict) and "error" in turso
    return any("error" in t and "error" not in r for t, r in zip(turso, ref, strict=False))


def _has_rows(obs: Any) -> bool:
    return isinstance(obs, list) and any(o.get("rows") for o in obs)


def _works(obs: Any) -> bool:
    return isinstance(obs, list) and not any("error" in o for o in obs)


def claim_outcome(row: Row, check: dict[str, Any] | None, reference: str) -> str:
    """One phrase: the claim and what happened ("claims Yes, same", "claims No, clear error"...)."""
    claim = "No" if row.claim == "Not Needed" else row.claim
    claim = "Yes" if claim == "Turso-only" else claim
    p = probe(row)
    if p is None:
        return "not probed"
    results = (check or {}).get("results", {})
    turso = results.get("turso")
    if turso is None:
        return "not run on Turso"
    if turso["outcome"] in BROKEN:
        return f"claims {claim}, probe {turso['outcome']}"
    if p.turso_only:
        return f"claims {claim}, works" if turso["outcome"] == SAME else f"claims {claim}, fails"
    # the claims are judged against the tracked SQLite's observation when the run has it
    tracked = results.get(TRACKED_BACKEND, {}).get("observed") is not None
    ref_name = TRACKED_BACKEND if tracked else reference
    ref = results.get(ref_name, {}).get("observed")
    entry = (check or {}).get("entry") or {}
    gap = ref_name != TRACKED_BACKEND and entry.get("attribution") == VERSION_GAP
    same = turso.get("observed") == ref or gap
    if same:
        if claim == "Yes":
            return "claims Yes, same"
        if claim == "Partial":
            if row.key in LIMITATION_PROBED:
                return "claims Partial, the stated limitation does not hold"
            return "claims Partial, same on the probe"
        if not _works(turso.get("observed")):
            return "claims No, refused as by SQLite"
        return "claims No, works" if _has_rows(turso.get("observed")) else "claims No, a no-op as in SQLite"
    error = _has_new_error(turso.get("observed"), ref)
    if claim == "Yes" and _works(turso.get("observed")) and not _works(ref):
        return "claims Yes, works where SQLite refuses"  # e.g. REGEXP: SQLite has no regexp() built in
    if claim == "Yes":
        return "claims Yes, errors" if error else "claims Yes, differs"
    if claim == "Partial":
        return "claims Partial, clear error" if error else "claims Partial, differs"
    return "claims No, clear error" if error else "claims No, silently ignored"


def _observed(check: dict[str, Any] | None) -> str:
    turso = ((check or {}).get("results") or {}).get("turso") or {}
    obs = turso.get("observed")
    text = "" if obs is None else str(obs)
    return text if len(text) <= 160 else text[:157] + "..."


def rows_with_outcomes(doc: dict[str, Any],
                       table: tuple[Source, list[Row]] | None = None) -> list[tuple[Row, str, str | None]]:
    """Every row of the table with its claim outcome and the id of the check that probed it."""
    _, rows = table or load()
    by_key: dict[str, dict[str, Any]] = {}
    for c in doc.get("checks", []):
        if c.get("area") == "compat" and "[" in c["id"]:
            by_key[c["id"].split("[", 1)[1].rstrip("]")] = c
    out = []
    for row in rows:
        check = by_key.get(row.key)
        out.append((row, claim_outcome(row, check, doc.get("reference", "sqlite")),
                    check["id"] if check else None))
    return out


def _cell(check_id: str | None, text: str) -> Any:
    return {"text": text, "href": f"#{check_id}"} if check_id else text


def sections(doc: dict[str, Any], table: tuple[Source, list[Row]] | None = None) -> list[dict[str, Any]]:
    """The report sections: every row and its outcome, then the contradicted claims (none if not run)."""
    if not any(c.get("area") == "compat" for c in doc.get("checks", [])):
        return []
    source, _ = table or load()
    judged = rows_with_outcomes(doc, table)
    checks = {c["id"]: c for c in doc.get("checks", [])}
    counts = Counter(outcome for _, outcome, _ in judged)
    tally = "; ".join(f"{n} {o}" for o, n in counts.most_common())
    columns = ["check", "section", "feature", "claim", "comment", "outcome", "Turso observed"]

    def line(row: Row, outcome: str, cid: str | None) -> list[Any]:
        return [_cell(cid, row.key), row.section, row.feature, row.claim, row.comment, outcome,
                _observed(checks.get(cid or ""))]

    every = {
        "id": "compat-claims", "title": "Turso's compatibility claims, measured",
        "intro": (f"Every row of Turso's own compatibility table ({source.cite()}), its claim, and what "
                  "its probe (suites/engine/test_compat.py) observed on Turso "
                  f"against SQLite as Turso tracks it. {len(judged)} rows: {tally}."),
        "columns": columns, "rows": [line(*j) for j in judged],
    }
    contradicted = [j for j in judged if j[1] in CONTRADICTED]
    against = {
        "id": "compat-contradicted", "title": "Compatibility claims the engine contradicts",
        "intro": (f"{len(contradicted)} rows where Turso does not do what its table claims: claims Yes but "
                  "differs from SQLite or errors, claims No but works, or claims Partial naming a limitation "
                  "the probe exercises, and behaves as SQLite there."),
        "columns": columns, "rows": [line(*j) for j in contradicted],
    }
    return [every, against]
