"""One vocabulary: outside `harness/outcomes.py` no module spells an outcome, attribution or impact.

An AST lint over `harness/`, `backends/` and `plugins/` (docstrings and comments are not code, so they may
say the words). What it flags:

- a *distinct* vocabulary value as a string literal anywhere in code (`"documented-difference"`,
  `"sqlite-version"`, `"missing-api"`, ...): those spellings mean nothing else here;
- an *ambiguous* value (`"same"`, `"error"`, `"crash"`, `"timeout"`, `"unsupported"`, `"turso"`, `"unknown"`:
  words the code also uses for an observation's error key, a hunt's disagreement kind, the backend id, a
  missing version) only where it plays the vocabulary's part: beside a distinct value in one literal
  (a tuple, a set, a dict's keys or its values, the arms of `a if c else b`), compared with or assigned
  to something named `outcome`, `attribution`, `whose` or `impact`, or the default of `.get("outcome", ...)`;
- a module-level assignment to a name `harness/outcomes.py` defines (`DIFFERS = (...)`, `NOT_RUN = ...`):
  a copy, unless it only aliases another name.

`ALLOWED` lists the literals left on purpose, one reason each; an entry that no longer matches fails too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from stc_harness import outcomes

ROOT = Path(__file__).resolve().parent.parent
#: The trees the lint reads.
SCANNED = ("harness", "backends", "plugins")
#: The one module allowed to spell the vocabulary.
HOME = "harness/outcomes.py"
#: Every value of the vocabulary the lint guards: outcomes, attributions, impact classes.
VOCABULARY = frozenset({*outcomes.OUTCOMES, outcomes.NOT_RUN, *outcomes.ATTRIBUTIONS, *outcomes.IMPACTS,
                        outcomes.UNKNOWN_IMPACT})
#: Values that are also everyday words here: flagged only where they play the vocabulary's part.
AMBIGUOUS = frozenset({outcomes.SAME, outcomes.ERROR, outcomes.CRASH, outcomes.TIMEOUT, outcomes.UNSUPPORTED,
                       outcomes.TURSO_OWN, outcomes.UNKNOWN_IMPACT})
DISTINCT = VOCABULARY - AMBIGUOUS
#: Names that hold a vocabulary value: a literal compared with or assigned to one of them is vocabulary.
FIELDS = ("outcome", "attribution", "whose", "impact")
#: Names outcomes.py defines, with their values: a module that assigns one at its top level keeps a copy.
DEFINED = {n: v for n, v in vars(outcomes).items() if n.isupper()}

#: Literals left on purpose: path -> (the values it may spell, `=NAME` for a copy; why). An entry
#: that names a file another session owns this round is to go when that owner imports the names.
ALLOWED: dict[str, tuple[frozenset[str], str]] = {
    "harness/dropin/records.py": (
        frozenset({"=ERROR", "=CRASH", "=TIMEOUT", "=NOT_RUN", "crash", "timeout", "not-run"}),
        "the drop-in's own outcomes of a user's pytest test (passed, failed, error, skipped, and crash, "
        "timeout, not-run from its runner): another axis than a check's outcome, spelled once there"),
    "harness/dropin/section.py": (
        frozenset({"=SAME"}), "the drop-in's line categories (turso-only, both, sqlite-only, same): another "
        "axis than a check's outcome, spelled once there"),
    "plugins/libsql/scripts/draft_registry.py": (
        frozenset({"undocumented-difference", "crash", "timeout", "turso", "sqlite-version", "missing-api",
                   "error-appears-or-disappears", "different-error", "silent-data-change"}),
        "outcomes, attributions and impact classes of the libSQL draft script: to import from "
        "stc_harness.outcomes; plugins/libsql/ is another session's this round"),
}


def sources() -> Iterator[Path]:
    """Every Python file the lint reads, `harness/outcomes.py` excepted."""
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            if path.relative_to(ROOT).as_posix() != HOME:
                yield path


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of a tree (they are prose, not code)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _word(node: ast.AST) -> str | None:
    """A vocabulary value the node spells, if it is a string literal of one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in VOCABULARY:
        return node.value
    return None


def _names_a_field(node: ast.AST) -> bool:
    """Whether an expression reads or names an outcome, attribution or impact (`res["outcome"]`, `whose`)."""
    text = ast.unparse(node).lower()
    return any(f in text for f in FIELDS)


def _groups(node: ast.AST) -> Iterator[list[ast.AST]]:
    """Groups of sibling expressions in which one distinct value makes its neighbours vocabulary too."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        yield node.elts
    elif isinstance(node, ast.Dict):
        yield [k for k in node.keys if k is not None]
        yield node.values
    elif isinstance(node, ast.IfExp):
        yield [node.body, node.orelse]
    elif isinstance(node, ast.BoolOp):
        yield node.values
    elif isinstance(node, ast.Compare):
        yield [node.left, *node.comparators]


def _literals(node: ast.AST | None) -> Iterator[ast.AST]:
    """The literals an expression may evaluate to: itself, a container's members, both arms, `a or b`."""
    if isinstance(node, ast.Constant):
        yield node
    elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for elt in node.elts:
            yield from _literals(elt)
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _literals(value)


def _in_context(node: ast.AST) -> Iterator[ast.AST]:
    """Literals a node puts in a vocabulary role by what they are compared with or assigned to."""
    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, sides, sides[1:], strict=False):
            if isinstance(op, (ast.In, ast.NotIn)):  # `x in (...)`: the container's members are the values
                if _names_a_field(left) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                    yield from _literals(right)
            elif isinstance(op, (ast.Eq, ast.NotEq)):
                if _names_a_field(left):
                    yield from _literals(right)
                if _names_a_field(right):
                    yield from _literals(left)
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in FIELDS:
                yield from _literals(value)
    elif isinstance(node, ast.keyword):
        if node.arg in FIELDS:
            yield from _literals(node.value)
    elif isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is not None and any(_names_a_field(t) for t in targets):
            yield from _literals(node.value)
    elif isinstance(node, ast.Call):
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "get" and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant) and node.args[0].value in FIELDS):
            yield from _literals(node.args[1])


def _copies(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Top-level copies of a name outcomes.py defines: a set or table under its name, or a string with its
    name and value (`CRASH = "crash"`); a plain alias (`X = outcomes.X`) or another meaning is no copy."""
    for stmt in tree.body:
        if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is None:
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            pairs = (zip(target.elts, stmt.value.elts, strict=False)
                     if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple)
                     else [(target, stmt.value)])
            for name, value in pairs:
                if not isinstance(name, ast.Name) or name.id not in DEFINED:
                    continue
                if isinstance(value, (ast.Name, ast.Attribute)):
                    continue
                ours = DEFINED[name.id]
                if not isinstance(ours, str) or (ours in VOCABULARY and isinstance(value, ast.Constant)
                                                 and value.value == ours):
                    yield stmt.lineno, name.id


def findings(path: Path) -> list[tuple[int, str]]:
    """(line, value) of every vocabulary literal in code in one file, and (line, `=NAME`) of every copy."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docs = _docstrings(tree)
    flagged: dict[int, tuple[int, str]] = {}

    def flag(node: ast.AST) -> None:
        word = _word(node)
        if word is not None and id(node) not in docs:
            flagged[id(node)] = (getattr(node, "lineno", 0), word)

    for node in ast.walk(tree):
        if _word(node) in DISTINCT:
            flag(node)
        for group in _groups(node):
            if any(_word(g) in DISTINCT for g in group):
                for member in group:
                    flag(member)
        for literal in _in_context(node):
            flag(literal)
    copies = [(line, f"={name}") for line, name in _copies(tree)]
    return sorted({*flagged.values(), *copies})


def scan() -> dict[tuple[str, str], list[int]]:
    """(path, value) -> lines, over every scanned file."""
    out: dict[tuple[str, str], list[int]] = {}
    for path in sources():
        rel = path.relative_to(ROOT).as_posix()
        for line, value in findings(path):
            out.setdefault((rel, value), []).append(line)
    return out


def test_no_module_spells_the_vocabulary() -> None:
    """Every outcome, attribution and impact is spelled once, in harness/outcomes.py."""
    found = scan()
    spelled = [f"{path}:{lines}: {value!r}" for (path, value), lines in sorted(found.items())
               if value not in ALLOWED.get(path, ((), ""))[0]]
    assert not spelled, ("spelled outside harness/outcomes.py (import the name from stc_harness.outcomes, "
                         "or add an ALLOWED entry with its reason):\n" + "\n".join(spelled))


def test_every_allowed_literal_is_still_there() -> None:
    """An allow-list entry that no longer matches is stale: remove it."""
    found = scan()
    stale = [(path, value) for path, (values, _) in ALLOWED.items() for value in sorted(values)
             if (path, value) not in found]
    assert not stale, f"stale ALLOWED entries: {stale}"


@pytest.mark.parametrize(("code", "expect"), [
    ('DIFFERS = ("documented-difference", "undocumented-difference", "drift")',
     [(1, "=DIFFERS"), (1, "documented-difference"), (1, "drift"), (1, "undocumented-difference")]),
    ('if res["outcome"] in ("crash", "timeout"):\n    pass', [(1, "crash"), (1, "timeout")]),
    ('x = "sqlite-version" if same else "turso"', [(1, "sqlite-version"), (1, "turso")]),
    ('rec = {"outcome": "error"}', [(1, "error")]),
    ('found = case.get("attribution", "turso")', [(1, "turso")]),
    ('"""A docstring may say documented-difference."""\nBACKEND = "turso"', []),
    ('if "error" in outcome:\n    obs = {"error": 1}', []),
    ('KINDS = {"crash": "error-appears-or-disappears"}', [(1, "error-appears-or-disappears")]),
    ('from stc_harness.outcomes import DIFFERS\nDIFFERS_TOO = DIFFERS\nBROKEN = other.BROKEN', []),
    ('CRASH, TIMEOUT = "crash", 10\nOK = "ok"', [(1, "=CRASH")]),
    ('IMPACT_ORDER = (UNKNOWN, *IMPACTS)', [(1, "=IMPACT_ORDER")]),
    ('x = {"results": {"turso": {"outcome": r["results"]["turso"]["outcome"]}}}', []),
    ('impact = entry.get("impact") or "missing-api"', [(1, "missing-api")]),
])
def test_the_lint_sees_a_literal_in_a_vocabulary_role(tmp_path: Path, code: str,
                                                      expect: list[tuple[int, str]]) -> None:
    """What the lint flags and what it leaves (a backend id, an observation's error key, a docstring)."""
    path = tmp_path / "mod.py"
    path.write_text(code + "\n", encoding="utf-8")
    assert findings(path) == expect
