"""Which of a test's divergences breaks it, by evidence: the call that raised its exception, the line it
failed on, the values its assertion shows, the path the code took; never a call made after it stopped.
"""

from __future__ import annotations

import re
from typing import Any

from stc_harness.dropin.align import FILES_LEFT_KIND, MAJOR, ONE_SIDED, SIDE_FILE_ARG, Divergence
from stc_harness.dropin.file_listing import lists_files
from stc_harness.dropin.stopped import STATEMENT_SPAN, TeardownLines, stopped_at
from stc_harness.dropin.trace import FILES_LEFT, SQL_FIRST

#: The prefix a client library puts on a driver's message (`(turso.lib.DatabaseError) ...`).
_WRAPPED = re.compile(r"^\([\w.]+\)\s*")


def blame(divergences: list[Divergence], failure: dict[str, Any] | None = None) -> Divergence | None:
    """The divergence that breaks the test (see `_blame`), or the side file that sent the code to it."""
    chosen = _blame(divergences, failure)
    return through_side_file(divergences, chosen) or chosen


def through_side_file(divergences: list[Divergence], chosen: Divergence | None) -> Divergence | None:
    """When, before `chosen`, the code opened a side file only Turso had (coverage.py's combine globs its
    data files and reads Turso's `-wal` as one more, breaking the real file's log): the divergence that
    showed that side file left beside its database, which is what sent the code there."""
    if chosen is None or chosen.kind == "missing-name" or chosen not in divergences:
        return None
    at = divergences.index(chosen)
    for i, d in enumerate(divergences[: at + 1]):
        if d.sqlite == "(no such call)" and SIDE_FILE_ARG.match(d.args):
            left = [x for x in divergences[:i] if x.kind == FILES_LEFT_KIND]
            return left[-1] if left else None
    return None


def _blame(divergences: list[Divergence], failure: dict[str, Any] | None = None) -> Divergence | None:
    """The divergence that breaks the test, by evidence, in this order.

    1. a name Turso lacks that the code used (without the drop-in's stand-in it fails right there);
    2. the call that raised the very exception the test failed with (or lacked the name it names);
    3. the call where one engine alone returned a text the failure's message quotes whole (`KeyError:
       'lower (x)'`, `remove_table ... 'nothingchanged'`), unless the call on the failing line did too;
    4. a diverging call on the line where the test failed (unless it read a value that an earlier write
       or transaction statement, failing on one engine only, had already changed), the first read of a
       difference the statement read twice;
    5. for an assertion, the divergence whose values it shows, else the last read before it;
    6. for an assertion, the call whose PRAGMA reads what it names (`index idx`: index_info("idx"));
    7. the divergence just before the code took another path (the first call one engine alone made);
    8. the first major divergence, else the first at all.
    Calls made after the failure (later lines of the test, its tear-down) are never the cause.
    """
    failure = failure or {}
    line = str(failure.get("line") or "")
    stopped = stopped_at(failure)
    teardown = TeardownLines(failure)
    if line in teardown:
        teardown = TeardownLines({})  # the failure is in a tear-down: what it ran before the failure counts
    divergences = [d for d in divergences if not _after_failure(d, stopped) and d.origin not in teardown]
    majors = [d for d in divergences if d.severity == MAJOR]
    for d in majors:
        if d.kind == "missing-name":
            return d
    messages = failure_messages(failure)
    heads = [_WRAPPED.sub("", m.strip()).splitlines()[0][:80] for m in messages if m.strip()]
    # an exception shown inside an assertion (`<Result DatabaseError('Parse error: ...')>` of a CLI runner)
    heads += [e.group(3)[:80] for m in messages for e in _EMBEDDED.finditer(m)]
    for head in heads:
        for d in divergences:
            if d.kind == "missing-name" and f"'{d.missing_name}'" in head:
                return d
            if d.turso.startswith("raised ") and head and head in d.turso:
                return _flow_parted_before(majors, d, divergences) or d
    if any("DID NOT RAISE" in m or " not raised" in m for m in messages):
        for d in majors:  # the test expected an exception: the call where SQLite raised and Turso did not
            if d.kind == "error-disappears":
                return d
    left = [d for d in divergences if d.kind == FILES_LEFT_KIND]
    if left and lists_files(failure):  # an assertion on a folder's listing: the side file one engine left
        return left[-1]
    # the innermost exception first: the value that surfaced where the failure began (a KeyError under
    # the assertion that reported it), not a name a warning on the way quoted
    carriers = next((c for m in reversed(messages) if (c := _returned_quoted(majors, _quoted([m])))), [])
    at_line = _within_statement(majors, line, stopped) or _at_failing_line(majors, line)
    if carriers and at_line not in carriers:
        return carriers[0]
    if at_line is not None and _asserted(failure):
        # of the statement's reads, the one whose values the assertion shows (the listing `gosh` vs
        # `Gosh`, not the column types of each table read after it)
        same_line = [d for d in majors if d.origin == at_line.origin and d.kind not in ONE_SIDED]
        at_line = _shown_by_assertion(same_line, "\n".join(messages)) or at_line
    if at_line is not None:
        first = _first_read_of(majors, at_line)  # the statement read that difference before: there
        return (_state_changed_before(majors, at_line) or (first if first is not at_line else None)
                or _written_on_one_side_before(divergences, majors, at_line) or at_line)
    if majors and _asserted(failure):
        shown = _shown_by_assertion([d for d in majors if d.kind not in ONE_SIDED], "\n".join(messages))
        if shown is not None:
            return shown
        read = _last_read_before(majors, line)
        if read is not None:
            return _first_read_of(majors, read)
        named = _names_subject(majors, messages)
        if named is not None:
            return named
    if majors:
        return _path_parted(majors) or majors[0]
    # a side file beside the database breaks only code that looks at the folder: a failure about files
    minor = [d for d in divergences if d.kind != FILES_LEFT_KIND or _about_files(failure, messages, d)]
    return minor[0] if minor else None


_FILE_ERRORS = ("OSError", "FileNotFoundError", "FileExistsError", "PermissionError", "IsADirectoryError",
                "NotADirectoryError")


def _about_files(failure: dict[str, Any], messages: list[str], d: Divergence) -> bool:
    """Whether a failure concerns files: an OS error, or a message naming a side file the divergence
    lists (`test.db-wal` in a listing the test compared)."""
    if str(failure.get("exc_type") or "").rsplit(".", 1)[-1] in _FILE_ERRORS:
        return True
    listed = d.turso.rpartition(FILES_LEFT)[2].rstrip(")") or d.sqlite.rpartition(FILES_LEFT)[2].rstrip(")")
    return any(suffix.strip() and suffix.strip() in m for suffix in listed.split(",") for m in messages)


def failure_messages(failure: dict[str, Any]) -> list[str]:
    """The failure's message and the messages of the exceptions chained to it."""
    return [str(failure.get("message") or ""), *(str(m) for _, m in failure.get("chain") or [])]


#: The first word of a statement that only reads: its divergence changes no state.
_READS = re.compile(r"^\s*['\"]?\s*(?:select|pragma\s+\w+\s*(?:['\"]|;|\(|$)|with|values|explain)",
                    re.IGNORECASE)


def _state_changed_before(majors: list[Divergence], read: Divergence) -> Divergence | None:
    """For a value the failing statement read, the earlier statement that changed state on one engine
    only (a write or transaction control that failed on one side and not the other): the value read is
    its consequence (RELEASE went through on Turso with an INSERT ... RETURNING unfetched, so the count
    read later is short)."""
    if read.kind.startswith("error") or read.kind in ONE_SIDED:
        return None
    for d in majors[: majors.index(read)]:
        leaf = d.call.rsplit(".", 1)[-1]
        if leaf in SQL_FIRST and d.kind in ("error-appears", "error-disappears") and not _READS.match(d.args):
            return d
    return None


def _written_on_one_side_before(divergences: list[Divergence], majors: list[Divergence],
                                read: Divergence) -> Divergence | None:
    """For a value the failing statement read, the earlier read that sent one engine down a path of writes
    the other never made (a view's stored SQL read back re-rendered, so the library dropped and made it
    again): the value read later (`PRAGMA schema_version`) is the consequence of those writes."""
    if read.kind not in ("value", "row-count"):
        return None  # a text read back re-rendered, a type: a difference of its own, whatever came before
    before = divergences[: divergences.index(read)]
    write = next((i for i, d in enumerate(before) if d.kind in ONE_SIDED
                  and d.call.rsplit(".", 1)[-1] in SQL_FIRST and not _READS.match(d.args)), None)
    if write is None:
        return None
    values = [d for d in before[:write] if d in majors and _read_value(d)]
    return values[-1] if values else None


def _path_parted(majors: list[Divergence]) -> Divergence | None:
    """When nothing ties the failure to a call: the latest divergence before the first call only one
    engine made, the one that sent the code down another path (a table listed lower-cased, so its
    columns were never read); earlier divergences were read and left unused on that path."""
    first = next((i for i, d in enumerate(majors) if d.kind in ONE_SIDED), None)
    if first is None:
        return None
    before = [d for d in majors[:first] if d.kind != "missing-name"]
    return before[-1] if before else None


def _after_failure(d: Divergence, stopped: tuple[str, int, int] | None) -> bool:
    """A call made from a line of the failing test after the one it failed on: Turso stopped before it, so
    only SQLite went on to make it (a consequence of the failure, never its cause)."""
    o_path, _, o_number = d.origin.rpartition(":")
    return stopped is not None and o_path == stopped[0] and o_number.isdigit() and int(o_number) > stopped[2]


def _flow_parted_before(majors: list[Divergence], d: Divergence,
                        divergences: list[Divergence]) -> Divergence | None:
    """For a call SQLite never made, the value that sent Turso down another path: the latest value
    divergence before the first call only one engine made (`exists()` read a lower-cased name, so the
    code created the table again and Turso refused it). Not when SQLite made the same statement with
    other values (`CREATE TABLE _tmp (... VARCHAR(50) ...)` where Turso's read `VARCHAR`): the statement
    failed for what it is, not for the value that differed."""
    if d.sqlite != "(no such call)" or d not in majors:
        return None
    head = _statement_head(d.args)
    if head and any(o.kind == "sqlite-only-call" and _statement_head(o.args) == head for o in divergences):
        return None
    before = majors[: majors.index(d)]
    first_one_sided = next((i for i, m in enumerate(before) if m.kind in ONE_SIDED), len(before))
    values = [m for m in before[:first_one_sided] if _read_value(m)]
    return values[-1] if values else None


def _read_value(d: Divergence) -> bool:
    """A call both engines made that returned a different value (no error, no missing name)."""
    return d.kind not in ONE_SIDED and not d.kind.startswith("error") and d.kind != "missing-name"


def _within_statement(majors: list[Divergence], line: str,
                      stopped: tuple[str, int, int] | None) -> Divergence | None:
    """The latest divergence made from a line of the failing statement, first line to last (an `assert (`
    that compares a literal with `db.table("dogs").schema` eight lines below), when the test file could
    be read to know where the statement ends."""
    if stopped is None or f"{stopped[0]}:{stopped[1]}" != line or stopped[2] <= stopped[1]:
        return None  # failed in a helper the test called, or a one-line statement: the lines nearby decide
    path, start, end = stopped
    inside = [d for d in majors if d.kind not in ONE_SIDED and d.origin.rpartition(":")[0] == path
              and d.origin.rpartition(":")[2].isdigit() and start <= int(d.origin.rpartition(":")[2]) <= end]
    return inside[-1] if inside else None


def _at_failing_line(majors: list[Divergence], line: str) -> Divergence | None:
    """The divergence made while the failing statement ran: its test line at or just above the reported
    one (the closest, the latest of equals), or one made on the reported line itself."""
    path, _, number = line.rpartition(":")
    if not path or not number.isdigit():
        return None
    best: tuple[int, int, int] | None = None
    for i, d in enumerate(majors):
        if d.kind in ONE_SIDED:
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
        if d.kind in ONE_SIDED or o_path != path or not o_number.isdigit():
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


#: A text in single quotes, and one in double quotes: looked for apart, as one may hold the other.
_QUOTED = (re.compile(r"'([^'\n]{3,120})'"), re.compile(r'"([^"\n]{3,120})"'))


def _quoted(messages: list[str]) -> set[str]:
    """The texts a failure's messages quote whole (a repr'd key or value, a name in quotes)."""
    return {text for m in messages for pattern in _QUOTED for text in pattern.findall(m)}


def _returned_quoted(majors: list[Divergence], quoted: set[str]) -> list[Divergence]:
    """The divergences where one engine alone returned a text the failure quotes: that value reached the
    code and surfaced in the failure (`KeyError: 'lower (x)'` from Turso's index_info)."""
    return [d for d in majors
            if _read_value(d) and any(_holds(d.turso, text) != _holds(d.sqlite, text) for text in quoted)]


def _holds(result: str, text: str) -> bool:
    """Whether a rendered result holds `text` as a whole string value (repr quotes it either way)."""
    return f"'{text}'" in result or f'"{text}"' in result


def _names_subject(majors: list[Divergence], messages: list[str]) -> Divergence | None:
    """The first value divergence whose PRAGMA reads an object the failure names as a word of its own
    (`Warnings were not seen: ... expression-based index idx`: PRAGMA index_info("idx"))."""
    text = "\n".join(messages)
    for d in (d for d in majors if _read_value(d)):
        subject = _subject(d.args)
        if len(subject) >= 3 and re.search(rf"(?<![\w.-]){re.escape(subject)}(?![\w-])", text, re.IGNORECASE):
            return d
    return None


def _first_read_of(majors: list[Divergence], chosen: Divergence) -> Divergence:
    """The first divergence of the failing statement with the chosen one's kind about the same object: a
    statement that read one difference twice (table_xinfo("t"), then table_info("t") for has_table) used
    the first read."""
    subject = _subject(chosen.args)
    if not subject:
        return chosen
    for d in majors[: majors.index(chosen)]:
        if d.origin == chosen.origin and d.kind == chosen.kind and _subject(d.args) == subject:
            return d
    return chosen


_PRAGMA_SUBJECT = re.compile(r"pragma\s+(?:\w+\.)?\w+\s*\(\s*[\"'`\[]?([^\"'`\])]+)", re.IGNORECASE)


def _subject(args: str) -> str:
    """The object a PRAGMA reads (`t` of `PRAGMA main.table_xinfo("t")`), or empty."""
    m = _PRAGMA_SUBJECT.search(args)
    return m.group(1).strip().lower() if m else ""


_HEAD = re.compile(r"^\W*(\w+)\s+(\w+)\s+([\w\"'`\[\]]+)")


def _statement_head(args: str) -> str:
    """A statement's verb, object and name (`create table _alembic_tmp_foo`), or empty."""
    m = _HEAD.match(args)
    return " ".join(m.groups()).lower().replace('"', "") if m else ""
