"""Broken stand-ins for `sqlite3`, one breakage each, to prove the driver suites can see it.

Each is a module object registered in `sys.modules` under `fake_backend.driver_wrappers.<name>` (so a
backend can name it as its `sync_module`), delegating everything to `sqlite3` except:

- `no_busy_wait`: `connect()` defaults to `timeout=0` (a contended write fails at once);
- `upper_names`: `cursor.description` names are upper-cased;
- `close_ignored`: `Connection.close()` does nothing (a closed connection keeps working);
- `lazy_returning`: a statement with RETURNING runs only when its rows are fetched.

`make_<name>()` builds a SQLite backend (aiosqlite for the engine layer) named `<name>` whose blocking
module is the wrapper.
"""

from __future__ import annotations

import sqlite3
import sys
import types
from typing import Any

from stc_backends.sqlite import SQLiteBackend

PREFIX = __name__


class _Wrapper(types.ModuleType):
    """A module that is `sqlite3` except for the names set on it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(sqlite3, name)


def _register(name: str, **overrides: Any) -> types.ModuleType:
    module = _Wrapper(f"{PREFIX}.{name}", f"sqlite3 with one breakage: {name}")
    for key, value in overrides.items():
        setattr(module, key, value)
    sys.modules[module.__name__] = module
    return module


def _connect_with(factory: type[sqlite3.Connection]) -> Any:
    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", factory)
        return sqlite3.connect(database, *args, **kwargs)
    return connect


def _no_busy_wait_connect(database: Any, timeout: float = 0.0, **kwargs: Any) -> sqlite3.Connection:
    return sqlite3.connect(database, timeout=timeout, **kwargs)


class _UpperCursor(sqlite3.Cursor):
    @property
    def description(self) -> Any:  # type: ignore[override]
        found = sqlite3.Cursor.description.__get__(self)  # type: ignore[attr-defined]
        if found is None:
            return None
        return tuple((d[0].upper(), *d[1:]) for d in found)


class _UpperConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _UpperCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)


class _CloseIgnored(sqlite3.Connection):
    def close(self) -> None:
        """Do nothing: the breakage under test."""


class _LazyCursor(sqlite3.Cursor):
    """Defers a RETURNING statement until the first fetch; closing it first means it never runs."""

    _pending: tuple[str, Any] | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> Any:  # type: ignore[override]
        if "RETURNING" in sql.upper():
            self._pending = (sql, parameters)
            return self
        self._pending = None
        return super().execute(sql, parameters)

    def _run_pending(self) -> None:
        if self._pending is not None:
            sql, parameters = self._pending
            self._pending = None
            super().execute(sql, parameters)

    def close(self) -> None:
        self._pending = None
        super().close()

    def fetchone(self) -> Any:
        self._run_pending()
        return super().fetchone()

    def fetchall(self) -> Any:
        self._run_pending()
        return super().fetchall()

    def fetchmany(self, size: int | None = None) -> Any:
        self._run_pending()
        return super().fetchmany(self.arraysize if size is None else size)

    def __next__(self) -> Any:
        self._run_pending()
        return super().__next__()


class _LazyConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _LazyCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)


WRAPPERS = {
    "no_busy_wait": _register("no_busy_wait", connect=_no_busy_wait_connect),
    "upper_names": _register("upper_names", connect=_connect_with(_UpperConnection)),
    "close_ignored": _register("close_ignored", connect=_connect_with(_CloseIgnored)),
    "lazy_returning": _register("lazy_returning", connect=_connect_with(_LazyConnection)),
}


class WrappedSQLite(SQLiteBackend):
    """SQLite (aiosqlite) for the engine layer; a broken `sqlite3` wrapper as its blocking module."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.sync_module = f"{PREFIX}.{name}"


def make_no_busy_wait() -> WrappedSQLite:
    """Backend `no_busy_wait`."""
    return WrappedSQLite("no_busy_wait")


def make_upper_names() -> WrappedSQLite:
    """Backend `upper_names`."""
    return WrappedSQLite("upper_names")


def make_close_ignored() -> WrappedSQLite:
    """Backend `close_ignored`."""
    return WrappedSQLite("close_ignored")


def make_lazy_returning() -> WrappedSQLite:
    """Backend `lazy_returning`."""
    return WrappedSQLite("lazy_returning")
