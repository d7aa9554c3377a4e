"""The connection logic both adapters share: results, batches, transactions and savepoints."""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

from stc_harness.adapters.protocol import Params, Result, Statement, TransactionMode
from stc_harness.errors import DatabaseError, ErrorKind, RawError

T = TypeVar("T")

#: Exceptions that must never be swallowed: they stop the run or the task on purpose.
PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)


def run_statement(raw: Any, sql: str, params: Params = ()) -> Result:
    """Run one statement on a DB-API connection and collect its whole result (driver thread).

    Kept lean: the batch path calls it once per statement, so it sits on the hot path.
    """
    cur = raw.execute(sql, params)
    desc = cur.description
    if not desc:
        return Result([], None, cur.rowcount, cur.lastrowid)
    rows = cur.fetchall()
    if rows and type(rows[0]) is not tuple:
        rows = [tuple(r) for r in rows]
    return Result(rows, desc, cur.rowcount, cur.lastrowid)


def run_many(raw: Any, sql: str, seq_of_params: Sequence[Params]) -> Result:
    """Run `executemany` on a DB-API connection (driver thread)."""
    cur = raw.executemany(sql, seq_of_params)
    try:
        return Result([], None, cur.rowcount, cur.lastrowid)
    finally:
        cur.close()


def run_batch(raw: Any, statements: Sequence[Statement], *,
              reuse_cursor: bool = False) -> list[Result | BaseException]:
    """Run statements in order on a DB-API connection; each failure is returned in its place.

    `run_statement` is inlined here: this loop is the hot path of the batch benchmark. With
    `reuse_cursor`, one cursor serves the whole batch, which is only right for a driver whose cursor
    reports the same `rowcount`/`lastrowid` either way (sqlite3 does; pyturso keeps a stale lastrowid).
    """
    out: list[Result | BaseException] = []
    append = out.append
    shared = raw.cursor() if reuse_cursor else None
    execute = shared.execute if shared is not None else raw.execute
    for stmt in statements:
        try:
            ran = execute(stmt) if type(stmt) is str else execute(*stmt)
            cur = shared if shared is not None else ran
            desc = cur.description
            if desc:
                rows = cur.fetchall()
                if rows and type(rows[0]) is not tuple:
                    rows = [tuple(r) for r in rows]
                append(Result(rows, desc, cur.rowcount, cur.lastrowid))
            else:
                append(Result([], None, cur.rowcount, cur.lastrowid))
        except PASS_THROUGH:
            raise
        except BaseException as exc:  # noqa: BLE001 - recorded per statement, panics included
            append(exc)
    if shared is not None:
        shared.close()
    return out


BEGIN_SQL: dict[TransactionMode, str] = {
    TransactionMode.DEFAULT: "BEGIN",
    TransactionMode.DEFERRED: "BEGIN",
    TransactionMode.IMMEDIATE: "BEGIN IMMEDIATE",
    TransactionMode.EXCLUSIVE: "BEGIN EXCLUSIVE",
}


class BaseConnection(abc.ABC):
    """Shared implementation of `stc_harness.adapters.protocol.Connection` over a blocking DB-API
    connection."""

    backend_name: str = "?"
    #: Whether `batch` may run every statement on one cursor (see `run_batch`).
    batch_reuses_cursor: bool = False

    def __init__(self) -> None:
        self.closed = False

    @abc.abstractmethod
    async def _run(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(raw_connection)` on the driver's thread, unclassified."""

    @abc.abstractmethod
    def classify(self, exc: BaseException) -> DatabaseError:
        """Turn a raw driver exception into a classified `DatabaseError`."""

    @abc.abstractmethod
    async def _close(self) -> None:
        """Close the underlying driver connection."""

    def begin_sql(self, mode: TransactionMode) -> str:
        """The statement that starts a transaction in `mode` on this connection."""
        return BEGIN_SQL[TransactionMode(mode)]

    async def call(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(raw_connection)` on the driver's thread; any driver exception comes out classified."""
        try:
            return await self._run(fn)
        except PASS_THROUGH:
            raise
        except DatabaseError:
            raise
        except BaseException as exc:
            raise self.classify(exc) from exc

    async def execute(self, sql: str, params: Params = ()) -> Result:
        """Run one statement and return its whole result."""
        return await self.call(lambda raw: run_statement(raw, sql, params))

    async def executemany(self, sql: str, seq_of_params: Sequence[Params]) -> Result:
        """Run one statement once per parameter set."""
        seq = list(seq_of_params)
        return await self.call(lambda raw: run_many(raw, sql, seq))

    async def fetch_all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Run a query and return all its rows."""
        return (await self.execute(sql, params)).rows

    async def fetch_one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        """Run a query and return its first row, or None."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        """Run a query and return the first column of its first row (None when no row)."""
        row = await self.fetch_one(sql, params)
        return row[0] if row else None

    async def batch(self, statements: Sequence[Statement]) -> list[Result | BaseException]:
        """Run many statements in one trip to the driver's thread; failures come back classified, in place."""
        stmts = list(statements)
        reuse = self.batch_reuses_cursor
        out = await self.call(lambda raw: run_batch(raw, stmts, reuse_cursor=reuse))
        return [self.classify(r) if isinstance(r, BaseException) else r for r in out]

    async def is_in_transaction(self) -> bool:
        """Whether a transaction is open on this connection (asked of the driver)."""
        return bool(await self.call(lambda raw: raw.in_transaction))

    async def rollback_quietly(self) -> None:
        """Roll back if a transaction is still open; used to hand a connection back clean."""
        if self.closed:
            return
        with contextlib.suppress(DatabaseError):
            if await self.is_in_transaction():
                await self.execute("ROLLBACK")

    @contextlib.asynccontextmanager
    async def transaction(self, mode: TransactionMode = TransactionMode.DEFAULT) -> AsyncIterator[Any]:
        """BEGIN in `mode`; COMMIT on success; ROLLBACK on exception or failed COMMIT, then re-raise."""
        try:
            await self.execute(self.begin_sql(mode))
        except DatabaseError:
            # A failed BEGIN IMMEDIATE/EXCLUSIVE can leave Turso inside a transaction holding the
            # write lock (transactions.failed_begin_leaves_no_transaction): hand back a clean connection.
            await self.rollback_quietly()
            raise
        try:
            yield self
        except BaseException:
            await self.rollback_quietly()
            raise
        try:
            await self.execute("COMMIT")
        except DatabaseError:
            await self.rollback_quietly()
            raise

    @contextlib.asynccontextmanager
    async def savepoint(self, name: str) -> AsyncIterator[Any]:
        """SAVEPOINT `name`; RELEASE on success; ROLLBACK TO and RELEASE on exception."""
        if not name.isidentifier():
            raise ValueError(f"savepoint name must be an identifier, got {name!r}")
        await self.execute(f"SAVEPOINT {name}")
        try:
            yield self
        except BaseException:
            with contextlib.suppress(DatabaseError):
                await self.execute(f"ROLLBACK TO {name}")
                await self.execute(f"RELEASE {name}")
            raise
        await self.execute(f"RELEASE {name}")

    async def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        if self.closed:
            return
        self.closed = True
        try:
            await self._close()
        except PASS_THROUGH:
            raise
        except BaseException as exc:
            raise self.classify(exc) from exc

    async def __aenter__(self) -> BaseConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def closed_error(backend: str, message: str = "connection is closed") -> DatabaseError:
    """The error raised when a closed harness connection is used."""
    return DatabaseError(ErrorKind.CLOSED, RawError("harness.Closed", message), backend)


class DriverThreadConnection(BaseConnection):
    """A connection over a blocking driver object that lives on its own `DriverThread`: one hop per call."""

    def __init__(self, thread: Any, raw: Any) -> None:
        super().__init__()
        self._thread = thread
        self._raw = raw

    @property
    def driver_connection(self) -> Any:
        """The blocking driver connection underneath (use only through `call`)."""
        return self._raw

    async def _run(self, fn: Callable[[Any], T]) -> T:
        if self.closed:
            raise closed_error(self.backend_name)
        raw = self._raw
        return await self._thread.call(lambda: fn(raw))

    async def _close(self) -> None:
        try:
            await self._thread.call(self._raw.close)
        finally:
            self._thread.stop()
