"""Dump and restore, online backup, and two writers on one file."""

import sqlite3
from datetime import date

import pytest
from shopapp import StoreBusy, connect
from shopapp.inventory import get_product
from shopapp.maintenance import backup_to, dump_sql, exclusive_writer, restore_sql
from shopapp.orders import place_order


def test_dump_holds_schema_and_rows(stocked):
    script = dump_sql(stocked)
    assert script.startswith("BEGIN TRANSACTION;")
    assert script.rstrip().endswith("COMMIT;")
    assert "CREATE TABLE products" in script
    assert script.count('INSERT INTO "products"') == 4


def test_restore_from_dump_gives_the_same_store(stocked, tmp_path):
    place_order(stocked, "ada", {"PEN-1": 2}, on=date(2024, 6, 1))
    restored = restore_sql(tmp_path / "copy.db", dump_sql(stocked))
    try:
        assert get_product(restored, "MUG-10") == get_product(stocked, "MUG-10")
        row = restored.execute("SELECT customer, placed_on, total FROM orders").fetchone()
        original = stocked.execute("SELECT customer, placed_on, total FROM orders").fetchone()
        assert tuple(row) == tuple(original)
    finally:
        restored.close()


def test_backup_copies_every_page(stocked, tmp_path):
    pages = backup_to(stocked, tmp_path / "backup.db")
    assert pages == stocked.execute("PRAGMA page_count").fetchone()[0]
    copy = connect(tmp_path / "backup.db")
    try:
        assert get_product(copy, "LAMP-7") == get_product(stocked, "LAMP-7")
    finally:
        copy.close()


def test_second_writer_is_told_the_store_is_busy(stocked, db_path):
    with exclusive_writer(db_path) as first:
        first.execute("UPDATE products SET stock = 1 WHERE sku = 'PEN-1'")
        with pytest.raises(StoreBusy, match="locked"), exclusive_writer(db_path):
            pass
    assert get_product(stocked, "PEN-1").stock == 1


def test_writer_lock_is_free_after_release(stocked, db_path):
    with exclusive_writer(db_path):
        pass
    with exclusive_writer(db_path) as second:
        second.execute("UPDATE products SET stock = 2 WHERE sku = 'PEN-1'")
    assert get_product(stocked, "PEN-1").stock == 2


def test_readers_are_not_blocked_by_a_writer(stocked, db_path):
    with exclusive_writer(db_path) as writer:
        writer.execute("UPDATE products SET stock = 3 WHERE sku = 'PEN-1'")
        assert get_product(stocked, "PEN-1").stock == 100


def test_writer_rolls_back_on_error(stocked, db_path):
    def abort_midway() -> None:
        with exclusive_writer(db_path) as writer:
            writer.execute("UPDATE products SET stock = 4 WHERE sku = 'PEN-1'")
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        abort_midway()
    assert get_product(stocked, "PEN-1").stock == 100


def test_plain_writer_without_timeout_gets_database_is_locked(db_path):
    first = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    second = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    try:
        first.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            second.execute("BEGIN IMMEDIATE")
        first.execute("COMMIT")
        second.execute("BEGIN IMMEDIATE")
        second.execute("COMMIT")
    finally:
        first.close()
        second.close()
