"""Findings: deduplicated disagreements, matched against the registry, saved as regression cases."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stc_harness.differences import Entry, Registry, load_file
from stc_harness.differential.case import Case
from stc_harness.differential.causes import CauseKey, attribution, cause, cause_key, ulps
from stc_harness.differential.compare import KINDS
from stc_harness.differential.normalise import Outcome, observation
from stc_harness.differential.toml_out import registry_text
from stc_harness.outcomes import (
    DIFFERENT_ERROR,
    ERROR_APPEARS_OR_DISAPPEARS,
    SILENT_DATA_CHANGE,
    TURSO_OWN,
)

# The two outcomes a finding is classified as; kept importable from here for the tests and suites.
from stc_harness.outcomes import DOCUMENTED as DOCUMENTED
from stc_harness.outcomes import UNDOCUMENTED as UNDOCUMENTED

REPLAY_CHECK = "discovery.replay"


def check_id(signature: str) -> str:
    """The id of the regression check that replays the case saved for `signature`."""
    return f"{REPLAY_CHECK}[{signature}]"


@dataclass
class Finding:
    """One deduplicated difference: its minimal case and what each backend did on it."""

    signature: str
    backend: str
    reference: str
    kind: str
    case: Case
    index: int
    outcomes: dict[str, list[Outcome]]
    hits: int = 1
    first_case: int = 0
    shrink_rounds: int = 0
    stable: bool = True
    status: str = UNDOCUMENTED
    entry: Entry | None = None
    saved: str = ""
    notes: list[str] = field(default_factory=list)
    attribution: str = ""  # "turso" (Turso's own), "sqlite-version" (a SQLite version gap) or "unknown"
    raw: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)  # (position, key) shrunk to it

    @property
    def cause(self) -> str:
        """What the finding is about (`stc_harness.differential.causes.cause`)."""
        return cause(self.signature, self.kind, self.returned(self.reference), self.returned(self.backend),
                     self.message(self.reference), self.message(self.backend))

    @property
    def cause_key(self) -> CauseKey:
        """The cause a campaign files the finding under (`stc_harness.differential.causes.cause_key`)."""
        ref, other = self.reference, self.backend
        return cause_key(self.signature, other, self.kind, self.returned(ref), self.returned(other),
                         self.message(ref), self.message(other))

    @property
    def ulps(self) -> float | None:
        """How far the REAL values are apart, in units in the last place, if that is all that differs."""
        return ulps(self.returned(self.reference), self.returned(self.backend))

    def returned(self, backend: str) -> Any:
        """What `backend` did on the disagreeing statement (its normalised outcome)."""
        return self.outcomes[backend][self.index].obs

    def message(self, backend: str) -> str:
        """The raw error message of `backend` on the disagreeing statement, if it failed."""
        return self.outcomes[backend][self.index].message

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the `--json` output)."""
        return {
            "signature": self.signature, "status": self.status, "backend": self.backend,
            "reference": self.reference, "kind": self.kind, "kind_means": KINDS.get(self.kind, ""),
            "category": self.case.category, "statements": self.case.sqls(), "index": self.index,
            "returned": {b: self.returned(b) for b in self.outcomes},
            "messages": {b: self.message(b) for b in self.outcomes if self.message(b)},
            "stable": self.stable, "hits": self.hits, "first_case": self.first_case,
            "shrink_rounds": self.shrink_rounds,
            "entry": self.entry.id if self.entry else None, "saved": self.saved or None,
            "attribution": self.attribution, "cause": self.cause,
        }


def match(registry: Registry, signature: str) -> Entry | None:
    """The registry entry documenting `signature`: one covering its replay check, or citing it as section."""
    entry = registry.for_check(check_id(signature))
    if entry is not None:
        return entry
    return next((e for e in registry.entries.values() if e.source.section == signature), None)


def classify(findings: list[Finding], registry: Registry, tracked_only: frozenset[str] = frozenset()) -> None:
    """Mark each finding documented (naming the entry, or a saved tracked-only case) or undocumented, and
    say whose difference it is."""
    for f in findings:
        f.entry = match(registry, f.signature)
        f.status = DOCUMENTED if f.entry is not None or f.signature in tracked_only else UNDOCUMENTED
        if f.entry is None and f.signature in tracked_only:
            f.notes.append("documented by its saved case (tracked-only: Turso observes what the stdlib "
                           "SQLite does, so no replay check against it can tell them apart)")
        f.attribution = attribution(f.backend, f.reference, f.outcomes)


def case_record(f: Finding, observed: dict[str, list[dict[str, Any]]], messages: dict[str, dict[str, str]],
                found_with: dict[str, Any]) -> dict[str, Any]:
    """The JSON regression case for a finding (`observed` comes from replaying it through the harness)."""
    return {
        "signature": f.signature, "backend": f.backend, "reference": f.reference, "kind": f.kind,
        "kind_means": KINDS.get(f.kind, ""), "category": f.case.category, "index": f.index,
        "statements": [{"sql": s.sql(), "kind": s.kind, "ordered": s.ordered, "counted": s.counted}
                       for s in f.case.statements],
        "observed": observed, "messages": messages, "found_with": found_with,
        **({"hunt_observed": hunt} if (hunt := {b: observation(o) for b, o in f.outcomes.items()}) != observed
           else {}),
    }


def save_case(record: dict[str, Any], folder: Path) -> Path:
    """Write `<folder>/<signature>.json` (never overwrites an existing case)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['signature']}.json"
    if path.exists():
        raise FileExistsError(path)
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in record.items()]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    return path


def _short(obs: Any) -> str:
    text = json.dumps(obs, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def _at(obs: Any, idx: int) -> Any:
    """Statement `idx` of a replay observation (a whole-process observation is returned as is)."""
    return obs[idx] if isinstance(obs, list) and idx < len(obs) else obs


#: The impact class of each kind of disagreement (docs/design.md, "Whose difference it is").
KIND_IMPACTS = {"value": SILENT_DATA_CHANGE, "class": SILENT_DATA_CHANGE, "rows": SILENT_DATA_CHANGE,
                "rowcount": SILENT_DATA_CHANGE, "only-reference-fails": ERROR_APPEARS_OR_DISAPPEARS,
                "only-other-fails": ERROR_APPEARS_OR_DISAPPEARS, "error-kind": DIFFERENT_ERROR,
                "panic": ERROR_APPEARS_OR_DISAPPEARS, "crash": ERROR_APPEARS_OR_DISAPPEARS,
                "hang": ERROR_APPEARS_OR_DISAPPEARS}


def registry_entry(case: dict[str, Any], document: str, known: dict[str, tuple[str, str]] | None = None
                   ) -> dict[str, Any]:
    """The `[[difference]]` entry that documents a saved case, expecting what its backend observed.

    Impact and attribution are kept from the entry already in the registry (`known`: id -> both), except
    that an attribution measured into the case (`hunt --save`, `hunt --retriage`) wins; a new entry gets
    the impact of its kind and the case's `attribution` (else "turso").
    """
    sig, backend, ref, idx = case["signature"], case["backend"], case["reference"], case["index"]
    sqls = [s["sql"] for s in case["statements"]]
    reason = (f"Found by differential discovery ({KINDS.get(case['kind'], case['kind'])}). "
              f"Minimal reproduction: {'; '.join(sqls)}. On statement {idx + 1}, {ref} returns "
              f"{_short(_at(case['observed'][ref], idx))} and {backend} returns "
              f"{_short(_at(case['observed'][backend], idx))}.")
    category, head = sig.split(".")[0], sig.split(".")[1]
    impact, attribution = (known or {}).get(f"discovery.{sig}") or (
        KIND_IMPACTS.get(case["kind"], SILENT_DATA_CHANGE), case.get("attribution", TURSO_OWN))
    attribution = case.get("attribution", attribution)
    return {
        "id": f"discovery.{sig}", "attribution": attribution, "impact": impact, "check": check_id(sig),
        "title": f"{category}: {head} ({KINDS.get(case['kind'], case['kind'])})",
        "source": {"document": document, "section": sig}, "reason": reason,
        "expect": {backend: case["observed"][backend]},
    }


REGISTRY_HEADER = """\
# Differences found by differential discovery (`python -m stc_harness hunt --save`), one per saved
# regression case in suites/discovery_cases/<signature>.json, replayed by suites/engine/test_discovery.py
# (except "tracked_only" cases: Turso observes what the stdlib SQLite does, only SQLite 3.50.4 differs).
# Generated from the case files: delete a case file and run `python -m stc_harness hunt --cases 0 --save`
# to drop its entry. None of these is stated by a seed document: each was measured.
"""


def write_registry(cases: dict[str, dict[str, Any]], path: Path) -> Path:
    """Regenerate the discovery registry file from every saved case (but the tracked-only ones)."""
    default = "measured (differential discovery)"
    known = {e.id: (str(e.impact), str(e.attribution)) for e in load_file(path)} if path.exists() else {}
    entries = [registry_entry(c, c.get("found_with", {}).get("document", default), known)
               for _, c in sorted(cases.items()) if not c.get("tracked_only")]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(registry_text(REGISTRY_HEADER, entries), encoding="utf-8")
    return path
