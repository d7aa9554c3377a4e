"""Pure pricing and SKU logic (no database)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

SKU_RE = re.compile(r"^[A-Z]{2,5}-\d{1,6}$")
CENT = Decimal("0.01")


def sku_is_valid(sku: str | None) -> bool:
    """A SKU is 2-5 capital letters, a dash and 1-6 digits."""
    return bool(sku) and SKU_RE.match(sku) is not None


def natural_key(text: str) -> tuple[tuple[int, object], ...]:
    """A sort key that orders the digit runs of `text` by value: 'A-2' < 'A-10'."""
    parts = re.split(r"(\d+)", text.casefold())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def line_total(unit_price: Decimal, qty: int) -> Decimal:
    """Price of `qty` units, rounded to the cent."""
    if qty <= 0:
        raise ValueError("qty must be positive")
    return (unit_price * qty).quantize(CENT, rounding=ROUND_HALF_UP)


def bulk_discount(subtotal: Decimal, units: int) -> Decimal:
    """5 % off from 10 units, 10 % off from 50 units, rounded to the cent."""
    rate = Decimal("0.10") if units >= 50 else Decimal("0.05") if units >= 10 else Decimal(0)
    return (subtotal * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def with_vat(net: Decimal, rate_percent: int = 20) -> Decimal:
    """Gross amount for a net amount at a VAT rate, rounded to the cent."""
    return (net * (100 + rate_percent) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
