"""Align two engines' traces of one test and name every call where they part, the first one first.

Both engines ran the same code, so their traces are the same sequence of calls until the first call whose
outcome differs; after it, control flow may differ. Calls are matched by API name and arguments (a common
prefix first, then a sequence alignment of the rest); a matched pair whose outcomes differ, or a call one
side made and the other did not, is a divergence, classified by *what* differs (an error appears, another
error class, a missing name, int vs real, case folded, type arguments lost, row order, ...).
"""

from __future__ import annotations

import ast
import difflib
import functools
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stc_harness.dropin.trace import INERT, MISSING, OK, RAISE

#: Severity: a *major* divergence can break code; a *minor* one (another message for the same error class,
#: a failed attribute probe the code went on from, arguments that differ because of an earlier difference)
#: is listed but is the cause only when nothing major precedes the failure.
MAJOR, MINOR = "major", "minor"
#: Events compared after the common prefix, per side (a sequence alignment is quadratic).
ALIGN_WINDOW = 400
MAX_LISTED = 200

_MISSING_TEXT = re.compile(
    r"has no attribute '(\w+)'|unexpected keyword argument '(\w+)'|"
    r"(\w+)(?:\([^)]*\))? is not provided by pyturso|cannot import name '(\w+)'"
)
_TYPE_ARGS = re.compile(r"\(\s*\d+\s*(?:,\s*\d+\s*)?\)")


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
        return "missing; the drop-in made it inert when this connection was set up, earlier in the run"
    return "missing; the drop-in made the call inert"


def _error_class(outcome: str) -> str:
    return outcome.split(":", 1)[0].strip()


def _literal(text: str) -> Any:
    text = text.removeprefix("await→")
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _UNPARSED


_UNPARSED: Any = object()


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    return [value]


def value_kind(sqlite: str, turso: str) -> str:
    """What differs between two rendered values: a type, a case, type arguments, order, count, the value."""
    a, b = _literal(sqlite), _literal(turso)
    if a is _UNPARSED or b is _UNPARSED:
        return "value"
    if (a is None) != (b is None) and isinstance(a if b is None else b, tuple):
        return "row-count"  # fetchone(): a row on one side, none on the other
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return "row-count"
        if sorted(map(repr, a)) == sorted(map(repr, b)):
            return "row-order"
    fa, fb = _flat(a), _flat(b)
    if len(fa) != len(fb):
        return "shape"
    for x, y in zip(fa, fb, strict=True):
        if not (x == y and type(x) is type(y)):
            return cell_kind(x, y)
    return "value"


def cell_kind(x: Any, y: Any) -> str:
    """What differs between two single values (a row's cell): a type, a case, quoting, the value."""
    if x is None or y is None:
        return "null-vs-value"
    if {type(x), type(y)} == {int, float}:
        return "int-vs-real" if x == y else "numeric-value"
    if isinstance(x, float) and isinstance(y, float):
        return "float-precision" if abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1.0) else "numeric-value"
    if {type(x), type(y)} <= {str, bytes, bytearray}:
        return _text_kind(x, y)
    if type(x) is not type(y):
        return f"type-{type(x).__name__}-vs-{type(y).__name__}"
    return "value"


def _text_kind(x: Any, y: Any) -> str:
    if type(x) is not type(y):
        return "text-vs-blob"
    a, b = str(x), str(y)
    if a.lower() == b.lower():
        return "text-case" if " " in a else "case-folded"  # a statement's words vs a name
    if "".join(a.split()) == "".join(b.split()):
        # SQL text laid out anew: spacing and line breaks taken out, or spaces put in
        return "whitespace-collapsed" if _spaces(b) < _spaces(a) else "whitespace-added"
    if _TYPE_ARGS.sub("", a) == _TYPE_ARGS.sub("", b):
        return "type-arguments-lost"
    if a.replace('"', "'") == b.replace('"', "'"):
        return "quote-style"  # the same text quoted another way: an expression rendered anew
    if _bare(a, "()") == _bare(b, "()"):
        return "parenthesised"  # the same expression with or without brackets (and spacing)
    if _bare(a, "\"'`[]") == _bare(b, "\"'`[]"):
        return "requoted"  # identifiers' quotes taken out or put in (and spacing)
    if _bare(a, "").lower() == _bare(b, "").lower():
        return "case-and-spacing"  # keywords upper-cased, spacing redone: a statement rendered anew
    return "text-value"


def _spaces(text: str) -> int:
    return sum(ch.isspace() for ch in text)


def _bare(text: str, drop: str) -> str:
    return "".join(ch for ch in "".join(text.split()) if ch not in drop)


def differing_cells(sqlite: str, turso: str) -> frozenset[int]:
    """The column positions whose values differ between two fetched results of the same shape (rows)."""
    a, b = _literal(sqlite), _literal(turso)
    rows_a, rows_b = _rows(a), _rows(b)
    if rows_a is None or rows_b is None or len(rows_a) != len(rows_b):
        return frozenset()
    cells = set()
    for ra, rb in zip(rows_a, rows_b, strict=True):
        if len(ra) != len(rb):
            return frozenset()
        cells |= {j for j, (x, y) in enumerate(zip(ra, rb, strict=True)) if x != y or type(x) is not type(y)}
    return frozenset(cells)


def flat_values(text: str) -> list[Any] | None:
    """Every value of a rendered result, flattened (rows of a fetchall and a fetchone alike), or None."""
    value = _literal(text)
    return None if value is _UNPARSED else _flat(value)


def _rows(value: Any) -> list[tuple[Any, ...]] | None:
    if isinstance(value, tuple):
        return [value]
    if isinstance(value, list) and all(isinstance(r, tuple) for r in value):
        return value
    return None


def classify(s: list[str] | None, t: list[str] | None) -> tuple[str, str]:
    """(kind, severity) of a divergence between one SQLite event and one Turso event (either may be None)."""
    if t is not None and t[2] in (MISSING, INERT):
        return "missing-name", MAJOR if t[2] == INERT or s is not None else MINOR
    if t is not None and t[2] == RAISE and _MISSING_TEXT.search(t[3]) and (s is None or s[2] == OK):
        return "missing-name", MAJOR
    if s is None:
        return ("error-appears", MAJOR) if t is not None and t[2] == RAISE else ("turso-only-call", MINOR)
    if t is None:
        return "sqlite-only-call", MAJOR
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
    if s[3].startswith("await→") != t[3].startswith("await→"):
        return "awaitable-vs-value", MAJOR
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


_ONE_SIDED = ("sqlite-only-call", "turso-only-call")
_ENDS_FLOW = ("error-appears", "error-disappears", "sqlite-only-call", "awaitable-vs-value")


def align(sqlite: list[list[str]], turso: list[list[str]]) -> list[Divergence]:
    """Every divergence between two traces of one test, in the order they happened.

    Once one side raised where the other did not (or stopped making calls), calls made by one side only
    are consequences of that divergence, not new ones: they are left out.
    """
    return _drop_consequences(_align(sqlite, turso))


def _drop_consequences(divergences: list[Divergence]) -> list[Divergence]:
    out: list[Divergence] = []
    parted = False
    for d in divergences:
        if parted and d.kind in _ONE_SIDED:
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
                if s is not None and t is not None and _key(s) != _key(t):
                    out.append(_divergence(s, None, i + b0 + k))
                    out.append(_divergence(None, t, i + b0 + k))
                else:
                    out.append(_divergence(s, t, i + b0 + k))
        if len(out) >= MAX_LISTED:
            return out[:MAX_LISTED]
    return out


#: The prefix a client library puts on a driver's message (`(turso.lib.DatabaseError) ...`).
_WRAPPED = re.compile(r"^\([\w.]+\)\s*")


def blame(divergences: list[Divergence], failure: dict[str, Any] | None = None) -> Divergence | None:
    """The divergence that breaks the test, by evidence, in this order.

    1. a name Turso lacks that the code used (without the drop-in's stand-in it fails right there);
    2. the call that raised the very exception the test failed with (or lacked the name it names);
    3. a diverging call on the line where the test failed (unless it read a value that an earlier write
       or transaction statement, failing on one engine only, had already changed);
    4. for an assertion, the divergence whose values it shows, else the last read before it;
    5. the divergence just before the code took another path (the first call one engine alone made);
    6. the first major divergence, else the first at all.
    """
    failure = failure or {}
    line = str(failure.get("line") or "")
    stopped = _stopped_at(failure)
    divergences = [d for d in divergences if not _after_failure(d, stopped)]
    majors = [d for d in divergences if d.severity == MAJOR]
    for d in majors:
        if d.kind == "missing-name":
            return d
    messages = [str(failure.get("message") or ""), *(str(m) for _, m in failure.get("chain") or [])]
    heads = [_WRAPPED.sub("", m.strip()).splitlines()[0][:80] for m in messages if m.strip()]
    # an exception shown inside an assertion (`<Result DatabaseError('Parse error: ...')>` of a CLI runner)
    heads += [e.group(3)[:80] for m in messages for e in _EMBEDDED.finditer(m)]
    for head in heads:
        for d in divergences:
            if d.kind == "missing-name" and f"'{d.missing_name}'" in head:
                return d
            if d.turso.startswith("raised ") and head and head in d.turso:
                return _flow_parted_before(majors, d) or d
    if any("DID NOT RAISE" in m or " not raised" in m for m in messages):
        for d in majors:  # the test expected an exception: the call where SQLite raised and Turso did not
            if d.kind == "error-disappears":
                return d
    at_line = _at_failing_line(majors, line)
    if at_line is not None:
        return _state_changed_before(majors, at_line) or at_line
    if majors and _asserted(failure):
        shown = _shown_by_assertion([d for d in majors if d.kind not in _ONE_SIDED], "\n".join(messages))
        if shown is not None:
            return shown
        read = _last_read_before(majors, line)
        if read is not None:
            return read
    if majors:
        return _path_parted(majors) or majors[0]
    return divergences[0] if divergences else None


#: The first word of a statement that only reads: its divergence changes no state.
_READS = re.compile(r"^\s*['\"]?\s*(?:select|pragma\s+\w+\s*(?:['\"]|;|\(|$)|with|values|explain)",
                    re.IGNORECASE)
_EXECUTES = ("execute", "executemany", "executescript", "execute_fetchall", "execute_insert")


def _state_changed_before(majors: list[Divergence], read: Divergence) -> Divergence | None:
    """For a value the failing statement read, the earlier statement that changed state on one engine
    only (a write or transaction control that failed on one side and not the other): the value read is
    its consequence (RELEASE went through on Turso with an INSERT ... RETURNING unfetched, so the count
    read later is short)."""
    if read.kind.startswith("error") or read.kind in _ONE_SIDED:
        return None
    for d in majors[: majors.index(read)]:
        leaf = d.call.rsplit(".", 1)[-1]
        if leaf in _EXECUTES and d.kind in ("error-appears", "error-disappears") and not _READS.match(d.args):
            return d
    return None


def _path_parted(majors: list[Divergence]) -> Divergence | None:
    """When nothing ties the failure to a call: the latest divergence before the first call only one
    engine made, the one that sent the code down another path (a table listed lower-cased, so its
    columns were never read); earlier divergences were read and left unused on that path."""
    first = next((i for i, d in enumerate(majors) if d.kind in _ONE_SIDED), None)
    if first is None:
        return None
    before = [d for d in majors[:first] if d.kind != "missing-name"]
    return before[-1] if before else None


_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def _stopped_at(failure: dict[str, Any]) -> tuple[str, int] | None:
    """The test file and the last line of it Turso reached: the outermost frame of that file in the
    traceback (a helper defined above the test is called from a later line), to the end of its statement."""
    path, _, number = str(failure.get("line") or "").rpartition(":")
    if not path or not number.isdigit():
        return None
    frames = [(f, int(n)) for f, n in _FRAME.findall(str(failure.get("longrepr") or ""))
              if f == path or f.endswith("/" + path)]
    source = str(failure.get("source") or "").strip()
    if source.startswith(("with ", "async with ", "for ", "async for ", "while ")):
        return None  # a block's exit or next round is reported on its first line, after its body ran
    file, line = frames[0] if frames else ("", int(number))
    end = _statement_end(file, line) if file else None
    if end is None:  # the file cannot be read: a statement that opens a bracket goes on below
        opened = sum(source.count(c) for c in "([{") - sum(source.count(c) for c in ")]}")
        end = line + (STATEMENT_SPAN if opened > 0 or source.endswith("\\") else 0)
    return path, end


@functools.lru_cache(maxsize=64)
def _statements(file: str) -> dict[int, int]:
    """First line -> last line of every statement of a Python file (empty if it cannot be read)."""
    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    spans: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            spans[node.lineno] = min(spans.get(node.lineno, node.end_lineno), node.end_lineno)
    return spans


def _statement_end(file: str, line: int) -> int | None:
    """The last line of the statement that starts on `line` of `file` (a multi-line `assert (`)."""
    return _statements(file).get(line)


def _after_failure(d: Divergence, stopped: tuple[str, int] | None) -> bool:
    """A call made from a line of the failing test after the one it failed on: Turso stopped before it, so
    only SQLite went on to make it (a consequence of the failure, never its cause)."""
    o_path, _, o_number = d.origin.rpartition(":")
    return stopped is not None and o_path == stopped[0] and o_number.isdigit() and int(o_number) > stopped[1]


def _flow_parted_before(majors: list[Divergence], d: Divergence) -> Divergence | None:
    """For a call SQLite never made, the value that sent Turso down another path: the latest value
    divergence before the first call only one engine made (`exists()` read a lower-cased name, so the
    code created the table again and Turso refused it)."""
    if d.sqlite != "(no such call)" or d not in majors:
        return None
    before = majors[: majors.index(d)]
    first_one_sided = next((i for i, m in enumerate(before) if m.kind in _ONE_SIDED), len(before))
    values = [m for m in before[:first_one_sided]
              if m.kind not in _ONE_SIDED and not m.kind.startswith("error") and m.kind != "missing-name"]
    return values[-1] if values else None


#: How many lines above the reported one a statement that failed may start (a multi-line assert).
STATEMENT_SPAN = 3


def _at_failing_line(majors: list[Divergence], line: str) -> Divergence | None:
    """The divergence made while the failing statement ran: its test line at or just above the reported
    one (the closest, the latest of equals), or one made on the reported line itself."""
    path, _, number = line.rpartition(":")
    if not path or not number.isdigit():
        return None
    best: tuple[int, int, int] | None = None
    for i, d in enumerate(majors):
        if d.kind in _ONE_SIDED:
            continue  # a call one engine never made is a consequence, not what a statement compared
        if d.where == line:
            return d
        o_path, _, o_number = d.origin.rpartition(":")
        if o_path != path or not o_number.isdigit():
            continue
        gap = int(number) - int(o_number)
        if -STATEMENT_SPAN <= gap <= STATEMENT_SPAN:  # the statement may start above or end below it
            key = (-abs(gap), gap <= 0, i)  # the closest; then one within the statement; then the latest
            best = key if best is None or key > best else best
    return majors[best[2]] if best is not None else None


def _last_read_before(majors: list[Divergence], line: str) -> Divergence | None:
    """The latest divergence the test itself made before its failing assertion (same file, no later line)."""
    path, _, number = line.rpartition(":")
    if not path or not number.isdigit():
        return None
    for d in reversed(majors):
        o_path, _, o_number = d.origin.rpartition(":")
        if d.kind in _ONE_SIDED or o_path != path or not o_number.isdigit():
            continue
        if int(o_number) <= int(number):
            return d
    return None


_EMBEDDED = re.compile(r"(\w+(?:Error|Exception))\((['\"])(.+?)\2\)")


def _asserted(failure: dict[str, Any]) -> bool:
    return "AssertionError" in str(failure.get("exc_type") or "") or \
        str(failure.get("message") or "").lstrip().startswith("assert")


_TOKEN = re.compile(r"[A-Za-z_][\w.-]{2,}|\d{2,}")


def _shown_by_assertion(majors: list[Divergence], message: str) -> Divergence | None:
    """The divergence with the most of its Turso-only words in the assertion's message (none: None)."""
    best, best_hits = None, 1  # one shared word is chance; two are evidence
    for d in majors:
        on_turso, on_sqlite = set(_TOKEN.findall(d.turso)), set(_TOKEN.findall(d.sqlite))
        hits = sum(1 for token in on_turso ^ on_sqlite if token in message)  # what one engine alone had
        if hits > best_hits:
            best, best_hits = d, hits
    return best
