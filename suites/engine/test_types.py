"""Types: the documented mapping value by value, affinity, STRICT, CAST, binding, rowcount and lastrowid.

`001_312a5f9792b0f890.txt`, "Type mapping and SQL behavior": Turso uses the same type mapping as SQLite.
Round-trips go through `stc_harness.toolkit.codec` (what an ORM hands the driver); the driver-level checks
pass
Python values straight to each driver, where any difference is the driver's own.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import math
import random
import struct
import uuid
from typing import Any

from stc_harness import DISCOVERY, CheckContext, canonical, check, driver_guide, orm_backend, rows, sql_value
from stc_harness.toolkit import codec
from stc_harness.toolkit.codec import Json, Kind

MAPPING = driver_guide("Type mapping and SQL behavior")
MODELS = orm_backend("Migration from SQLite")

UTC = dt.timezone.utc
PLUS_14 = dt.timezone(dt.timedelta(hours=14))
MINUS_0930 = dt.timezone(dt.timedelta(hours=-9, minutes=-30))


def _deep(n: int) -> Any:
    doc: Any = "leaf"
    for _ in range(n):
        doc = [doc]
    return doc


#: Values of the documented mapping, each at an edge of its type.
ROUNDTRIP: dict[str, Any] = {
    "int_zero": 0,
    "int_min": codec.I64_MIN,
    "int_max": codec.I64_MAX,
    "real_neg_zero": -0.0,
    "real_inf": math.inf,
    "real_neg_inf": -math.inf,
    "real_min_subnormal": 5e-324,
    "real_max_subnormal": 2.225073858507201e-308,
    "real_max": 1.7976931348623157e308,
    "real_one_third": 1 / 3,
    "real_integral": 2.0,
    "text_empty": "",
    "text_non_bmp": "\U0001f600\U0001d11e",
    "text_nul": "a\x00b",
    "text_combining": "e\u0301",
    "text_bom": "\ufeffx",
    "text_100k": "\u00e9" * 100_000,
    "blob_empty": b"",
    "blob_nul": b"\x00",
    "blob_1mib": bytes(range(256)) * 4096,
    "null": None,
    "bool_true": True,
    "bool_false": False,
    "uuid_nil": uuid.UUID(int=0),
    "uuid_max": uuid.UUID(int=2**128 - 1),
    "uuid_v4": uuid.UUID("7d444840-9dc0-11d1-b245-5ffdce74fad2"),
    "datetime_naive_micro": dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
    "datetime_utc": dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    "datetime_plus_14": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=PLUS_14),
    "datetime_minus_0930": dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=MINUS_0930),
    "datetime_min": dt.datetime.min,
    "datetime_max": dt.datetime.max,
    "date_leap": dt.date(2024, 2, 29),
    "date_min": dt.date.min,
    "time_micro": dt.time(23, 59, 59, 999999),
    "time_midnight": dt.time(0, 0),
    "time_offset": dt.time(12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    "decimal_38_digits": decimal.Decimal("12345678901234567890.123456789012345678"),
    "decimal_trailing_zeros": decimal.Decimal("1.500"),
    "decimal_exponent": decimal.Decimal("1E+30"),
    "decimal_tiny": decimal.Decimal("-1E-40"),
    "decimal_neg_zero": decimal.Decimal("-0"),
    "decimal_infinity": decimal.Decimal("-Infinity"),
    "json_nested": {"a": [1, 2.5, {"b": None, "c": [True, False]}], "\u00e9": "\U0001f600"},
    "json_deep_200": _deep(200),
    "json_big_int": {"n": 2**70},
    "json_string": Json("just text"),
    "json_empty_object": {},
}


def typed(value: Any, limit: int = 256) -> Any:
    """A value with its storage class; long text and blobs shown as a digest."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        return [sql_value(value)[0], f"sha256:{hashlib.sha256(data).hexdigest()[:16]}:{len(value)}"]
    return sql_value(value)


async def _memory(ctx: CheckContext) -> Any:
    return await ctx.connect(ctx.url(memory=True))


async def _typed_rows(conn: Any, sql: str, params: Any = ()) -> list[list[Any]]:
    return [[typed(v) for v in row] for row in await conn.fetch_all(sql, params)]


async def query(ctx: CheckContext, sql: str, params: Any = ()) -> object:
    """`{"ok": rows with storage classes}` or `{"error": KIND}` for one query on a fresh database."""
    conn = await _memory(ctx)
    return await ctx.attempt(_typed_rows(conn, sql, params), "error")


@check(title="A value of the documented mapping round-trips through its declared column", source=MAPPING,
       params=ROUNDTRIP)
async def test_roundtrip(ctx: CheckContext, value: Any) -> object:
    kind = codec.kind_of(value)
    conn = await _memory(ctx)
    await conn.execute(f"CREATE TABLE t(v {codec.declared_type(kind)})")
    stored = codec.encode(value)
    await conn.execute("INSERT INTO t(v) VALUES (?)", (stored,))
    raw, storage = await conn.fetch_one("SELECT v, typeof(v) FROM t")
    try:
        round_trips: Any = codec.identical(value, codec.decode(raw, kind))
    except codec.CodecError as exc:  # the stored value cannot be read back as its kind (libsql: int as REAL)
        round_trips = {"decode_error": type(exc).__name__}
    lookup = await conn.fetch_value("SELECT count(*) FROM t WHERE v IS ?", (stored,))
    return {"declared": codec.declared_type(kind), "typeof": storage, "stored": typed(raw),
            "same_as_encoded": codec.identical(stored, raw), "round_trips": round_trips,
            "found_by_value": lookup}


class Color(enum.IntEnum):
    """An IntEnum, as models often use."""

    RED = 1


class Tag(str):
    """A str subclass."""


#: Python values handed straight to each driver, with no codec in between.
DRIVER_NATIVE: dict[str, Any] = {
    "bool": True,
    "int_enum": Color.RED,
    "str_subclass": Tag("tag"),
    "int_2_63": 2**63,
    "int_neg_2_63_minus_1": -(2**63) - 1,
    "float_nan": math.nan,
    "uuid": uuid.UUID(int=1),
    "datetime": dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    "datetime_aware": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    "date": dt.date(2024, 1, 2),
    "time": dt.time(3, 4, 5),
    "decimal": decimal.Decimal("1.10"),
    "decimal_38_digits": decimal.Decimal("12345678901234567890.123456789012345678"),
    "dict": {"a": 1},
    "list": [1, 2],
    "tuple": (1, 2),
    "bytearray": bytearray(b"ab"),
    "memoryview": memoryview(b"ab"),
    "lone_surrogate": "\ud800",
    "object": object(),
}


@check(title="What the driver itself does with a Python value the codec would convert", source=DISCOVERY,
       params=DRIVER_NATIVE)
async def test_driver_native(ctx: CheckContext, value: Any) -> object:
    return await query(ctx, "SELECT ?, typeof(?)", (value, value))


INTEGER_EDGES: dict[str, str] = {
    "literal_max": "SELECT 9223372036854775807, typeof(9223372036854775807)",
    "literal_min": "SELECT -9223372036854775808, typeof(-9223372036854775808)",
    "literal_max_plus_one": "SELECT 9223372036854775808, typeof(9223372036854775808)",
    "add_overflow": "SELECT 9223372036854775807 + 1, typeof(9223372036854775807 + 1)",
    "mul_overflow": "SELECT -9223372036854775808 * -1, typeof(-9223372036854775808 * -1)",
    "div_min_by_neg_one": "SELECT -9223372036854775808 / -1",
    "abs_min": "SELECT abs(-9223372036854775808)",
    "sum_overflow": "SELECT sum(x) FROM (SELECT 9223372036854775807 AS x UNION ALL SELECT 1)",
    "total_no_overflow": "SELECT total(x) FROM (SELECT 9223372036854775807 AS x UNION ALL SELECT 1)",
    "modulo_zero": "SELECT 5 % 0, 5 / 0, 5.0 / 0",
    "integer_division": "SELECT 7 / 2, -7 / 2, 7 % -3, -7 % 3",
}


@check(title="64-bit integer edges in SQL: literals, overflow to REAL, overflow errors", source=MAPPING,
       params=INTEGER_EDGES)
async def test_integer_edges(ctx: CheckContext, sql: str) -> object:
    return await query(ctx, sql)


REAL_COLUMNS: dict[str, tuple[str, Any]] = {
    "neg_zero_real": ("REAL", -0.0),
    "neg_zero_untyped": ("", -0.0),
    "neg_zero_numeric": ("NUMERIC", -0.0),
    "nan_real": ("REAL", math.nan),
    "inf_integer": ("INTEGER", math.inf),
    "integral_real_in_integer": ("INTEGER", 3.0),
    "max_text_in_real": ("REAL", "1.7976931348623157e308"),
    "max_text_in_numeric": ("NUMERIC", "1.7976931348623157e308"),
    "overflow_text_in_real": ("REAL", "1e309"),
    "subnormal_text_in_real": ("REAL", "4.9406564584124654e-324"),
    "i64_text_plus_one_in_integer": ("INTEGER", "9223372036854775808"),
    "2_53_plus_one_text_in_real": ("REAL", "9007199254740993"),
}


@check(title="Float edges stored in typed columns: -0.0, NaN, infinity, text at the limits", source=MAPPING,
       params=REAL_COLUMNS)
async def test_float_columns(ctx: CheckContext, case: tuple[str, Any]) -> object:
    declared, value = case
    conn = await _memory(ctx)
    await conn.execute(f"CREATE TABLE t(v {declared})")
    await conn.execute("INSERT INTO t(v) VALUES (?)", (value,))
    return rows(await conn.fetch_all("SELECT v, typeof(v) FROM t"))


AFFINITY_INPUTS = ("'12'", "'12.0'", "'1.5'", "' 12 '", "'1e3'", "'0x10'", "'abc'", "'9223372036854775808'",
                   "'-0'", "12", "1.0", "1.5", "x'31'", "NULL")
DECLARED_TYPES = {
    "INTEGER": "INTEGER", "INT": "INT", "TEXT": "TEXT", "VARCHAR_10": "VARCHAR(10)", "REAL": "REAL",
    "DOUBLE": "DOUBLE", "FLOATING_POINT": "FLOATING POINT", "NUMERIC": "NUMERIC",
    "DECIMAL_10_2": "DECIMAL(10,2)", "BOOLEAN": "BOOLEAN", "DATETIME": "DATETIME", "BLOB": "BLOB",
    "none": "", "STRING": "STRING",
}


@check(title="Declared-type affinity: what typeof() reports for each input in each column type",
       source=MAPPING, params=DECLARED_TYPES)
async def test_affinity(ctx: CheckContext, declared: str) -> object:
    conn = await _memory(ctx)
    await conn.execute(f"CREATE TABLE t(v {declared})")
    for literal in AFFINITY_INPUTS:
        await conn.execute(f"INSERT INTO t(v) VALUES ({literal})")
    got = await conn.fetch_all("SELECT v, typeof(v) FROM t ORDER BY rowid")
    return dict(zip(AFFINITY_INPUTS, rows(got), strict=True))


STRICT_CASES: dict[str, tuple[str, str]] = {
    "integer_from_numeric_text": ("INTEGER", "'12'"),
    "integer_from_alpha_text": ("INTEGER", "'abc'"),
    "integer_from_integral_real": ("INTEGER", "1.0"),
    "integer_from_fractional_real": ("INTEGER", "1.5"),
    "integer_from_blob": ("INTEGER", "x'01'"),
    "int_alias_from_text": ("INT", "'7'"),
    "real_from_integer": ("REAL", "1"),
    "real_from_numeric_text": ("REAL", "'1.5'"),
    "text_from_real": ("TEXT", "1.5"),
    "text_from_blob": ("TEXT", "x'41'"),
    "blob_from_text": ("BLOB", "'x'"),
    "any_keeps_text": ("ANY", "'12'"),
    "any_keeps_real": ("ANY", "1.0"),
    "null_into_integer": ("INTEGER", "NULL"),
    "unknown_type": ("FOO", "1"),
    "missing_type": ("", "1"),
}


@check(title="STRICT tables: accepted conversions, rejected values and rejected declarations",
       source=MAPPING, params=STRICT_CASES, requires=("strict_tables",))
async def test_strict(ctx: CheckContext, case: tuple[str, str]) -> object:
    declared, literal = case
    conn = await _memory(ctx)
    created = await ctx.attempt(conn.execute(f"CREATE TABLE t(v {declared}) STRICT"), "create")
    if "error" in created:
        return {"create": created["error"]}
    inserted = await ctx.attempt(conn.execute(f"INSERT INTO t(v) VALUES ({literal})"), "insert")
    if "error" in inserted:
        return {"insert": inserted["error"]}
    return {"stored": rows(await conn.fetch_all("SELECT v, typeof(v) FROM t"))}


CAST_INPUTS = (
    "'9223372036854775807'", "'9223372036854775808'", "'-9223372036854775809'", "'12345678901234567890'",
    "'123456789012345678901234567890'", "'1.7976931348623157e308'", "'1e999'", "'  12  '", "'12abc'",
    "'0x1F'", "'1e3'", "'1.0'", "'-0'", "'.5'", "'5.'", "'+3'", "''", "'inf'", "'nan'", "1e20", "-9.3e18",
    "0.1", "1e15", "1e16", "123456789012345678.0", "5e-324", "1.7976931348623157e308", "-0.0", "1.0",
    "2.5e-07", "x'3132'", "x''", "NULL",
)


@check(title="CAST edges: text, reals and blobs converted to each storage class", source=MAPPING,
       params={t: t for t in ("INTEGER", "REAL", "NUMERIC", "TEXT", "BLOB")})
async def test_cast(ctx: CheckContext, target: str) -> object:
    conn = await _memory(ctx)
    exprs = ", ".join(f"CAST({v} AS {target})" for v in CAST_INPUTS)
    got = await conn.fetch_one(f"SELECT {exprs}")
    return dict(zip(CAST_INPUTS, (typed(v) for v in got or ()), strict=True))


def _random_floats(n: int, seed: int) -> list[float]:
    """`n` finite doubles drawn uniformly over bit patterns (every exponent, subnormals included)."""
    rnd = random.Random(seed)
    out: list[float] = []
    while len(out) < n:
        x = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(x):
            out.append(x)
    return out


RANDOM_FLOATS = 2000


async def _float_table(ctx: CheckContext) -> Any:
    conn = await _memory(ctx)
    await conn.execute("CREATE TABLE f(i INTEGER PRIMARY KEY, t TEXT, r REAL)")
    await conn.executemany("INSERT INTO f(t, r) VALUES (?, ?)",
                           [(repr(v), v) for v in _random_floats(RANDOM_FLOATS, seed=7)])
    return conn


@check(title=f"Text to REAL: CAST of the shortest repr of {RANDOM_FLOATS} random doubles", source=MAPPING)
async def test_text_to_real_random(ctx: CheckContext) -> object:
    conn = await _float_table(ctx)
    got = await conn.fetch_all("SELECT t, CAST(t AS REAL) FROM f ORDER BY i")
    off = [(t, canonical(p)) for t, p in got if not (isinstance(p, float) and p == float(t))]
    digest = hashlib.sha256(repr([p for _, p in got]).encode()).hexdigest()[:16]
    return {"not_correctly_rounded": len(off), "first": off[:3], "digest": digest}


@check(title=f"REAL to text: CAST of {RANDOM_FLOATS} random doubles AS TEXT (15 significant digits)",
       source=MAPPING)
async def test_real_to_text_random(ctx: CheckContext) -> object:
    conn = await _float_table(ctx)
    got = await conn.fetch_all("SELECT r, CAST(r AS TEXT) FROM f ORDER BY i")
    off = [(repr(r), t) for r, t in got if float(t) != float(f"{r:.15g}")]
    digest = hashlib.sha256(repr([t for _, t in got]).encode()).hexdigest()[:16]
    return {"not_15_digit_rounded": len(off), "first": off[:3], "digest": digest}


@check(title="Bound doubles come back bit for bit", source=MAPPING)
async def test_real_binding_random(ctx: CheckContext) -> object:
    conn = await _float_table(ctx)
    got = await conn.fetch_all("SELECT t, r FROM f ORDER BY i")
    return {"changed": [t for t, r in got if struct.pack("<d", float(t)) != struct.pack("<d", r)][:3]}


TEXT_EDGES: dict[str, tuple[str, tuple[Any, ...]]] = {
    "nul_bound": ("SELECT ?, length(?), hex(?)", ("a\x00b",) * 3),
    "nul_in_sql_literal": ("SELECT 'a\x00b'", ()),
    "invalid_utf8_cast": ("SELECT CAST(x'ff' AS TEXT)", ()),
    "invalid_utf8_length": ("SELECT length(CAST(x'c3' AS TEXT)), hex(CAST(x'c3' AS TEXT))", ()),
    "non_bmp_functions": ("SELECT length(?), substr(?, 2), unicode(?), char(128512), instr(?, 'b'), hex(?)",
                          ("\U0001f600b",) * 5),
    "case_mapping": ("SELECT upper(?), lower(?), ? = 'É' COLLATE NOCASE, 'A' = 'a' COLLATE NOCASE",
                     ("\u00e9a", "\u00c9A", "\u00e9")),
    "blob_functions": ("SELECT length(?), hex(?), typeof(? || ''), instr(?, x'00')",
                       (b"\x00\xff", b"\x00\xff", b"\x00", b"a\x00")),
    "empty_vs_null": ("SELECT '' IS NULL, x'' IS NULL, length(''), length(x''), typeof(''), typeof(x'')", ()),
}


@check(title="Text and blob edges: NUL, invalid UTF-8, non-BMP characters, case mapping", source=MAPPING,
       params=TEXT_EDGES)
async def test_text_edges(ctx: CheckContext, case: tuple[str, tuple[Any, ...]]) -> object:
    sql, params = case
    return await query(ctx, sql, params)


#: JSON texts: codec output, and hand-written texts at the edges (deep nesting, escapes).
JSON_CASES: dict[str, str] = {
    "nested": str(codec.encode(Json(ROUNDTRIP["json_nested"]))),
    "big_int": str(codec.encode(Json(ROUNDTRIP["json_big_int"]))),
    "floats": str(codec.encode(Json({"a": 0.1, "y": 1e300, "z": -0.0}))),
    "deep_500": "[" * 500 + "]" * 500,
    "deep_999": "[" * 999 + "]" * 999,
    "unicode_escapes": '{"a":"\\u00e9\\ud83d\\ude00"}',
    "whitespace": ' { "a" : [ 1 , 2 ] } ',
}


@check(title="JSON documents stored as TEXT, read by the engine's JSON functions", source=MAPPING,
       params=JSON_CASES, requires=("json",))
async def test_json_documents(ctx: CheckContext, text: str) -> object:
    conn = await _memory(ctx)
    sql = ("SELECT json_valid(?), json_type(?), json_array_length(?), "
           "length(json(?)), json_extract(?, '$.a'), json_extract(?, '$[0]')")
    return await ctx.attempt(_typed_rows(conn, sql, (text,) * 6), "error")


ISO_VALUES: dict[str, Any] = {
    "naive_micro": dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
    "utc": dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    "plus_14": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=PLUS_14),
    "minus_0930": dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=MINUS_0930),
    "year_1": dt.datetime(1, 1, 1),
    "year_9999_end": dt.datetime(9999, 12, 31, 23, 59, 59),
    "date_only": dt.date(2024, 2, 29),
    "time_only": dt.time(12, 30, 15, 250000),
}


@check(title="ISO 8601 text from the codec, read by date(), datetime(), julianday(), strftime(), unixepoch()",
       source=MAPPING, params=ISO_VALUES)
async def test_iso8601_functions(ctx: CheckContext, value: Any) -> object:
    conn = await _memory(ctx)
    text = codec.encode(value)
    sql = ("SELECT date(?), time(?), datetime(?), julianday(?), strftime('%Y-%m-%d %H:%M:%f %s', ?), "
           "unixepoch(?), datetime(?, '+1 day', 'start of month')")
    return await ctx.attempt(_typed_rows(conn, sql, (text,) * 7), "error")


@check(title="Codec TEXT sorts chronologically for naive datetimes (fixed microsecond width)", source=MAPPING)
async def test_iso8601_ordering(ctx: CheckContext) -> object:
    conn = await _memory(ctx)
    await conn.execute("CREATE TABLE t(at TEXT)")
    values = [dt.datetime(2024, 1, 1, 0, 0, 0, us) for us in (10, 1, 0, 999999, 100000)]
    await conn.executemany("INSERT INTO t(at) VALUES (?)", [(codec.encode(v),) for v in values])
    got = [codec.decode(r[0], Kind.DATETIME) for r in await conn.fetch_all("SELECT at FROM t ORDER BY at")]
    return {"sorted": got == sorted(values), "text": [r.isoformat() for r in got]}


@check(title="Decimal TEXT keeps every digit in a TEXT column and loses them in a NUMERIC one",
       source=MAPPING)
async def test_decimal_affinity(ctx: CheckContext) -> object:
    conn = await _memory(ctx)
    await conn.execute("CREATE TABLE t(as_text TEXT, as_numeric NUMERIC)")
    values = [decimal.Decimal(s) for s in ("1.500", "12345678901234567890.123456789012345678",
                                           "0.1", "1E+30", "-0", "9223372036854775808")]
    await conn.executemany("INSERT INTO t VALUES (?, ?)", [(codec.encode(v),) * 2 for v in values])
    got = await conn.fetch_all("SELECT as_text, as_numeric FROM t ORDER BY rowid")
    return [{"text": typed(t), "numeric": typed(n)} for t, n in got]


BINDING: dict[str, tuple[str, Any]] = {
    "positional": ("SELECT ?, ?", (1, "b")),
    "numbered": ("SELECT ?2, ?1, ?2", (1, 2)),
    "named_colon": ("SELECT :a, :b", {"a": 1, "b": 2}),
    "named_at_dollar": ("SELECT @a, $b", {"a": 1, "b": 2}),
    "named_repeated": ("SELECT :a, :a", {"a": 3}),
    "named_extra_key": ("SELECT :a", {"a": 1, "zzz": 2}),
    "named_missing_key": ("SELECT :a, :b", {"a": 1}),
    "named_given_sequence": ("SELECT :a, :b", (1, 2)),
    "qmark_given_mapping": ("SELECT ?", {"a": 1}),
    "too_few": ("SELECT ?, ?", (1,)),
    "too_many": ("SELECT ?", (1, 2)),
    "none_expected_one_given": ("SELECT 1", (1,)),
    "list_params": ("SELECT ?", [5]),
}


@check(title="Parameter binding: positional, numbered, named; too few and too many", source=DISCOVERY,
       params=BINDING)
async def test_binding(ctx: CheckContext, case: tuple[str, Any]) -> object:
    sql, params = case
    return await query(ctx, sql, params)


ROWCOUNT: dict[str, str] = {
    "insert_one": "INSERT INTO t(x) VALUES (1)",
    "insert_many_rows": "INSERT INTO t(x) VALUES (1), (2), (3)",
    "insert_select": "INSERT INTO t(x) SELECT x FROM t",
    "insert_with_cte": "WITH q(v) AS (SELECT 9) INSERT INTO t(x) SELECT v FROM q",
    "insert_ignored": "INSERT OR IGNORE INTO t(id, x) VALUES (1, 0)",
    "upsert_update": "INSERT INTO t(id, x) VALUES (1, 0) ON CONFLICT(id) DO UPDATE SET x = 5",
    "replace": "REPLACE INTO t(id, x) VALUES (1, 7)",
    "insert_returning": "INSERT INTO t(x) VALUES (4) RETURNING id",
    "update_all": "UPDATE t SET x = x + 1",
    "update_none": "UPDATE t SET x = 0 WHERE id < 0",
    "delete_one": "DELETE FROM t WHERE id = 1",
    "delete_all": "DELETE FROM t",
    "select": "SELECT * FROM t",
    "create_table": "CREATE TABLE u(y)",
    "create_index": "CREATE INDEX t_x ON t(x)",
    "pragma_set": "PRAGMA user_version = 3",
}


@check(title="cursor.rowcount and cursor.lastrowid after each kind of statement", source=MODELS,
       params=ROWCOUNT)
async def test_rowcount_lastrowid(ctx: CheckContext, sql: str) -> object:
    conn = await _memory(ctx)
    await conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, x)")
    await conn.execute("INSERT INTO t(id, x) VALUES (1, 1), (2, 2)")
    res = await conn.execute(sql)
    engine = await conn.fetch_one("SELECT changes(), last_insert_rowid()")
    return {"rowcount": res.rowcount, "lastrowid": res.lastrowid, "rows": rows(res.rows),
            "changes()": engine[0] if engine else None, "last_insert_rowid()": engine[1] if engine else None}


@check(title="executemany: rowcount sums the statements, lastrowid", source=MODELS)
async def test_executemany_rowcount(ctx: CheckContext) -> object:
    conn = await _memory(ctx)
    await conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, x)")
    ins = await conn.executemany("INSERT INTO t(x) VALUES (?)", [(i,) for i in range(5)])
    upd = await conn.executemany("UPDATE t SET x = x + 1 WHERE id <= ?", [(2,), (4,)])
    return {"insert": [ins.rowcount, ins.lastrowid], "update": [upd.rowcount, upd.lastrowid]}
