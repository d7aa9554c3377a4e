"""Value types and their sqlite3 adapters and converters, registered at import time."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Money:
    """An amount in a currency, stored as text such as '12.50 EUR'."""

    amount: Decimal
    currency: str = "EUR"

    def to_sql(self) -> str:
        """The stored text form."""
        return f"{self.amount:.2f} {self.currency}"

    @classmethod
    def parse(cls, text: str) -> Money:
        """Read the stored text form back."""
        amount, currency = text.split(" ")
        return cls(Decimal(amount), currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, qty: int) -> Money:
        """This amount multiplied by a quantity."""
        return Money(self.amount * qty, self.currency)


def _adapt_datetime(value: datetime) -> str:
    return value.isoformat(" ")


def _convert_timestamp(raw: bytes) -> datetime:
    return datetime.fromisoformat(raw.decode())


def _convert_json(raw: bytes) -> Any:
    return json.loads(raw)


# Adapters: Python value -> SQLite value.
sqlite3.register_adapter(Decimal, str)
sqlite3.register_adapter(Money, Money.to_sql)
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, _adapt_datetime)
sqlite3.register_adapter(dict, json.dumps)
sqlite3.register_adapter(list, json.dumps)

# Converters: declared column type (or [type] in a column name) -> Python value.
sqlite3.register_converter("DECIMAL", lambda raw: Decimal(raw.decode()))
sqlite3.register_converter("MONEY", lambda raw: Money.parse(raw.decode()))
sqlite3.register_converter("DATE", lambda raw: date.fromisoformat(raw.decode()))
sqlite3.register_converter("TIMESTAMP", _convert_timestamp)
sqlite3.register_converter("JSON", _convert_json)
