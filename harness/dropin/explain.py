"""Per test, from both engines' traces: every divergence in order, the one that breaks it, and why.

A test's divergences start with those of the imports it depends on (conftest files for every test, its
own module for its tests): a name Turso lacks that a module calls at import is what breaks the test
today, even when the drop-in's inert stand-in let it run on to the next difference.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stc_harness.dropin.align import (
    FILES_LEFT_KIND,
    INERT_OUTCOME,
    MAJOR,
    MINOR,
    Divergence,
    align,
    divergence_text,
    origin_of,
)
from stc_harness.dropin.blame import blame, failure_messages, through_side_file
from stc_harness.dropin.causes import (
    CONSTRAINT_KINDS,
    LIKELY,
    MESSAGE_ONLY_ENTRIES,
    PROVEN,
    Explanation,
    Knowledge,
    error_kind,
    message_words,
)
from stc_harness.dropin.imports_needed import NEEDS
from stc_harness.dropin.records import TIMEOUT
from stc_harness.dropin.repro import repro
from stc_harness.dropin.signature import context_of
from stc_harness.dropin.stopped import TEST_FILE, handled_in_test
from stc_harness.dropin.trace import IMPORT_PREFIX, INERT, read_traces
from stc_harness.outcomes import LOST_OR_EXTRA_WRITES

CONFTEST = IMPORT_PREFIX + "<conftest>"


@dataclass
class TestEvidence:
    """What the traces say about one test."""

    traced: bool
    divergences: list[Divergence] = field(default_factory=list)
    explanations: list[Explanation] = field(default_factory=list)
    cause: int | None = None
    repro: str = ""
    inert: list[str] = field(default_factory=list)
    #: When the cause is a name made inert: the divergence that breaks the test once that name exists
    #: (what the run showed behind the wall).
    then: int | None = None
    #: The run failed behind the wall on what the inert call would have registered (no such function).
    same_wall: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: divergences with their explanations, the index of the cause, the repro."""
        return {
            "traced": self.traced,
            "cause": self.cause,
            "then": self.then,
            "same_wall": self.same_wall,
            "repro": self.repro,
            "inert": self.inert,
            "divergences": [
                {**d.as_dict(), "explanation": e.as_dict()}
                for d, e in zip(self.divergences, self.explanations, strict=True)
            ],
        }


@dataclass
class Traces:
    """Both engines' traces of a drop-in run (only the tests asked for are parsed)."""

    sqlite: dict[str, dict[str, Any]]
    turso: dict[str, dict[str, Any]]
    imports: dict[str, list[Divergence]]
    #: Calls made inert anywhere in the Turso run, by the name they register (`py_json_unwrap`, `Decimal`).
    inert: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path, sqlite_ids: set[str], turso_ids: set[str]) -> Traces:
        """Read the traces of `*_ids` (and every import bucket) from a runs folder."""

        def files(engine: str) -> list[Path]:
            return sorted(folder.glob(f"{engine}.trace.*.jsonl"))

        s = read_traces(files("sqlite"), sqlite_ids, IMPORT_PREFIX)
        t = read_traces(files("turso"), turso_ids, IMPORT_PREFIX)
        imports = {
            key.removeprefix(IMPORT_PREFIX): align(s[key]["events"], t.get(key, {"events": []})["events"])
            for key in s
            if key.startswith(IMPORT_PREFIX)
        }
        for key in t:
            if key.startswith(IMPORT_PREFIX) and key not in s:
                imports[key.removeprefix(IMPORT_PREFIX)] = align([], t[key]["events"])
        return cls(s, t, imports, inert_calls(files("turso")))

    def import_divergences(self, nodeid: str) -> list[Divergence]:
        """Divergences of the imports a test depends on: conftest files, then its module (or class)."""
        module = nodeid.split("::", 1)[0]
        enclosing = [k for k in self.imports
                     if k not in ("<conftest>", module) and nodeid.startswith(f"{k}.")]
        needed = [k for k in self.imports if k.startswith(module + NEEDS)]
        buckets = ["<conftest>", *needed, module, *sorted(enclosing, key=len)]
        return [d for k in buckets for d in self.imports.get(k, [])
                if not _other_test_module(d.origin, nodeid)]

    def inert_names(self, nodeid: str) -> list[str]:
        """Names made inert on Turso during this test or the imports it depends on."""
        module = nodeid.split("::", 1)[0]
        enclosing = [k for k in self.turso if k.startswith(IMPORT_PREFIX) and k not in (CONFTEST, module)
                     and nodeid.startswith(f"{k.removeprefix(IMPORT_PREFIX)}.")]
        needed = [k for k in self.turso if k.startswith(IMPORT_PREFIX + module + NEEDS)]
        names: list[str] = []
        for key in (nodeid, CONFTEST, *needed, IMPORT_PREFIX + module, *enclosing):
            events = self.turso.get(key, {}).get("events", [])
            names.extend(e[0] for e in events if e[2] == INERT
                         and not (key == CONFTEST and _other_test_module(origin_of(e), nodeid)))
        return list(dict.fromkeys(names))


def _other_test_module(origin: str, nodeid: str) -> bool:
    """A call made while another test module was imported (a runner that imports every module first):
    it concerns that module's tests, not this one's."""
    path = origin.rpartition(":")[0]
    if not TEST_FILE.search(path):
        return False
    dotted = path.removesuffix(".py").replace("/", ".")
    return not (nodeid.startswith(f"{path}::") or nodeid == path or f".{dotted}." in f".{nodeid}")


def evidence(
    traces: Traces, sqlite_id: str, turso_id: str, failure: dict[str, Any], knowledge: Knowledge
) -> TestEvidence:
    """Every divergence of one test in order, each explained, and the one that breaks it."""
    s, t = traces.sqlite.get(sqlite_id), traces.turso.get(turso_id)
    if (s is None or t is None) and failure.get("phase") == "collect":
        s = t = {"events": []}  # never started on Turso: its module's or class's set-up is the evidence
    if s is None or t is None:
        return TestEvidence(traced=False, inert=traces.inert_names(turso_id))
    own = align(s["events"], t["events"])
    if failure.get("outcome") == TIMEOUT and not hung_in_driver(str(failure.get("longrepr", ""))):
        # the test hung in its own code: what SQLite went on to call is not where the engines parted
        own = [d for d in own if not (d.kind == "sqlite-only-call" and d.position >= len(t["events"]))]
    # a module's import that diverged in a value did not stop the test; a name it lacked would have
    collect = failure.get("phase") == "collect"  # then an import or set-up is all the test ran
    imported = [d if collect or d.kind == "missing-name" else replace(d, severity=MINOR)
                for d in traces.import_divergences(turso_id)]
    divergences = _once([*imported, *own])
    _attach_failure(divergences, failure)
    divergences = _with_earlier_walls(divergences, traces.inert)
    words = message_words(failure)
    contexts = {_ident(d): context_of(t["events"], d.position) for d in own}
    explanations = [knowledge.explain(d, words, contexts.get(_ident(d), frozenset())) for d in divergences]
    chosen = _after_lost_write(divergences, explanations, blame(divergences, failure), knowledge)
    if chosen is not None:
        at = divergences.index(chosen)
        explanations[at] = _uncaught_class(chosen, explanations[at], failure, knowledge)
        explanations[at] = _matched_message(chosen, explanations[at], failure, knowledge)
    behind: Divergence | None = None
    same = False
    if chosen is not None and chosen.made_inert:
        at, same = _behind(chosen, divergences, failure)
        if at is not None:
            behind = _after_lost_write(divergences, explanations, divergences[at], knowledge)
            there = divergences.index(behind)
            explanations[there] = _matched_message(behind, explanations[there], failure, knowledge)
    # side files beside a database are listed only where they break the test (most tests never look)
    kept = [i for i, d in enumerate(divergences) if d.kind != FILES_LEFT_KIND or d is chosen or d is behind]
    divergences, explanations = [divergences[i] for i in kept], [explanations[i] for i in kept]
    cause = divergences.index(chosen) if chosen is not None else None
    text = repro(t["events"], chosen) if chosen is not None else ""
    then = divergences.index(behind) if behind is not None else None
    inert = traces.inert_names(turso_id)
    return TestEvidence(True, divergences, explanations, cause, text, inert, then, same)


#: Files of the drivers a test may hang inside (a call that never returned is not in the trace).
DRIVER_FILES = re.compile(r"/(?:turso|sqlite3|aiosqlite)/[^/]+\.py\b")


def hung_in_driver(dump: str) -> bool:
    """Whether the test's thread, in a timeout's stack dump, was inside a driver's call (its innermost
    frame in `turso`, `sqlite3` or `aiosqlite`), rather than in code of its own (a wait, a loop)."""
    for block in dump.split("\n\n"):
        frames = [line for line in block.splitlines() if line.strip().startswith("File ")]
        if any("_pytest/runner.py" in f for f in frames):
            return bool(frames) and DRIVER_FILES.search(frames[0]) is not None
    return False


#: Errors a write lost earlier causes: a constraint missing its row. (A lock its transaction still holds may
#: as well come from a busy timeout of 0 ms: ormar's concurrent creates fail on either, so not counted.)
AFTER_LOST_WRITE = CONSTRAINT_KINDS | {""}


def _uncaught_class(d: Divergence, found: Explanation, failure: dict[str, Any],
                    knowledge: Knowledge) -> Explanation:
    """An error only Turso raised, inside a `try` of the test that catches `OperationalError`, which the
    error's class is not: the test tolerates this error (a newer SQLite raises it too), so what breaks it
    is the class Turso raises it as."""
    if d.kind != "error-appears" or not d.turso.startswith("raised "):
        return found
    raised = d.turso.removeprefix("raised ").split(":", 1)[0].rsplit(".", 1)[-1]
    handled = handled_in_test(failure)
    if "OperationalError" not in handled or raised in handled or raised == "OperationalError":
        return found
    as_sqlite = replace(d, kind="error-class", sqlite="raised OperationalError:" + d.turso.split(":", 1)[1])
    mapped = knowledge.explain(as_sqlite)
    if mapped.confidence not in (PROVEN, LIKELY):
        return found
    return replace(mapped, why=f"the test catches OperationalError around this call; Turso raised {raised}, "
                               f"which that handler does not catch. {mapped.why}")


#: What a test that matches an error's message text says when it does not match (pytest, unittest).
_MESSAGE_MATCH = re.compile(r"Regex pattern did not match|\bdoes not match\b")


def _matched_message(d: Divergence, found: Explanation, failure: dict[str, Any],
                     knowledge: Knowledge) -> Explanation:
    """An error the test matches by its message (`pytest.raises(match=...)`, `assertRaisesRegex`) that Turso
    words with a prefix before SQLite's message: the prefix breaks the test, whatever the error's class."""
    raised = d.turso.startswith("raised ") and d.sqlite.startswith("raised ")
    if not d.kind.startswith("error") or not raised:
        return found
    if not any(_MESSAGE_MATCH.search(m) for m in failure_messages(failure)):
        return found
    ours, theirs = (side.removeprefix("raised ").split(": ", 1)[-1] for side in (d.sqlite, d.turso))
    if ours == theirs or not theirs.endswith(ours):
        return found
    prefix = theirs[: len(theirs) - len(ours)]
    why = f"the test matches the error's message, which Turso begins with {prefix!r}; check {{check}} sees it"
    about = "_".join(ours.split(":", 1)[0].split())  # `no such table: t` -> no_such_table
    return next((e for e in (knowledge.by_entry(entry, why, about) for entry in sorted(MESSAGE_ONLY_ENTRIES))
                 if e), found)


def _after_lost_write(divergences: list[Divergence], explanations: list[Explanation],
                      chosen: Divergence | None, knowledge: Knowledge) -> Divergence | None:
    """A write Turso lost earlier in the test (a known difference whose impact is lost writes) explains
    what goes wrong after it: a foreign key that no longer finds its parent row, a read short of rows."""
    if chosen is None or chosen.kind == "missing-name":
        return chosen
    if chosen.kind.startswith("error") and error_kind(chosen.turso) not in AFTER_LOST_WRITE:
        return chosen  # an error of its own (a parameter refused): no row lost earlier makes it
    at = divergences.index(chosen)
    for d, e in zip(divergences[:at], explanations[:at], strict=True):
        if (d.severity == MAJOR and d.kind != "missing-name" and e.confidence in (PROVEN, LIKELY)
                and knowledge.impact(e.entry) == LOST_OR_EXTRA_WRITES):
            return d
    return chosen


def _behind(wall: Divergence, divergences: list[Divergence],
            failure: dict[str, Any]) -> tuple[int | None, bool]:
    """What the run met behind a wall (a name made inert): the index of that divergence, and whether it is
    the wall again (the test failed on the very function the inert call would have registered)."""
    needed = next((m.group(1) for m in map(_NEEDS.search, failure_messages(failure)) if m), None)
    # the run failed on what an inert call would have registered: that call, if it is not this wall
    maker = next((d for d in divergences if needed and d.made_inert and f"'{needed}'" in d.args), None)
    rest = [d for d in divergences if not d.made_inert and (d.severity == MAJOR or d.kind == FILES_LEFT_KIND)]
    # a function no inert call would have registered, behind a wall that registers none: a function
    # Turso lacks on its own (sqlite_compileoption_used), found among the other divergences
    same = maker is wall or (maker is None and needed is not None and ".create_" in wall.call)
    behind = maker if maker is not None and maker is not wall else (
        blame(rest, failure) if rest and not same else None)
    behind = through_side_file(divergences, behind) or behind
    then = divergences.index(behind) if behind is not None else None
    return then, same


_NEEDS = re.compile(r"no such (?:function|collation sequence|collation): (\w+)", re.IGNORECASE)
#: A value a converter or adapter made (`datetime.date(...)`, `Decimal(...)`, a user type's repr).
_CONVERTED = re.compile(r"(?<![\w'])(?!bytes\(|bytearray\(|memoryview\()[A-Za-z_][\w.]*\((?!\))")
_REGISTERED = re.compile(r"^'?([\w.]+?)'?(?:,|$)")


def inert_calls(paths: list[Path]) -> dict[str, list[str]]:
    """Calls made inert anywhere in a run (a pool's connection is set up once, outside most tests)."""
    found: dict[str, list[str]] = {}
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if '"inert"' not in line:
                    continue
                for event in json.loads(line.partition("\t")[2])["events"]:
                    if event[2] != INERT:
                        continue
                    if event[0] == "sqlite3.connect(detect_types)":
                        found.setdefault("detect_types", event)
                        continue
                    name = _REGISTERED.match(event[1])
                    if name:
                        found.setdefault(name.group(1).rsplit(".", 1)[-1], event)
    return found


def _with_earlier_walls(divergences: list[Divergence], inert: dict[str, list[str]]) -> list[Divergence]:
    """A divergence that needs what an inert call would have registered follows from that call: put it first.

    `no such function: f` after `create_function('f', ...)` was made inert, or a `Decimal` parameter
    refused after `register_adapter(Decimal, ...)` was, even when the inert call was made outside the test
    (a connection set up once for a whole class or pool).
    """
    if not inert:
        return divergences
    out: list[Divergence] = []
    for d in divergences:
        needed = _NEEDS.search(d.turso)
        # a statement calling a function an inert call would have registered: a consequence only where
        # Turso's error is about that function (a parse error of its own is a difference of its own)
        names = ([needed.group(1)] if needed else
                 [n for n in inert if f"{n}(" in d.args and d.kind != "missing-name"
                  and not (d.turso.startswith("raised ") and n.lower() not in d.turso.lower())])
        if _CONVERTED.search(d.sqlite) and not _CONVERTED.search(d.turso):
            names.append("detect_types")  # a converter made the value on SQLite: no converters on Turso
        event = next((inert[n] for n in names if n in inert), None)
        if event is None:
            out.append(d)
            continue
        wall = Divergence(event[0], event[1], f"{event[4]} (earlier in the run)", "→ None",
                          INERT_OUTCOME, "missing-name", MAJOR, -1)
        if not any((w.call, w.args) == (wall.call, wall.args) for w in out):
            out.insert(0, wall)  # the very wall this call needed: what breaks the test today
        out.append(replace(d, severity=MINOR))  # follows from the inert call, not a wall of its own
    return out


def _ident(d: Divergence) -> tuple[str, str, str, int]:
    return d.call, d.args, d.where, d.position


def _once(divergences: list[Divergence]) -> list[Divergence]:
    """Each divergence once (a module's import and its test may make the same call at the same line).

    The same library line reached from two lines of the test (a property read before and after a change)
    is two divergences: the later one may be the one the test's assertion is about.
    """
    seen: set[tuple[str, ...]] = set()
    out = []
    for d in divergences:
        key = (d.call, d.args, d.where, d.origin, d.kind, d.sqlite, d.turso)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _attach_failure(divergences: list[Divergence], failure: dict[str, Any]) -> None:
    """A call Turso never completed, on the line where the test failed, failed with the test's exception."""
    line = str(failure.get("line") or "")
    exc = f"{failure.get('exc_type') or ''}: {failure.get('message') or ''}".strip(": ")
    for i, d in enumerate(divergences):
        if d.kind == "sqlite-only-call" and line and line in (d.where, d.origin) and exc:
            divergences[i] = replace(
                d, turso=f"did not complete; the test failed on this line with {exc[:300]}")
            return


def before_any_test(folder: Path, knowledge: Knowledge, error: str) -> str:
    """For a run that stopped before its first test (a runner's set-up failed on one engine): the call
    where the engines parted in what both ran before it, and its cause; empty if no call parted."""
    traces = Traces.load(folder, set(), set())
    divergences = traces.imports.get("<conftest>", [])
    exc_type, _, message = error.partition(": ")
    failure = {"exc_type": exc_type, "message": message}
    chosen = blame(divergences, failure)
    if chosen is None:
        return ""
    text = "the first call where the engines part: " + _explained(chosen, knowledge, failure)
    if chosen.made_inert:
        then, _ = _behind(chosen, divergences, failure)
        if then is not None:
            text += ". Behind that wall (with the name made inert) the run stops at " + _explained(
                divergences[then], knowledge, failure)
    return text


def _explained(d: Divergence, knowledge: Knowledge, failure: dict[str, Any]) -> str:
    """`call(args) at where: SQLite …; Turso … [kind]; cause <confidence>: <ref> (<title>)`."""
    e = knowledge.explain(d, message_words(failure), frozenset())
    return f"{divergence_text(d.as_dict())}; cause {e.confidence}: {e.ref} ({e.title})"
