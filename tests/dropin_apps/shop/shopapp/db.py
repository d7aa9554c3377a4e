"""Opening a store: the connection settings, the schema, and the SQL functions the app adds."""

from __future__ import annotations

import sqlite3
import statistics
from pathlib import Path

from shopapp.pricing import natural_key, sku_is_valid

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    price DECIMAL NOT NULL,
    stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    attrs JSON NOT NULL DEFAULT '{}',
    public_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(8)))),
    customer TEXT NOT NULL,
    placed_on DATE NOT NULL,
    total MONEY,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'cancelled')),
    created_at TIMESTAMP NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    qty INTEGER NOT NULL CHECK (qty > 0),
    unit_price DECIMAL NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
CREATE TABLE IF NOT EXISTS stock_moves (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products(id),
    delta INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at TIMESTAMP NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS stock_moves_product ON stock_moves(product_id);
"""


class Median:
    """The `median(x)` SQL aggregate."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        """Take one row's value (NULLs are skipped)."""
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        """The median of the values seen, or NULL for none."""
        return statistics.median(self.values) if self.values else None


def natural_collation(left: str, right: str) -> int:
    """The NATSORT collation: 'SKU-2' sorts before 'SKU-10'."""
    a, b = natural_key(left), natural_key(right)
    return (a > b) - (a < b)


def install_functions(conn: sqlite3.Connection) -> None:
    """Add the app's SQL functions, aggregate and collation to a connection."""
    conn.create_function("sku_ok", 1, lambda sku: int(sku_is_valid(sku)), deterministic=True)
    conn.create_aggregate("median", 1, Median)
    conn.create_collation("NATSORT", natural_collation)


def connect(path: str | Path, *, timeout: float = 5.0) -> sqlite3.Connection:
    """Open the store at `path` with the app's settings (converters, Row, functions, foreign keys)."""
    conn = sqlite3.connect(path, timeout=timeout,
                           detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    install_functions(conn)
    return conn


def init_schema(conn: sqlite3.Connection) -> None:
    """Create the tables (idempotent)."""
    conn.executescript(SCHEMA)


def table_columns(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    """Each column's declared type, as `PRAGMA table_info` reports it."""
    return {row["name"]: row["type"] for row in conn.execute(f"PRAGMA table_info({table})")}
