"""Products and stock: add, find, restock, adjust."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopapp.errors import DuplicateSku, OutOfStock
from shopapp.pricing import sku_is_valid


@dataclass
class Product:
    """One product row."""

    id: int
    sku: str
    name: str
    price: Decimal
    stock: int
    attrs: dict[str, Any]
    public_id: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Product:
        """Build a Product from a `sqlite3.Row` of the products table."""
        return cls(**{key: row[key] for key in row.keys()})  # noqa: SIM118  (Row has no __iter__ of keys)


def add_product(conn: sqlite3.Connection, sku: str, name: str, price: Decimal, *, stock: int = 0,
                attrs: dict[str, Any] | None = None) -> int:
    """Insert a product; return its id. A taken SKU raises DuplicateSku."""
    if not sku_is_valid(sku):
        raise ValueError(f"bad SKU {sku!r}")
    try:
        with conn:
            cur = conn.execute(
                "INSERT OR FAIL INTO products (sku, name, price, stock, attrs, public_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (sku, name, price, stock, attrs or {}, str(uuid.uuid4())))
    except sqlite3.IntegrityError as exc:
        raise DuplicateSku(sku) from exc
    return cur.lastrowid


def get_product(conn: sqlite3.Connection, sku: str) -> Product | None:
    """The product with this SKU, or None."""
    row = conn.execute("SELECT * FROM products WHERE sku = ?", (sku,)).fetchone()
    return Product.from_row(row) if row else None


def upsert_stock(conn: sqlite3.Connection, items: Iterable[tuple[str, str, Decimal, int]]) -> int:
    """Receive a delivery of (sku, name, price, qty): new SKUs are added, known ones restocked.

    Returns the number of rows the statement changed (total_changes before and after).
    """
    before = conn.total_changes
    with conn:
        conn.executemany(
            "INSERT INTO products (sku, name, price, stock, public_id) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(sku) DO UPDATE SET stock = stock + excluded.stock, price = excluded.price",
            [(sku, name, price, qty, str(uuid.uuid4())) for sku, name, price, qty in items])
    return conn.total_changes - before


def set_prices(conn: sqlite3.Connection, prices: dict[str, Decimal]) -> int:
    """Change several prices at once; return how many products were updated (cursor.rowcount)."""
    with conn:
        cur = conn.executemany("UPDATE products SET price = ? WHERE sku = ?",
                               [(price, sku) for sku, price in prices.items()])
    return cur.rowcount


def adjust_stock(conn: sqlite3.Connection, sku: str, delta: int, reason: str) -> int:
    """Add `delta` (negative to remove) to a product's stock and log the move; return the new stock."""
    with conn:
        row = conn.execute("UPDATE products SET stock = stock + ? WHERE sku = ? RETURNING id, stock",
                           (delta, sku)).fetchone()
        if row is None:
            raise KeyError(sku)
        conn.execute("INSERT INTO stock_moves (product_id, delta, reason) VALUES (?, ?, ?)",
                     (row["id"], delta, reason))
    return row["stock"]


def take_stock(conn: sqlite3.Connection, sku: str, qty: int) -> None:
    """Remove `qty` units inside the caller's transaction; OutOfStock if too few (CHECK constraint)."""
    try:
        cur = conn.execute("UPDATE products SET stock = stock - ? WHERE sku = ?", (qty, sku))
    except sqlite3.IntegrityError as exc:
        raise OutOfStock(sku) from exc
    if cur.rowcount != 1:
        raise KeyError(sku)


def deactivate_empty(conn: sqlite3.Connection) -> int:
    """Tag every product out of stock as inactive in its JSON attributes; return how many."""
    with conn:
        cur = conn.execute("UPDATE products SET attrs = json_set(attrs, '$.active', json('false')) "
                           "WHERE stock = 0")
    return cur.rowcount


def find_by_attr(conn: sqlite3.Connection, key: str, value: str) -> list[str]:
    """SKUs whose JSON attribute `key` equals `value`, in natural SKU order."""
    rows = conn.execute("SELECT sku FROM products WHERE json_extract(attrs, '$.' || ?) = ? "
                        "ORDER BY sku COLLATE NATSORT", (key, value))
    return [r["sku"] for r in rows]


def skus_with_tag(conn: sqlite3.Connection, tag: str) -> list[str]:
    """SKUs whose JSON `tags` list holds `tag`, in natural SKU order."""
    rows = conn.execute("SELECT p.sku FROM products p, json_each(p.attrs, '$.tags') t WHERE t.value = ? "
                        "ORDER BY p.sku COLLATE NATSORT", (tag,))
    return [r["sku"] for r in rows]


def invalid_skus(conn: sqlite3.Connection) -> list[str]:
    """SKUs stored that the app's rule rejects (the `sku_ok` SQL function)."""
    return [r[0] for r in conn.execute("SELECT sku FROM products WHERE NOT sku_ok(sku) ORDER BY sku")]
