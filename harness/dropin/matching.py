"""Match a test's failure on Turso to known differences: registry entries and measured check records.

Signals taken from the failure: the DB-API class pyturso raised, names the code missed (`has no
attribute 'x'`, `unexpected keyword argument 'x'`, `cannot import name 'x'`, the drop-in's own
missing-feature errors, `no such function: x`), the error kind of each message in the exception chain
(`stc_harness.errors.kind_from_message`), and the distinctive words of the messages. Every entry is scored
on its id, checks, title, reason and expectations, so entries added later (the driver layer's
`driver_surface.*`, the client layer's `client_*`) are matched with no change here. Failures matching
nothing are grouped by a lead: what they miss, or the shape of their error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from stc_harness.differences import Entry, Registry
from stc_harness.errors import kind_from_message

NAME_PATTERNS = (
    re.compile(r"has no attribute '(\w+)'"),
    re.compile(r"unexpected keyword argument '(\w+)'"),
    re.compile(r"cannot import name '(\w+)'"),
    re.compile(r"\b(?:sqlite3|aiosqlite)\.(\w+)(?:\([^)]*\))? is not provided by pyturso"),
    re.compile(r"\b(?:sqlite3|aiosqlite)\.connect\((\w+)=\.\.\.\) is not provided"),
    re.compile(r"no such function: (\w+)", re.IGNORECASE),
    re.compile(r"(\w+)\(\) not found"),
)
ENTRY_ID = re.compile(r"registry entry ([\w.\-\[\]]+(?:, [\w.\-\[\]]+)*)")
_STOP = """error errors failed failure database table column value values which where there their
should would could about after before other while every object objects argument arguments instance
sqlite sqlite3 turso pyturso python module function functions cannot found given using expected
statement statements connection cursor assert assertionerror operationalerror programmingerror
databaseerror integrityerror parse index indexes columns create insert update delete integer primary
references default schema alter select where unique foreign check constraint exit_code result where
unchanged before after differs diff"""
STOPWORDS = frozenset(_STOP.split())
WORD = re.compile(r"[a-z_][a-z0-9_]{4,}")

#: Score of each signal; a cause needs MIN_SCORE.
NAME_SCORE, CLASS_SCORE, KIND_SCORE, WORD_SCORE, MIN_SCORE = 3.0, 1.5, 1.0, 0.5, 2.0


@dataclass(frozen=True)
class Cause:
    """A known difference a failure most likely hits, and why we think so."""

    ref: str
    kind: str  # "entry" or "check"
    title: str
    why: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"ref": self.ref, "kind": self.kind, "title": self.title, "why": self.why,
                "score": round(self.score, 2)}


@dataclass(frozen=True)
class Signals:
    """What a failure tells about its cause."""

    names: frozenset[str]
    kinds: frozenset[str]
    classes: frozenset[str]
    words: frozenset[str]
    entry_ids: tuple[str, ...]


def signals_of(record: dict[str, Any]) -> Signals:
    """Extract names, error kinds, words and explicitly named entries from a failure record."""
    messages = [str(record.get("message") or "")] + [str(m) for _, m in record.get("chain") or []]
    classes = {str(c).rsplit(".", 1)[-1] for c, _ in record.get("chain") or [] if str(c).startswith("turso")}
    if str(record.get("exc_type") or "").startswith("turso"):
        classes.add(str(record["exc_type"]).rsplit(".", 1)[-1])
    names: set[str] = set()
    kinds: set[str] = set()
    words: set[str] = set()
    entry_ids: list[str] = []
    for msg in messages:
        for pattern in NAME_PATTERNS:
            names.update(m.group(1) for m in pattern.finditer(msg))
        kind = kind_from_message(msg)
        if kind is not None:
            kinds.add(kind.value)
        words.update(w for w in WORD.findall(msg.lower()) if w not in STOPWORDS)
        for found in ENTRY_ID.finditer(msg):
            entry_ids.extend(e.rstrip(".") for e in found.group(1).split(", "))
    return Signals(frozenset(names), frozenset(kinds), frozenset(classes), frozenset(words),
                   tuple(dict.fromkeys(entry_ids)))


def _entry_text(entry: Entry) -> str:
    return " ".join([entry.id, *entry.checks, entry.title, entry.reason,
                     json.dumps(entry.expect, default=str)]).lower()


def _score(text: str, turso_text: str, sig: Signals) -> tuple[float, list[str]]:
    score, why = 0.0, []
    for name in sorted(sig.names):
        if len(name) >= 4 and re.search(rf"\b{re.escape(name.lower())}\b", text):
            score += NAME_SCORE
            why.append(f"names {name}")
    spaced = re.sub(r"[_\[\]]", " ", text)
    for kind in sorted(sig.kinds):
        if f'"{kind.lower()}"' in turso_text or re.search(rf"\b{kind.lower()}\b", text):
            score += KIND_SCORE
            why.append(f"error kind {kind}")
    for cls in sorted(sig.classes):
        if f'"{cls.lower()}"' in turso_text:
            score += CLASS_SCORE
            why.append(f"raises {cls}")
    shared = sorted(w for w in sig.words if re.search(rf"\b{re.escape(w)}\b", spaced))
    if shared:
        score += WORD_SCORE * min(4, len(shared))
        why.append("shares " + ", ".join(shared[:4]))
    return score, why


#: Among equally likely causes, the driver layer's (what user code calls) first; the async module's only
#: for a failure that went through an async module.
DRIVER_BONUS, OTHER_MODULE_PENALTY = 0.5, 1.0


def _layer_bonus(area: str, asynchronous: bool) -> float:
    if not area.startswith("driver_"):
        return 0.0
    if (area == "driver_async") != asynchronous:
        return DRIVER_BONUS - OTHER_MODULE_PENALTY
    return DRIVER_BONUS


def match(record: dict[str, Any], registry: Registry, checks: list[dict[str, Any]] | None = None,
          top: int = 3) -> list[Cause]:
    """The known differences a failure on Turso most likely hits, best first (empty: no known cause)."""
    sig = signals_of(record)
    asynchronous = "aio" in json.dumps(record, default=str).lower()
    causes: list[Cause] = []
    for eid in sig.entry_ids:
        entry = registry.entries.get(eid)
        if entry is not None:
            causes.append(Cause(eid, "entry", entry.title, "the drop-in's missing-feature error names it",
                                99.0))
    for entry in registry.entries.values():
        if entry.id in sig.entry_ids or "turso" not in entry.expect:
            continue
        turso_text = json.dumps(entry.expect.get("turso"), default=str).lower()
        score, why = _score(_entry_text(entry), turso_text, sig)
        score += _layer_bonus(entry.area, asynchronous)
        if score >= MIN_SCORE:
            causes.append(Cause(entry.id, "entry", entry.title, "; ".join(why), score))
    known = {c.ref for c in causes}
    for row in checks or []:
        res = (row.get("results") or {}).get("turso") or {}
        entry = row.get("entry") or {}
        if res.get("outcome") in (None, "same", "unsupported") or entry.get("id") in known:
            continue
        text = " ".join([row["id"], row.get("title") or "", json.dumps(res.get("observed"), default=str),
                         json.dumps(res.get("notes"), default=str)]).lower()
        score, why = _score(text, json.dumps(res.get("observed"), default=str).lower(), sig)
        if score >= MIN_SCORE:
            causes.append(Cause(row["id"], "check", row.get("title") or "", "; ".join(why), score))
    causes.sort(key=lambda c: (-c.score, c.ref))
    return causes[:top]


_VOLATILE = re.compile(r"'[^']*'|\"[^\"]*\"|\b\d+(\.\d+)?\b|/[\w./-]+")


def lead(record: dict[str, Any]) -> str:
    """A short signature grouping failures with no known cause: the missing name, else the error's shape."""
    if record.get("outcome") in ("timeout", "crash"):
        signal = re.search(r"\bSIG[A-Z]+\b", str(record.get("message") or ""))
        return f"{record['outcome']}{' (' + signal.group(0) + ')' if signal else ''}"
    sig = signals_of(record)
    if sig.names:
        return "missing " + ", ".join(sorted(sig.names))
    text = str(record.get("message") or "").lstrip()
    if record.get("exc_type") == "AssertionError" and text.startswith("assert "):
        # a bare `assert a == b` on values: the module says more than the elided comparison
        return f"AssertionError (values differ) in {str(record.get('nodeid') or '?').split('::')[0]}"
    message = str(record.get("message") or "").strip().splitlines()
    first = _VOLATILE.sub("…", message[0] if message else "")[:80]
    return f"{record.get('exc_type') or 'failure'}: {first}".rstrip(": ")


def entry_lookup(registry: Registry) -> Any:
    """A function name -> ids of the entries that name it (for the drop-in's missing-name errors)."""

    def lookup(name: str) -> list[str]:
        pattern = re.compile(rf"\b{re.escape(name.lower())}\b")
        return [e.id for e in registry.entries.values() if pattern.search(_entry_text(e))][:3]

    return lookup
