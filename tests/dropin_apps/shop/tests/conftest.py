"""Fixtures of the shop app's tests: a fresh store file per test."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from shopapp import connect, init_schema
from shopapp.inventory import add_product

CATALOGUE = [
    ("MUG-10", "Mug, large", Decimal("12.50"), 30, {"color": "blue", "tags": ["kitchen", "gift"]}),
    ("MUG-2", "Mug, small", Decimal("8.00"), 5, {"color": "red", "tags": ["kitchen"]}),
    ("PEN-1", "Pen", Decimal("1.99"), 100, {"color": "blue", "tags": ["office"]}),
    ("LAMP-7", "Desk lamp", Decimal("34.90"), 0, {"color": "white", "tags": ["office", "gift"]}),
]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A store file with the schema, no rows."""
    path = tmp_path / "shop.db"
    conn = connect(path)
    init_schema(conn)
    conn.close()
    return path


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    """An open connection to an empty store."""
    conn = connect(db_path)
    yield conn
    conn.close()


@pytest.fixture
def stocked(conn: sqlite3.Connection) -> sqlite3.Connection:
    """The store with the four-product catalogue."""
    for sku, name, price, stock, attrs in CATALOGUE:
        add_product(conn, sku, name, price, stock=stock, attrs=attrs)
    return conn
