"""Pure logic: SKUs, sort keys, prices, money (no database)."""

from decimal import Decimal

import pytest
from shopapp import Money
from shopapp.pricing import bulk_discount, line_total, natural_key, sku_is_valid, with_vat


@pytest.mark.parametrize("sku", ["MUG-1", "LAMP-7", "ABCDE-123456"])
def test_sku_is_valid_accepts(sku):
    assert sku_is_valid(sku)


@pytest.mark.parametrize("sku", ["", None, "mug-1", "M-1", "MUG1", "MUG-1234567"])
def test_sku_is_valid_rejects(sku):
    assert not sku_is_valid(sku)


def test_natural_key_orders_digit_runs_by_value():
    assert sorted(["A-10", "a-2", "A-1", "B-0"], key=natural_key) == ["A-1", "a-2", "A-10", "B-0"]


def test_line_total_rounds_half_up():
    assert line_total(Decimal("0.125"), 1) == Decimal("0.13")
    assert line_total(Decimal("1.99"), 3) == Decimal("5.97")


def test_line_total_rejects_zero_qty():
    with pytest.raises(ValueError, match="positive"):
        line_total(Decimal("1.00"), 0)


def test_bulk_discount_tiers():
    assert bulk_discount(Decimal("100.00"), 9) == Decimal("0.00")
    assert bulk_discount(Decimal("100.00"), 10) == Decimal("5.00")
    assert bulk_discount(Decimal("99.99"), 50) == Decimal("10.00")


def test_with_vat():
    assert with_vat(Decimal("10.00")) == Decimal("12.00")
    assert with_vat(Decimal("0.99"), 7) == Decimal("1.06")


def test_money_text_roundtrip():
    money = Money(Decimal("12.5"), "USD")
    assert money.to_sql() == "12.50 USD"
    assert Money.parse(money.to_sql()) == money


def test_money_refuses_to_add_other_currency():
    with pytest.raises(ValueError, match="USD"):
        Money(Decimal(1), "EUR") + Money(Decimal(1), "USD")
