"""Adapters and converters: values go in as Python objects and come back as the same types."""

import sqlite3
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from shopapp import Money
from shopapp.inventory import get_product
from shopapp.orders import latest_order_time, order_total, place_order


def test_adapters_are_registered_at_import():
    assert (Decimal, sqlite3.PrepareProtocol) in sqlite3.adapters
    assert "MONEY" in sqlite3.converters


def test_decimal_price_reads_back_as_decimal(stocked):
    product = get_product(stocked, "PEN-1")
    assert isinstance(product.price, Decimal)
    assert product.price == Decimal("1.99")


def test_money_column_reads_back_as_money(stocked):
    order = place_order(stocked, "ada", {"PEN-1": 3}, on=date(2024, 5, 1))
    total = order_total(stocked, order["id"])
    assert total == Money(Decimal("5.97"))


def test_date_goes_in_and_comes_back_as_date(stocked):
    place_order(stocked, "ada", {"PEN-1": 1}, on=date(2024, 2, 29))
    row = stocked.execute("SELECT placed_on, typeof(placed_on) AS t FROM orders").fetchone()
    assert row["placed_on"] == date(2024, 2, 29)
    assert row["t"] == "text"


def test_default_timestamp_is_a_recent_datetime(stocked):
    product = get_product(stocked, "MUG-2")
    assert isinstance(product.created_at, datetime)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    assert abs(now - product.created_at) < timedelta(hours=1)


def test_json_attrs_roundtrip(stocked):
    product = get_product(stocked, "MUG-10")
    assert product.attrs == {"color": "blue", "tags": ["kitchen", "gift"]}


def test_column_name_types_an_aggregate(stocked):
    place_order(stocked, "ada", {"PEN-1": 1})
    latest = latest_order_time(stocked)
    assert isinstance(latest, datetime)


def test_datetime_parameter_is_adapted(conn):
    when = datetime(2024, 1, 2, 3, 4, 5, 600000)
    stored = conn.execute("SELECT ? AS v", (when,)).fetchone()["v"]
    assert stored == "2024-01-02 03:04:05.600000"
