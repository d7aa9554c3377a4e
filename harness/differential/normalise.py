"""Explicit normalisation of what a statement did, so two backends compare exactly and fairly.

- rows: every value typed by storage class and exact value (`stc_harness.observe.sql_value`); compared
  as a multiset (sorted canonically) unless the statement's query orders them;
- row count: only for INSERT/UPDATE/DELETE/REPLACE (what an ORM reads back);
- errors: by `ErrorKind` only (the raw message is kept for the report, never compared), so both
  sides failing with the same kind is agreement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from stc_harness.errors import DatabaseError, ErrorKind
from stc_harness.observe import sql_value


class Outcome(NamedTuple):
    """What one statement did on one backend: `obs` is compared, `message` only shown."""

    obs: dict[str, Any]
    message: str = ""

    @property
    def error(self) -> str | None:
        """The error kind, or None when the statement succeeded."""
        return self.obs.get("error")


_INF = math.inf
_copysign = math.copysign


def _typed(value: Any) -> list[Any]:
    """`sql_value`, with the common cases (int, str, finite non-negative-zero float) inlined."""
    kind = type(value)
    if kind is int:
        return ["integer", value]
    if kind is str:
        return ["text", value]
    if kind is float and -_INF < value < _INF and (value or _copysign(1.0, value) > 0):
        return ["real", value]
    return sql_value(value)  # NULL, blobs, NaN, infinities, -0.0, bool and anything unusual


def typed_rows(rows: Sequence[Sequence[Any]], ordered: bool) -> list[list[Any]]:
    """Rows with storage classes; sorted canonically unless `ordered` (a multiset compares equal)."""
    typed = [[_typed(v) for v in row] for row in rows]
    if not ordered and len(typed) > 1:
        typed.sort(key=repr)
    return typed


def observe(rows: Sequence[Sequence[Any]], rowcount: int, ordered: bool, counted: bool) -> dict[str, Any]:
    """The comparable observation of a statement that succeeded (`ok(...).obs`)."""
    if len(rows) == 1 and len(rows[0]) == 1:  # most statements: one value (`typed_rows`, inlined)
        typed = [[_typed(rows[0][0])]]
    else:
        typed = [[_typed(v) for v in row] for row in rows]
        if not ordered and len(typed) > 1:
            typed.sort(key=repr)
    obs: dict[str, Any] = {"rows": typed}
    if counted:
        obs["rowcount"] = rowcount
    return obs


def ok(rows: Sequence[Sequence[Any]], rowcount: int, ordered: bool, counted: bool) -> Outcome:
    """The outcome of a statement that succeeded."""
    return Outcome(observe(rows, rowcount, ordered, counted))


def failed(exc: DatabaseError) -> Outcome:
    """The outcome of a statement that failed: its kind, with the raw message kept aside."""
    return Outcome({"error": exc.kind.value}, f"{exc.raw.cls}: {exc.raw.message}")


def is_panic(outcome: Outcome) -> bool:
    """Whether the backend panicked on the statement."""
    return outcome.error == ErrorKind.PANIC.value


def observation(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """The comparable form of a whole case (one dict per statement), as regression checks return it."""
    return [o.obs for o in outcomes]
