# ruff: noqa: PT009, PT027  (unittest style on purpose: this is the app's unittest suite)
"""unittest.TestCase classes over the same app functions as the pytest suite."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import unittest
from datetime import date
from decimal import Decimal
from pathlib import Path

from shopapp import DuplicateSku, Money, OutOfStock, StoreBusy, connect, init_schema
from shopapp.aio import add_products, product_prices, record_order
from shopapp.db import table_columns
from shopapp.inventory import add_product, adjust_stock, get_product, set_prices, skus_with_tag
from shopapp.maintenance import dump_sql, exclusive_writer, restore_sql
from shopapp.orders import median_order_qty, order_total, place_order
from shopapp.pricing import bulk_discount, natural_key, sku_is_valid


class StoreTestCase(unittest.TestCase):
    """A fresh store file with two products per test."""

    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="shop-"))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.path = self.dir / "shop.db"
        self.conn = connect(self.path)
        self.addCleanup(self.conn.close)
        init_schema(self.conn)
        add_product(self.conn, "PEN-1", "Pen", Decimal("1.99"), stock=100, attrs={"tags": ["office"]})
        add_product(self.conn, "MUG-2", "Mug", Decimal("8.00"), stock=5, attrs={"tags": ["kitchen"]})


class PricingTest(unittest.TestCase):
    """Pure logic, no database."""

    def test_sku_rule(self) -> None:
        self.assertTrue(sku_is_valid("PEN-1"))
        self.assertFalse(sku_is_valid("pen-1"))

    def test_natural_key(self) -> None:
        self.assertEqual(sorted(["X-10", "X-9"], key=natural_key), ["X-9", "X-10"])

    def test_bulk_discount(self) -> None:
        self.assertEqual(bulk_discount(Decimal("200.00"), 50), Decimal("20.00"))


class InventoryTest(StoreTestCase):
    """Products and stock through the sync API."""

    def test_price_is_decimal(self) -> None:
        self.assertEqual(get_product(self.conn, "PEN-1").price, Decimal("1.99"))

    def test_duplicate_sku(self) -> None:
        with self.assertRaises(DuplicateSku):
            add_product(self.conn, "PEN-1", "Pen", Decimal("1.00"))

    def test_adjust_stock_returning(self) -> None:
        self.assertEqual(adjust_stock(self.conn, "MUG-2", 2, "delivery"), 7)

    def test_set_prices_rowcount(self) -> None:
        self.assertEqual(set_prices(self.conn, {"PEN-1": Decimal("2.00"), "MUG-2": Decimal("9.00")}), 2)

    def test_json_each(self) -> None:
        self.assertEqual(skus_with_tag(self.conn, "kitchen"), ["MUG-2"])

    def test_declared_types(self) -> None:
        self.assertEqual(table_columns(self.conn, "products")["price"], "DECIMAL")


class OrdersTest(StoreTestCase):
    """Orders through the sync API."""

    def test_total_is_money(self) -> None:
        order = place_order(self.conn, "ada", {"PEN-1": 2, "MUG-2": 1}, on=date(2024, 1, 5))
        self.assertEqual(order_total(self.conn, order["id"]), Money(Decimal("11.98")))
        self.assertEqual(order["placed_on"], date(2024, 1, 5))

    def test_out_of_stock_rolls_back(self) -> None:
        with self.assertRaises(OutOfStock):
            place_order(self.conn, "ada", {"MUG-2": 99})
        self.assertEqual(self.conn.execute("SELECT count(*) FROM orders").fetchone()[0], 0)

    def test_median_aggregate(self) -> None:
        place_order(self.conn, "ada", {"PEN-1": 3, "MUG-2": 1})
        self.assertEqual(median_order_qty(self.conn), 2)


class MaintenanceTest(StoreTestCase):
    """Dump/restore and the write lock."""

    def test_dump_restore(self) -> None:
        restored = restore_sql(self.dir / "copy.db", dump_sql(self.conn))
        self.addCleanup(restored.close)
        self.assertEqual(get_product(restored, "MUG-2"), get_product(self.conn, "MUG-2"))

    def test_second_writer_busy(self) -> None:
        with exclusive_writer(self.path), self.assertRaises(StoreBusy), exclusive_writer(self.path):
            pass

    def test_plain_sqlite3_lock_error(self) -> None:
        first = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        second = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        self.addCleanup(first.close)
        self.addCleanup(second.close)
        first.execute("BEGIN IMMEDIATE")
        with self.assertRaisesRegex(sqlite3.OperationalError, "database is locked"):
            second.execute("BEGIN IMMEDIATE")
        first.execute("ROLLBACK")


class AsyncStoreTest(unittest.IsolatedAsyncioTestCase):
    """The aiosqlite side."""

    async def asyncSetUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="shop-"))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.path = self.dir / "shop.db"
        conn = connect(self.path)
        init_schema(conn)
        conn.close()

    async def test_add_and_read_prices(self) -> None:
        await add_products(self.path, [("BAG-1", "Bag", Decimal("15.00"))])
        self.assertEqual(await product_prices(self.path), {"BAG-1": Decimal("15.00")})

    async def test_record_order(self) -> None:
        order = await record_order(self.path, "ada", date(2024, 8, 1))
        self.assertEqual((order["id"], order["placed_on"]), (1, date(2024, 8, 1)))
