"""A generated case: a short statement sequence that every backend runs on a fresh database."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from stc_harness.differential.sqlast import Expr

#: Statement verbs whose row count (DB-API `rowcount`) is compared too.
COUNTED_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@dataclass(frozen=True)
class Stmt:
    """One statement: a template with `{0}`, `{1}`... slots filled by expression trees.

    `kind` names what it does (for signatures); `ordered` says its rows compare as a sequence (the
    query has a total ORDER BY), otherwise as a multiset.
    """

    template: str
    slots: tuple[Expr, ...] = ()
    kind: str = "select"
    ordered: bool = False

    def sql(self) -> str:
        """The statement's SQL text (rendered once)."""
        return self.rendered

    @functools.cached_property
    def rendered(self) -> str:
        """The SQL text, cached: a case is rendered for de-duplication and again by every backend."""
        if not self.slots:
            return self.template
        return self.template.format(*(s.render() for s in self.slots))

    @property
    def counted(self) -> bool:
        """Whether the row count is part of the comparison (INSERT/UPDATE/DELETE/REPLACE)."""
        return self.template.lstrip().upper().startswith(COUNTED_VERBS)

    def size(self) -> int:
        """Nodes in all slots (for shrinking order)."""
        return sum(s.size() for s in self.slots)


class Runnable(Protocol):
    """What the engines and the runner need of a case (a `Case`, or a fast `expand.Concrete`)."""

    @property
    def category(self) -> str:
        """The case family."""
        ...

    @property
    def stateful(self) -> bool:
        """Whether it needs its own fresh database."""
        ...

    @property
    def statements(self) -> Sequence[Any]:
        """Statements with `sql()`, `kind`, `ordered` and `counted`."""
        ...

    def script(self) -> str:
        """The statements as one script."""
        ...


@dataclass(frozen=True)
class Case:
    """A statement sequence of one category (expr, agg, affinity, dml).

    A stateless case (one SELECT over constants) may share a fresh database with the other stateless
    cases of its batch; a stateful one always gets its own fresh database.
    """

    category: str
    statements: tuple[Stmt, ...]
    stateful: bool = False
    tag: str = ""
    origin: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def sqls(self) -> list[str]:
        """The SQL of every statement, in order."""
        return [s.sql() for s in self.statements]

    def script(self) -> str:
        """The statements as one script, one per line, each ending with a semicolon."""
        return self.rendered

    @functools.cached_property
    def rendered(self) -> str:
        """The script, cached."""
        return "\n".join(sql + ";" for sql in self.sqls())

    def size(self) -> tuple[int, int, int, str]:
        """An order on cases that every shrinking step must decrease (so shrinking terminates)."""
        script = self.script()
        return (len(self.statements), sum(s.size() for s in self.statements), len(script), script)

    def with_statements(self, statements: tuple[Stmt, ...]) -> Case:
        """A copy with other statements."""
        return replace(self, statements=statements)
