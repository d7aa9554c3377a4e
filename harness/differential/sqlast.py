"""Expression trees of generated SQL: render to text, walk, and rebuild (what shrinking edits)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

#: Binary operators and the word each stands for in a finding's signature.
BINARY = {
    "+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "||": "concat", "&": "bitand",
    "|": "bitor", "<<": "shl", ">>": "shr", "=": "eq", "==": "eq2", "!=": "ne", "<>": "ne2", "<": "lt",
    "<=": "le", ">": "gt", ">=": "ge", "IS": "is", "IS NOT": "isnot", "IS DISTINCT FROM": "isdistinct",
    "AND": "and", "OR": "or", "LIKE": "like", "GLOB": "glob", "->": "jsonarrow", "->>": "jsonarrow2",
}
#: Prefix operators.
PREFIX = {"-": "neg", "+": "pos", "~": "bitnot", "NOT": "not"}
#: Postfix operators.
POSTFIX = {"ISNULL": "isnull", "NOTNULL": "notnull", "IS NULL": "isnull2", "IS NOT NULL": "isnotnull"}


def slug(text: str) -> str:
    """A file-name-safe lower-case word for `text` (`DECIMAL(10,5)` -> `decimal_10_5`)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "none"


@dataclass(frozen=True)
class Expr:
    """One node: `kind` says how it renders, `label` what it is (literal text, function, operator...).

    Kinds: lit (label = SQL literal, cls = its storage class), hole (a template slot, label = value
    domain), col (a column name), call (function `label`, flag DISTINCT or *), binary, prefix, postfix,
    cast (label = type), collate (label = collation), between and in (flag NOT when negated).
    """

    kind: str
    label: str
    kids: tuple[Expr, ...] = ()
    cls: str = ""
    flag: str = ""

    def render(self) -> str:
        """The SQL text; every operator is parenthesised so precedence never matters."""
        k, a = self.kind, [x.render() for x in self.kids]
        if k in ("lit", "col"):
            return self.label
        if k == "hole":
            raise ValueError(f"unfilled template hole ({self.label}); expand the template first")
        if k == "call":
            if self.flag == "*":
                return f"{self.label}(*)"
            return f"{self.label}({'DISTINCT ' if self.flag == 'DISTINCT' else ''}{', '.join(a)})"
        if k == "binary":
            return f"({a[0]} {self.label} {a[1]})"
        if k == "prefix":
            return f"({self.label} {a[0]})"
        if k == "postfix":
            return f"({a[0]} {self.label})"
        if k == "cast":
            return f"CAST({a[0]} AS {self.label})"
        if k == "collate":
            return f"({a[0]} COLLATE {self.label})"
        neg = "NOT " if self.flag == "NOT" else ""
        if k == "between":
            return f"({a[0]} {neg}BETWEEN {a[1]} AND {a[2]})"
        if k == "in":
            return f"({a[0]} {neg}IN ({', '.join(a[1:])}))"
        raise ValueError(f"unknown expression kind {k!r}")

    def head(self) -> str:
        """What this node does, as a signature word: a function name, operator word, cast type..."""
        k = self.kind
        if k == "lit":
            return f"literal_{self.cls}"
        if k == "call":
            return slug(self.label) + ("_distinct" if self.flag == "DISTINCT" else "")
        if k == "binary":
            return BINARY.get(self.label, slug(self.label))
        if k == "prefix":
            return PREFIX.get(self.label, slug(self.label))
        if k == "postfix":
            return POSTFIX.get(self.label, slug(self.label))
        if k in ("cast", "collate"):
            return f"{k}_{slug(self.label)}"
        if k in ("between", "in"):
            return ("not" if self.flag == "NOT" else "") + k
        return slug(f"{k}_{self.label}")

    def size(self) -> int:
        """Number of nodes."""
        return 1 + sum(x.size() for x in self.kids)

    def walk(self) -> Iterator[tuple[tuple[int, ...], Expr]]:
        """Every node with its path (child indexes from the root), root first."""
        yield (), self
        for i, kid in enumerate(self.kids):
            for path, node in kid.walk():
                yield (i, *path), node

    def at(self, path: tuple[int, ...]) -> Expr:
        """The node at `path`."""
        node = self
        for i in path:
            node = node.kids[i]
        return node

    def put(self, path: tuple[int, ...], new: Expr) -> Expr:
        """A copy with the node at `path` replaced by `new`."""
        if not path:
            return new
        kids = list(self.kids)
        kids[path[0]] = kids[path[0]].put(path[1:], new)
        return replace(self, kids=tuple(kids))

    def map(self, fn: Callable[[Expr], Expr]) -> Expr:
        """Rebuild bottom-up, applying `fn` to every node after its children."""
        if self.kids:  # a new node built directly (`replace` inspects the fields each time)
            node = Expr(self.kind, self.label, tuple(k.map(fn) for k in self.kids), self.cls, self.flag)
        else:
            node = self
        return fn(node)


def lit(sql: str, cls: str) -> Expr:
    """A literal: its SQL text and storage class."""
    return Expr("lit", sql, cls=cls)


def hole(domain: str = "any") -> Expr:
    """A template slot the expansion fills with a value of `domain`."""
    return Expr("hole", domain)


def col(name: str) -> Expr:
    """A column reference."""
    return Expr("col", name)


def call(name: str, *args: Expr, flag: str = "") -> Expr:
    """A function call."""
    return Expr("call", name, tuple(args), flag=flag)


def binary(op: str, left: Expr, right: Expr) -> Expr:
    """A binary operator."""
    return Expr("binary", op, (left, right))
