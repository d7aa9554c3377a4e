"""Orders: place one (a transaction over several tables), pay, cancel, report."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from decimal import Decimal
from typing import Any

from shopapp.inventory import take_stock
from shopapp.types import Money


def place_order(conn: sqlite3.Connection, customer: str, lines: dict[str, int], *,
                on: date | None = None) -> dict[str, Any]:
    """Create an order with its lines, taking the stock, all or nothing.

    Returns the order's row (id, ref, placed_on, total, created_at) as a dict.
    """
    placed_on = on or date.today()
    with conn:
        order = conn.execute("INSERT INTO orders (customer, placed_on) VALUES (?, ?) "
                             "RETURNING id, ref, placed_on, created_at", (customer, placed_on)).fetchone()
        order_id = order["id"]
        total = Money(Decimal(0))
        for sku, qty in lines.items():
            take_stock(conn, sku, qty)
            price = conn.execute("SELECT id, price FROM products WHERE sku = ?", (sku,)).fetchone()
            conn.execute("INSERT INTO order_lines (order_id, product_id, qty, unit_price) "
                         "VALUES (?, ?, ?, ?)", (order_id, price["id"], qty, price["price"]))
            total = total + Money(price["price"]).times(qty)
        conn.execute("UPDATE orders SET total = ? WHERE id = ?", (total, order_id))
    return {**dict(order), "total": total}


def order_total(conn: sqlite3.Connection, order_id: int) -> Money | None:
    """The stored total of an order (the MONEY converter reads it back)."""
    row = conn.execute("SELECT total FROM orders WHERE id = ?", (order_id,)).fetchone()
    return row["total"] if row else None


def set_status(conn: sqlite3.Connection, order_id: int, status: str) -> bool:
    """Move an order to `status`; False if no such open order. The CHECK constraint guards the value."""
    with conn:
        cur = conn.execute("UPDATE orders SET status = ? WHERE id = ? AND status = 'open'",
                           (status, order_id))
    return cur.rowcount == 1


def orders_on(conn: sqlite3.Connection, day: date) -> list[sqlite3.Row]:
    """The orders placed on a day (DATE converter, date adapter)."""
    return conn.execute("SELECT id, customer, placed_on FROM orders WHERE placed_on = ? ORDER BY id",
                        (day,)).fetchall()


def latest_order_time(conn: sqlite3.Connection) -> Any:
    """When the latest order was created: an aggregate typed by its column name (PARSE_COLNAMES)."""
    return conn.execute('SELECT max(created_at) AS "latest [timestamp]" FROM orders').fetchone()["latest"]


def sales_by_product(conn: sqlite3.Connection) -> list[tuple[str, int, list[int]]]:
    """(sku, units sold, order ids as a JSON array) per product sold, in natural SKU order."""
    rows = conn.execute(
        "SELECT p.sku, sum(l.qty) AS units, json_group_array(l.order_id) AS orders "
        "FROM order_lines l JOIN products p ON p.id = l.product_id "
        "GROUP BY p.sku ORDER BY p.sku COLLATE NATSORT")
    return [(r["sku"], r["units"], sorted(json.loads(r["orders"]))) for r in rows]


def median_order_qty(conn: sqlite3.Connection) -> float | None:
    """The median quantity over all order lines (the `median` aggregate)."""
    return conn.execute("SELECT median(qty) FROM order_lines").fetchone()[0]
