"""A bounded trace of the calls code under test makes into the database modules, one per test.

An event is `[name, args, kind, outcome, where]`: the API called (`Cursor.execute`, `sqlite3.connect`,
`aio.Connection.commit`, `Cursor.rowcount` for a property read), its arguments and its outcome rendered
as normalised text, the kind of outcome (`ok`, `raise`, `missing`, `inert`) and the line of user code that
made the call. Rendering removes what legitimately differs between two runs of the same test (object
addresses, temp folders, the current time, random ids) so that two engines' traces compare as text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import re
import time
import zlib
from collections import deque
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from stc_harness import side_runs
from stc_harness.safety.secrets import mask

OK, RAISE, MISSING, INERT = "ok", "raise", "missing", "inert"
#: The outcome of a coroutine method's call until the coroutine is awaited to its end.
NOT_AWAITED = "a coroutine, never awaited"
#: What a traced connect() or close() adds to its outcome when its database file has side files beside it
#: then (Turso's -wal from the moment it opens and after the last close; SQLite's only during a write).
FILES_LEFT = " (files beside the database: "
#: The side files a SQLite-format database file may have beside it, by suffix.
SIDE_FILES = ("-journal", "-wal", "-shm")
#: Methods whose first argument is the SQL text they run (sqlite3's, aiosqlite's).
SQL_FIRST = ("execute", "executemany", "executescript", "execute_fetchall", "execute_insert")
#: Methods that read a statement's rows.
ROW_READS = ("fetchone", "fetchmany", "fetchall", "__next__", "__anext__")
#: Trace keys of calls made while modules are imported: `<import> <conftest>`, `<import> tests/test_x.py`.
IMPORT_PREFIX = "<import> "
#: Per-test bounds: events kept, characters of one rendered value, rows or items rendered per value.
MAX_EVENTS, MAX_TEXT, MAX_ITEMS = 2000, 240, 25
#: Past MAX_EVENTS, the last this many events are kept too: a long test fails at its end (the call that
#: raised), and its trace must still hold that call; the ones between are only counted.
TAIL_EVENTS = 200
#: Characters kept of a string value: enough for a table's stored SQL, so two layouts of one statement
#: are told apart by kind (spacing, quoting, case) rather than as an unparsable clipped value.
MAX_STRING = 1200

#: Callers whose calls are the drivers' own business (a driver calling itself, aiosqlite's worker thread
#: calling sqlite3, a dialect's connect-time set-up), not calls the code under test made.
INTERNAL_CALLERS = (
    "stc_harness.dropin",
    "turso.lib",
    "turso.lib_aio",
    "turso.lib_sync",
    "turso.lib_sync_aio",
    "turso.aio",
    "turso.sync",
    "turso.worker",
    "turso.sqlalchemy",
    "aiosqlite",
    "sqlite3",
    "sqlalchemy.dialects",
    "sqlalchemy.connectors",  # SQLAlchemy's async adapters: each driver's own (awaitable or not) calls
    "sqlalchemy.pool",
    "sqlalchemy.testing",
    # SQLAlchemy connects, commits and rolls back the dialect's own way; its statements are recorded at
    # DefaultDialect.do_execute* and its fetches from sqlalchemy.engine.cursor
    "sqlalchemy.engine.default",
    "sqlalchemy.engine.base",
    "sqlalchemy.engine.create",
)

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_TMP = re.compile(
    r"(?:/private)?(?:/tmp|/var/folders/[^/]+/[^/]+/T)/(?:pytest-of-[^/]+/pytest-\d+|[^/'\" ]+)"
)
#: Tokens made from random bytes or object ids in names (`dogs_new_c1dd9b0750db`, `lambda_8733289569070`).
_RANDOM_HEX = re.compile(
    r"(?<![0-9a-fA-F])(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}(?![0-9a-fA-F])")
_ID_DIGITS = re.compile(r"(?<=[A-Za-z_])\d{9,}")
_UUID = re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[1-8][0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}\b", re.I)
_STAMP = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(?:[+-]\d{2}:?\d{2}|Z)?"
)
_VOLATILE_SQL = re.compile(
    r"\b(?:random|randomblob|uuid4?|uuid7|gen_random_uuid)\s*\(|'now'|\bcurrent_"
    r"(?:time|date|timestamp)\b|\bunixepoch\s*\(\s*\)",
    re.I,
)
_PRAGMA_KEY = re.compile(r"(\bpragma\s+(?:hex)?(?:re)?key\s*=\s*)('[^']*'|\"[^\"]*\"|\S+)", re.I)
_WS = re.compile(r"\s+")
_NOW = time.time()
#: Driver objects shown by what they are, never by their repr: the same on both engines.
OPAQUE = {"Cursor": "<Cursor>", "Connection": "<Connection>", "AioOpener": "<Connection>"}
_DAY = 86400.0
#: Parts of a path that mark a library's or the interpreter's file, never the project's.
LIBRARY_MARKERS = ("site-packages", "dist-packages", os.sep + "lib" + os.sep + "python3", "<frozen",
                   "<string")


def volatile_sql(sql: str) -> bool:
    """True when a statement's results depend on the clock or a random source."""
    return bool(_VOLATILE_SQL.search(sql))


def _stamp(match: re.Match[str]) -> str:
    try:
        when = dt.datetime.fromisoformat(f"{match.group(1)} {match.group(2) or '00:00'}")
    except ValueError:
        return match.group(0)
    near = (
        abs(when.timestamp() - _NOW) < 2 * _DAY
        or abs(when.replace(tzinfo=dt.timezone.utc).timestamp() - _NOW) < 2 * _DAY
    )
    return "<now>" if near else match.group(0)


#: Folders that differ between the two engines' runs (each run's own --basetemp), shown as `<tmp>`.
RUN_FOLDERS: list[str] = []
#: Each engine's own TMPDIR: a path in it shows as `<tmp>` with the name `tempfile` made there, as a path
#: in the system's temporary folder does (`/tmp/tmpk3j2x9/data.db` and `<TMPDIR>/tmpq8r1z0/data.db` alike).
TEMP_FOLDERS: list[str] = []


def clean_text(text: str, limit: int = 4 * MAX_TEXT) -> str:
    """A string with run-dependent parts replaced: addresses, temp folders, uuids, the current time."""
    if len(text) > limit:
        text = text[:limit]
    for folder in TEMP_FOLDERS:  # first: a run's basetemp may be a prefix of its TMPDIR
        if folder in text:
            text = re.sub(re.escape(folder) + r"(?:/[^/'\" ]+)?", "<tmp>", text)
    for folder in RUN_FOLDERS:
        if folder in text:
            text = text.replace(folder, "<tmp>")
    if " at 0x" in text:
        text = _ADDRESS.sub(" at 0x?", text)
    if "/tmp" in text or "/var/folders" in text:
        text = _TMP.sub("<tmp>", text)
    if len(text) >= 10:
        if "-" in text:
            if len(text) >= 32:
                text = _UUID.sub("<uuid>", text)
            text = _STAMP.sub(_stamp, text)
        text = _ID_DIGITS.sub("<id>", _RANDOM_HEX.sub("<id>", text))
    return text


def _clip(text: str, width: int = MAX_TEXT) -> str:
    if len(text) <= width:
        return text
    return f"{text[:width]}…[{len(text)} chars, crc {zlib.crc32(text.encode('utf-8', 'replace')):08x}]"


def _number(value: float) -> str:
    if 1e9 < value < 1e13 and (abs(value - _NOW) < 2 * _DAY or abs(value / 1000 - _NOW) < 2 * _DAY):
        return "<now>"
    return repr(value)


def render(value: Any, shape_only: bool = False, depth: int = 0) -> str:
    """A value as normalised text: Python's repr for plain values, rows as tuples, long values clipped."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if shape_only and depth > 0 and not isinstance(value, (list, tuple)) and not _is_row(value):
        return f"<{type(value).__name__}>"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return _clip(repr(clean_text(value, MAX_STRING)), MAX_STRING)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return _clip(
            f"{type(value).__name__}({data[: MAX_TEXT // 2].hex()}{'…' if len(data) > MAX_TEXT // 2 else ''}"
            f"{f', crc {zlib.crc32(data):08x}' if len(data) > MAX_TEXT // 2 else ''}, len {len(data)})"
        )
    if depth > 3:
        return f"<{type(value).__name__}>"
    if _is_row(value):
        value = tuple(value)  # sqlite3.Row and turso.Row alike: their values
    if isinstance(value, (list, tuple)):
        items = [render(v, shape_only, depth + 1) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            tail = value[MAX_ITEMS:]
            rest = render(tail[:1], True) if shape_only else clean_text(repr(tail))
            crc = zlib.crc32(rest.encode("utf-8", "replace"))
            items.append(f"…+{len(tail)} (crc {crc:08x})")
        body = ", ".join(items)
        return f"[{body}]" if isinstance(value, list) else f"({body}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(
                f"{render(k, False, depth + 1)}: {render(v, shape_only, depth + 1)}"
                for k, v in list(value.items())[:MAX_ITEMS]
            )
            + "}"
        )
    if isinstance(value, (dt.date, dt.time, dt.timedelta)) or type(value).__name__ == "Decimal":
        return _clip(clean_text(repr(value)))
    name = type(value).__name__
    if name in OPAQUE:
        return OPAQUE[name]
    try:
        return _clip(clean_text(repr(value)))
    except Exception:  # noqa: BLE001 - a user object whose repr fails is still a value
        return f"<{name}>"


def _is_row(value: Any) -> bool:
    return type(value).__name__ == "Row" and hasattr(value, "keys")


def render_sql(sql: Any) -> str:
    """A statement, quoted, with whitespace collapsed and any key in a `PRAGMA key` replaced."""
    text = _WS.sub(" ", str(sql)).strip()
    return _clip(repr(clean_text(_PRAGMA_KEY.sub(r"\1<redacted>", text))))


def render_exception(exc: BaseException) -> str:
    """`Class: message`, the class by its bare DB-API name for either driver's exceptions."""
    cls = type(exc)
    module = cls.__module__
    name = (
        cls.__name__
        if module in ("builtins", "sqlite3", "turso.lib", "turso") or module.startswith(("sqlite3", "turso"))
        else f"{module}.{cls.__qualname__}"
    )
    return f"{name}: {_clip(clean_text(str(exc)))}"


_USER_CODE: dict[CodeType, bool] = {}


def _is_user(code: CodeType) -> bool:
    known = _USER_CODE.get(code)
    if known is None:
        path = code.co_filename
        known = (not path.startswith("<") and not any(m in path for m in LIBRARY_MARKERS)
                 and f"{os.sep}harness{os.sep}dropin" not in path)
        _USER_CODE[code] = known
    return known


#: Test runners' modules: the test (or fixture) is the outermost user frame below them.
_RUNNERS = ("_pytest", "pluggy", "unittest", "pytest_asyncio", "django.test")
_SHOWN: dict[str, str] = {}


def _shown_path(path: str) -> str:
    shown = _SHOWN.get(path)
    if shown is None:
        shown = path
        with contextlib.suppress(ValueError):
            shown = os.path.relpath(path)
        _SHOWN[path] = shown
    return shown


def user_lines(frame: FrameType | None) -> tuple[str, str]:
    """(innermost, outermost) `path:line` of user code at or above `frame`.

    The innermost says where the call was made; the outermost is the line of the test (or fixture) that
    was running, the line a failure's report names: a call made while that line ran is evidence for it.
    """
    hops = 0
    inner = outer = fallback = ""
    while frame is not None and hops < 80:
        code = frame.f_code
        if str(frame.f_globals.get("__name__", "")).startswith(_RUNNERS):
            break  # the test runner called the test: the frames above are not the test's
        if _is_user(code):
            outer = f"{_shown_path(code.co_filename)}:{frame.f_lineno}"
            inner = inner or outer
        elif not fallback and os.path.basename(code.co_filename).startswith("test_"):
            fallback = f"{_shown_path(code.co_filename)}:{frame.f_lineno}"  # a suite installed as a package
        frame = frame.f_back
        hops += 1
    return (inner or fallback), (outer or fallback)


class Tracer:
    """Collects events for the test that runs now; the child runner takes them at each test's end."""

    def __init__(self) -> None:
        self.events: list[list[str]] = []
        self.tail: deque[list[str]] = deque(maxlen=TAIL_EVENTS)
        self.dropped = 0
        self.enabled = True
        self.context = ""
        #: Counts the traces taken: a connection's walls are shown once per test (see walls.show_walls).
        self.generation = 0
        self.walls_shown: set[int] = set()

    def add(self, name: str, args: str, kind: str, outcome: str, frame: FrameType | None,
            where: str = "") -> list[str] | None:
        """Append one event (past MAX_EVENTS, to the tail) and return it (None in a side run); `where`
        replaces the line that made the call."""
        if side_runs.active():
            return None  # the reference's or tracked SQLite's run of a check, not the check's own
        inner, outer = user_lines(frame)
        event = [name, mask(args), kind, mask(outcome), where or inner, outer]
        if len(self.events) < MAX_EVENTS:
            self.events.append(event)
            return event
        if len(self.tail) == TAIL_EVENTS:
            self.dropped += 1
        self.tail.append(event)
        return event

    @staticmethod
    def settle(event: list[str] | None, kind: str, outcome: str) -> None:
        """Give an event recorded when a call was made the outcome it had when it completed."""
        if event is not None:
            event[2], event[3] = kind, mask(outcome)

    def so_far(self) -> tuple[list[list[str]], int]:
        """A copy of the events so far and how many were left out, the trace going on (another thread)."""
        for _ in range(10):
            try:  # the test's thread may append meanwhile: a deque refuses to be read while it changes
                tail = list(self.tail)
                break
            except RuntimeError:
                continue
        else:
            tail = []
        return [list(e) for e in [*self.events[:], *tail]], self.dropped

    def take(self) -> tuple[list[list[str]], int]:
        """The events so far (the first MAX_EVENTS, then the last TAIL_EVENTS) and how many were left out
        between them; starts a new trace."""
        events, dropped = [*self.events, *self.tail], self.dropped
        self.events, self.dropped = [], 0
        self.tail.clear()
        self.generation += 1
        self.walls_shown = set()
        return events, dropped


TRACER = Tracer()


class TraceWriter:
    """One line per test: `nodeid<TAB>{"events": [...], "dropped": n}`, flushed (a crash keeps them)."""

    def __init__(self, path: Path, detour: str = "") -> None:
        self.fh = path.open("a", encoding="utf-8", errors="backslashreplace")
        #: How paths start for the project's files when the process runs in a working folder of its own:
        #: taken off, so they read as from the project folder (stc_harness.dropin.folders).
        self.detour = detour

    def write(self, nodeid: str, events: list[list[str]], dropped: int,
              inherited: list[list[str]] | None = None) -> None:
        """Write one test's trace (also an empty one: the test ran with tracing on), with the transactions
        earlier tests left open on files it opened (see stc_harness.dropin.left_open)."""
        if self.detour:
            for event in events:
                for i in (4, 5):  # where the call was made, and the test's line
                    if i < len(event) and event[i].startswith(self.detour):
                        event[i] = event[i][len(self.detour):]
        body: dict[str, Any] = {"events": events, "dropped": dropped}
        if inherited:
            body["inherited"] = inherited
        line = json.dumps(body, ensure_ascii=False)
        self.fh.write(f"{nodeid.replace(chr(9), ' ')}\t{line}\n")
        self.fh.flush()

    def close(self) -> None:
        """Close the file."""
        self.fh.close()


def read_traces(
    paths: list[Path], wanted: set[str] | None = None, prefix: str = ""
) -> dict[str, dict[str, Any]]:
    """The traces in `paths`: all, or the `wanted` ids and those starting with `prefix`; later lines win."""
    out: dict[str, dict[str, Any]] = {}
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                nodeid, _, body = line.partition("\t")
                if wanted is not None and nodeid not in wanted and not (prefix and nodeid.startswith(prefix)):
                    continue
                try:
                    out[nodeid] = json.loads(body)
                except json.JSONDecodeError:
                    continue
    return out


#: Callers whose failed lookups are the drivers' own (a dialect's lookup of a name Turso lacks is a wall too).
DRIVER_CALLERS = ("stc_harness.dropin", "turso.lib", "turso.lib_aio", "turso.lib_sync", "turso.lib_sync_aio",
                  "turso.aio", "turso.sync", "turso.worker", "aiosqlite", "sqlite3")


@functools.lru_cache(maxsize=4096)
def _module_in(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def driver_caller(frame: FrameType | None) -> bool:
    """True when a failed attribute lookup comes from a driver or the drop-in itself (not recorded)."""
    return frame is None or _module_in(str(frame.f_globals.get("__name__", "")), DRIVER_CALLERS)


def adapter_await(frame: FrameType | None, leaf: str) -> bool:
    """True for a coroutine SQLAlchemy's async adapter awaited on its greenlet (`await_`), other than a
    statement or a read of its rows: the set-up each adapter does its own way (aiosqlite's awaitable
    cursor(), the SQLite dialect's REGEXP function), not a call of the code under test."""
    return (frame is not None and str(frame.f_globals.get("__name__", "")).startswith("sqlalchemy.util")
            and leaf not in SQL_FIRST and leaf not in ROW_READS)


def internal_caller(frame: FrameType | None) -> bool:
    """True when the call comes from a driver, a dialect or the drop-in itself (not recorded)."""
    if frame is None or frame.f_code.co_name == "__del__":  # garbage collection runs at no set time
        return True
    return _module_in(str(frame.f_globals.get("__name__", "")), INTERNAL_CALLERS)
