"""Binding and adaptation: every Python type sqlite3 binds (and those it adapts by default or through a
registered adapter or `__conform__`), `detect_types` converters, and parameter styles and counts.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

from driver_support import MEMORY, blocking, outcome, pydoc

from stc_harness import CheckContext, check

ADAPT = pydoc("How to adapt custom Python types to SQLite values")


class _Conforming:
    """An object adapting itself through the PrepareProtocol (`__conform__`)."""

    def __conform__(self, protocol: Any) -> str:
        return "conformed"


#: Values bound with `SELECT ?, typeof(?)`.
VALUES: dict[str, Callable[[], Any]] = {
    "none": lambda: None,
    "int": lambda: 42,
    "int_max": lambda: 2**63 - 1,
    "int_min": lambda: -(2**63),
    "int_too_big": lambda: 2**63,
    "bool": lambda: True,
    "float": lambda: 1.5,
    "float_nan": lambda: float("nan"),
    "float_inf": lambda: float("inf"),
    "str": lambda: "héllo",
    "str_with_nul": lambda: "a\x00b",
    "str_surrogate": lambda: "\ud800",
    "bytes": lambda: b"\x00\x01",
    "bytearray": lambda: bytearray(b"ab"),
    "memoryview": lambda: memoryview(b"cd"),
    "date": lambda: dt.date(2024, 1, 2),
    "datetime": lambda: dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    "time": lambda: dt.time(1, 2, 3),
    "decimal": lambda: decimal.Decimal("1.10"),
    "list": lambda: [1, 2],
    "dict": lambda: {"a": 1},
    "conform": _Conforming,
    "int_subclass": lambda: type("MyInt", (int,), {})(7),
    "str_subclass": lambda: type("MyStr", (str,), {})("s"),
}


def _bind(module: Any, path: str, key: str) -> Any:
    conn = module.connect(path)
    try:
        value = VALUES[key]()
        return outcome(lambda: conn.execute("SELECT ?, typeof(?)", (value, value)).fetchall())
    finally:
        conn.close()


@check(
    title="Binding a Python value: what is stored (SELECT ?, typeof(?)) or what is raised",
    source=ADAPT,
    params={k: k for k in VALUES},
    layer="driver",
)
async def test_bind(ctx: CheckContext, key: str) -> object:
    return await blocking(_bind, ctx.sync_module(), MEMORY, key)


#: Parameter styles and counts; (sql, parameters).
PARAMETERS: dict[str, tuple[str, Any]] = {
    "qmark": ("SELECT ?, ?", (1, 2)),
    "numeric": ("SELECT ?2, ?1", (1, 2)),
    "named_colon": ("SELECT :a, :b", {"a": 1, "b": 2}),
    "named_dollar": ("SELECT $a", {"a": 1}),
    "named_at": ("SELECT @a", {"a": 1}),
    "named_with_sequence": ("SELECT :a, :b", (1, 2)),
    "qmark_with_mapping": ("SELECT ?", {"a": 1}),
    "surplus_named_key": ("SELECT :a", {"a": 1, "extra": 2}),
    "list_parameters": ("SELECT ?, ?", [1, 2]),
    "missing_all": ("SELECT ?", ()),
    "surplus_positional": ("SELECT ?", (1, 2)),
    "none_parameters": ("SELECT 1", None),
    "string_as_parameters": ("SELECT ?", "a"),
    "repeated_named": ("SELECT :a + :a", {"a": 2}),
}


def _params(module: Any, path: str, item: tuple[str, Any]) -> Any:
    conn = module.connect(path)
    try:
        sql, params = item
        if params is None:
            return outcome(lambda: conn.execute(sql, None).fetchall())
        return outcome(lambda: conn.execute(sql, params).fetchall())
    finally:
        conn.close()


@check(
    title="Parameter styles and counts: accepted, or what is raised",
    source=pydoc("How to use placeholders to bind values in SQL queries"),
    params=PARAMETERS,
    layer="driver",
)
async def test_parameters(ctx: CheckContext, item: tuple[str, Any]) -> object:
    return await blocking(_params, ctx.sync_module(), MEMORY, item)


def _detect(module: Any, path: str, key: str) -> Any:
    flags = {"decltypes": "PARSE_DECLTYPES", "colnames": "PARSE_COLNAMES"}[key.split("_")[0]]
    flag = getattr(module, flags, None)
    if flag is None:
        return {"flag": "absent"}

    def use() -> Any:
        conn = module.connect(path, detect_types=flag)
        try:
            conn.execute("CREATE TABLE d (day date, at timestamp, n INTEGER)")
            conn.execute("INSERT INTO d VALUES ('2024-01-02', '2024-01-02 03:04:05', 1)")
            sql = (
                "SELECT day, at, n FROM d"
                if key.startswith("decltypes")
                else 'SELECT day AS "day [date]", at AS "at [timestamp]", n FROM d'
            )
            row = conn.execute(sql).fetchone()
            return [f"{type(v).__name__}:{v}" for v in row]
        finally:
            conn.close()

    return outcome(use)


@check(
    title="detect_types: the default date/timestamp converters",
    source=pydoc("Default adapters and converters (deprecated)"),
    params={"decltypes": "decltypes", "colnames": "colnames"},
    layer="driver",
)
async def test_detect_types(ctx: CheckContext, key: str) -> object:
    return await blocking(_detect, ctx.sync_module(), MEMORY, key)


def _executemany_params(module: Any, path: str, key: str) -> Any:
    conn = module.connect(path)
    try:
        conn.execute("CREATE TABLE t (a, b)")
        seqs = {
            "generator": ((i, i) for i in range(3)),
            "iterator": iter([(1, 2), (3, 4)]),
            "dicts": [{"a": 1, "b": 2}],
            "ragged": [(1, 2), (3,)],
            "empty": [],
        }
        sql = "INSERT INTO t VALUES (:a, :b)" if key == "dicts" else "INSERT INTO t VALUES (?, ?)"
        done = outcome(lambda: conn.executemany(sql, seqs[key]).rowcount)
        return {"executemany": done, "rows": conn.execute("SELECT count(*) FROM t").fetchall()}
    finally:
        conn.close()


@check(
    title="executemany() parameter sequences: generator, iterator, dicts, ragged, empty",
    source=pydoc("Cursor objects"),
    params={k: k for k in ("generator", "iterator", "dicts", "ragged", "empty")},
    layer="driver",
)
async def test_executemany_parameters(ctx: CheckContext, key: str) -> object:
    return await blocking(_executemany_params, ctx.sync_module(), MEMORY, key)
