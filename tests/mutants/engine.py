"""Engine-adapter mutants: the SQLite backend whose raw connection, as the adapter sees it, deviates once.

The harness's SQLite connection runs every statement as `fn(raw_sqlite3_connection)` on aiosqlite's
thread (`BaseConnection._run`). A mutant hands `fn` a proxy of the raw connection instead, so each
deviation sits in one place: the statement text, the parameters, the rows, the counters, what happens
after an error, the transaction flag, what runs at connect, or how errors are classified.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from stc_backends.sqlite import SQLiteBackend, SQLiteConnection
from stc_harness.errors import DatabaseError, ErrorKind

T = TypeVar("T")


@dataclass(frozen=True)
class Deviation:
    """One deviation; every hook defaults to SQLite's own behaviour."""

    sql: Callable[[str], str] | None = None
    params: Callable[[str, Any], Any] | None = None
    rows: Callable[[str, list[Any]], list[Any]] | None = None
    rowcount: Callable[[str, int], int] | None = None
    failed: Callable[[Any, str], None] | None = None
    in_transaction: Callable[[bool], bool] | None = None
    on_connect: Callable[[Any, bool], None] | None = None
    kind: Callable[[ErrorKind], ErrorKind] | None = None
    many: Callable[[list[Any]], list[Any]] | None = None


class _Cursor:
    """A sqlite3 cursor seen through a deviation (rows, rowcount)."""

    def __init__(self, cur: Any, sql: str, dev: Deviation) -> None:
        self._cur, self._sql, self._dev = cur, sql, dev

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)

    def _mapped(self, got: list[Any]) -> list[Any]:
        return self._dev.rows(self._sql, got) if self._dev.rows else got

    def fetchone(self) -> Any:
        row = self._cur.fetchone()
        return row if row is None else self._mapped([row])[0]

    def fetchmany(self, size: int = 1) -> list[Any]:
        return self._mapped(self._cur.fetchmany(size))

    def __iter__(self) -> Any:
        return iter(self.fetchall())

    @property
    def description(self) -> Any:
        return self._cur.description

    @property
    def rowcount(self) -> int:
        n = self._cur.rowcount
        return self._dev.rowcount(self._sql, n) if self._dev.rowcount else n

    @property
    def lastrowid(self) -> Any:
        return self._cur.lastrowid

    def fetchall(self) -> list[Any]:
        return self._mapped(self._cur.fetchall())

    def close(self) -> None:
        self._cur.close()


class _Raw:
    """The raw sqlite3 connection as a mutant adapter sees it."""

    def __init__(self, raw: sqlite3.Connection, dev: Deviation) -> None:
        self._raw, self._dev = raw, dev

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    @property
    def in_transaction(self) -> bool:
        value = self._raw.in_transaction
        return self._dev.in_transaction(value) if self._dev.in_transaction else value

    def execute(self, sql: str, params: Any = ()) -> _Cursor:
        dev = self._dev
        sql = dev.sql(sql) if dev.sql else sql
        params = dev.params(sql, params) if dev.params else params
        try:
            return _Cursor(self._raw.execute(sql, params), sql, dev)
        except sqlite3.Error:
            if dev.failed:
                dev.failed(self._raw, sql)
            raise

    def executemany(self, sql: str, seq: Any) -> _Cursor:
        dev = self._dev
        sql = dev.sql(sql) if dev.sql else sql
        seq = dev.many(list(seq)) if dev.many else seq
        return _Cursor(self._raw.executemany(sql, seq), sql, dev)


class MutantConnection(SQLiteConnection):
    """The SQLite adapter with one deviation between it and the driver."""

    batch_reuses_cursor = False  # every statement through `_Raw.execute`
    deviation = Deviation()

    async def _run(self, fn: Callable[[Any], T]) -> T:
        return await super()._run(lambda raw: fn(_Raw(raw, self.deviation)))

    def classify(self, exc: BaseException) -> DatabaseError:
        err = super().classify(exc)
        if self.deviation.kind is not None:
            err.kind = self.deviation.kind(err.kind)
        return err


class MutantBackend(SQLiteBackend):
    """SQLite (aiosqlite) under a mutant's name, its adapter deviating once (none for the control)."""

    def __init__(self, name: str, deviation: Deviation, sync_module: str = "sqlite3",
                 async_module: str = "aiosqlite") -> None:
        super().__init__()
        self.name, self.deviation = name, deviation
        self.sync_module, self.async_module = sync_module, async_module

    async def connect(self, url: Any, **options: Any) -> SQLiteConnection:
        """Open SQLite's connection and put the deviation between the adapter and the driver."""
        conn = await super().connect(url, **options)
        conn.__class__ = MutantConnection
        conn.deviation = self.deviation  # type: ignore[attr-defined]
        if self.deviation.on_connect is not None:
            memory = ":memory:" in str(url)
            await conn.call(lambda raw: self.deviation.on_connect(raw._raw, memory))  # type: ignore[misc]
        return conn


# --- the deviations' building blocks -------------------------------------------------------------------

Rewrite = str | Callable[[re.Match[str]], str]


def rewrite(pattern: str, repl: Rewrite, flags: int = re.I) -> Callable[[str], str]:
    """A statement rewrite by regular expression."""
    compiled = re.compile(pattern, flags)
    return lambda sql: compiled.sub(repl, sql)


def rollback_if(pred: Callable[[str], bool]) -> Callable[[Any, str], None]:
    """After a failed statement matching `pred`, roll the open transaction back (as Turso does for some)."""
    def failed(raw: Any, sql: str) -> None:
        if raw.in_transaction and pred(sql):
            raw.execute("ROLLBACK")
    return failed


def map_values(fn: Callable[[Any], Any],
               only: Callable[[str], bool] = lambda s: True) -> Callable[[str, list[Any]], list[Any]]:
    """Rows with every value passed through `fn` (for statements matching `only`)."""
    def rows(sql: str, got: list[Any]) -> list[Any]:
        return [tuple(fn(v) for v in row) for row in got] if only(sql) else got
    return rows


def pad_parameters(sql: str, params: Any) -> Any:
    """Bind a missing value as NULL: pad a short sequence, fill a mapping's missing names."""
    if isinstance(params, dict):
        names = re.findall(r"[:@$]([A-Za-z_]\w*)", sql)
        return {**dict.fromkeys(names), **params}
    plain = len(re.findall(r"\?(?!\d)", sql))
    numbered = [int(n) for n in re.findall(r"\?(\d+)", sql)]
    needed = max([plain, *numbered]) if numbered else plain
    seq = list(params)
    return seq + [None] * (needed - len(seq)) if len(seq) < needed else params


def run_on_connect(*sqls: str, files_only: bool = False) -> Callable[[Any, bool], None]:
    """Statements run on every new connection (a driver that changes a default)."""
    def on_connect(raw: Any, memory: bool) -> None:
        if files_only and memory:
            return
        for sql in sqls:
            raw.execute(sql).fetchall()
    return on_connect


def set_limit(category: int, value: int) -> Callable[[Any, bool], None]:
    """A lower run-time limit on every new connection."""
    return lambda raw, memory: raw.setlimit(category, value)


#: The run-time limits `sqlite3.Connection.setlimit` can lower (SQLite's limits page).
LOWERABLE = (
    "SQLITE_LIMIT_LENGTH", "SQLITE_LIMIT_SQL_LENGTH", "SQLITE_LIMIT_COLUMN", "SQLITE_LIMIT_EXPR_DEPTH",
    "SQLITE_LIMIT_COMPOUND_SELECT", "SQLITE_LIMIT_FUNCTION_ARG", "SQLITE_LIMIT_ATTACHED",
    "SQLITE_LIMIT_LIKE_PATTERN_LENGTH", "SQLITE_LIMIT_VARIABLE_NUMBER", "SQLITE_LIMIT_TRIGGER_DEPTH",
)


def lower_every_limit(raw: Any, memory: bool) -> None:
    """Every lowerable run-time limit one below its current value (a build with smaller limits)."""
    for name in LOWERABLE:
        category = getattr(sqlite3, name)
        raw.setlimit(category, raw.getlimit(category) - 1)


def wrap32(match: re.Match[str]) -> str:
    """The PRAGMA's value truncated to a signed 32-bit integer."""
    value = int(match.group(2)) & 0xFFFFFFFF
    return f"{match.group(1)}{value - 2**32 if value >= 2**31 else value}"


CONSTRAINT_KINDS = {k for k in ErrorKind if k.name.endswith("_VIOLATION")}
