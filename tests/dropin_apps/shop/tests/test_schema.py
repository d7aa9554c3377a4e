"""The schema as the database reports it, and the shape of rows and cursors."""

import sqlite3

import pytest
from shopapp import init_schema
from shopapp.db import table_columns


def test_table_info_reports_declared_types(conn):
    assert table_columns(conn, "products") == {
        "id": "INTEGER", "sku": "TEXT", "name": "TEXT", "price": "DECIMAL", "stock": "INTEGER",
        "attrs": "JSON", "public_id": "TEXT", "created_at": "TIMESTAMP"}
    assert table_columns(conn, "orders")["total"] == "MONEY"


def test_cursor_description_names_the_columns(stocked):
    cur = stocked.execute("SELECT sku, price AS unit_price, stock * 2 FROM products LIMIT 1")
    assert [d[0] for d in cur.description] == ["sku", "unit_price", "stock * 2"]
    assert all(len(d) == 7 for d in cur.description)


def test_rows_are_mappings(stocked):
    row = stocked.execute("SELECT sku, name FROM products WHERE sku = 'PEN-1'").fetchone()
    assert isinstance(row, sqlite3.Row)
    assert row.keys() == ["sku", "name"]
    assert row["name"] == row[1] == "Pen"
    assert dict(row) == {"sku": "PEN-1", "name": "Pen"}


def test_schema_creation_is_idempotent(conn):
    init_schema(conn)
    names = {r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {"products", "orders", "order_lines", "stock_moves"}


def test_foreign_keys_are_enforced(conn):
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        conn.execute("INSERT INTO stock_moves (product_id, delta, reason) VALUES (999, 1, 'x')")
