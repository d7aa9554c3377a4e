"""The raw drivers the hunt runs on: a fresh in-memory database per case, in each driver's own thread.

Every statement goes through the driver's DB-API (what applications use) or, for pyturso, through
its engine API with exactly the DB-API's results and exceptions (`turso_raw`); every error goes
through the same classifier as the backend's harness adapter, so error kinds mean the same as in the
suites.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pickle
import sqlite3
from collections.abc import Callable, MutableSequence, Sequence
from dataclasses import dataclass
from typing import Any

from stc_harness.adapters.connection import PASS_THROUGH
from stc_harness.differential.case import Runnable
from stc_harness.differential.normalise import Outcome, failed, observe, ok
from stc_harness.differential.wire import PROTOCOL, Packed, WireCase, to_wire, unpack
from stc_harness.errors import DatabaseError, ErrorKind, UsageError, kind_from_message
from stc_harness.outcomes import TRACKED_BACKEND, TRACKED_LABEL


def dbapi_execute(conn: Any, sql: str) -> tuple[Sequence[Any], int]:
    """Run `sql` through the driver's DB-API: its rows (none without a description) and `rowcount`."""
    cur = conn.execute(sql)
    try:
        rows = cur.fetchall() if cur.description else []
        return rows, cur.rowcount
    finally:
        cur.close()


@dataclass(frozen=True)
class Engine:
    """A backend as the hunt drives it: how to open a fresh database, and how to classify errors.

    `execute` runs one statement on an open connection (rows, rowcount) and raises what the driver's
    DB-API raises; by default it is the DB-API itself.
    """

    name: str
    driver: str
    version: str
    open: Callable[[], Any]
    classify: Callable[[BaseException], DatabaseError]
    spec: str = ""  # how a worker process rebuilds it: a built-in name or `package.module:factory`
    execute: Callable[[Any, str], tuple[Sequence[Any], int]] = dbapi_execute

    def describe(self) -> str:
        """`name (driver version)` for the run header; the tracked SQLite is named by its role:
        `tracked SQLite (sqlean.py 3.50.4)`."""
        who = TRACKED_LABEL if self.name == TRACKED_BACKEND else self.name
        return f"{who} ({self.driver} {self.version})"


def _replace_invalid_utf8(data: bytes) -> str:
    return data.decode("utf-8", "replace")


#: Prepared statements each hunt connection caches: none. Nearly every generated statement is new, so a
#: cache only costs an insert and an eviction per statement (a third of sqlean's time on `SELECT <expr>`);
#: a statement that does repeat is prepared again, with the same result.
CACHED_STATEMENTS = 0


def _kept_cursor_class(base: type) -> type:
    """A subclass of the DB-API connection class `base` that keeps one cursor for every statement."""

    class KeptCursorConnection(base):  # type: ignore[valid-type, misc]
        """A connection with one cursor kept for every statement the hunt runs on it."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.kept_cursor = self.cursor()

    return KeptCursorConnection


_SQLiteConnection = _kept_cursor_class(sqlite3.Connection)


def _kept_cursor_execute(conn: Any, sql: str) -> tuple[Sequence[Any], int]:
    """`dbapi_execute` on the kept cursor: `execute` resets the cursor's previous statement, which
    `fetchall` (or a failing step) already finished and reset, so a fresh cursor would see the same.
    A connection opened some other way (an engine whose `open` was replaced) goes through the DB-API."""
    cur = getattr(conn, "kept_cursor", None)
    if cur is None:
        return dbapi_execute(conn, sql)
    cur.execute(sql)
    return (cur.fetchall() if cur.description else []), cur.rowcount


def sqlite_engine() -> Engine:
    """SQLite through the stdlib sqlite3 module (what aiosqlite wraps), autocommit.

    TEXT that is not valid UTF-8 is decoded with U+FFFD, as pyturso does, instead of raising: the
    hunt compares engines, and that driver-level difference would otherwise mask every other one.
    """
    from stc_backends.sqlite import classify

    def open_() -> Any:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False,
                               factory=_SQLiteConnection, cached_statements=CACHED_STATEMENTS)
        conn.text_factory = _replace_invalid_utf8
        return conn

    return Engine("sqlite", "sqlite3", sqlite3.sqlite_version, open_, lambda exc: classify(exc, "sqlite"),
                  execute=_kept_cursor_execute)


def turso_engine() -> Engine:
    """Turso through pyturso's blocking core, autocommit.

    Connections are pyturso DB-API connections; with the pyturso release `turso_raw` mirrors,
    statements run on its engine API directly, which gives exactly the DB-API's rows, row counts and
    exceptions; with any other release, through the DB-API itself.
    """
    import turso

    from stc_backends.sqlite import dist_version
    from stc_backends.turso import classify

    def open_() -> Any:
        return turso.connect(":memory:", isolation_level=None)

    version = dist_version("pyturso")
    execute = dbapi_execute
    with contextlib.suppress(ImportError, AttributeError):  # a pyturso without the internals it mirrors
        from stc_harness.differential import turso_raw

        if turso_raw.mirrors(version):
            execute = turso_raw.execute
    return Engine("turso", "pyturso", version, open_, lambda exc: classify(exc, "turso"), execute=execute)


def _tracked_classify(exc: BaseException) -> DatabaseError:
    """Classify a sqlean.py exception like the tracked SQLite's backend does (its classifier, when the
    backend module imports: it needs sqlean.py, which raised the exception, so it normally does)."""
    try:
        from stc_backends.sqlean import classify
    except ImportError:  # the backend module is absent: the same rules, on the sqlite3 classifier
        from stc_backends.sqlite import classify as classify_sqlite3

        err = classify_sqlite3(exc, TRACKED_BACKEND)
        kind = kind_from_message(err.raw.message) if err.raw.code == "SQLITE_CONSTRAINT" else None
        return DatabaseError(kind, err.raw, TRACKED_BACKEND) if kind is not None else err
    return classify(exc, TRACKED_BACKEND)


def tracked_engine() -> Engine:
    """The tracked SQLite (the release Turso tracks): sqlean.py's sqlite3-compatible module, extensions
    off, autocommit.

    The hunt's default reference: a difference between Turso and this SQLite is Turso's own; one that
    only the older stdlib SQLite shows is a SQLite version gap.
    """
    try:
        import sqlean
    except ImportError as exc:
        raise UsageError("the tracked SQLite (sqlean.py) is not installed: "
                         "pip install 'sqlean.py>=3.50.4,<3.51', or hunt with --reference sqlite") from exc
    sqlean.extensions.disable_all()
    factory = _kept_cursor_class(sqlean.Connection)

    def open_() -> Any:
        conn = sqlean.connect(":memory:", isolation_level=None, check_same_thread=False, factory=factory,
                              cached_statements=CACHED_STATEMENTS)
        conn.text_factory = _replace_invalid_utf8
        return conn

    return Engine(TRACKED_BACKEND, "sqlean.py", sqlean.sqlite_version, open_, _tracked_classify,
                  execute=_kept_cursor_execute)


ENGINES: dict[str, Callable[[], Engine]] = {"sqlite": sqlite_engine, "turso": turso_engine,
                                            TRACKED_BACKEND: tracked_engine}


def engine(name: str) -> Engine:
    """The engine called `name` (or built by `package.module:factory`); unknown names are usage errors."""
    if name in ENGINES:
        return ENGINES[name]()
    module, sep, attr = name.partition(":")
    if sep:
        import importlib

        try:
            made = getattr(importlib.import_module(module), attr)()
        except (ImportError, AttributeError) as exc:
            raise UsageError(f"cannot build the hunt engine {name!r}: {exc}") from exc
        if not isinstance(made, Engine):
            raise UsageError(f"{name!r} did not return a stc_harness.differential.engines.Engine")
        return dataclasses.replace(made, spec=name)
    raise UsageError(f"the hunt cannot drive backend {name!r}; it knows: {', '.join(ENGINES)} "
                     "(or give a 'package.module:factory' returning an Engine)")


def lineup(reference: str, backends: Sequence[str], stdlib_lane: bool = True) -> list[Engine]:
    """The engines a hunt runs: `backends` (default Turso, plus the stdlib SQLite unless `stdlib_lane`
    is off) with the reference first when it is not among them; fewer than two is a usage error."""
    names = list(backends) or ["turso"] + (["sqlite"] if stdlib_lane else [])
    if reference not in names:
        names = [reference, *names]
    engines = [engine(n) for n in dict.fromkeys(names)]
    if len(engines) < 2:
        raise UsageError("the hunt needs the reference and at least one other backend")
    return engines


def run_statement(eng: Engine, conn: Any, stmt: Any) -> Outcome:
    """Run one statement on a raw connection and normalise what it did (driver thread)."""
    try:
        rows, rowcount = eng.execute(conn, stmt.sql())
        return ok(rows, rowcount, stmt.ordered, stmt.counted)
    except PASS_THROUGH:
        raise
    except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException; it is an outcome
        return failed(eng.classify(exc))


def _close(conn: Any) -> None:
    with contextlib.suppress(BaseException):
        conn.close()


class Progress:
    """Which case (and statement) a worker is on, read when a batch times out or the worker dies.

    `cells` is `[case, statement]`: a list in a thread, shared memory in a worker process.
    """

    def __init__(self, cells: MutableSequence[int] | None = None) -> None:
        self.cells: MutableSequence[int] = cells if cells is not None else [-1, -1]

    @property
    def index(self) -> int:
        """The case being run (-1 before the first)."""
        return int(self.cells[0])

    @property
    def current(self) -> int:
        """The statement being run (-1 before the first of the case)."""
        return int(self.cells[1])


_PANIC = ErrorKind.PANIC.value


def run_packed(eng: Engine, cases: Sequence[WireCase], progress: Progress | None = None) -> list[Packed]:
    """Run a batch of wire cases in the calling (driver) thread; each case's outcomes packed.

    A stateful case gets its own fresh database; stateless ones share one fresh database per batch,
    replaced after a panic.
    """
    cells = (progress or Progress()).cells
    execute, classify, open_ = eng.execute, eng.classify, eng.open
    pickle_dumps = pickle.dumps  # each case packed as `wire.pack` does
    out: list[Packed] = []
    shared: Any = None
    try:
        for i, (stateful, statements) in enumerate(cases):
            cells[0] = i
            cells[1] = -1
            if stateful:
                conn = open_()
            else:
                if shared is None:
                    shared = open_()
                conn = shared
            try:
                observations: list[dict[str, Any]] = []
                messages: list[str] | None = None
                panicked = False
                for j, (sql, ordered, counted) in enumerate(statements):
                    cells[1] = j
                    try:
                        rows, rowcount = execute(conn, sql)
                        obs = observe(rows, rowcount, ordered, counted)
                    except PASS_THROUGH:
                        raise
                    except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException too
                        failure = failed(classify(exc))
                        obs = failure.obs
                        if messages is None:
                            messages = [""] * j
                        messages.append(failure.message)
                        panicked = panicked or failure.obs["error"] == _PANIC
                    else:
                        if messages is not None:
                            messages.append("")
                    observations.append(obs)
            finally:
                if stateful:
                    _close(conn)
            if panicked and not stateful:
                _close(shared)
                shared = None
            out.append((pickle_dumps(observations, PROTOCOL), None if messages is None else tuple(messages)))
    finally:
        if shared is not None:
            _close(shared)
    return out


def run_cases(eng: Engine, cases: Sequence[Runnable],
              progress: Progress | None = None) -> list[list[Outcome]]:
    """Run a batch of cases in the calling (driver) thread: the outcomes of every statement."""
    return [unpack(p) for p in run_packed(eng, [to_wire(c) for c in cases], progress)]
