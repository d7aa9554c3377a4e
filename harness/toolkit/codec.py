"""The documented type mapping: Python values to SQLite storage classes and back, the same for every backend.

`001_312a5f9792b0f890.txt`, "Type mapping and SQL behavior": UUIDs as BLOB, ISO 8601 temporal types,
decimals stored as TEXT, booleans as INTEGER, JSON documents as TEXT. The codec never hands a driver
anything but None, int (64-bit), float, str or bytes, so what a backend stores depends on the engine
alone; values the mapping cannot store faithfully (an int beyond 64 bits, a float NaN) are refused.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: What a driver is handed and gives back: the five SQLite storage classes.
SQLValue = None | int | float | str | bytes

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1


class CodecError(ValueError):
    """A value the documented mapping cannot store or read back faithfully; the message says why."""


class Kind(str, enum.Enum):
    """The logical types of the mapping."""

    NULL = "null"
    INTEGER = "integer"
    REAL = "real"
    TEXT = "text"
    BLOB = "blob"
    BOOL = "bool"
    UUID = "uuid"
    DATETIME = "datetime"
    DATE = "date"
    TIME = "time"
    DECIMAL = "decimal"
    JSON = "json"


#: The declared column type each kind is stored under (its affinity keeps the stored class intact).
DECLARED_TYPE: dict[Kind, str] = {
    Kind.NULL: "",
    Kind.INTEGER: "INTEGER",
    Kind.REAL: "REAL",
    Kind.TEXT: "TEXT",
    Kind.BLOB: "BLOB",
    Kind.BOOL: "INTEGER",
    Kind.UUID: "BLOB",
    Kind.DATETIME: "TEXT",
    Kind.DATE: "TEXT",
    Kind.TIME: "TEXT",
    Kind.DECIMAL: "TEXT",
    Kind.JSON: "TEXT",
}


@dataclass(frozen=True)
class Json:
    """Marks a value as a JSON document (so a dict, list, str or number is stored as JSON TEXT)."""

    value: Any


def kind_of(value: Any) -> Kind:
    """The kind a Python value maps to; a `CodecError` for a type outside the mapping."""
    checks: tuple[tuple[type | tuple[type, ...], Kind], ...] = (
        (type(None), Kind.NULL), (Json, Kind.JSON), (bool, Kind.BOOL), (int, Kind.INTEGER),
        (float, Kind.REAL), (str, Kind.TEXT), ((bytes, bytearray, memoryview), Kind.BLOB),
        (uuid.UUID, Kind.UUID), (dt.datetime, Kind.DATETIME), (dt.date, Kind.DATE), (dt.time, Kind.TIME),
        (decimal.Decimal, Kind.DECIMAL), ((dict, list), Kind.JSON),
    )
    for types, kind in checks:
        if isinstance(value, types):
            return kind
    raise CodecError(f"{type(value).__name__} is not in the type mapping; convert it first "
                     "(or wrap a JSON-serialisable value in codec.Json)")


def declared_type(kind: Kind) -> str:
    """The declared SQL column type for `kind` (empty for NULL: no affinity)."""
    return DECLARED_TYPE[Kind(kind)]


def _iso_datetime(value: dt.datetime) -> str:
    return value.isoformat(timespec="microseconds")


def _iso_time(value: dt.time) -> str:
    return value.isoformat(timespec="microseconds")


def encode(value: Any, kind: Kind | None = None) -> SQLValue:
    """Map a Python value to the storage value the documented mapping gives it."""
    kind = kind_of(value) if kind is None else Kind(kind)
    if value is None:
        return None
    if kind is Kind.JSON:
        doc = value.value if isinstance(value, Json) else value
        try:
            return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise CodecError(f"not a JSON document: {exc}") from exc
    if kind is Kind.BOOL:
        if not isinstance(value, bool):
            raise CodecError(f"bool expected, got {type(value).__name__}")
        return int(value)
    if kind is Kind.INTEGER:
        number = int(value)
        if not I64_MIN <= number <= I64_MAX:
            raise CodecError(f"{number} does not fit a 64-bit SQLite INTEGER")
        return number
    if kind is Kind.REAL:
        number = float(value)
        if math.isnan(number):
            raise CodecError("NaN cannot be stored: SQLite turns a bound NaN into NULL")
        return number
    if kind is Kind.TEXT:
        return str(value)
    if kind is Kind.BLOB:
        return bytes(value)
    if kind is Kind.UUID:
        return value.bytes
    if kind is Kind.DATETIME:
        return _iso_datetime(value)
    if kind is Kind.DATE:
        if isinstance(value, dt.datetime):
            raise CodecError("a datetime is not a date; pass value.date() or use Kind.DATETIME")
        return value.isoformat()
    if kind is Kind.TIME:
        return _iso_time(value)
    if kind is Kind.DECIMAL:
        if value.is_snan():
            raise CodecError("a signalling NaN Decimal cannot be stored")
        return str(value)
    raise CodecError(f"cannot encode kind {kind.value}")  # pragma: no cover - every kind is handled


def _expect(value: SQLValue, types: type | tuple[type, ...], kind: Kind) -> Any:
    if not isinstance(value, types):
        raise CodecError(f"{kind.value} column holds a {type(value).__name__} ({value!r}), "
                         f"not what the mapping stores")
    return value


def decode(value: SQLValue, kind: Kind) -> Any:
    """Map a stored value back to the Python value of `kind`; a `CodecError` when it cannot be one."""
    kind = Kind(kind)
    if value is None:
        return None
    try:
        if kind is Kind.NULL:
            raise CodecError(f"a NULL column holds {value!r}")
        if kind is Kind.INTEGER:
            return _expect(value, int, kind)
        if kind is Kind.REAL:
            return float(_expect(value, (int, float), kind))
        if kind is Kind.TEXT:
            return _expect(value, str, kind)
        if kind is Kind.BLOB:
            return _expect(value, bytes, kind)
        if kind is Kind.BOOL:
            if _expect(value, int, kind) not in (0, 1):
                raise CodecError(f"bool column holds {value!r}, not 0 or 1")
            return bool(value)
        if kind is Kind.UUID:
            return uuid.UUID(bytes=_expect(value, bytes, kind))
        if kind is Kind.DATETIME:
            return dt.datetime.fromisoformat(_expect(value, str, kind))
        if kind is Kind.DATE:
            return dt.date.fromisoformat(_expect(value, str, kind))
        if kind is Kind.TIME:
            return dt.time.fromisoformat(_expect(value, str, kind))
        if kind is Kind.DECIMAL:
            return decimal.Decimal(_expect(value, str, kind))
        if kind is Kind.JSON:
            return json.loads(_expect(value, str, kind))
    except (ValueError, decimal.InvalidOperation) as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(f"{kind.value} column holds {value!r}: {exc}") from exc
    raise CodecError(f"cannot decode kind {kind.value}")  # pragma: no cover


def encode_params(params: Sequence[Any] | Mapping[str, Any]) -> tuple[SQLValue, ...] | dict[str, SQLValue]:
    """Encode every parameter of a positional sequence or a named mapping."""
    if isinstance(params, Mapping):
        return {name: encode(v) for name, v in params.items()}
    return tuple(encode(v) for v in params)


def identical(a: Any, b: Any) -> bool:
    """Equality that tells -0.0 from 0.0, UTC offsets apart, `1.5` from `1.500` and `1` from `1.0` in JSON."""
    if isinstance(a, Json):
        a = a.value
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    if isinstance(a, dt.time):
        return a == b and a.utcoffset() == b.utcoffset()
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    if isinstance(a, (dict, list)):
        return _json_identical(a, b)
    return bool(a == b)


def _json_identical(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_json_identical(x, y) for x, y in zip(a, b, strict=True))
    return identical(a, b)


def decode_row(row: Sequence[SQLValue], kinds: Sequence[Kind]) -> tuple[Any, ...]:
    """Decode a row column by column."""
    if len(row) != len(kinds):
        raise CodecError(f"row has {len(row)} columns but {len(kinds)} kinds were given")
    return tuple(decode(v, k) for v, k in zip(row, kinds, strict=True))
