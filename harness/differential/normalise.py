"""Explicit normalisation of what a statement did, so two backends compare exactly and fairly.

- rows: every value typed by storage class and exact value (`harness.observe.sql_value`); compared
  as a multiset (sorted canonically) unless the statement's query orders them;
- row count: only for INSERT/UPDATE/DELETE/REPLACE (what an ORM reads back);
- errors: by `ErrorKind` only (the raw message is kept for the report, never compared), so both
  sides failing with the same kind is agreement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from harness.errors import DatabaseError, ErrorKind
from harness.observe import sql_value


class Outcome(NamedTuple):
    """What one statement did on one backend: `obs` is compared, `message` only shown."""

    obs: dict[str, Any]
    message: str = ""

    @property
    def error(self) -> str | None:
        """The error kind, or None when the statement succeeded."""
        return self.obs.get("error")


def typed_rows(rows: Sequence[Sequence[Any]], ordered: bool) -> list[list[Any]]:
    """Rows with storage classes; sorted canonically unless `ordered` (a multiset compares equal)."""
    typed = [[sql_value(v) for v in row] for row in rows]
    if not ordered and len(typed) > 1:
        typed.sort(key=repr)
    return typed


def ok(rows: Sequence[Sequence[Any]], rowcount: int, ordered: bool, counted: bool) -> Outcome:
    """The outcome of a statement that succeeded."""
    obs: dict[str, Any] = {"rows": typed_rows(rows, ordered)}
    if counted:
        obs["rowcount"] = rowcount
    return Outcome(obs)


def failed(exc: DatabaseError) -> Outcome:
    """The outcome of a statement that failed: its kind, with the raw message kept aside."""
    return Outcome({"error": exc.kind.value}, f"{exc.raw.cls}: {exc.raw.message}")


def is_panic(outcome: Outcome) -> bool:
    """Whether the backend panicked on the statement."""
    return outcome.error == ErrorKind.PANIC.value


def observation(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """The comparable form of a whole case (one dict per statement), as regression checks return it."""
    return [o.obs for o in outcomes]
