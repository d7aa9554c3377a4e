"""Observations: what a check saw, in a canonical JSON/TOML-ready form that compares exactly."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import uuid
from collections.abc import Mapping
from typing import Any

#: How SQL NULL appears in an observation (TOML, where registry expectations live, has no null).
NULL = "NULL"

Observation = Any


def canonical(value: Any) -> Observation:
    """Map a Python value to a canonical, comparable form: bytes as `x'..'`, NULL as "NULL", floats exact."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "float:nan"
        if math.isinf(value):
            return "float:inf" if value > 0 else "float:-inf"
        if value == 0.0 and math.copysign(1.0, value) < 0:
            return "float:-0.0"
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "x'" + bytes(value).hex() + "'"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [canonical(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return f"{type(value).__name__}:{value!r}"


def sql_value(value: Any) -> Observation:
    """A SQL value with its storage class, so 1, 1.0, '1' and x'31' never compare equal."""
    if value is None:
        return ["null", NULL]
    if isinstance(value, bool):
        return ["integer", int(value)]
    if isinstance(value, int):
        return ["integer", value]
    if isinstance(value, float):
        return ["real", canonical(value)]
    if isinstance(value, str):
        return ["text", value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ["blob", canonical(value)]
    return ["python", canonical(value)]


def rows(rows: list[tuple[Any, ...]] | list[Any]) -> Observation:
    """Rows with every value typed by storage class."""
    return [[sql_value(v) for v in row] for row in rows]
