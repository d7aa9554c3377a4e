"""What differs between two rendered values: a type, a case, quoting, spacing, order, count, the value.

The traces render each result as a Python literal (`[(1, 'a')]`); two renderings of one call's result are
compared cell by cell and the difference named by kind (`int-vs-real`, `case-folded`,
`whitespace-collapsed`, `requoted`, ...), so a user's divergence and a check's can be matched by structure.
"""

from __future__ import annotations

import ast
import re
from typing import Any

_TYPE_ARGS = re.compile(r"\(\s*\d+\s*(?:,\s*\d+\s*)?\)")


def _literal(text: str) -> Any:
    text = text.removeprefix("await→")
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _UNPARSED


_UNPARSED: Any = object()


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    return [value]


def value_kind(sqlite: str, turso: str) -> str:
    """What differs between two rendered values: a type, a case, type arguments, order, count, the value."""
    a, b = _literal(sqlite), _literal(turso)
    if a is _UNPARSED or b is _UNPARSED:
        return "value"
    if (a is None) != (b is None) and isinstance(a if b is None else b, tuple):
        return "row-count"  # fetchone(): a row on one side, none on the other
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return "row-count"
        if sorted(map(repr, a)) == sorted(map(repr, b)):
            return "row-order"
    fa, fb = _flat(a), _flat(b)
    if len(fa) != len(fb):
        return "shape"
    for x, y in zip(fa, fb, strict=True):
        if not (x == y and type(x) is type(y)):
            return cell_kind(x, y)
    return "value"


def cell_kind(x: Any, y: Any) -> str:
    """What differs between two single values (a row's cell): a type, a case, quoting, the value."""
    if x is None or y is None:
        return "null-vs-value"
    if {type(x), type(y)} == {int, float}:
        return "int-vs-real" if x == y else "numeric-value"
    if isinstance(x, float) and isinstance(y, float):
        return "float-precision" if abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1.0) else "numeric-value"
    if {type(x), type(y)} <= {str, bytes, bytearray}:
        return _text_kind(x, y)
    if type(x) is not type(y):
        return f"type-{type(x).__name__}-vs-{type(y).__name__}"
    return "value"


def _text_kind(x: Any, y: Any) -> str:
    if type(x) is not type(y):
        return "text-vs-blob"
    a, b = str(x), str(y)
    if a.lower() == b.lower():
        # a name or keyword re-cased whole ('CapT table' listed as 'capt table', current_timestamp read
        # back as CURRENT_TIMESTAMP) vs a statement's keywords re-cased around names kept as written
        return "case-folded" if b in (a.lower(), a.upper()) else "text-case"
    if "".join(a.split()) == "".join(b.split()):
        # SQL text laid out anew: spacing and line breaks taken out, or spaces put in
        return "whitespace-collapsed" if _spaces(b) < _spaces(a) else "whitespace-added"
    if _TYPE_ARGS.sub("", a) == _TYPE_ARGS.sub("", b):
        return "type-arguments-lost"
    if a.replace('"', "'") == b.replace('"', "'"):
        return "quote-style"  # the same text quoted another way: an expression rendered anew
    if _bare(a, "()") == _bare(b, "()"):
        return "parenthesised"  # the same expression with or without brackets (and spacing)
    if _bare(a, "\"'`[]") == _bare(b, "\"'`[]"):
        return "requoted"  # identifiers' quotes taken out or put in (and spacing)
    if _bare(a, "").lower() == _bare(b, "").lower():
        return "case-and-spacing"  # keywords upper-cased, spacing redone: a statement rendered anew
    return "text-value"


def _spaces(text: str) -> int:
    return sum(ch.isspace() for ch in text)


def _bare(text: str, drop: str) -> str:
    return "".join(ch for ch in "".join(text.split()) if ch not in drop)


def differing_cells(sqlite: str, turso: str) -> frozenset[int]:
    """The column positions whose values differ between two fetched results of the same shape (rows)."""
    a, b = _literal(sqlite), _literal(turso)
    rows_a, rows_b = _rows(a), _rows(b)
    if rows_a is None or rows_b is None or len(rows_a) != len(rows_b):
        return frozenset()
    cells = set()
    for ra, rb in zip(rows_a, rows_b, strict=True):
        if len(ra) != len(rb):
            return frozenset()
        cells |= {j for j, (x, y) in enumerate(zip(ra, rb, strict=True)) if x != y or type(x) is not type(y)}
    return frozenset(cells)


def flat_values(text: str) -> list[Any] | None:
    """Every value of a rendered result, flattened (rows of a fetchall and a fetchone alike), or None."""
    value = _literal(text)
    return None if value is _UNPARSED else _flat(value)


def _rows(value: Any) -> list[tuple[Any, ...]] | None:
    if isinstance(value, tuple):
        return [value]
    if isinstance(value, list) and all(isinstance(r, tuple) for r in value):
        return value
    return None
