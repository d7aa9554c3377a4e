"""A small async connection pool with a max size and an acquire timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from stc_harness.errors import HarnessError


class PoolTimeout(HarnessError):
    """No connection became free within the acquire timeout."""


class PoolClosed(HarnessError):
    """The pool was closed."""


class Pool:
    """Hands out at most `max_size` connections made by `factory`; returned ones are rolled back clean."""

    def __init__(self, factory: Callable[[], Awaitable[Any]], *, max_size: int = 4,
                 acquire_timeout: float = 5.0, name: str = "pool") -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self._factory = factory
        self.max_size = max_size
        self.acquire_timeout = acquire_timeout
        self.name = name
        self._idle: list[Any] = []
        self._out: set[int] = set()
        self._all: list[Any] = []
        self._sem = asyncio.Semaphore(max_size)
        self.closed = False

    @property
    def size(self) -> int:
        """How many connections the pool holds now (idle and lent out)."""
        return len(self._all)

    @property
    def in_use(self) -> int:
        """How many connections are lent out now."""
        return len(self._out)

    async def _take_slot(self, timeout: float) -> None:
        if timeout <= 0:
            if self._sem.locked():
                raise PoolTimeout(f"{self.name}: all {self.max_size} connections are in use (no wait)")
            await self._sem.acquire()
            return
        try:
            await asyncio.wait_for(self._sem.acquire(), timeout)
        except asyncio.TimeoutError:
            raise PoolTimeout(
                f"{self.name}: no connection free after {timeout:g}s; all {self.max_size} are in use. "
                "Return connections sooner or raise max_size."
            ) from None

    async def acquire(self, timeout: float | None = None) -> Any:
        """Take a connection, waiting at most `timeout` seconds (default: the pool's acquire timeout)."""
        if self.closed:
            raise PoolClosed(f"{self.name} is closed")
        await self._take_slot(self.acquire_timeout if timeout is None else timeout)
        if self.closed:  # closed while this task waited for a slot
            self._sem.release()
            raise PoolClosed(f"{self.name} is closed")
        try:
            conn = self._idle.pop() if self._idle else await self._new()
        except BaseException:
            self._sem.release()
            raise
        self._out.add(id(conn))
        return conn

    async def _new(self) -> Any:
        conn = await self._factory()
        self._all.append(conn)
        return conn

    async def release(self, conn: Any) -> None:
        """Give a connection back: an open transaction is rolled back; a closed one is dropped."""
        if id(conn) not in self._out:
            raise HarnessError(f"{self.name}: connection was not lent out by this pool")
        self._out.discard(id(conn))
        try:
            if self.closed or conn.closed:
                await self._discard(conn)
            else:
                await conn.rollback_quietly()
                self._idle.append(conn)
        finally:
            self._sem.release()

    async def _discard(self, conn: Any) -> None:
        with contextlib.suppress(ValueError):
            self._all.remove(conn)
        await conn.close()

    @contextlib.asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[Any]:
        """`async with pool.connection() as conn:` acquire and always release."""
        conn = await self.acquire(timeout)
        try:
            yield conn
        finally:
            await self.release(conn)

    async def close(self) -> None:
        """Close idle connections now; lent-out ones are closed when they come back."""
        self.closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await self._discard(conn)

    async def __aenter__(self) -> Pool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
