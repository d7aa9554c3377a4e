"""The async side (aiosqlite), in pytest-asyncio's strict mode, and once through asyncio.run."""

import asyncio
import re
from datetime import date
from decimal import Decimal

import pytest
from shopapp.aio import add_products, dump_lines, product_prices, record_order, rejected_skus, sorted_skus
from shopapp.inventory import get_product

NEW = [("BAG-3", "Bag", Decimal("15.00")), ("BAG-12", "Big bag", Decimal("25.50")),
       ("bag", "Bad", Decimal(1))]


@pytest.mark.asyncio
async def test_async_prices_are_decimals(stocked, db_path):
    prices = await product_prices(db_path)
    assert prices == {"MUG-10": Decimal("12.50"), "MUG-2": Decimal("8.00"), "PEN-1": Decimal("1.99"),
                      "LAMP-7": Decimal("34.90")}
    assert all(isinstance(p, Decimal) for p in prices.values())


@pytest.mark.asyncio
async def test_async_executemany_counts_changes(db_path):
    assert await add_products(db_path, NEW) == 3


@pytest.mark.asyncio
async def test_async_order_has_rowid_ref_and_date(db_path):
    first = await record_order(db_path, "ada", date(2024, 7, 1))
    second = await record_order(db_path, "bob", date(2024, 7, 2))
    assert (first["id"], second["id"]) == (1, 2)
    assert re.fullmatch(r"[0-9a-f]{16}", second["ref"])
    assert second["placed_on"] == date(2024, 7, 2)
    assert second["pending_before_commit"] is True


@pytest.mark.asyncio
async def test_async_natural_order(db_path):
    await add_products(db_path, NEW)
    assert await sorted_skus(db_path) == ["bag", "BAG-3", "BAG-12"]


@pytest.mark.asyncio
async def test_async_sql_function(db_path):
    await add_products(db_path, NEW)
    assert await rejected_skus(db_path) == ["bag"]


@pytest.mark.asyncio
async def test_async_dump(stocked, db_path):
    lines = await dump_lines(db_path)
    assert lines[0] == "BEGIN TRANSACTION;"
    assert sum(line.startswith('INSERT INTO "products"') for line in lines) == 4


def test_sync_code_sees_async_writes(conn, db_path):
    asyncio.run(add_products(db_path, NEW[:2]))
    assert get_product(conn, "BAG-12").price == Decimal("25.50")
