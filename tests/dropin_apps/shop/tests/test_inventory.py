"""Products and stock."""

import sqlite3
import uuid
from decimal import Decimal

import pytest
from shopapp import DuplicateSku
from shopapp.inventory import (
    add_product,
    adjust_stock,
    deactivate_empty,
    find_by_attr,
    get_product,
    invalid_skus,
    set_prices,
    skus_with_tag,
    upsert_stock,
)


def test_add_product_returns_its_rowid(conn):
    first = add_product(conn, "CUP-1", "Cup", Decimal("3.00"))
    second = add_product(conn, "CUP-2", "Cup", Decimal("3.00"))
    assert (first, second) == (1, 2)
    assert get_product(conn, "CUP-2").id == second


def test_public_id_is_a_uuid4(stocked):
    public_id = get_product(stocked, "PEN-1").public_id
    assert uuid.UUID(public_id).version == 4


def test_duplicate_sku_raises_and_keeps_the_first(stocked):
    with pytest.raises(DuplicateSku):
        add_product(stocked, "PEN-1", "Another pen", Decimal("2.50"))
    assert get_product(stocked, "PEN-1").name == "Pen"
    assert not stocked.in_transaction


def test_bad_sku_is_refused_before_the_database(conn):
    changes = conn.total_changes
    with pytest.raises(ValueError, match="bad SKU"):
        add_product(conn, "pen", "Pen", Decimal(1))
    assert conn.total_changes == changes


def test_missing_product_is_none(stocked):
    assert get_product(stocked, "NOPE-1") is None


def test_upsert_adds_new_and_restocks_known(stocked):
    delivery = [("PEN-1", "Pen", Decimal("2.10"), 50), ("INK-3", "Ink", Decimal("4.00"), 7)]
    changed = upsert_stock(stocked, delivery)
    assert changed == 2
    pen, ink = get_product(stocked, "PEN-1"), get_product(stocked, "INK-3")
    assert (pen.stock, pen.price) == (150, Decimal("2.10"))
    assert (ink.stock, ink.price) == (7, Decimal("4.00"))


def test_set_prices_counts_updated_rows(stocked):
    updated = set_prices(stocked, {"PEN-1": Decimal("2.00"), "MUG-2": Decimal("9.00"), "NOPE-9": Decimal(1)})
    assert updated == 2
    assert get_product(stocked, "MUG-2").price == Decimal("9.00")


def test_adjust_stock_returns_the_new_level_and_logs_it(stocked):
    assert adjust_stock(stocked, "MUG-2", 10, "delivery") == 15
    assert adjust_stock(stocked, "MUG-2", -3, "breakage") == 12
    moves = stocked.execute("SELECT delta, reason FROM stock_moves ORDER BY id").fetchall()
    assert [tuple(m) for m in moves] == [(10, "delivery"), (-3, "breakage")]


def test_adjust_stock_of_unknown_sku(stocked):
    with pytest.raises(KeyError):
        adjust_stock(stocked, "NOPE-1", 1, "x")
    assert stocked.execute("SELECT count(*) FROM stock_moves").fetchone()[0] == 0


def test_stock_cannot_go_negative(stocked):
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        adjust_stock(stocked, "MUG-2", -6, "oops")
    assert get_product(stocked, "MUG-2").stock == 5


def test_find_by_json_attribute_in_natural_order(stocked):
    assert find_by_attr(stocked, "color", "blue") == ["MUG-10", "PEN-1"]
    assert find_by_attr(stocked, "color", "red") == ["MUG-2"]


def test_skus_with_tag_uses_json_each(stocked):
    assert skus_with_tag(stocked, "kitchen") == ["MUG-2", "MUG-10"]
    assert skus_with_tag(stocked, "gift") == ["LAMP-7", "MUG-10"]


def test_deactivate_empty_sets_a_json_flag(stocked):
    assert deactivate_empty(stocked) == 1
    assert get_product(stocked, "LAMP-7").attrs["active"] is False
    assert "active" not in get_product(stocked, "PEN-1").attrs


def test_invalid_skus_found_by_sql_function(stocked):
    upsert_stock(stocked, [("legacy1", "Old thing", Decimal("1.00"), 1)])
    assert invalid_skus(stocked) == ["legacy1"]


def test_in_transaction_follows_dml(stocked):
    assert not stocked.in_transaction
    stocked.execute("UPDATE products SET stock = 0 WHERE sku = 'PEN-1'")
    assert stocked.in_transaction
    stocked.rollback()
    assert not stocked.in_transaction
    assert get_product(stocked, "PEN-1").stock == 100
