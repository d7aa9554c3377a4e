"""`python -m stc_harness bench`: the harness's overhead against the raw async and sync drivers."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

from stc_harness.adapters.backend_registry import BUILTIN, load_target

INSERT = "INSERT INTO kv (id, v) VALUES (?, ?)"
SELECT = "SELECT v FROM kv WHERE id = ?"
CREATE = "CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)"


def _best(runs: list[float]) -> float:
    return min(runs)


async def raw_async_sqlite(n: int) -> float:
    """aiosqlite directly: one execute per insert, `execute_fetchall` per select (one hop each)."""
    import aiosqlite

    db = await aiosqlite.connect(":memory:", isolation_level=None)
    await db.execute(CREATE)
    start = time.perf_counter()
    await db.execute("BEGIN")
    for i in range(n):
        await db.execute(INSERT, (i, f"v{i}"))
    await db.execute("COMMIT")
    for i in range(n):
        await db.execute_fetchall(SELECT, (i,))
    elapsed = time.perf_counter() - start
    await db.close()
    return elapsed


async def raw_async_turso(n: int) -> float:
    """pyturso's own async module: execute per insert, execute + fetchone per select."""
    import turso.aio

    db = await turso.aio.connect(":memory:", isolation_level=None)
    await db.execute(CREATE)
    start = time.perf_counter()
    await db.execute("BEGIN")
    for i in range(n):
        await db.execute(INSERT, (i, f"v{i}"))
    await db.execute("COMMIT")
    for i in range(n):
        cur = await db.execute(SELECT, (i,))
        await cur.fetchone()
    elapsed = time.perf_counter() - start
    await db.close()
    return elapsed


def raw_sync(name: str, n: int) -> float:
    """The blocking driver in the calling thread (sqlite3 or turso), the floor for the batch path."""
    if name == "sqlite":
        db: Any = sqlite3.connect(":memory:", isolation_level=None)
    else:
        import turso

        db = turso.connect(":memory:", isolation_level=None)
    db.execute(CREATE)
    start = time.perf_counter()
    db.execute("BEGIN")
    for i in range(n):
        db.execute(INSERT, (i, f"v{i}"))
    db.execute("COMMIT")
    for i in range(n):
        db.execute(SELECT, (i,)).fetchall()
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


async def _harness_conn(name: str) -> Any:
    backend = load_target(BUILTIN[name])
    conn = await backend.connect(f"{name}::memory:")
    await conn.execute(CREATE)
    return conn


async def harness_per_statement(name: str, n: int) -> float:
    """The harness connection, one `execute` per statement."""
    conn = await _harness_conn(name)
    start = time.perf_counter()
    await conn.execute("BEGIN")
    for i in range(n):
        await conn.execute(INSERT, (i, f"v{i}"))
    await conn.execute("COMMIT")
    for i in range(n):
        await conn.execute(SELECT, (i,))
    elapsed = time.perf_counter() - start
    await conn.close()
    return elapsed


async def harness_batch(name: str, n: int) -> float:
    """The harness connection's batch path: the whole workload in two trips to the driver thread."""
    conn = await _harness_conn(name)
    inserts: list[Any] = ["BEGIN", *((INSERT, (i, f"v{i}")) for i in range(n)), "COMMIT"]
    selects: list[Any] = [(SELECT, (i,)) for i in range(n)]
    start = time.perf_counter()
    for result in (*await conn.batch(inserts), *await conn.batch(selects)):
        if isinstance(result, BaseException):
            raise result
    elapsed = time.perf_counter() - start
    await conn.close()
    return elapsed


async def _repeat(fn: Callable[[], Awaitable[float]], times: int) -> float:
    return _best([await fn() for _ in range(times)])


async def measure(n: int, repeat: int) -> list[dict[str, Any]]:
    """Time every variant on both backends; best of `repeat` runs each."""
    raw_async = {"sqlite": raw_async_sqlite, "turso": raw_async_turso}
    rows = []
    for name in ("sqlite", "turso"):
        t_raw = await _repeat(lambda name=name: raw_async[name](n), repeat)
        t_h = await _repeat(lambda name=name: harness_per_statement(name, n), repeat)
        t_sync = _best([raw_sync(name, n) for _ in range(repeat)])
        t_b = await _repeat(lambda name=name: harness_batch(name, n), repeat)
        rows.append({"backend": name, "statements": 2 * n, "raw_async_s": t_raw, "harness_s": t_h,
                     "per_statement_ratio": t_h / t_raw, "raw_sync_s": t_sync, "batch_s": t_b,
                     "batch_ratio": t_b / t_sync})
    return rows


def main(argv: list[str]) -> int:
    """Run the benchmark and print per-statement and batch ratios (targets: <= 1.10 and <= 1.5)."""
    parser = argparse.ArgumentParser(prog="python -m stc_harness bench", description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="rows inserted, then selected (default 5000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; the best counts")
    args = parser.parse_args(argv[1:])
    rows = asyncio.run(measure(args.n, args.repeat))
    print(f"{args.n} inserts in one transaction + {args.n} selects by primary key, in memory; "
          f"best of {args.repeat}")
    print(f"{'backend':<8} {'raw async':>10} {'harness':>10} {'ratio':>6}   "
          f"{'raw sync':>9} {'batch':>9} {'ratio':>6}")
    worst = 0.0
    for r in rows:
        n = r["statements"]
        print(f"{r['backend']:<8} {1e6 * r['raw_async_s'] / n:>8.1f}us {1e6 * r['harness_s'] / n:>8.1f}us "
              f"{r['per_statement_ratio']:>6.2f}   {1e6 * r['raw_sync_s'] / n:>7.1f}us "
              f"{1e6 * r['batch_s'] / n:>7.1f}us {r['batch_ratio']:>6.2f}")
        worst = max(worst, r["per_statement_ratio"] / 1.10, r["batch_ratio"] / 1.5)
    print("targets: per-statement ratio <= 1.10 against the raw async driver; "
          "batch ratio <= 1.5 against the raw sync driver: " + ("met" if worst <= 1 else "NOT met"))
    return 0
