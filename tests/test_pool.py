"""Unit tests of harness/adapters/pool.py: limits, timeouts with clear messages, clean returns, closing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from stc_backends.sqlite import SQLiteBackend
from stc_harness.adapters.pool import Pool, PoolClosed, PoolTimeout
from stc_harness.errors import HarnessError

pytestmark = pytest.mark.asyncio


class FakeConnection:
    """Records what the pool does to it."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.in_tx = False
        self.rollbacks = 0

    async def rollback_quietly(self) -> None:
        if self.in_tx:
            self.rollbacks += 1
            self.in_tx = False

    async def close(self) -> None:
        self.closed = True


class Factory:
    """Makes numbered fake connections; can be told to fail."""

    def __init__(self) -> None:
        self.made: list[FakeConnection] = []
        self.fail_next = False

    async def __call__(self) -> FakeConnection:
        if self.fail_next:
            self.fail_next = False
            raise OSError("cannot connect")
        conn = FakeConnection(len(self.made))
        self.made.append(conn)
        return conn


def make(max_size: int = 2, acquire_timeout: float = 5.0) -> tuple[Pool, Factory]:
    factory = Factory()
    return Pool(factory, max_size=max_size, acquire_timeout=acquire_timeout, name="test pool"), factory


async def test_max_size_must_be_positive():
    with pytest.raises(ValueError, match="max_size must be at least 1"):
        Pool(Factory(), max_size=0)


async def test_connections_are_made_lazily_and_reused():
    pool, factory = make()
    first = await pool.acquire()
    assert (pool.size, pool.in_use) == (1, 1)
    await pool.release(first)
    again = await pool.acquire()
    assert again is first
    assert len(factory.made) == 1
    await pool.release(again)
    await pool.close()


async def test_exhaustion_with_zero_timeout_fails_at_once_with_a_clear_message():
    pool, _ = make(max_size=2, acquire_timeout=0)
    held = [await pool.acquire(), await pool.acquire()]
    with pytest.raises(PoolTimeout) as info:
        await asyncio.wait_for(pool.acquire(), 1)
    message = str(info.value)
    assert "test pool" in message
    assert "all 2 connections are in use" in message
    assert pool.in_use == 2
    for conn in held:
        await pool.release(conn)
    await pool.close()


async def test_exhaustion_with_a_timeout_names_the_wait_and_the_fix():
    pool, _ = make(max_size=1)
    held = await pool.acquire()
    with pytest.raises(PoolTimeout) as info:
        await pool.acquire(timeout=0.01)
    message = str(info.value)
    assert "no connection free after 0.01s" in message
    assert "all 1 are in use" in message
    assert "raise max_size" in message
    await pool.release(held)
    assert (await pool.acquire(timeout=0)) is held
    await pool.close()


async def test_a_timed_out_acquire_does_not_leak_a_slot():
    pool, _ = make(max_size=1)
    held = await pool.acquire()
    for _ in range(3):
        with pytest.raises(PoolTimeout):
            await pool.acquire(timeout=0.001)
    await pool.release(held)
    again = await pool.acquire(timeout=0)
    await pool.release(again)
    await pool.close()


async def test_a_waiter_gets_the_released_connection():
    pool, _ = make(max_size=1)
    held = await pool.acquire()
    waiter = asyncio.create_task(pool.acquire(timeout=5))
    await asyncio.sleep(0)
    assert not waiter.done()
    await pool.release(held)
    got = await asyncio.wait_for(waiter, 1)
    assert got is held
    await pool.release(got)
    await pool.close()


async def test_release_rolls_back_an_open_transaction():
    pool, _ = make()
    conn = await pool.acquire()
    conn.in_tx = True
    await pool.release(conn)
    assert (conn.rollbacks, conn.in_tx, conn.closed) == (1, False, False)
    await pool.close()


async def test_release_of_a_foreign_connection_is_refused():
    pool, _ = make()
    with pytest.raises(HarnessError, match="not lent out by this pool"):
        await pool.release(FakeConnection(99))
    conn = await pool.acquire()
    await pool.release(conn)
    with pytest.raises(HarnessError, match="not lent out"):
        await pool.release(conn)
    await pool.close()


async def test_a_closed_connection_is_dropped_on_release():
    pool, factory = make(max_size=1)
    conn = await pool.acquire()
    conn.closed = True
    await pool.release(conn)
    assert pool.size == 0
    fresh = await pool.acquire(timeout=0)
    assert fresh is not conn
    assert len(factory.made) == 2
    await pool.release(fresh)
    await pool.close()


async def test_a_failing_factory_gives_its_slot_back():
    pool, factory = make(max_size=1)
    factory.fail_next = True
    with pytest.raises(OSError, match="cannot connect"):
        await pool.acquire()
    assert (pool.size, pool.in_use) == (0, 0)
    conn = await pool.acquire(timeout=0)
    await pool.release(conn)
    await pool.close()


async def test_connection_context_manager_releases_on_exception():
    pool, _ = make(max_size=1)
    lent: list[FakeConnection] = []

    async def use() -> None:
        async with pool.connection() as conn:
            lent.append(conn)
            conn.in_tx = True
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await use()
    conn = lent[0]
    assert pool.in_use == 0
    assert conn.rollbacks == 1
    async with pool.connection(timeout=0) as again:
        assert again is conn
    await pool.close()


async def test_close_with_connections_out():
    pool, _ = make(max_size=3)
    out = await pool.acquire()
    idle = await pool.acquire()
    await pool.release(idle)
    await pool.close()
    assert idle.closed, "idle connections are closed at once"
    assert not out.closed, "a lent-out connection stays usable until it comes back"
    with pytest.raises(PoolClosed, match="test pool is closed"):
        await pool.acquire()
    await pool.release(out)
    assert out.closed, "a connection returned to a closed pool is closed"
    assert (pool.size, pool.in_use) == (0, 0)
    await pool.close()  # closing twice is harmless


async def test_a_waiter_blocked_when_the_pool_closes_does_not_get_a_connection():
    pool, factory = make(max_size=1)
    held = await pool.acquire()
    waiter = asyncio.create_task(pool.acquire(timeout=5))
    await asyncio.sleep(0)
    await pool.close()
    await pool.release(held)
    with pytest.raises(PoolClosed):
        await asyncio.wait_for(waiter, 1)
    assert len(factory.made) == 1, "no new connection may be opened for a closed pool"
    assert pool.in_use == 0


async def test_async_with_closes_the_pool():
    async with Pool(Factory(), max_size=1) as pool:
        conn = await pool.acquire()
        await pool.release(conn)
    assert pool.closed
    assert conn.closed


async def test_release_rolls_back_a_real_sqlite_transaction(tmp_path: Path):
    backend = SQLiteBackend()
    pool = backend.pool(f"sqlite:{tmp_path / 'p.db'}", max_size=1)
    conn = await pool.acquire()
    await conn.execute("CREATE TABLE t (x)")
    await conn.execute("BEGIN")
    await conn.execute("INSERT INTO t VALUES (1)")
    await pool.release(conn)
    again = await pool.acquire(timeout=0)
    assert again is conn
    assert not await again.is_in_transaction()
    assert await again.fetch_all("SELECT x FROM t") == []
    await pool.release(again)
    await pool.close()
    assert conn.closed
