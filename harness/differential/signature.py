"""Signatures: what makes two disagreements the same finding (category, culprit, storage classes, kind).

`<category>.<head>.<classes>.<kind>`, e.g. `expr.printf.text_real.value`: the shrunk expression's
root (function, operator word, `cast_integer`, `collate_nocase`...), the storage classes of its
arguments as the reference evaluates them, and the kind of disagreement (`stc_harness.differential.compare`).
"""

from __future__ import annotations

from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.runner import DifferentialRunner, Disagreement
from stc_harness.differential.sqlast import Expr, slug


def classes_of(runner: DifferentialRunner, exprs: tuple[Expr, ...]) -> list[str]:
    """Storage classes of expressions as the reference evaluates them (`error` when it fails)."""
    if all(e.kind == "lit" for e in exprs):
        return [e.cls for e in exprs]
    probe = Stmt("SELECT " + ", ".join(f"typeof({{{i}}})" for i in range(len(exprs))), exprs, "probe")
    outcome = runner.run_backend(runner.reference, [Case("probe", (probe,))])[0][0]
    if outcome.error:
        return ["error"] * len(exprs)
    return [str(v[1]) for v in outcome.obs["rows"][0]]


def signature(runner: DifferentialRunner, dis: Disagreement) -> str:
    """The signature of a (shrunk) disagreement."""
    case = dis.case
    stmt = case.statements[min(dis.index, len(case.statements) - 1)]
    classes: list[str] = []
    if case.category == "expr" and stmt.slots:
        root = stmt.slots[0]
        head = root.head()
        classes = [root.cls] if root.kind == "lit" else classes_of(runner, root.kids)
    elif case.category == "agg" and stmt.slots:
        values = stmt.slots if stmt.kind == "group-by" else stmt.slots[1:]
        head = "group_by" if stmt.kind == "group-by" else stmt.slots[0].head()
        classes = sorted({v.cls for v in values if v.kind == "lit"})
    elif case.category == "affinity":
        head = f"{slug(case.tag)}_{stmt.kind.removeprefix('affinity-')}"
        classes = [v.cls for s in case.statements if s.kind == "affinity-store" for v in s.slots
                   if v.kind == "lit"]
    elif dis.kind == "rowcount":  # one cause per verb, whatever the conflict clause
        verb = stmt.sql().lstrip().split(None, 1)[0].lower()
        returning = "_returning" if " RETURNING " in stmt.sql() else ""
        head = ("insert" if verb == "replace" else verb) + returning
    else:
        head = slug(stmt.kind)
    return ".".join((case.category, head, "_".join(sorted(classes) if case.category != "expr" else classes)
                     or "none", dis.kind))
