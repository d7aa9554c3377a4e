"""Expanding templates into concrete cases: holes filled from value pools by a seeded `random.Random`.

A template is compiled once into SQL text with numbered hole markers; a concrete case is then just
the values chosen for its holes and the SQL strings they make (no tree rebuilding), so expansion
costs microseconds. Only a case that disagrees is materialised back into a tree for shrinking.
Hypothesis gives the shapes their variety; the expansion gives the throughput.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from harness.differential.case import Case, Stmt
from harness.differential.generators import EXPANSION, POOLS_ALL, Plan
from harness.differential.sqlast import Expr, lit
from harness.differential.values import ANY, MIX, STRICT

_MARK = re.compile("\x00(\\d+)\x00")


class Fast(NamedTuple):
    """A statement ready to run: its SQL text and how its result compares."""

    text: str
    kind: str
    ordered: bool
    counted: bool

    def sql(self) -> str:
        """The SQL text."""
        return self.text


def _number_holes(expr: Expr, counter: list[int], replace_with: Sequence[Expr] | None) -> Expr:
    def visit(node: Expr) -> Expr:
        if node.kind != "hole":
            return node
        n = counter[0]
        counter[0] += 1
        return lit(f"\x00{n}\x00", "hole") if replace_with is None else replace_with[n]

    return expr.map(visit)


def _fill_template(template: Case, values: Sequence[Expr] | None) -> Case:
    counter = [0]
    stmts = tuple(Stmt(s.template, tuple(_number_holes(x, counter, values) for x in s.slots), s.kind,
                       s.ordered) if s.slots else s for s in template.statements)
    return template.with_statements(stmts)


@dataclass(frozen=True)
class Compiled:
    """A template compiled to SQL pieces: static text and hole numbers, per statement."""

    template: Case
    formats: tuple[str, ...]
    meta: tuple[tuple[str, bool, bool], ...]
    domains: tuple[str, ...]
    key: str

    @property
    def capacity(self) -> int:
        """Roughly how many different cases it can expand into (its holes' pool sizes multiplied)."""
        total = 1
        for domain in self.domains:
            pool = len(POOLS_ALL[domain])
            total *= pool if domain in STRICT or domain == "any" else pool + len(ANY)
        return total


def compile_template(template: Case) -> Compiled:
    """Compile a template (a case whose slots hold holes)."""
    domains = [node.label for s in template.statements for slot in s.slots for _, node in _post_order(slot)
               if node.kind == "hole"]
    marked = _fill_template(template, None)
    formats = []
    for stmt in marked.statements:
        parts = _MARK.split(stmt.sql())
        formats.append("".join(p.replace("{", "{{").replace("}", "}}") if i % 2 == 0 else "{" + p + "}"
                               for i, p in enumerate(parts)))
    meta = tuple((s.kind, s.ordered, s.counted) for s in template.statements)
    return Compiled(template, tuple(formats), meta, tuple(domains), marked.script())


def _post_order(expr: Expr) -> list[tuple[int, Expr]]:
    out: list[tuple[int, Expr]] = []

    def visit(node: Expr) -> Expr:
        out.append((len(out), node))
        return node

    expr.map(visit)
    return out


@dataclass(frozen=True, eq=False)
class Concrete:
    """One concrete case: a compiled template and the values chosen for its holes."""

    compiled: Compiled
    values: tuple[Expr, ...]
    statements: tuple[Fast, ...]
    rendered: str = field(default="")

    @property
    def category(self) -> str:
        """The template's category."""
        return self.compiled.template.category

    @property
    def stateful(self) -> bool:
        """Whether it needs its own fresh database."""
        return self.compiled.template.stateful

    def script(self) -> str:
        """The statements as one script."""
        return self.rendered

    def materialise(self) -> Case:
        """The full case, with expression trees (for shrinking and signatures)."""
        return _fill_template(self.compiled.template, self.values)


def concrete(compiled: Compiled, values: tuple[Expr, ...]) -> Concrete:
    """Build the concrete case for chosen hole values."""
    labels = [v.label for v in values]
    stmts = tuple(Fast(fmt.format(*labels), *meta)
                  for fmt, meta in zip(compiled.formats, compiled.meta, strict=True))
    return Concrete(compiled, values, stmts, ";\n".join(s.text for s in stmts) + ";")


def pick(domain: str, rng: random.Random, extras: Sequence[Expr]) -> Expr:
    """A value for a hole of `domain` (sometimes from ANY or the drawn extras instead)."""
    if domain == "any" or (domain not in STRICT and rng.random() < MIX):
        if extras and rng.random() < 0.15:
            return rng.choice(extras)
        return rng.choice(ANY)
    return rng.choice(POOLS_ALL[domain])


class Expander:
    """Expands templates, remembering how often each was expanded so a repeated template adds little."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}

    def expand(self, template: Case, rng: random.Random, extras: Sequence[Expr]) -> list[Concrete]:
        """Concrete cases of one template: the category's `EXPANSION`, less once near its capacity."""
        compiled = compile_template(template)
        done = self.used.get(compiled.key, 0)
        times = max(0, min(EXPANSION[template.category], max(1, compiled.capacity // 2) - done))
        self.used[compiled.key] = done + times
        return [concrete(compiled, tuple(pick(d, rng, extras) for d in compiled.domains))
                for _ in range(times)]

    def expand_plan(self, plan: Plan, rng: random.Random) -> list[Concrete]:
        """Every concrete case of one hypothesis example, in a fixed order."""
        return [case for t in plan.templates for case in self.expand(t, rng, plan.extras)]
