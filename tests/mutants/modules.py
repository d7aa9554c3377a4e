"""Sync- and async-module mutants: `sqlite3` and `aiosqlite` stand-ins, each deviating in one place.

A wrapper module delegates every name to the real module except the ones a deviation sets; it is
registered in `sys.modules` as `mutants.modules.<name>` so a backend can name it as its `sync_module`
or `async_module`. Connection deviations are `sqlite3.Connection` subclasses passed as `factory`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite

PREFIX = __name__


class _Wrapper(types.ModuleType):
    """A module that is its `base` except for the names set on it."""

    base: Any = sqlite3
    #: Names the wrapper does not have (a module that lacks them).
    hidden: frozenset[str] = frozenset()

    def __getattr__(self, name: str) -> Any:
        if name in self.hidden:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        return getattr(self.base, name)


def register(name: str, base: Any = sqlite3, hidden: frozenset[str] = frozenset(), **overrides: Any) -> str:
    """Register a wrapper of `base` named `mutants.modules.<name>` (without `hidden`); its module name."""
    module = _Wrapper(f"{PREFIX}.{name}", f"{base.__name__} with one deviation: {name}")
    module.base, module.hidden = base, hidden
    for key, value in overrides.items():
        setattr(module, key, value)
    sys.modules[module.__name__] = module
    return module.__name__


def connect_with(factory: type[sqlite3.Connection], **forced: Any) -> Callable[..., sqlite3.Connection]:
    """`sqlite3.connect` that makes connections of `factory` (and forces keyword arguments)."""
    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", factory)
        kwargs.update(forced)
        return sqlite3.connect(database, *args, **kwargs)
    return connect


def aconnect_with(factory: type[sqlite3.Connection]) -> Callable[..., aiosqlite.Connection]:
    """`aiosqlite.connect` whose thread opens connections of `factory`."""
    def connect(database: Any, **kwargs: Any) -> aiosqlite.Connection:
        kwargs.setdefault("factory", factory)
        return aiosqlite.connect(database, **kwargs)
    return connect


def cursor_class(**members: Any) -> type[sqlite3.Cursor]:
    """A `sqlite3.Cursor` subclass with `members` replaced."""
    return type("MutantCursor", (sqlite3.Cursor,), members)


def connection_class(cursor: type[sqlite3.Cursor] | None = None, **members: Any) -> type[sqlite3.Connection]:
    """A `sqlite3.Connection` subclass with `members` replaced (and cursors of `cursor`)."""
    body = dict(members)
    if cursor is not None:
        def make_cursor(self: sqlite3.Connection, factory: Any = cursor) -> Any:
            return sqlite3.Connection.cursor(self, factory)

        def execute(self: sqlite3.Connection, sql: str, parameters: Any = (), /) -> Any:
            return self.cursor().execute(sql, parameters)

        def executemany(self: sqlite3.Connection, sql: str, seq: Any, /) -> Any:
            return self.cursor().executemany(sql, seq)

        body.update(cursor=make_cursor, execute=execute, executemany=executemany)
    return type("MutantConnection", (sqlite3.Connection,), body)


def _noop(self: Any, *args: Any, **kwargs: Any) -> None:
    """Do nothing: the deviation."""


def _false(self: Any) -> bool:
    return False


def _pad_execute(self: sqlite3.Cursor, sql: str, parameters: Any = (), /) -> Any:
    """Bind a missing positional value as NULL."""
    if not isinstance(parameters, dict):
        needed = sql.count("?")
        seq = list(parameters)
        if len(seq) < needed:
            parameters = seq + [None] * (needed - len(seq))
    return sqlite3.Cursor.execute(self, sql, parameters)


def _integrity_as_operational(self: sqlite3.Cursor, sql: str, parameters: Any = (), /) -> Any:
    try:
        return sqlite3.Cursor.execute(self, sql, parameters)
    except sqlite3.IntegrityError as exc:
        raise sqlite3.OperationalError(str(exc)) from None


def _parse_error_prefix(self: sqlite3.Cursor, sql: str, parameters: Any = (), /) -> Any:
    try:
        return sqlite3.Cursor.execute(self, sql, parameters)
    except sqlite3.OperationalError as exc:
        if str(exc).startswith(("no such table", "no such column")):
            raise sqlite3.OperationalError(f"Parse error: {exc}") from None
        raise


def _fetchmany_all(self: sqlite3.Cursor, size: int | None = None) -> Any:
    return sqlite3.Cursor.fetchall(self)


def _rowcount(self: sqlite3.Cursor) -> int:
    return -1


def _lastrowid(self: sqlite3.Cursor) -> Any:
    return None


def _description_lower(self: sqlite3.Cursor) -> Any:
    found = sqlite3.Cursor.description.__get__(self)  # type: ignore[attr-defined]
    return None if found is None else tuple((d[0].lower(), *d[1:]) for d in found)


def _fetched(method: Any) -> Any:
    """`method`, marking the cursor as fetched from."""
    def fetch(self: Any, *args: Any) -> Any:
        self.fetched = True
        return method(self, *args)
    return fetch


def _description_late(self: sqlite3.Cursor) -> Any:
    """No description until the first fetch (a driver that prepares lazily)."""
    found = sqlite3.Cursor.description.__get__(self)  # type: ignore[attr-defined]
    return found if getattr(self, "fetched", False) else None


def _isolation_level(self: sqlite3.Connection) -> Any:
    return sqlite3.Connection.isolation_level.__get__(self)  # type: ignore[attr-defined]


_DML = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b(?!.*\bRETURNING\b)", re.I | re.S)


def _lazy_execute(self: Any, sql: str, parameters: Any = (), /) -> Any:
    """DML without RETURNING waits for the first fetch (a driver that steps statements lazily)."""
    if _DML.match(sql):
        self.pending = (sql, parameters)
        return self
    self.pending = None
    return sqlite3.Cursor.execute(self, sql, parameters)


def _stepped(method: Any) -> Any:
    """`method`, running the pending statement first."""
    def fetch(self: Any, *args: Any) -> Any:
        pending, self.pending = getattr(self, "pending", None), None
        if pending is not None:
            sqlite3.Cursor.execute(self, *pending)
        return method(self, *args)
    return fetch


_LAZY_DML = cursor_class(execute=_lazy_execute, fetchone=_stepped(sqlite3.Cursor.fetchone),
                         fetchmany=_stepped(sqlite3.Cursor.fetchmany),
                         fetchall=_stepped(sqlite3.Cursor.fetchall))

_LATE_DESCRIPTION = cursor_class(description=property(_description_late),
                                 fetchone=_fetched(sqlite3.Cursor.fetchone),
                                 fetchmany=_fetched(sqlite3.Cursor.fetchmany),
                                 fetchall=_fetched(sqlite3.Cursor.fetchall),
                                 __next__=_fetched(sqlite3.Cursor.__next__))


class _WalLeftBeside(sqlite3.Connection):
    """A connection that leaves a -wal file beside its database file, from connect() on and after close()."""

    wal = ""

    def close(self) -> None:
        super().close()
        if self.wal:
            Path(self.wal).touch()


def _leaves_wal(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
    kwargs.setdefault("factory", _WalLeftBeside)
    conn = sqlite3.connect(database, *args, **kwargs)
    name = os.fspath(database) if isinstance(database, str | os.PathLike) else ""
    if isinstance(conn, _WalLeftBeside) and isinstance(name, str) and name not in ("", ":memory:") \
            and not name.startswith("file:"):
        conn.wal = name + "-wal"
        Path(conn.wal).touch()
    return conn


def _busy_now(database: Any, timeout: float = 0.0, **kwargs: Any) -> sqlite3.Connection:
    return sqlite3.connect(database, timeout=timeout, **kwargs)


#: Sync-module deviations: name -> (what it does, module overrides).
SYNC: dict[str, tuple[str, dict[str, Any]]] = {
    "sync_commit_noop": ("Connection.commit() does nothing",
                         {"connect": connect_with(connection_class(commit=_noop))}),
    "sync_rollback_noop": ("Connection.rollback() does nothing",
                           {"connect": connect_with(connection_class(rollback=_noop))}),
    "sync_in_transaction_false": ("Connection.in_transaction is always False", {"connect": connect_with(
        connection_class(in_transaction=property(_false)))}),
    "sync_autocommit_forced": ("connect() ignores isolation_level: always autocommit",
                               {"connect": connect_with(sqlite3.Connection, isolation_level=None)}),
    "sync_no_busy_wait": ("connect() defaults to timeout=0", {"connect": _busy_now}),
    "sync_rowcount_unknown": ("Cursor.rowcount is always -1", {"connect": connect_with(
        connection_class(cursor_class(rowcount=property(_rowcount))))}),
    "sync_lastrowid_none": ("Cursor.lastrowid is always None", {"connect": connect_with(
        connection_class(cursor_class(lastrowid=property(_lastrowid))))}),
    "sync_names_lowercase": ("cursor.description names are lower-cased", {"connect": connect_with(
        connection_class(cursor_class(description=property(_description_lower))))}),
    "sync_fetchmany_all": ("fetchmany(n) returns every remaining row", {"connect": connect_with(
        connection_class(cursor_class(fetchmany=_fetchmany_all)))}),
    "sync_missing_binding_null": ("a missing positional value is bound as NULL", {"connect": connect_with(
        connection_class(cursor_class(execute=_pad_execute)))}),
    "sync_integrity_as_operational": ("a constraint failure raises OperationalError", {
        "connect": connect_with(connection_class(cursor_class(execute=_integrity_as_operational)))}),
    "sync_parse_error_prefix": ("a missing table's or column's error message starts with 'Parse error: '", {
        "connect": connect_with(connection_class(cursor_class(execute=_parse_error_prefix)))}),
    "sync_close_ignored": ("Connection.close() does nothing",
                           {"connect": connect_with(connection_class(close=_noop))}),
    "sync_paramstyle_named": ("the module says paramstyle 'named'", {"paramstyle": "named"}),
    "sync_threadsafety_zero": ("the module says threadsafety 0", {"threadsafety": 0}),
    "sync_lazy_dml": ("DML without RETURNING runs only when its cursor is fetched", {
        "connect": connect_with(connection_class(_LAZY_DML))}),
    "sync_same_thread_off": ("connect() never checks the thread (check_same_thread=False forced)",
                             {"connect": connect_with(sqlite3.Connection, check_same_thread=False)}),
    "sync_wal_left_beside": ("a file database has a -wal file beside it from connect() on, and after close()",
                             {"connect": _leaves_wal}),
}

NONE: frozenset[str] = frozenset()

#: Client-path deviations (sync modules SQLAlchemy's pysqlite dialect drives): name -> (what, overrides,
#: hidden names). Each is realistic for a `sqlite3` stand-in; the last two are what pyturso 0.8.3 does.
CLIENT: dict[str, tuple[str, dict[str, Any], frozenset[str]]] = {
    "client_rowcount_unknown": ("Cursor.rowcount is always -1 (SQLAlchemy's rowcount and ORM checks)", {
        "connect": connect_with(connection_class(cursor_class(rowcount=property(_rowcount))))}, NONE),
    "client_lastrowid_none": ("Cursor.lastrowid is always None (SQLAlchemy's inserted primary key)", {
        "connect": connect_with(connection_class(cursor_class(lastrowid=property(_lastrowid))))}, NONE),
    "client_description_late": ("cursor.description is None until the first fetch (a lazy driver)", {
        "connect": connect_with(connection_class(_LATE_DESCRIPTION))}, NONE),
    "client_binary_missing": ("the module has no Binary constructor (PEP 249)", {}, frozenset({"Binary"})),
    "client_isolation_level_ignored": ("setting Connection.isolation_level does nothing", {
        "connect": connect_with(connection_class(isolation_level=property(_isolation_level, _noop)))},
        NONE),
}

#: Async-module deviations (aiosqlite wrappers): name -> (what it does, module overrides).
ASYNC: dict[str, tuple[str, dict[str, Any]]] = {
    "async_commit_noop": ("aiosqlite's commit() does nothing",
                          {"connect": aconnect_with(connection_class(commit=_noop))}),
    "async_in_transaction_false": ("aiosqlite's in_transaction is always False", {"connect": aconnect_with(
        connection_class(in_transaction=property(_false)))}),
    "async_rowcount_unknown": ("aiosqlite cursors' rowcount is always -1", {"connect": aconnect_with(
        connection_class(cursor_class(rowcount=property(_rowcount))))}),
    "async_lazy_dml": ("aiosqlite runs DML without RETURNING only when its cursor is fetched", {
        "connect": aconnect_with(connection_class(_LAZY_DML))}),
    "async_missing_binding_null": ("aiosqlite binds a missing positional value as NULL", {
        "connect": aconnect_with(connection_class(cursor_class(execute=_pad_execute)))}),
}

SYNC_MODULES = {name: register(name, sqlite3, **overrides) for name, (_, overrides) in SYNC.items()}
CLIENT_MODULES = {name: register(name, sqlite3, hidden, **overrides)
                  for name, (_, overrides, hidden) in CLIENT.items()}
ASYNC_MODULES = {name: register(name, aiosqlite, **overrides) for name, (_, overrides) in ASYNC.items()}
CONTROL_SYNC = register("control_sync", sqlite3)
CONTROL_ASYNC = register("control_async", aiosqlite)
