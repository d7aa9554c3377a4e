"""The structure of a divergence that a check's divergence and a user's are compared by.

The kind of call (`execute`, `fetch`, `create_function`), the kind of difference, the error classes, the
statement's kind, keywords and functions (literals and names stripped), unusual parameter types, and for a
PRAGMA's rows the columns that differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from stc_harness.dropin.align import Divergence
from stc_harness.dropin.sqlshape import sql_features, statement_kind
from stc_harness.dropin.trace import ROW_READS, SQL_FIRST
from stc_harness.dropin.values import differing_cells

_GROUPS = {**dict.fromkeys(SQL_FIRST, "execute"), **dict.fromkeys(ROW_READS, "fetch")}
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")


def connect_target(args: str) -> set[str]:
    """What a connect() opens, as a feature: a `file:` URI, a memory database, an empty name."""
    first = args.split(",", 1)[0].strip().strip("'\"")
    if first.startswith("file:"):
        return {"connect:uri"}
    if first == ":memory:":
        return {"connect:memory"}
    return {"connect:empty"} if not first else set()


def call_group(call: str) -> str:
    """The kind of call: `execute`, `fetch`, or the method/function name (`create_function`, `rowcount`)."""
    leaf = call.rsplit(".", 1)[-1].split("(")[0]
    if call == "sqlalchemy.execute":
        return "execute"
    return _GROUPS.get(leaf, leaf)


def statement_of(args: str) -> str:
    """The SQL text of a call's arguments (its first quoted string), or empty."""
    text = args.removeprefix("of ")
    found = _QUOTED.match(text)
    if not found:
        return ""
    return (found.group(1) if found.group(1) is not None else found.group(2) or "").replace("\\'", "'")


def _classes(d: Divergence) -> tuple[str, str]:
    def cls(text: str) -> str:
        return text.removeprefix("raised ").split(":", 1)[0].strip() if text.startswith("raised ") else ""

    return cls(d.sqlite), cls(d.turso)


@dataclass(frozen=True)
class Signature:
    """The structure of a divergence that a check's divergence and a user's are compared by."""

    group: str
    kind: str
    classes: tuple[str, str]
    statement: str
    features: frozenset[str]
    #: The column positions whose values differ, when both sides fetched rows of one shape.
    cells: frozenset[int] = frozenset()

    @classmethod
    def of(cls, d: Divergence) -> Signature:
        """The signature of one divergence."""
        group = call_group(d.call)
        sql = statement_of(d.args) if group == "execute" or d.args.startswith("of ") else ""
        features = set(sql_features(sql)) if sql else set()
        if group == "execute":
            features |= param_types(d.args)
        if group == "connect":
            features |= connect_target(d.args)
        statement = statement_kind(sql) if sql else ""
        # table_xinfo is table_info with hidden columns added, index_xinfo index_info with more columns:
        # the same rows, the same first columns, so the same differences
        statement = _EXTENDED.get(statement, statement)
        features = {_EXTENDED_FEATURES.get(f, f) for f in features}
        # a PRAGMA's columns are fixed (table_info's 4th is dflt_value); a SELECT's depend on its list
        cells = differing_cells(d.sqlite.removeprefix("→ "), d.turso.removeprefix("→ ")) \
            if group == "fetch" and statement.startswith("pragma") else frozenset()
        return cls(group, d.kind, _classes(d), statement, frozenset(features), cells)

    def as_list(self) -> list[Any]:
        """JSON-ready form."""
        return [self.group, self.kind, list(self.classes), self.statement, sorted(self.features),
                sorted(self.cells)]

    @classmethod
    def from_list(cls, data: list[Any]) -> Signature:
        """Inverse of `as_list`."""
        cells = frozenset(data[5]) if len(data) > 5 else frozenset()
        return cls(data[0], data[1], (data[2][0], data[2][1]), data[3], frozenset(data[4]), cells)


_EXTENDED = {"pragma table_xinfo": "pragma table_info", "pragma index_xinfo": "pragma index_info"}
_EXTENDED_FEATURES = {f"{prefix}:{long}": f"{prefix}:{short}" for prefix in ("fn", "pragma")
                      for long, short in (("table_xinfo", "table_info"), ("index_xinfo", "index_info"))}


def context_of(events: list[list[str]], position: int) -> frozenset[str]:
    """What the statements run before a call were about (their SQL features): the call's context.

    The call's own statement (the execute a fetch reads from) is not context.
    """
    own = statement_of(events[position][1]) if 0 <= position < len(events) else ""
    found: set[str] = set()
    for event in events[: max(position, 0)]:
        if call_group(event[0]) == "execute":
            sql = statement_of(event[1])
            if sql and sql != own:
                found.update(sql_features(sql))
    return frozenset(found)


_PARAM_TYPES = {"datetime.date(": "date", "datetime.datetime(": "datetime", "datetime.time(": "time",
                "datetime.timedelta(": "timedelta", "Decimal(": "Decimal", "bytearray(": "bytearray",
                "memoryview(": "memoryview", "UUID(": "UUID", "PosixPath(": "Path"}


def param_types(args: str) -> set[str]:
    """`param:<type>` for each parameter of a type the drivers may bind differently (not int/str/bytes...)."""
    tail = args[len(statement_of(args)) + 2:] if statement_of(args) else args
    found = {f"param:{name}" for marker, name in _PARAM_TYPES.items() if marker in tail}
    if re.search(r"[(,] \{'|\(\{", tail):
        found.add("param:dict")
    if re.search(r"<(?!Cursor|Connection)\w+>", tail):
        found.add("param:object")
    return found
