"""Shrinking a disagreement to a minimal statement sequence (greedy delta debugging, batched).

Each round lists simpler variants of the current case (drop a statement; hoist a sub-expression;
replace a node by a simple literal; simplify a literal; drop a function argument or IN item), runs
them all in one batch on every backend, and keeps the first that still shows the same disagreement
(same backend, same kind, same kind of statement). Every accepted step makes `Case.size()` smaller,
so shrinking terminates; it is deterministic because the candidate order is.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.runner import DifferentialRunner, Disagreement
from stc_harness.differential.sqlast import Expr
from stc_harness.differential.values import NULL, blob_lit, int_lit, real_lit, text_lit

Reproduces = Callable[[Sequence[Case]], list[bool]]

#: Simpler literals to try, by storage class of the literal being simplified.
SIMPLER: dict[str, tuple[Expr, ...]] = {
    "integer": (int_lit(0), int_lit(1), int_lit(-1), int_lit(2)),
    "real": (real_lit(0.0), real_lit(1.0), real_lit(0.5), real_lit(1.5)),
    "text": (text_lit(""), text_lit("a"), text_lit("1")),
    "blob": (blob_lit(b""), blob_lit(b"\x00")),
    "null": (),
}
#: Literals any sub-expression may be replaced with.
STAND_INS: tuple[Expr, ...] = (NULL, int_lit(0), int_lit(1), text_lit(""), real_lit(0.5), text_lit("a"))

CHUNK = 64


def _expr_variants(expr: Expr, keep_root: bool) -> Iterator[Expr]:
    for path, node in expr.walk():
        if keep_root and not path:
            continue
        if node.kind not in ("lit", "col", "hole"):
            for kid in node.kids:
                yield expr.put(path, kid)
            for stand_in in STAND_INS:
                yield expr.put(path, stand_in)
            if node.kind == "call" and node.kids:
                for i in range(len(node.kids)):
                    yield expr.put(path, replace(node, kids=node.kids[:i] + node.kids[i + 1:]))
            if node.kind == "in" and len(node.kids) > 2:
                for i in range(1, len(node.kids)):
                    yield expr.put(path, replace(node, kids=node.kids[:i] + node.kids[i + 1:]))
        elif node.kind == "lit":
            for simpler in (*SIMPLER.get(node.cls, ()), NULL):
                if simpler != node:
                    yield expr.put(path, simpler)


_ROW = re.compile(r"\((\{\d+\}(?:, \{\d+\})*)\)")
_SLOT = re.compile(r"\{(\d+)\}")


def _row_variants(stmt: Stmt) -> Iterator[Stmt]:
    """The statement without one of its `VALUES (...)` rows (slots renumbered), if it has several."""
    if "VALUES" not in stmt.template:
        return
    rows = list(_ROW.finditer(stmt.template))
    if len(rows) < 2:
        return
    for row in rows:
        dropped = {int(n) for n in _SLOT.findall(row.group(1))}
        kept = [i for i in range(len(stmt.slots)) if i not in dropped]
        new_index = {old: new for new, old in enumerate(kept)}
        start, end = row.span()
        if stmt.template[end:end + 2] == ", ":
            end += 2
        elif stmt.template[start - 2:start] == ", ":
            start -= 2
        template = _SLOT.sub(lambda m, ix=new_index: "{" + str(ix[int(m.group(1))]) + "}",
                             stmt.template[:start] + stmt.template[end:])
        yield replace(stmt, template=template, slots=tuple(stmt.slots[i] for i in kept))


_TABLE = re.compile(r"^CREATE TABLE (\w+)\((.*)\)(.*)$")


def _schema_variants(stmt: Stmt) -> Iterator[Stmt]:
    """A CREATE TABLE with one column definition cut short (constraints, then the type, dropped)."""
    match = _TABLE.match(stmt.template)
    if stmt.slots or match is None:
        return
    defs = re.split(r", (?=c\d+\b)", match.group(2))
    for i, definition in enumerate(defs):
        words = definition.split()
        for keep in range(1, len(words)):
            cut = [*defs[:i], " ".join(words[:keep]), *defs[i + 1:]]
            yield replace(stmt, template=f"CREATE TABLE {match.group(1)}({', '.join(cut)}){match.group(3)}")


def candidates(case: Case) -> Iterator[Case]:
    """Simpler variants of `case`, biggest reductions first (duplicates and non-reductions included)."""
    stmts = case.statements
    if len(stmts) > 1:
        for i in range(len(stmts)):
            yield case.with_statements(stmts[:i] + stmts[i + 1:])
    for i, stmt in enumerate(stmts):
        variants = _row_variants(stmt) if case.category != "dml" else \
            (*_row_variants(stmt), *_schema_variants(stmt))
        for variant in variants:
            yield case.with_statements((*stmts[:i], variant, *stmts[i + 1:]))
    for i, stmt in enumerate(stmts):
        for j, slot in enumerate(stmt.slots):
            keep_root = j == 0 and stmt.kind == "agg"
            for variant in _expr_variants(slot, keep_root):
                slots = (*stmt.slots[:j], variant, *stmt.slots[j + 1:])
                new: Stmt = replace(stmt, slots=slots)
                yield case.with_statements((*stmts[:i], new, *stmts[i + 1:]))


def shrink(case: Case, reproduces: Reproduces, max_rounds: int = 80) -> tuple[Case, int]:
    """The smallest variant of `case` found that still reproduces, and the number of rounds run."""
    current = case
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        size = current.size()
        seen: set[str] = set()
        cands = []
        for cand in candidates(current):
            script = cand.script()
            if script not in seen and cand.size() < size:
                seen.add(script)
                cands.append(cand)
        found = None
        for start in range(0, len(cands), CHUNK):
            chunk = cands[start:start + CHUNK]
            hits = reproduces(chunk)
            found = next((c for c, hit in zip(chunk, hits, strict=True) if hit), None)
            if found is not None:
                break
        if found is None:
            break
        current = found
    return current, rounds


def reads_clock(obs: Any) -> bool:
    """Whether a result looks like the current date or time (today's date, or now as epoch/Julian day)."""
    now = dt.datetime.now(dt.timezone.utc)
    today = now.strftime("%Y-%m-%d")
    epoch = now.timestamp()
    julian = epoch / 86400.0 + 2440587.5

    def near_now(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return abs(value - epoch) < 172800 or abs(value - julian) < 2
        if isinstance(value, str):
            return today in value or now.strftime("%H:%M") in value
        if isinstance(value, (list, tuple)):
            return any(near_now(v) for v in value)
        if isinstance(value, dict):
            return any(near_now(v) for v in value.values())
        return False

    return near_now(obs.get("rows", []))


def reproducer(runner: DifferentialRunner, original: Disagreement) -> Reproduces:
    """A predicate: does a candidate show the same disagreement (backend, kind, kind of statement)?"""
    def reproduces(cases: Sequence[Case]) -> list[bool]:
        batch = list(cases)
        hits = {id(d.case) for d in runner.run_and_compare(batch, count=False)
                if d.backend == original.backend and d.kind == original.kind
                and d.statement_kind == original.statement_kind}
        return [id(case) in hits for case in batch]

    return reproduces


def shrink_disagreement(runner: DifferentialRunner, dis: Disagreement,
                        max_rounds: int = 80) -> tuple[Disagreement, int, bool]:
    """Shrink a disagreement; re-run the minimal case three times to record what each backend did.

    The third value says whether the three runs gave the same outcomes (False: a backend answers
    differently from run to run, e.g. it reads the clock; such a finding cannot be a regression case).
    """
    small, rounds = shrink(dis.case, reproducer(runner, dis), max_rounds)
    runs = []
    for _ in range(3):
        runs.append(runner.run([small], count=False)[0])
        time.sleep(0.002)  # let a millisecond clock tick between runs
    stable = all({k: [o.obs for o in v] for k, v in r.items()} ==
                 {k: [o.obs for o in v] for k, v in runs[0].items()} for r in runs[1:])
    stable = stable and not any(reads_clock(o.obs) for outcomes in runs[0].values() for o in outcomes)
    again = [d for d in runner.compare(small, runs[0]) if d.backend == dis.backend]
    if not again:  # the minimal case stopped disagreeing (an unstable backend): keep the original
        return dis, rounds, False
    return again[0], rounds, stable
