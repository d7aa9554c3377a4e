"""Orders: a transaction over several tables, RETURNING, JSON, an aggregate and a collation."""

import re
import sqlite3
from datetime import date
from decimal import Decimal

import pytest
from shopapp import Money, OutOfStock
from shopapp.inventory import get_product
from shopapp.orders import (
    median_order_qty,
    order_total,
    orders_on,
    place_order,
    sales_by_product,
    set_status,
)


def test_place_order_returns_its_row(stocked):
    order = place_order(stocked, "ada", {"PEN-1": 2}, on=date(2024, 3, 1))
    assert order["id"] == 1
    assert re.fullmatch(r"[0-9a-f]{16}", order["ref"])
    assert order["placed_on"] == date(2024, 3, 1)
    assert order["total"] == Money(Decimal("3.98"))


def test_order_refs_are_random_and_unique(stocked):
    refs = {place_order(stocked, "bob", {"PEN-1": 1})["ref"] for _ in range(5)}
    assert len(refs) == 5


def test_place_order_takes_the_stock(stocked):
    place_order(stocked, "ada", {"PEN-1": 10, "MUG-10": 3})
    assert get_product(stocked, "PEN-1").stock == 90
    assert get_product(stocked, "MUG-10").stock == 27


def test_order_total_sums_lines(stocked):
    order = place_order(stocked, "ada", {"MUG-10": 2, "MUG-2": 1})
    assert order_total(stocked, order["id"]) == Money(Decimal("33.00"))


def test_out_of_stock_rolls_the_whole_order_back(stocked):
    with pytest.raises(OutOfStock):
        place_order(stocked, "ada", {"PEN-1": 1, "MUG-2": 6})
    assert stocked.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
    assert get_product(stocked, "PEN-1").stock == 100
    assert not stocked.in_transaction


def test_status_moves_once(stocked):
    order = place_order(stocked, "ada", {"PEN-1": 1})
    assert set_status(stocked, order["id"], "paid")
    assert not set_status(stocked, order["id"], "cancelled")


def test_unknown_status_is_refused_by_check(stocked):
    order = place_order(stocked, "ada", {"PEN-1": 1})
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        set_status(stocked, order["id"], "lost")


def test_orders_on_a_day(stocked):
    place_order(stocked, "ada", {"PEN-1": 1}, on=date(2024, 1, 1))
    place_order(stocked, "bob", {"PEN-1": 1}, on=date(2024, 1, 2))
    place_order(stocked, "cy", {"PEN-1": 1}, on=date(2024, 1, 2))
    rows = orders_on(stocked, date(2024, 1, 2))
    got = [(r["customer"], r["placed_on"]) for r in rows]
    assert got == [("bob", date(2024, 1, 2)), ("cy", date(2024, 1, 2))]


def test_sales_by_product(stocked):
    first = place_order(stocked, "ada", {"MUG-10": 1, "MUG-2": 2})["id"]
    second = place_order(stocked, "bob", {"MUG-10": 4})["id"]
    assert sales_by_product(stocked) == [("MUG-2", 2, [first]), ("MUG-10", 5, [first, second])]


def test_median_order_qty(stocked):
    assert median_order_qty(stocked) is None
    place_order(stocked, "ada", {"PEN-1": 1, "MUG-10": 4})
    place_order(stocked, "bob", {"PEN-1": 9})
    assert median_order_qty(stocked) == 4
