"""Expanding templates into concrete cases: holes filled from value pools by a seeded `random.Random`.

A template is compiled once into SQL text with numbered hole markers; a concrete case is then just
the values chosen for its holes and the SQL strings they make (no tree rebuilding), so expansion
costs microseconds. Only a case that disagrees is materialised back into a tree for shrinking.
Hypothesis gives the shapes their variety; the expansion gives the throughput.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.generators import EXPANSION, POOLS_ALL, Plan
from stc_harness.differential.sqlast import Expr, lit
from stc_harness.differential.values import ANY, MIX, STRICT
from stc_harness.differential.wire import WireCase

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

    @functools.cached_property
    def sources(self) -> tuple[tuple[int, Sequence[Expr], int, int], ...]:
        """Per hole, how `pick` chooses its value (`_ANY_ONLY`, `_MIXED` or `_STRICT`), from which pool,
        the pool's size and the bits `random.Random` draws to choose in it."""
        out = []
        for d in self.domains:
            pool = POOLS_ALL[d]
            how = _ANY_ONLY if d == "any" else _STRICT if d in STRICT else _MIXED
            out.append((how, pool, len(pool), len(pool).bit_length()))
        return tuple(out)


#: How a hole of a domain is filled (see `pick`): from ANY (or the extras) only; from its own pool
#: but sometimes (MIX) from ANY; from its own pool only.
_ANY_ONLY, _MIXED, _STRICT = 0, 1, 2


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


class Concrete:
    """One concrete case: a compiled template, the values chosen for its holes, and its SQL."""

    def __init__(self, compiled: Compiled, values: tuple[Expr, ...], texts: tuple[str, ...], rendered: str,
                 wire: WireCase) -> None:
        self.compiled = compiled
        self.values = values
        self.texts = texts
        self.rendered = rendered
        self.wire = wire  # the case as a worker receives it

    @property
    def category(self) -> str:
        """The template's category."""
        return self.compiled.template.category

    @property
    def stateful(self) -> bool:
        """Whether it needs its own fresh database."""
        return self.compiled.template.stateful

    @property
    def statements(self) -> tuple[Fast, ...]:
        """The statements, ready to run."""
        return tuple(Fast(text, *meta) for text, meta in zip(self.texts, self.compiled.meta, strict=True))

    def script(self) -> str:
        """The statements as one script."""
        return self.rendered

    def materialise(self) -> Case:
        """The full case, with expression trees (for shrinking and signatures)."""
        return _fill_template(self.compiled.template, self.values)


def concrete(compiled: Compiled, values: tuple[Expr, ...]) -> Concrete:
    """Build the concrete case for chosen hole values."""
    labels = [v.label for v in values]
    stateful = compiled.template.stateful
    if len(compiled.formats) == 1:  # most cases: one statement
        text = compiled.formats[0].format(*labels)
        _, ordered, counted = compiled.meta[0]
        return Concrete(compiled, values, (text,), text + ";", (stateful, ((text, ordered, counted),)))
    texts = tuple(fmt.format(*labels) for fmt in compiled.formats)
    wire = (stateful, tuple((text, ordered, counted)
                            for text, (_, ordered, counted) in zip(texts, compiled.meta, strict=True)))
    return Concrete(compiled, values, texts, ";\n".join(texts) + ";", wire)


def pick(domain: str, rng: random.Random, extras: Sequence[Expr]) -> Expr:
    """A value for a hole of `domain` (sometimes from ANY or the drawn extras instead)."""
    if domain == "any" or (domain not in STRICT and rng.random() < MIX):
        if extras and rng.random() < 0.15:
            return rng.choice(extras)
        return rng.choice(ANY)
    return rng.choice(POOLS_ALL[domain])


def _expand(compiled: Compiled, times: int, rng: random.Random, extras: Sequence[Expr]) -> list[Concrete]:
    """`times` concrete cases, each hole filled by `pick`, drawing exactly the same random numbers.

    `rng.choice(s)` is `s[rng._randbelow(len(s))]`, and a `random.Random`'s `_randbelow(n)` draws
    `getrandbits(n.bit_length())` until the value is below n: that is inlined here.
    """
    getrandbits, uniform = rng.getrandbits, rng.random
    n_extras = len(extras)
    k_extras = n_extras.bit_length()
    n_any = len(ANY)
    k_any = n_any.bit_length()
    sources = compiled.sources
    stateful = compiled.template.stateful
    single = len(compiled.formats) == 1  # most templates: one statement (`concrete`, inlined)
    fmt = compiled.formats[0].format if single else str.format
    _, ordered, counted = compiled.meta[0] if single else ("", False, False)
    out = []
    for _ in range(times):
        values = []
        for how, pool, n, k in sources:
            if how == _STRICT or (how == _MIXED and uniform() >= MIX):
                pass
            elif extras and uniform() < 0.15:
                pool, n, k = extras, n_extras, k_extras
            else:
                pool, n, k = ANY, n_any, k_any
            r = getrandbits(k)
            while r >= n:
                r = getrandbits(k)
            values.append(pool[r])
        if single:
            text = fmt(*[v.label for v in values])
            out.append(Concrete(compiled, tuple(values), (text,), text + ";",
                                (stateful, ((text, ordered, counted),))))
        else:
            out.append(concrete(compiled, tuple(values)))
    return out


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
        if type(rng) is random.Random:  # whose `choice` is known: the inlined draws are the same
            return _expand(compiled, times, rng, extras)
        return [concrete(compiled, tuple(pick(d, rng, extras) for d in compiled.domains))
                for _ in range(times)]

    def expand_plan(self, plan: Plan, rng: random.Random) -> list[Concrete]:
        """Every concrete case of one hypothesis example, in a fixed order."""
        return [case for t in plan.templates for case in self.expand(t, rng, plan.extras)]
