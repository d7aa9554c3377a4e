"""Explain a divergence by what the harness knows, matched by structure, with an honest confidence.

- *proven*: a check of the harness observed this very divergence: a check whose subject is the missing
  name (`driver_surface.connection_attribute[create_function]`), or a traced check whose own divergent
  call has the same signature (the kind of call, the kind of difference, the error classes, the SQL's
  keywords and functions with literals and names stripped);
- *likely*: the structure matches a check's divergence in part (same call and kind of difference, most of
  the SQL's features);
- *no known cause*: then the divergence itself is the lead, with a drafted registry entry and a repro.

Words of an error message never decide; they only order candidates that tie on structure.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from stc_harness.differences import Registry
from stc_harness.dropin.align import NEVER_AWAITED_KIND, Divergence
from stc_harness.dropin.signature import Signature
from stc_harness.dropin.values import flat_values
from stc_harness.errors import ErrorKind, kind_from_message
from stc_harness.outcomes import (
    COSMETIC,
    DIFFERENT_ERROR,
    ERROR_APPEARS_OR_DISAPPEARS,
    MISSING_API,
    SAME,
    SILENT_DATA_CHANGE,
    TURSO_OWN,
    UNSUPPORTED,
)

PROVEN, LIKELY, UNKNOWN = "proven", "likely", "no known cause"
#: The backend whose divergences are explained (another backend's own entries never explain them).
TARGET = "turso"
#: Error kinds too broad to tie two statements' errors together by themselves.
BROAD_KINDS = frozenset({ErrorKind.SYNTAX, ErrorKind.UNSUPPORTED, ErrorKind.DRIVER_OPERATION_FAILED,
                         ErrorKind.MISUSE})
#: Errors naming an object the statement refers to that the connection does not have.
MISSING_OBJECT_KINDS = frozenset({ErrorKind.NO_SUCH_TABLE, ErrorKind.NO_SUCH_COLUMN})
#: Constraint violations: which class one raises depends on the statement (OR FAIL, a trigger's RAISE).
CONSTRAINT_KINDS = frozenset({ErrorKind.UNIQUE_VIOLATION, ErrorKind.NOT_NULL_VIOLATION,
                              ErrorKind.CHECK_VIOLATION, ErrorKind.FOREIGN_KEY_VIOLATION,
                              ErrorKind.CONSTRAINT_VIOLATION})
#: Messages (names taken out) of errors about an object the schema already has.
_SCHEMA_STATE = re.compile(r"already exists|^duplicate <object>")
#: Entries about an error's wording alone: their checks' calls diverge exactly as the class checks' do, so
#: they never explain a divergence by its signature, only a test that matches the message (explain.py).
MESSAGE_ONLY_ENTRIES = frozenset({"driver_exceptions.parse-error-message-prefix"})
#: The registry entries a drop-in missing-feature error names (see stc_harness.dropin.shims).
_NAMED_ENTRIES = re.compile(r"Known difference: registry entr(?:y|ies) ([\w.\-]+(?:, [\w.\-]+)*)")
#: How much of the SQL's features a likely match must share.
LIKELY_OVERLAP = 0.5
#: Impact class of a drafted entry, by kind of difference.
DRAFT_IMPACT = {
    "missing-name": MISSING_API,
    "error-appears": ERROR_APPEARS_OR_DISAPPEARS,
    "error-disappears": ERROR_APPEARS_OR_DISAPPEARS,
    "error-class": DIFFERENT_ERROR,
    "error-message": COSMETIC,
    "awaitable-vs-value": MISSING_API,
    NEVER_AWAITED_KIND: MISSING_API,
    "sqlite-only-call": ERROR_APPEARS_OR_DISAPPEARS,
    "turso-only-call": COSMETIC,
}
_PARAM = re.compile(r"\[([^\]]+)\]$")

@dataclass(frozen=True)
class Explanation:
    """Why a divergence happens: a known difference (registry entry and/or check), or a draft of one."""

    confidence: str
    ref: str
    title: str
    why: str
    check: str = ""
    entry: str = ""
    draft: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: v for k, v in asdict(self).items() if v not in ("", {}, None)}


@dataclass
class Evidence:
    """A check's own divergence: which check, its registry entry, and the signature of the divergent call."""

    check: str
    entry: str
    signature: Signature
    call: str
    sqlite: str
    turso: str
    #: What the check's statements before its divergent call were about (see `context_of`).
    context: frozenset[str] = frozenset()

    def unshared_context(self, context: frozenset[str]) -> int:
        """How many of the subjects of this divergence the check had touched before and the user had not.

        Two checks can show the very same divergence (`PRAGMA journal_mode` reads `wal`): one on a new file,
        one after setting the mode. The one whose earlier statements the user's code also made fits better.
        """
        return len((self.context & self.signature.features) - context)

    @cached_property
    def changed(self) -> frozenset[tuple[str, str]]:
        """The values this divergence changed (see `changed_values`), worked out once per check."""
        return changed_values(self.sqlite, self.turso)

    @cached_property
    def rewrites(self) -> frozenset[str]:
        """How this divergence's text values were written anew (see `text_rewrites`)."""
        return text_rewrites(self.changed)

    @cached_property
    def stored(self) -> frozenset[str]:
        """The kinds of stored statement among the values this divergence changed (see `stored_kinds`)."""
        return stored_kinds(self.changed)

    @cached_property
    def built_in_missing(self) -> bool:
        """Whether Turso's error names a missing table the engine itself provides (see built_in_missing)."""
        return built_in_missing(self.turso)

    @cached_property
    def error_kind(self) -> Any:
        """The kind of the error Turso raised: the taxonomy's, else its message with names taken out."""
        return error_kind(self.turso)

    @cached_property
    def sqlite_error_kind(self) -> Any:
        """The kind of the error SQLite raised, the same way (empty when SQLite raised none)."""
        return error_kind(self.sqlite)


class Knowledge:
    """The registry, the measured checks and the checks' traced divergences, indexed by structure."""

    def __init__(
        self, registry: Registry, checks: Iterable[dict[str, Any]] = (), evidence: Iterable[Evidence] = ()
    ) -> None:
        self.registry = registry
        self.titles: dict[str, str] = {}
        self.entry_of: dict[str, str] = {}
        self.by_param: dict[str, list[str]] = defaultdict(list)
        for entry in registry.entries.values():
            if self._for_turso(entry.id):
                for check in entry.checks:
                    self.entry_of.setdefault(check, entry.id)
        for row in checks:
            result = (row.get("results") or {}).get(TARGET) or {}
            if result.get("outcome") in (None, SAME, UNSUPPORTED):
                continue
            cid = str(row["id"])
            self.titles[cid] = str(row.get("title") or "")
            entry = (row.get("entry") or {}).get("id")
            if entry and self._for_turso(str(entry)):
                self.entry_of[cid] = str(entry)
            param = _PARAM.search(cid)
            if param:
                for name in re.split(r"[-,\s]+", param.group(1)):
                    self.by_param[name].append(cid)
        self.evidence: dict[tuple[str, str, tuple[str, str]], list[Evidence]] = defaultdict(list)
        for ev in evidence:
            sig = ev.signature
            if self.entry_of.get(ev.check) in MESSAGE_ONLY_ENTRIES:
                continue  # its calls diverge as others' do; it explains only a message the code matches
            self.evidence[(sig.group, sig.kind, sig.classes)].append(ev)

    def _for_turso(self, entry_id: str) -> bool:
        """An entry that states what Turso observes (or states no backend): not another backend's own."""
        entry = self.registry.entries.get(entry_id)
        return entry is None or not entry.expect or TARGET in entry.expect

    def impact(self, entry_id: str) -> str:
        """The impact class of a registry entry (empty for an unknown one)."""
        entry = self.registry.entries.get(entry_id)
        return (entry.impact or "") if entry is not None else ""

    def _entry_title(self, entry_id: str) -> str:
        entry = self.registry.entries.get(entry_id)
        return entry.title if entry is not None else ""

    def _explained(self, confidence: str, check: str, why: str) -> Explanation:
        entry = self.entry_of.get(check, "")
        title = self._entry_title(entry) or self.titles.get(check, "")
        return Explanation(confidence, entry or check, title, why, check=check, entry=entry)

    def explain(
        self, d: Divergence, words: frozenset[str] = frozenset(), context: frozenset[str] = frozenset()
    ) -> Explanation:
        """The best-backed explanation of one divergence (`context`: what the code's earlier statements
        were about, see `context_of`)."""
        if d.kind == "missing-name":
            found = self._missing(d)
            if found is not None:
                return found
        sig = Signature.of(d)
        candidates = self.evidence.get((sig.group, sig.kind, sig.classes), [])
        best: tuple[float, tuple[int, ...], Evidence] | None = None
        # an error the taxonomy has no kind for is compared by its message with names taken out
        # (only a raised error has a kind: a value that reads like an error message is a value)
        user_kind: Any = (error_kind(d.turso) or None) if d.kind.startswith("error") else None
        user_sqlite_kind = error_kind(d.sqlite)
        user_built_in = built_in_missing(d.turso)
        mine = changed_values(d.sqlite, d.turso)
        stored = stored_kinds(mine)
        rewrites = text_rewrites(mine)
        params = {f for f in sig.features if f.startswith("param:")}
        user_template = error_template(d.turso)
        # an engine error raised as another class: the same error, or two errors about which objects the
        # schema has (a guarded `ALTER TABLE ... ADD COLUMN` on a file whose state differs): either way
        # the code's `except` for SQLite's class lets Turso's escape
        remapped = (d.kind == "error-class" and user_kind not in CONSTRAINT_KINDS
                    and (error_template("raised " + d.sqlite.removeprefix("raised ")) == user_template
                         or (_schema_state(user_kind) and _schema_state(user_sqlite_kind))))
        # what a statement is about (a module, a function, a pragma, a system table): its first letters
        names = {f.split(":", 1)[1] for f in sig.features
                 if f.startswith(("module:", "fn:", "pragma:", "src:")) and len(f.split(":", 1)[1]) > 2}
        subjects = {n[:3] for n in names}
        for ev in candidates:
            # how the code used the call's result (never awaiting its coroutine) is the difference,
            # whatever the statement: the same kind of call diverging that way is the same difference
            score = 1.0 if d.kind == NEVER_AWAITED_KIND else _overlap(sig, ev.signature)
            if user_kind is not None:  # an error difference: the kind of error decides, not the statement
                # the same error on Turso, and the same (or no) error on SQLite
                same_kind = (ev.error_kind == user_kind and ev.sqlite_error_kind == user_sqlite_kind
                             and ev.built_in_missing == user_built_in)
                # a kind as broad as "syntax error" or "unsupported" is about the statement's own text:
                # it must share the statement's shape, or (not for syntax) the message without names
                same_message = user_kind != ErrorKind.SYNTAX and user_template == error_template(ev.turso)
                # a table or column only Turso's connection cannot see follows from an earlier difference
                # (a CREATE refused, another database): only the statement it is about can tell which
                unseen = user_kind in MISSING_OBJECT_KINDS and user_sqlite_kind != user_kind
                matched = same_kind and (score > 0 or (sig.classes == ev.signature.classes and not unseen
                                                       and (user_kind not in BROAD_KINDS or same_message)))
                # the same error raised as another class, as a check sees another engine error raised:
                # the class mapping is Turso's rule (a constraint's class depends on the statement: not so)
                mapped = remapped and sig.classes == ev.signature.classes
                score = 1.0 if matched else LIKELY_OVERLAP if mapped else min(score, 0.4)
            check_text = ev.check + " " + self.titles.get(ev.check, "")
            check_id = ev.check.lower()
            rewritten = -len(rewrites ^ ev.rewrites) if rewrites and ev.rewrites else 0
            tie = (len(params & ev.signature.features), int(bool(mine) and mine == ev.changed),
                   len(stored & ev.stored), -ev.unshared_context(context),
                   sum(1 for s in names if s in check_id), rewritten,
                   sum(1 for s in subjects if s in check_id), len(words & _words(check_text)),
                   len(ev.context & context), len(sig.features & ev.signature.features))
            if best is None or (score, tie) > (best[0], best[1]):
                best = (score, tie, ev)
        if best is not None:
            score, _, ev = best
            if score >= 1.0 and (d.kind == NEVER_AWAITED_KIND or not _generic(sig)):
                return self._explained(
                    PROVEN,
                    ev.check,
                    f"check {ev.check} diverges at the same kind of call: "
                    f"{ev.call} {_short(ev.sqlite)} on SQLite, {_short(ev.turso)} on Turso",
                )
            if score >= LIKELY_OVERLAP and user_kind is not None and ev.error_kind != user_kind:
                return self._explained(
                    LIKELY,
                    ev.check,
                    f"check {ev.check} sees another engine error raised as the same class: "
                    f"{ev.signature.classes[0]} on SQLite, {ev.signature.classes[1]} on Turso",
                )
            if score >= LIKELY_OVERLAP:
                return self._explained(
                    LIKELY,
                    ev.check,
                    f"check {ev.check} diverges the same way ({d.kind}) "
                    f"on a statement sharing {score:.0%} of this one's features",
                )
        return self.draft(d)

    def _missing(self, d: Divergence) -> Explanation | None:
        named = self._named_by_the_drop_in(d)
        if named is not None:
            return named
        name = d.missing_name
        checks = self.by_param.get(name) or self.by_param.get(name.lower(), [])
        if not checks:
            return None
        asynchronous = d.call.startswith(("aio.", "aiosqlite."))
        ranked = sorted(
            checks,
            key=lambda c: (
                c.startswith("driver_async") != asynchronous,
                not c.startswith("driver_surface"),
                c,
            ),
        )
        check = ranked[0]
        return self._explained(PROVEN, check, f"check {check} measures that Turso lacks {name}")

    def by_entry(self, entry: str, why: str, prefer: str = "") -> Explanation | None:
        """`entry` proven by one of its checks that saw Turso differ, the first whose id holds `prefer` if
        any does (`why` may name it: `{check}`)."""
        seen = sorted(c for c, e in self.entry_of.items() if e == entry and c in self.titles)
        seen.sort(key=lambda c: bool(prefer) and prefer not in c)
        return self._explained(PROVEN, seen[0], why.format(check=seen[0])) if seen else None

    def _named_by_the_drop_in(self, d: Divergence) -> Explanation | None:
        """The drop-in's own missing-feature error names the registry entries of what is missing
        (`sqlite3.connect(factory=...)`): the check of such an entry that saw Turso differ proves it."""
        named = _NAMED_ENTRIES.search(d.turso)
        if not named:
            return None
        for entry in (e.strip().rstrip(".") for e in named.group(1).split(",")):
            found = self.by_entry(entry, f"the drop-in's error names {entry}, whose check {{check}} "
                                         "measures that Turso lacks it")
            if found is not None:
                return found
        return None

    def draft(self, d: Divergence) -> Explanation:
        """No known difference explains `d`: a registry entry to adopt, drafted from the divergence."""
        sig = Signature.of(d)
        slug = re.sub(r"[^a-z0-9]+", "-", f"{sig.group}-{sig.statement}-{d.kind}".lower()).strip("-")
        impact = DRAFT_IMPACT.get(d.kind, SILENT_DATA_CHANGE)
        title = (
            f"{d.call} {('on ' + sig.statement.upper() + ' ') if sig.statement else ''}differs "
            f"({d.kind}): SQLite {_short(d.sqlite)}, Turso {_short(d.turso)}"
        )
        draft = {
            "id": f"dropin.{slug}",
            "title": title,
            "impact": impact,
            "attribution": TURSO_OWN,
            "source": {"document": "measured", "section": "drop-in trace"},
            "reason": f"At {d.where}: {d.call}({d.args}) {d.sqlite} on SQLite, {d.turso} on Turso.",
        }
        return Explanation(
            UNKNOWN, f"dropin.{slug}", title, "no check of the harness shows this divergence yet", draft=draft
        )


def changed_values(sqlite: str, turso: str) -> frozenset[tuple[str, str]]:
    """The (SQLite, Turso) pairs of values a divergence changed (`'delete'` to `'wal'`); a check's and a
    user's divergence that change the very same values fit each other best."""
    x, y = flat_values(sqlite.removeprefix("→ ")), flat_values(turso.removeprefix("→ "))
    if x is None or y is None or len(x) != len(y):
        return frozenset()
    return frozenset((repr(p), repr(q)) for p, q in zip(x, y, strict=True) if p != q)


_STORED = re.compile(r"^['\"]\s*(create\s+(?:unique\s+)?(?:table|index|view|trigger))\b", re.IGNORECASE)


def stored_kinds(changed: frozenset[tuple[str, str]]) -> frozenset[str]:
    """`create table`, `create index`...: what kind of schema text the changed values were (a table's
    stored SQL re-rendered is not an index's, though both differ the same way)."""
    return frozenset(" ".join(m.group(1).lower().split()) for s, _ in changed if (m := _STORED.match(s)))


def text_rewrites(changed: frozenset[tuple[str, str]]) -> frozenset[str]:
    """What changed in text values written anew: brackets, spacing, letter case, quotes (`STRFTIME(...)` read
    back as `(STRFTIME (...))` is brackets and spacing; `(5)` for `5` is brackets alone)."""
    found: set[str] = set()
    for s, t in changed:
        if not (s[:1] in "'\"" and t[:1] in "'\""):
            continue
        if s.count("(") != t.count("("):
            found.add("brackets")
        if s.split() != t.split() and (sum(c.isspace() for c in s) != sum(c.isspace() for c in t)
                                       or "".join(s.split()) == "".join(t.split())):
            found.add("spacing")
        letters = ("".join(c for c in s if c.isalpha()), "".join(c for c in t if c.isalpha()))
        if letters[0] != letters[1] and letters[0].lower() == letters[1].lower():
            found.add("case")
        if s.count("'") + s.count('"') != t.count("'") + t.count('"'):
            found.add("quotes")
    return frozenset(found)


_QUOTED_ANY = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\[[^\]]*\]")
_OBJECT = re.compile(r"\b(?:table|view|index|trigger|column|function|module|collation)\s+(?:\?|[\w.$]+)",
                     re.IGNORECASE)


#: A missing table that is the engine's own: a table-valued PRAGMA function, a schema table, json_each...
_BUILT_IN_MISSING = re.compile(r"no such (?:table|view): (?:\w+\.)?(?:pragma_|sqlite_|json_|jsonb_|"
                               r"generate_series|dbstat|fts\d)", re.IGNORECASE)


def built_in_missing(outcome: str) -> bool:
    """An error naming a missing table the engine itself provides (not one the code created): Turso lacking
    `pragma_collation_list` says nothing about an application's own table that a connection cannot see."""
    return bool(_BUILT_IN_MISSING.search(outcome))


def _schema_state(kind: Any) -> bool:
    """An error about which objects the schema has (no such table or column, already exists, duplicate)."""
    return kind in MISSING_OBJECT_KINDS or (isinstance(kind, str) and bool(_SCHEMA_STATE.search(kind)))


def error_kind(outcome: str) -> Any:
    """An outcome's kind of error: the taxonomy's, else its message with names taken out; "" for none."""
    if not outcome.startswith("raised "):
        return ""
    return kind_from_message(outcome) or error_template(outcome)


def error_template(outcome: str) -> str:
    """An error's message with what names an object taken out (`<object> ? already exists`): the kind of an
    error the harness's taxonomy has no name for, so `view "v" already exists` is `table t already exists`."""
    if not outcome.startswith("raised "):
        return ""
    message = outcome.removeprefix("raised ").split(":", 1)[-1].strip()
    message = re.sub(r"^(?:parse|runtime) error:\s*", "", message, flags=re.IGNORECASE)
    message = _OBJECT.sub("<object> ?", _QUOTED_ANY.sub("?", message))
    return re.sub(r"\d+", "#", message).lower()


def _generic(sig: Signature) -> bool:
    """A signature too common to prove anything: a plain statement's value differs, no error, no feature."""
    if sig.kind == "value":  # values that do not even parse: too loose a shape to prove anything
        return True
    return sig.group in ("execute", "fetch") and not sig.features and not any(sig.classes)


def _overlap(a: Signature, b: Signature) -> float:
    if a.cells and b.cells and not a.cells & b.cells:
        return 0.0  # other columns of the row differ: another difference
    shared_params = {f for f in a.features & b.features if f.startswith("param:")}
    if shared_params and a.group == b.group == "execute":
        return 1.0  # the same unusual parameter type, the same kind of call and difference
    if a.statement != b.statement:
        return 0.0
    if not a.features and not b.features:
        return 1.0
    if b.features <= a.features and b.features:
        return 1.0 if a.features == b.features or len(b.features) >= 2 else 0.75
    union = a.features | b.features
    return len(a.features & b.features) / len(union) if union else 0.0


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


_WORD = re.compile(r"[a-z_][a-z0-9_]{3,}")


def _words(text: str) -> frozenset[str]:
    found = _WORD.findall(text.lower())
    parts = [part for w in found if "_" in w for part in _WORD.findall(w.replace("_", " "))]
    return frozenset([*found, *parts])  # `true_keyword` is also `true` and `keyword`


def message_words(record: dict[str, Any]) -> frozenset[str]:
    """Words of a failure's message: used only to order candidates that tie on structure."""
    return _words(str(record.get("message") or ""))
