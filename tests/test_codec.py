"""Unit and property tests of harness/toolkit/codec.py: the documented mapping, its refusals, and
round-trips."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import sqlite3
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stc_harness.toolkit import codec
from stc_harness.toolkit.codec import CodecError, Json, Kind

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KNOWN = [
    (None, Kind.NULL, None),
    (True, Kind.BOOL, 1),
    (False, Kind.BOOL, 0),
    (codec.I64_MIN, Kind.INTEGER, codec.I64_MIN),
    (-0.0, Kind.REAL, -0.0),
    ("a\x00b", Kind.TEXT, "a\x00b"),
    (bytearray(b"\x00\xff"), Kind.BLOB, b"\x00\xff"),
    (uuid.UUID(int=1), Kind.UUID, b"\x00" * 15 + b"\x01"),
    (dt.datetime(2024, 1, 2, 3, 4, 5), Kind.DATETIME, "2024-01-02T03:04:05.000000"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))),
     Kind.DATETIME, "2024-01-02T03:04:05.000006-09:30"),
    (dt.date(2024, 2, 29), Kind.DATE, "2024-02-29"),
    (dt.time(23, 59, 59, 1), Kind.TIME, "23:59:59.000001"),
    (decimal.Decimal("1.500"), Kind.DECIMAL, "1.500"),
    (decimal.Decimal("1E+30"), Kind.DECIMAL, "1E+30"),
    ({"b": [1, 2.5, None], "a": "\u00e9"}, Kind.JSON, '{"b":[1,2.5,null],"a":"\u00e9"}'),
    (Json("text"), Kind.JSON, '"text"'),
]


@pytest.mark.parametrize(("value", "kind", "stored"), KNOWN, ids=[f"{k.value}-{i}" for i, (_, k, _) in
                                                                   enumerate(KNOWN)])
def test_documented_mapping(value, kind, stored):
    assert codec.kind_of(value) is kind
    got = codec.encode(value)
    assert type(got) is type(stored)
    assert codec.identical(stored, got)
    back = codec.decode(got, kind)
    expected = value.value if isinstance(value, Json) else value
    expected = bytes(expected) if isinstance(expected, bytearray) else expected
    assert codec.identical(expected, back)


def test_declared_types_follow_the_mapping():
    kinds = (Kind.UUID, Kind.DATETIME, Kind.DECIMAL, Kind.BOOL, Kind.JSON)
    assert [codec.declared_type(k) for k in kinds] == ["BLOB", "TEXT", "TEXT", "INTEGER", "TEXT"]


@pytest.mark.parametrize(("value", "kind", "fragment"), [
    (2**63, None, "64-bit"),
    (-(2**63) - 1, None, "64-bit"),
    (math.nan, None, "NaN"),
    (decimal.Decimal("sNaN"), None, "signalling"),
    (dt.datetime(2024, 1, 1), Kind.DATE, "not a date"),
    (1, Kind.BOOL, "bool expected"),
    ({"x": object()}, None, "JSON"),
    ({"x": math.inf}, None, "JSON"),
    (object(), None, "not in the type mapping"),
])
def test_encode_refuses_what_it_cannot_store_faithfully(value, kind, fragment):
    with pytest.raises(CodecError, match=fragment):
        codec.encode(value, kind)


@pytest.mark.parametrize(("stored", "kind"), [
    ("abc", Kind.INTEGER), (1.5, Kind.TEXT), ("x", Kind.BLOB), (2, Kind.BOOL), (b"\x00" * 15, Kind.UUID),
    ("2024-13-01", Kind.DATE), ("nope", Kind.DATETIME), ("1.2.3", Kind.DECIMAL), ("{", Kind.JSON),
    (1, Kind.NULL),
])
def test_decode_refuses_a_foreign_storage_class(stored, kind):
    with pytest.raises(CodecError):
        codec.decode(stored, kind)


def test_params_and_rows():
    assert codec.encode_params((True, uuid.UUID(int=0))) == (1, b"\x00" * 16)
    assert codec.encode_params({"a": decimal.Decimal("2.0")}) == {"a": "2.0"}
    assert codec.decode_row((1, "1.0"), (Kind.BOOL, Kind.DECIMAL)) == (True, decimal.Decimal("1.0"))
    with pytest.raises(CodecError):
        codec.decode_row((1,), (Kind.BOOL, Kind.TEXT))


def test_identical_is_stricter_than_equality():
    assert not codec.identical(0.0, -0.0)
    assert not codec.identical(decimal.Decimal("1.5"), decimal.Decimal("1.50"))
    assert not codec.identical({"a": 1}, {"a": 1.0})
    assert not codec.identical({"a": True}, {"a": 1})
    utc = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert not codec.identical(utc, utc.astimezone(dt.timezone(dt.timedelta(hours=1))))
    assert codec.identical(math.nan, math.nan)


# Property tests: every value of a kind survives encode -> SQLite (stdlib) -> decode.

offsets = st.builds(lambda m: dt.timezone(dt.timedelta(minutes=m)), st.integers(-1439, 1439))
zones = st.one_of(st.none(), offsets)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**80), 2**80),
                      st.floats(allow_nan=False, allow_infinity=False), st.text())
json_docs = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(), inner, max_size=4)),
                         max_leaves=20)
values = st.one_of(
    st.integers(codec.I64_MIN, codec.I64_MAX),
    st.floats(allow_nan=False).filter(lambda f: f != 0 or math.copysign(1, f) > 0),
    st.text(),
    st.binary(max_size=300),
    st.booleans(),
    st.uuids(),
    st.datetimes(timezones=zones),
    st.dates(),
    st.times(timezones=zones),
    st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_snan()),
    json_docs.filter(lambda d: isinstance(d, (dict, list))),
)


@FAST
@given(values)
def test_every_value_round_trips_through_sqlite(value):
    kind = codec.kind_of(value)
    con = sqlite3.connect(":memory:")
    try:
        con.execute(f"CREATE TABLE t (v {codec.declared_type(kind)})")
        con.execute("INSERT INTO t VALUES (?)", (codec.encode(value),))
        (stored,) = con.execute("SELECT v FROM t").fetchone()
    finally:
        con.close()
    assert codec.identical(value, codec.decode(stored, kind))


@FAST
@given(st.datetimes())
def test_naive_datetime_text_sorts_chronologically(value):
    later = value + dt.timedelta(microseconds=1) if value < dt.datetime.max else value
    assert (codec.encode(value) <= codec.encode(later)) is True  # type: ignore[operator]
