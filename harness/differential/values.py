"""SQL literals of every storage class, and the value pools each template slot draws from."""

from __future__ import annotations

import math

from stc_harness.differential.sqlast import Expr, lit

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def int_lit(value: int) -> Expr:
    """An INTEGER literal (within the 64-bit range)."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"{value} is outside the 64-bit integer range")
    return lit(str(value), "integer")


def real_lit(value: float) -> Expr:
    """A REAL literal written so it reads back exactly (infinities as 1e999; NaN has no literal)."""
    if math.isnan(value):
        return lit("NULL", "null")
    if math.isinf(value):
        return lit("1e999" if value > 0 else "-1e999", "real")
    text = repr(value)
    if "e" not in text and "." not in text:
        text += ".0"
    return lit(text, "real")


def text_lit(value: str) -> Expr:
    """A TEXT literal (NUL characters are dropped: a SQL literal cannot hold one)."""
    return lit("'" + value.replace("\x00", "").replace("'", "''") + "'", "text")


def blob_lit(value: bytes) -> Expr:
    """A BLOB literal."""
    return lit("x'" + value.hex() + "'", "blob")


NULL = lit("NULL", "null")


def value_lit(value: object) -> Expr:
    """The literal for a Python value (None, int, float, str or bytes)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return int_lit(int(value))
    if isinstance(value, int):
        return int_lit(value)
    if isinstance(value, float):
        return real_lit(value)
    if isinstance(value, str):
        return text_lit(value)
    if isinstance(value, (bytes, bytearray)):
        return blob_lit(bytes(value))
    raise TypeError(f"no SQL literal for {type(value).__name__}")


INTEGERS = [0, 1, -1, 2, 3, 7, 10, 42, 100, 255, 256, -128, 1000000, 2147483647, -2147483648,
            4294967296, 9007199254740993, INT64_MAX, INT64_MIN, INT64_MIN + 1]
REALS = [0.0, -0.0, 0.5, 1.0, -1.0, 1.5, 2.5, -2.5, 0.1, 3.14159, 1e-7, 1e15, 1e16, 1e20, -1e20,
         1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 9.223372036854776e18, math.inf, -math.inf,
         123456789.123456789, 0.49999999999999994, 2.675, 1e100]
TEXTS = ["", "a", "A", "abc", "ABC", "aBc", " ", " 1", "1", "-1", "1.5", "1e3", "0x1A", "12abc", "abc12",
         "  12  ", "9223372036854775808", "-9223372036854775809", "1.0", "+5", "NaN", "inf", "\u00e9",
         "\u00c9", "\u00df", "\u0130", "\u65e5\u672c", "\U0001f600", "a'b", "%", "_", "a b  ", "\t x\n",
         "2024-01-15", "2024-01-15 10:30:00", "12:34:56", "[1,2,3]", '{"a":1}', "null", "true"]
BLOBS = [b"", b"\x00", b"\x01", b"\xff", b"12", b"abc", b"\xc3\xa9", b"\x00\xff\x00\xff", b"1.5"]

#: Every storage class, with boundary values.
ANY: list[Expr] = [NULL, *map(int_lit, INTEGERS), *map(real_lit, REALS), *map(text_lit, TEXTS),
                   *map(blob_lit, BLOBS)]

SMALL_INTS = [int_lit(v) for v in (0, 1, 2, 3, -1, -2, 5, 10, 100)]
DATES = [*map(text_lit, [
    "2024-01-15", "2024-01-15 10:30:00", "2024-01-15T10:30:00.123", "2024-01-15 10:30", "10:30",
    "10:30:45.5", "2000-02-29", "1970-01-01 00:00:00", "2024-12-31 23:59:59.999", "0000-01-01",
    "9999-12-31 23:59:59", "2024-02-30", "2023-02-29", "2024-13-01", "24:00:00", "2024-01-15 10:30:00+02:00",
    "2024-01-15 10:30:00Z", "2024-01-15 10:30:00.5-05:30", "2460310.5", "1700000000", "abc", "",
    " 2024-01-15 ", "2024-1-5", "-0001-06-15", "2024-06-15 12:00:00.123456789"]),
    *map(int_lit, [0, 1700000000, 2460310, -1, 5373484]), *map(real_lit, [2460310.5, 1.5e9, 0.5, 1e20]), NULL]
MODIFIERS = [text_lit(m) for m in (
    "+1 day", "-1 day", "+3 hours", "-30 minutes", "+45 seconds", "+1.5 days", "+1 month", "-1 month",
    "+1 year", "-13 months", "+0.5 hours", "start of month", "start of year", "start of day", "weekday 0",
    "weekday 3", "unixepoch", "julianday", "auto", "subsec", "+01:30", "-05:00", "+12:00:00",
    "+0001-02-03 04:05:06", "+1000000 days", "-1e3 seconds", "bogus", "")]
STRFTIME_FORMATS = [text_lit(f) for f in (
    "%Y-%m-%d", "%H:%M:%S", "%f", "%j", "%J", "%s", "%w", "%W", "%%", "%Y-%m-%dT%H:%M:%fZ", "%d/%m/%Y",
    "%M", "%Y", "x%Yy", "", "%")]
PRINTF_FORMATS = [text_lit(f) for f in (
    "%d", "%5d", "%-5d|", "%05d", "%+d", "% d", "%x", "%X", "%#x", "%o", "%c", "%s", "%.2s", "%8s", "%-8s|",
    "%q", "%Q", "%w", "%f", "%.0f", "%.1f", "%.3f", "%10.2f", "%-10.2f|", "%e", "%.2e", "%E", "%g", "%.3g",
    "%#g", "%G", "%i", "%u", "%%", "%.20f", "%,d", "%lld", "%!.3f", "%.15g", "%s-%s", "%d %s %f", "abc", "",
    "%")]
JSONS = [text_lit(j) for j in (
    "[1,2,3]", '{"a":1,"b":[2,3],"c":{"d":null}}', '"str"', "123", "1.5e2", "-0", "null", "true", "[]", "{}",
    "[1,[2,[3]]]", '{"a":"x\\ty"}', " [1 , 2] ", '{"a":1,"a":2}', "[1,", "{a:1}", "[1e400]", '["\\u00e9"]',
    "[0.1,1E2,-5]", '{"a":{"b":{"c":[10,20]}}}', "12345678901234567890", "")]
JSON_PATHS = [text_lit(p) for p in (
    "$", "$.a", "$.b", "$.b[0]", "$.b[1]", "$[0]", "$[1]", "$[#-1]", "$.c.d", "$.x", '$."a"', "a", "$[",
    "$.a.b.c", "$[2]", "$.c")] + [int_lit(1), int_lit(0)]
PATTERNS = [text_lit(p) for p in ("%", "_", "a%", "%b%", "A_C", "[a-c]*", "*", "?", "a*", "%\\%", "", "abc",
                                  "%\u00e9%", "A%", "[^a]*")]
SEPARATORS = [text_lit(s) for s in (",", "", " | ", "\u00e9")]
KEYS = [text_lit(k) for k in ("a", "b", "", "a.b")]
PROBABILITIES = [real_lit(p) for p in (0.5, 0.0625, 1.0, 0.0)]

#: Value pools by slot domain. A slot draws from its own domain, sometimes (MIX) from ANY instead.
POOLS: dict[str, list[Expr]] = {
    "any": ANY, "small": SMALL_INTS, "size": SMALL_INTS[:7], "date": DATES, "modifier": MODIFIERS,
    "strftime": STRFTIME_FORMATS, "printf": PRINTF_FORMATS, "json": JSONS, "jsonpath": JSON_PATHS,
    "pattern": PATTERNS, "sep": SEPARATORS, "key": KEYS, "prob": PROBABILITIES,
    "escape": [text_lit("\\"), text_lit("!")],
}
#: Domains whose slots never take an arbitrary value (a huge size could exhaust memory).
STRICT = frozenset({"size", "prob", "escape"})
#: Chance that a non-strict slot takes a value from ANY (or a drawn extra) instead of its domain.
MIX = 0.2
