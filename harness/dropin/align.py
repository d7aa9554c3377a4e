"""Align two engines' traces of one test and name every call where they part, the first one first.

Both engines ran the same code, so their traces are the same sequence of calls until the first call whose
outcome differs; after it, control flow may differ. Calls are matched by API name and arguments (a common
prefix first, then a sequence alignment of the rest); a matched pair whose outcomes differ, or a call one
side made and the other did not, is a divergence, classified by *what* differs (an error appears, another
error class, a missing name, int vs real, case folded, type arguments lost, row order, ...).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass
from typing import Any

from stc_harness.dropin.trace import FILES_LEFT, INERT, MISSING, NOT_AWAITED, OK, RAISE
from stc_harness.dropin.values import value_kind

#: Severity: a *major* divergence can break code; a *minor* one (another message for the same error class,
#: a failed attribute probe the code went on from, arguments that differ because of an earlier difference)
#: is listed but is the cause only when nothing major precedes the failure.
MAJOR, MINOR = "major", "minor"
#: How a call the drop-in made inert ended on Turso: in this test, or when its connection was set up.
INERT_OUTCOME = "missing; the drop-in made the call inert"
INERT_EARLIER_OUTCOME = ("missing; the drop-in made it inert when this connection was set up, "
                         "earlier in the run")
#: A coroutine method's call one side awaited and the other never did (its result was used otherwise).
NEVER_AWAITED_KIND = "never-awaited"
#: Events compared after the common prefix, per side (a sequence alignment is quadratic).
ALIGN_WINDOW = 400
MAX_LISTED = 200

_MISSING_TEXT = re.compile(
    r"has no attribute '(\w+)'|unexpected keyword argument '(\w+)'|"
    r"(\w+)(?:\([^)]*\))? is not provided by pyturso|cannot import name '(\w+)'"
)


@dataclass(frozen=True)
class Divergence:
    """One call where the engines part: what was called, where, what each returned, the kind of difference."""

    call: str
    args: str
    where: str
    sqlite: str
    turso: str
    kind: str
    severity: str
    position: int
    #: The line of the test (or fixture) that was running when the call was made.
    origin: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @property
    def made_inert(self) -> bool:
        """A name Turso lacks that the drop-in made inert so the run could go on (a wall on plain Turso)."""
        return self.kind == "missing-name" and self.turso in (INERT_OUTCOME, INERT_EARLIER_OUTCOME)

    @property
    def missing_name(self) -> str:
        """The name Turso lacks, for a missing-name divergence (else empty)."""
        if self.kind != "missing-name":
            return ""
        found = _MISSING_TEXT.search(self.turso)
        if found:
            return next(g for g in found.groups() if g)
        leaf = self.call.rsplit(".", 1)[-1]
        if "(" in leaf:  # `sqlite3.connect(detect_types)`: a keyword Turso lacks
            return leaf.split("(", 1)[1].rstrip(")")
        return leaf


#: Events of SQLAlchemy making an engine or setting up a connection (not of the code under test).
SA_SET_UP = ("sqlalchemy.dbapi.", "sqlalchemy.isolation_level", "sqlalchemy.connect")


def outcome_text(event: list[str] | None) -> str:
    """How one side's call ended: `→ value`, `raised Class: message`, `missing`, `(no such call)`."""
    if event is None:
        return "(no such call)"
    kind, outcome = event[2], event[3]
    if kind == OK:
        return f"→ {outcome}"
    if kind == RAISE:
        return f"raised {outcome}"
    if kind == MISSING:
        return "attribute missing (AttributeError)"
    if "earlier in the run" in outcome:
        return INERT_EARLIER_OUTCOME
    return INERT_OUTCOME


def _error_class(outcome: str) -> str:
    return outcome.split(":", 1)[0].strip()


def classify(s: list[str] | None, t: list[str] | None) -> tuple[str, str]:
    """(kind, severity) of a divergence between one SQLite event and one Turso event (either may be None)."""
    if t is not None and t[2] in (MISSING, INERT):
        return "missing-name", MAJOR if t[2] == INERT or s is not None else MINOR
    if t is not None and t[2] == RAISE and _MISSING_TEXT.search(t[3]) and (s is None or s[2] == OK):
        return "missing-name", MAJOR
    if s is None:
        return ("error-appears", MAJOR) if t is not None and t[2] == RAISE else ("turso-only-call", MINOR)
    if t is None:  # SQLAlchemy setting up an engine or a connection on one side only: where its run went
        return "sqlite-only-call", MINOR if s[0].startswith(SA_SET_UP) else MAJOR
    if s[2] == OK and t[2] == RAISE:
        return "error-appears", MAJOR
    if s[2] == RAISE and t[2] == OK:
        return "error-disappears", MAJOR
    if s[2] == RAISE and t[2] == RAISE:
        if _error_class(s[3]) != _error_class(t[3]):
            return "error-class", MAJOR
        return "error-message", MINOR
    if s[1] != t[1]:
        return "arguments-differ", MINOR
    if (s[3] == NOT_AWAITED) != (t[3] == NOT_AWAITED):
        return NEVER_AWAITED_KIND, MAJOR  # one side's code used the call's coroutine otherwise (async with)
    if s[3].startswith("await→") != t[3].startswith("await→"):
        return "awaitable-vs-value", MAJOR
    if FILES_LEFT in s[3] or FILES_LEFT in t[3]:
        return FILES_LEFT_KIND, MINOR  # a -wal beside the database breaks only code that looks at the folder
    return value_kind(s[3], t[3]), MAJOR


def _divergence(s: list[str] | None, t: list[str] | None, position: int) -> Divergence:
    kind, severity = classify(s, t)
    ref = t if t is not None else s
    assert ref is not None
    return Divergence(
        call=ref[0],
        args=ref[1],
        where=(t or s or ["", "", "", "", ""])[4] or ref[4],
        origin=origin_of(t) or origin_of(s),
        sqlite=outcome_text(s),
        turso=outcome_text(t),
        kind=kind,
        severity=severity,
        position=position,
    )


_FIRST_QUOTED = re.compile(r"^(?:of )?('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")
_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b")


_CRC = re.compile(r"crc [0-9a-f]{8}")


def _case_folded(s: list[str], t: list[str]) -> bool:
    """The same call on a name one engine gave back in another case (`index_info("SomeIndex")` after
    Turso listed the index as `someindex`): one call, whose results are compared."""
    a, b = _key(s), _key(t)
    return a[0] == b[0] and a[1] != b[1] and a[1].lower() == b[1].lower()


def _key(event: list[str]) -> tuple[str, str]:
    """What a call is, for matching calls across engines: its name, its statement, its arguments' shape.

    Argument values are left out: a value that differs between the runs is either noise (a random number,
    the time) or the consequence of an earlier divergence, which is reported where it happened.
    """
    args = _CRC.sub("crc", event[1])
    head = _FIRST_QUOTED.match(args)
    start = head.end() if head else 0
    return event[0], args[:start] + _LITERAL.sub("#", args[start:])


def _same(s: list[str], t: list[str]) -> bool:
    return s[2] == t[2] and s[3] == t[3]


def origin_of(event: list[str] | None) -> str:
    """The test line that was running when an event was recorded (empty if none)."""
    return event[5] if event is not None and len(event) > 5 else ""


#: A connect() or close() after which one engine had side files (-wal) beside the database, the other not.
FILES_LEFT_KIND = "files-left"
#: Kinds of a call only one engine made.
ONE_SIDED = ("sqlite-only-call", "turso-only-call")
_ENDS_FLOW = ("error-appears", "error-disappears", "sqlite-only-call", "awaitable-vs-value",
              NEVER_AWAITED_KIND)


def align(sqlite: list[list[str]], turso: list[list[str]]) -> list[Divergence]:
    """Every divergence between two traces of one test, in the order they happened.

    Once one side raised where the other did not (or stopped making calls), calls made by one side only
    are consequences of that divergence, not new ones: they are left out.
    """
    return _drop_consequences(_align(sqlite, turso))


#: A call whose first argument is a side file of a database (`'x.db-wal'`): the code opened it as a file.
SIDE_FILE_ARG = re.compile(r"^'[^']*-(?:wal|shm|journal)'")


def _drop_consequences(divergences: list[Divergence]) -> list[Divergence]:
    out: list[Divergence] = []
    parted = False
    for d in divergences:
        # a side file opened on one side only stays: it says where the flow went (see blame.through_side_file)
        if parted and d.kind in ONE_SIDED and not SIDE_FILE_ARG.match(d.args):
            continue
        out.append(d)
        parted = parted or d.kind in _ENDS_FLOW
    return out


def _align(sqlite: list[list[str]], turso: list[list[str]]) -> list[Divergence]:
    out: list[Divergence] = []
    n = min(len(sqlite), len(turso))
    i = 0
    while i < n and _key(sqlite[i]) == _key(turso[i]):
        if not _same(sqlite[i], turso[i]):
            out.append(_divergence(sqlite[i], turso[i], i))
            if len(out) >= MAX_LISTED:
                return out
        i += 1
    rest_s, rest_t = sqlite[i : i + ALIGN_WINDOW], turso[i : i + ALIGN_WINDOW]
    if not rest_s and not rest_t:
        return out
    matcher = difflib.SequenceMatcher(
        None, [_key(e) for e in rest_s], [_key(e) for e in rest_t], autojunk=False
    )
    opcodes = matcher.get_opcodes()
    for n_op, (tag, a0, a1, b0, b1) in enumerate(opcodes):
        last = n_op == len(opcodes) - 1
        if tag == "equal":
            for k in range(a1 - a0):
                if not _same(rest_s[a0 + k], rest_t[b0 + k]):
                    out.append(_divergence(rest_s[a0 + k], rest_t[b0 + k], i + b0 + k))
        elif tag == "delete" and last:
            # Turso's trace ends here: the first call it never completed is the divergence, the rest follow
            out.append(_divergence(rest_s[a0], None, i + b0))
        else:
            for k in range(max(a1 - a0, b1 - b0)):
                s = rest_s[a0 + k] if a0 + k < a1 else None
                t = rest_t[b0 + k] if b0 + k < b1 else None
                if s is not None and t is not None and _case_folded(s, t):
                    # the name's case is reported where it was read; here, what the call itself returned
                    if not _same(s, t):
                        out.append(_divergence([s[0], t[1], *s[2:]], t, i + b0 + k))
                elif s is not None and t is not None and _key(s) != _key(t):
                    out.append(_divergence(s, None, i + b0 + k))
                    out.append(_divergence(None, t, i + b0 + k))
                else:
                    out.append(_divergence(s, t, i + b0 + k))
        if len(out) >= MAX_LISTED:
            return out[:MAX_LISTED]
    return out


def divergence_text(d: dict[str, Any]) -> str:
    """`call(args) at where: SQLite …; Turso … [kind]` for one divergence (its `as_dict()`)."""
    args = d["args"] if len(d["args"]) <= 160 else d["args"][:159] + "…"
    return (
        f"{d['call']}({args}) at {d['where'] or '?'}: SQLite {d['sqlite']}; Turso {d['turso']} [{d['kind']}]"
    )
