"""The async side of the app (aiosqlite): what the web handlers call."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite

from shopapp.pricing import natural_key, sku_is_valid


@asynccontextmanager
async def open_store(path: str | Path) -> AsyncIterator[aiosqlite.Connection]:
    """The store opened with the app's settings (converters, Row, the SKU function)."""
    async with aiosqlite.connect(path, detect_types=sqlite3.PARSE_DECLTYPES) as db:
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA foreign_keys = ON")
        await db.create_function("sku_ok", 1, lambda sku: int(sku_is_valid(sku)), deterministic=True)
        yield db


async def product_prices(path: str | Path) -> dict[str, Decimal]:
    """Every product's price (DECIMAL converter), keyed by SKU."""
    async with open_store(path) as db, db.execute("SELECT sku, price FROM products") as cur:
        return {row["sku"]: row["price"] async for row in cur}


async def add_products(path: str | Path, items: Iterable[tuple[str, str, Decimal]]) -> int:
    """Add (sku, name, price) products in one transaction; return the store's total_changes after."""
    async with open_store(path) as db:
        await db.executemany("INSERT INTO products (sku, name, price, public_id) VALUES (?, ?, ?, ?)",
                             [(sku, name, price, str(uuid.uuid4())) for sku, name, price in items])
        await db.commit()
        return db.total_changes


async def record_order(path: str | Path, customer: str, on: date) -> dict[str, Any]:
    """Insert a bare order; return its id (lastrowid), ref and placed_on read back."""
    async with open_store(path) as db:
        cur = await db.execute("INSERT INTO orders (customer, placed_on) VALUES (?, ?)", (customer, on))
        order_id = cur.lastrowid
        pending = db.in_transaction
        await db.commit()
        async with db.execute("SELECT id, ref, placed_on FROM orders WHERE id = ?", (order_id,)) as cur2:
            row = await cur2.fetchone()
        return {**dict(row), "pending_before_commit": pending}


async def sorted_skus(path: str | Path) -> list[str]:
    """All SKUs in natural order (aiosqlite has no create_collation: sorted here)."""
    async with open_store(path) as db:
        rows = await db.execute_fetchall("SELECT sku FROM products")
        return sorted((r[0] for r in rows), key=natural_key)


async def rejected_skus(path: str | Path) -> list[str]:
    """SKUs the `sku_ok` SQL function rejects."""
    async with open_store(path) as db:
        rows = await db.execute_fetchall("SELECT sku FROM products WHERE NOT sku_ok(sku) ORDER BY sku")
        return [r[0] for r in rows]


async def dump_lines(path: str | Path) -> list[str]:
    """The store's dump, line by line (aiosqlite's async `iterdump`)."""
    async with open_store(path) as db:
        return [line async for line in db.iterdump()]
