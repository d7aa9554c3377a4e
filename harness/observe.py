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


#: Scalars an observation may hold as they are (canonical() maps each to a stable form).
PLAIN = (type(None), bool, int, float, str, bytes, bytearray, memoryview, enum.Enum, dt.datetime, dt.date,
         dt.time, decimal.Decimal, uuid.UUID)


def unplain(value: Any, path: str = "") -> str | None:
    """Where `value` holds something that is not plain data (`path: type`), or None when all of it is.

    Anything else would be compared by its repr, which names memory addresses and differs on every run.
    """
    if isinstance(value, PLAIN):
        return None
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                return f"{path or '(top)'}: key of type {type(k).__name__}"
            found = unplain(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for i, v in enumerate(value):
            found = unplain(v, f"{path}[{i}]")
            if found:
                return found
        return None
    return f"{path or '(top)'}: {type(value).__module__}.{type(value).__qualname__}"


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
