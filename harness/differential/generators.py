"""Hypothesis strategies for the case families: expressions, aggregates, affinity, schema + DML, and
queries over small schemas (`stc_harness.differential.grammar`).

Hypothesis draws *templates*: expression trees (functions, operators, CAST, COLLATE, BETWEEN, IN)
and statement sequences whose leaves are typed holes or hypothesis-drawn literals.
`stc_harness.differential.expand` turns each template into many concrete cases cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.grammar import query_cases
from stc_harness.differential.sqlast import BINARY, POSTFIX, PREFIX, Expr, binary, call, col, hole
from stc_harness.differential.values import (
    INT64_MAX,
    INT64_MIN,
    NULL,
    POOLS,
    blob_lit,
    int_lit,
    real_lit,
    text_lit,
)

Sig = tuple[str, ...]

#: Built-in scalar functions: name -> (group, the argument domains of each arity tried).
FUNCTIONS: dict[str, tuple[str, tuple[Sig, ...]]] = {}


def _fn(group: str, names: str, *arities: Sig) -> None:
    for name in names.split():
        FUNCTIONS[name] = (group, arities)


_fn("arithmetic", "abs sign sqrt exp ln log2 log10 floor ceil ceiling trunc degrees radians sin cos tan asin "
    "acos atan sinh cosh tanh asinh acosh atanh", ("any",))
_fn("arithmetic", "round", ("any",), ("any", "small"), ("any", "any"))
_fn("arithmetic", "log", ("any",), ("any", "any"))
_fn("arithmetic", "pow power mod atan2", ("any", "any"))
_fn("arithmetic", "max min", ("any", "any"), ("any", "any", "any"))
_fn("arithmetic", "pi", ())
_fn("string", "length octet_length lower upper hex quote unicode soundex", ("any",))
_fn("string", "unhex", ("any",), ("any", "any"))
_fn("string", "substr substring", ("any", "small"), ("any", "small", "small"), ("any", "any", "any"))
_fn("string", "trim ltrim rtrim", ("any",), ("any", "any"))
_fn("string", "replace", ("any", "any", "any"))
_fn("string", "instr", ("any", "any"))
_fn("string", "char", ("code",), ("code", "code"))
_fn("string", "printf format", ("printf",), ("printf", "any"), ("printf", "any", "any"))
_fn("string", "concat", ("any", "any"), ("any", "any", "any"))
_fn("string", "concat_ws", ("sep", "any", "any"))
_fn("comparison", "like", ("pattern", "any"), ("pattern", "any", "escape"))
_fn("comparison", "glob", ("pattern", "any"))
_fn("type", "typeof likely unlikely", ("any",))
_fn("type", "coalesce", ("any", "any"), ("any", "any", "any"))
_fn("type", "ifnull nullif", ("any", "any"))
_fn("type", "iif", ("any", "any", "any"))
_fn("type", "zeroblob", ("size",))
_fn("type", "likelihood", ("any", "prob"))
_fn("datetime", "date time datetime julianday unixepoch", ("date",), ("date", "modifier"),
    ("date", "modifier", "modifier"))
_fn("datetime", "strftime", ("strftime", "date"), ("strftime", "date", "modifier"))
_fn("json", "json json_valid json_quote", ("json",))
_fn("json", "json_type json_array_length", ("json",), ("json", "jsonpath"))
_fn("json", "json_extract", ("json", "jsonpath"), ("json", "jsonpath", "jsonpath"))
_fn("json", "json_array", (), ("any",), ("any", "any"))
_fn("json", "json_object", (), ("key", "any"), ("key", "any", "key", "any"))
_fn("json", "json_insert json_set json_replace", ("json", "jsonpath", "any"))
_fn("json", "json_remove", ("json", "jsonpath"))
_fn("json", "json_patch", ("json", "json"))

#: Aggregates: name -> argument shapes ("x" the value column, "k" a key column, "sep" a separator).
AGGREGATES: dict[str, tuple[Sig, ...]] = {
    "count": (("x",), ("*",)), "sum": (("x",),), "total": (("x",),), "avg": (("x",),), "min": (("x",),),
    "max": (("x",),), "group_concat": (("x",), ("x", "sep")), "string_agg": (("x", "sep"),),
    "json_group_array": (("x",),), "json_group_object": (("k", "x"),),
}
DISTINCT_OK = ("count", "sum", "total", "avg", "min", "max", "group_concat")

CAST_TYPES = ("INTEGER", "INT", "REAL", "TEXT", "BLOB", "NUMERIC", "FLOAT", "DECIMAL(10,2)", "VARCHAR(5)",
              "BOOLEAN", "DATE", "BIGINT")
COLLATIONS = ("BINARY", "NOCASE", "RTRIM")
COMPARISONS = ("=", "==", "!=", "<>", "<", "<=", ">", ">=", "IS", "IS NOT")
#: Declared column types, one of each affinity rule (INT, CHAR/CLOB/TEXT, BLOB/none, REAL/FLOA/DOUB, else).
DECLARED_TYPES = ("INTEGER", "INT", "TINYINT", "BIGINT", "UNSIGNED BIG INT", "INT8", "MEDIUMINT", "TEXT",
                  "VARCHAR(10)", "CHARACTER(20)", "NCHAR(5)", "CLOB", "BLOB", "", "REAL", "DOUBLE",
                  "DOUBLE PRECISION", "FLOAT", "NUMERIC", "DECIMAL(10,5)", "BOOLEAN", "DATE", "DATETIME",
                  "FLOATING POINT", "STRING", "CHARINT", "JSON", "UUID", "TIMESTAMP")
STRICT_TYPES = ("INT", "INTEGER", "REAL", "TEXT", "BLOB", "ANY")
CODES = [int_lit(v) for v in (65, 97, 233, 0x1F600, 0, -1, 0x10FFFF, 0x110000, 0xD800, 32)]
POOLS_ALL: dict[str, list[Expr]] = {**POOLS, "code": CODES}

#: How many concrete cases each template of a category expands into.
EXPANSION = {"expr": 96, "agg": 32, "affinity": 8, "dml": 4, "query": 4}
CATEGORIES = tuple(EXPANSION)
#: Relative weight of each category among drawn templates.
WEIGHTS = {"expr": 6, "agg": 2, "affinity": 1, "dml": 1, "query": 2}
#: Templates per hypothesis example (one example = one batch).
TEMPLATES_PER_EXAMPLE = 8


# --- literals hypothesis draws (on top of the curated pools) ------------------------------------------

def literals() -> st.SearchStrategy[Expr]:
    """Literals of every storage class: any 64-bit integer, any float, short text and blobs, NULL."""
    return st.one_of(
        st.integers(INT64_MIN, INT64_MAX).map(int_lit),
        st.floats().map(real_lit),
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8).map(text_lit),
        st.binary(max_size=6).map(blob_lit),
        st.just(NULL),
    )


# --- expression templates -----------------------------------------------------------------------------

#: Node shapes of expression templates, weighted: function calls three times as often as the rest.
SHAPES = ("call", "call", "call", "binary", "prefix", "postfix", "cast", "collate", "between", "in")
_LEAF_IS_HOLE = st.integers(0, 3)
_SHAPE = st.sampled_from(SHAPES)
_BINARY = st.sampled_from(sorted(BINARY))
_PREFIX = st.sampled_from(sorted(PREFIX))
_POSTFIX = st.sampled_from(sorted(POSTFIX))
_CAST = st.sampled_from(CAST_TYPES)
_COLLATION = st.sampled_from(COLLATIONS)
_COMPARISON = st.sampled_from(COMPARISONS)
_NEGATED = st.sampled_from(("", "NOT"))
_LITERALS = literals()


class _Builder:
    """Draws one expression template with explicit recursion (much cheaper than `st.recursive`)."""

    def __init__(self, draw: st.DrawFn, names: st.SearchStrategy[str], max_nodes: int) -> None:
        self.draw = draw
        self.names = names
        self.left = max_nodes

    def leaf(self) -> Expr:
        return hole() if self.draw(_LEAF_IS_HOLE) else self.draw(_LITERALS)

    def sub(self) -> Expr:
        """An argument: a leaf, or (while the node budget lasts, half the time) another node."""
        if self.left > 0 and self.draw(st.booleans()):
            return self.node()
        return self.leaf()

    def node(self) -> Expr:
        """A compound node (never a bare value)."""
        self.left -= 1
        draw, shape = self.draw, self.draw(_SHAPE)
        if shape == "call":
            name = draw(self.names)
            doms = draw(_ARITIES[name])
            return call(name, *[self.sub() if d == "any" else hole(d) for d in doms])
        if shape == "binary":
            return binary(draw(_BINARY), self.sub(), self.sub())
        if shape == "prefix":
            return Expr("prefix", draw(_PREFIX), (self.sub(),))
        if shape == "postfix":
            return Expr("postfix", draw(_POSTFIX), (self.sub(),))
        if shape == "cast":
            return Expr("cast", draw(_CAST), (self.sub(),))
        if shape == "collate":
            collated = Expr("collate", draw(_COLLATION), (self.sub(),))
            return binary(draw(_COMPARISON), collated, self.sub())
        neg = draw(_NEGATED)
        if shape == "between":
            return Expr("between", "", (self.sub(), self.sub(), self.sub()), flag=neg)
        items = [self.sub() for _ in range(draw(st.integers(1, 3)))]
        return Expr("in", "", (self.sub(), *items), flag=neg)


_ARITIES = {name: st.sampled_from(arities) for name, (_, arities) in FUNCTIONS.items()}


def expressions(functions: Sequence[str], max_nodes: int = 3) -> st.SearchStrategy[Expr]:
    """Expression templates over `functions`: calls, operators, CAST, COLLATE, BETWEEN and IN.

    The root is always one of those (never a bare value); at most `max_nodes` + 1 compound nodes.
    """
    names = st.sampled_from(sorted(functions))

    @st.composite
    def build(draw: st.DrawFn) -> Expr:
        return _Builder(draw, names, max_nodes).node()

    return build()


def expr_cases(functions: Sequence[str]) -> st.SearchStrategy[Case]:
    """`SELECT <expression>` over constants: stateless."""
    return expressions(functions).map(
        lambda e: Case("expr", (Stmt("SELECT {0}", (e,), "expr"),), stateful=False))


# --- aggregates ---------------------------------------------------------------------------------------

@st.composite
def agg_cases(draw: st.DrawFn, aggregates: Sequence[str]) -> Case:
    """An aggregate (or a GROUP BY) over a VALUES list of 1-5 rows of mixed storage classes."""
    nrows = draw(st.integers(1, 5))
    if draw(st.integers(0, 5)) == 0:
        rows = ", ".join(f"({{{i}}})" for i in range(nrows))
        sql = f"SELECT column1, count(*) FROM (VALUES {rows}) GROUP BY column1"
        return Case("agg", (Stmt(sql, tuple(hole() for _ in range(nrows)), "group-by"),), tag="group_by")
    name = draw(st.sampled_from(sorted(aggregates)))
    shape = draw(st.sampled_from(AGGREGATES[name]))
    distinct = "DISTINCT" if name in DISTINCT_OK and shape == ("x",) and draw(st.booleans()) else ""
    two = "k" in shape
    args: list[Expr] = []
    for part in shape:
        if part == "x":
            args.append(col("column2" if two else "column1"))
        elif part == "k":
            args.append(col("column1"))
        elif part == "sep":
            args.append(hole("sep"))
    agg = Expr("call", name, (), flag="*") if shape == ("*",) else call(name, *args, flag=distinct)
    slots: list[Expr] = [agg]
    values = []
    for _ in range(nrows):
        if two:
            values.append(f"({{{len(slots)}}}, {{{len(slots) + 1}}})")
            slots += [hole("key"), hole()]
        else:
            values.append(f"({{{len(slots)}}})")
            slots.append(hole())
    sql = "SELECT {0} FROM (VALUES " + ", ".join(values) + ")"
    return Case("agg", (Stmt(sql, tuple(slots), "agg"),), tag=name)


# --- column affinity ----------------------------------------------------------------------------------

@st.composite
def affinity_cases(draw: st.DrawFn) -> Case:
    """A one-column table of a declared type: store a value, read it back with typeof, compare with it."""
    strict = draw(st.integers(0, 4)) == 0
    decl = draw(st.sampled_from(STRICT_TYPES if strict else DECLARED_TYPES))
    create = f"CREATE TABLE t(c {decl})" + (" STRICT" if strict else "")
    stmts = (
        Stmt(create, (), "create-table"),
        Stmt("INSERT INTO t(c) VALUES ({0})", (hole(),), "affinity-store"),
        Stmt("SELECT c, typeof(c) FROM t", (), "affinity-read"),
        Stmt("SELECT (c = {0}), (c < {0}), (c > {0}) FROM t", (hole(),), "affinity-compare"),
    )
    return Case("affinity", stmts, stateful=True, tag=("strict_" if strict else "") + (decl or "none"))


# --- schema + DML sequences ---------------------------------------------------------------------------

COLUMN_TYPES = ("INTEGER", "TEXT", "REAL", "NUMERIC", "BLOB", "")
CONSTRAINTS = ("", "", "NOT NULL", "UNIQUE", "DEFAULT 5", "DEFAULT 'x'", "COLLATE NOCASE",
               "CHECK ({c} <> 'bad')")
INSERT_VERBS = ("INSERT", "INSERT OR IGNORE", "INSERT OR REPLACE", "REPLACE")


@st.composite
def dml_cases(draw: st.DrawFn) -> Case:
    """CREATE TABLE (and maybe an index), a few INSERT/UPDATE/DELETE, then queries of the result."""
    ncols = draw(st.integers(1, 3))
    cols = [f"c{i}" for i in range(ncols)]
    defs = []
    for i, name in enumerate(cols):
        decl = draw(st.sampled_from(COLUMN_TYPES))
        if i == 0 and draw(st.integers(0, 3)) == 0:
            cons = "PRIMARY KEY" if decl != "INTEGER" or draw(st.booleans()) else "PRIMARY KEY DESC"
        else:
            cons = draw(st.sampled_from(CONSTRAINTS)).format(c=name)
        defs.append(" ".join(p for p in (name, decl, cons) if p))
    stmts = [Stmt(f"CREATE TABLE t({', '.join(defs)})", (), "create-table")]
    if draw(st.booleans()):
        target = draw(st.sampled_from(cols))
        unique = "UNIQUE " if draw(st.integers(0, 3)) == 0 else ""
        coll = draw(st.sampled_from(("", " COLLATE NOCASE", " DESC")))
        stmts.append(Stmt(f"CREATE {unique}INDEX i ON t({target}{coll})", (), "create-index"))
    for _ in range(draw(st.integers(1, 4))):
        verb = draw(st.sampled_from(INSERT_VERBS))
        nrows = draw(st.integers(1, 3))
        slots = tuple(hole() for _ in range(nrows * ncols))
        rows = ", ".join("(" + ", ".join(f"{{{r * ncols + c}}}" for c in range(ncols)) + ")"
                         for r in range(nrows))
        returning = " RETURNING *" if draw(st.integers(0, 5)) == 0 else ""
        sql = f"{verb} INTO t({', '.join(cols)}) VALUES {rows}{returning}"
        stmts.append(Stmt(sql, slots, verb.lower().replace(" ", "-")))
    for _ in range(draw(st.integers(0, 2))):
        target, where = draw(st.sampled_from(cols)), draw(st.sampled_from(cols))
        op = draw(st.sampled_from(("=", "<", ">", "IS", "!=")))
        if draw(st.booleans()):
            value = draw(st.sampled_from((hole(), binary("+", col(target), hole()),
                                          binary("||", col(target), hole()))))
            stmts.append(Stmt(f"UPDATE t SET {target} = {{0}} WHERE {where} {op} {{1}}", (value, hole()),
                              "update"))
        else:
            stmts.append(Stmt(f"DELETE FROM t WHERE {where} {op} {{0}}", (hole(),), "delete"))
    every = ", ".join(cols)
    key = draw(st.sampled_from(cols))
    queries = (
        Stmt("SELECT * FROM t", (), "select-all"),
        Stmt(f"SELECT {every} FROM t ORDER BY {every}, rowid", (), "select-ordered", ordered=True),
        Stmt(f"SELECT {key} FROM t ORDER BY {key} COLLATE NOCASE, rowid", (), "select-ordered-nocase",
             ordered=True),
        Stmt(f"SELECT {key}, count(*) FROM t GROUP BY {key}", (), "select-group"),
        Stmt(f"SELECT count(*), sum({key}), min({key}), max({key}), avg({key}) FROM t", (), "select-agg"),
        Stmt(f"SELECT DISTINCT {key} FROM t", (), "select-distinct"),
        Stmt(f"SELECT * FROM t WHERE {key} {draw(st.sampled_from(COMPARISONS))} {{0}}", (hole(),),
             "select-where"),
    )
    picked = draw(st.lists(st.sampled_from(queries), min_size=1, max_size=2, unique=True))
    stmts.extend(sorted(picked, key=queries.index))
    return Case("dml", tuple(stmts), stateful=True)


# --- batches ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """One hypothesis example: case templates plus a few extra literals the expansion mixes in."""

    templates: tuple[Case, ...]
    extras: tuple[Expr, ...]


def plans(functions: Sequence[str], aggregates: Sequence[str],
          categories: Iterable[str] = CATEGORIES) -> st.SearchStrategy[Plan]:
    """Hypothesis examples: `TEMPLATES_PER_EXAMPLE` templates of the chosen categories, weighted."""
    cats = [c for c in CATEGORIES if c in set(categories)]
    family = {"expr": expr_cases(functions), "agg": agg_cases(aggregates), "affinity": affinity_cases(),
              "dml": dml_cases(), "query": query_cases()}
    weighted = [c for c in cats for _ in range(WEIGHTS[c])]
    template = st.sampled_from(weighted).flatmap(lambda c: family[c])
    return st.builds(Plan, st.lists(template, min_size=TEMPLATES_PER_EXAMPLE,
                                    max_size=TEMPLATES_PER_EXAMPLE).map(tuple),
                     st.lists(literals(), min_size=4, max_size=4).map(tuple))
