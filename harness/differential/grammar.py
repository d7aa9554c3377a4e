"""The query family: small schemas (indexes, views, triggers) with a few rows, DML (UPSERT, RETURNING),
then queries from a wider grammar: every join kind, subqueries, CTEs (recursive too), compound
selects, GROUP BY/HAVING, window functions with frames, aggregates with ORDER BY/FILTER/DISTINCT,
collations, LIKE/GLOB with ESCAPE, CASE and NULL at the operators.

Values are holes filled by the expansion (every storage class); join keys are small integers so joins
match. Every query is deterministic on any plan: LIMIT only after a total ORDER BY, order-sensitive
aggregates only with an ORDER BY of their own, scalar subqueries reduced to one row by an aggregate.
REGEXP is left out (the reference SQLite has no regexp function) and generated columns too (Turso
needs a toggle for them).
"""

from __future__ import annotations

from hypothesis import strategies as st

from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.sqlast import Expr, hole

#: The grammar families a query case can reach (its tag lists the ones it used, joined by "+").
FAMILIES = ("join", "subquery", "cte", "compound", "group", "window", "aggregate", "collate", "pattern",
            "case", "null-ops", "index", "view", "trigger", "upsert", "returning")

COLUMN_TYPES = ("INTEGER", "TEXT", "REAL", "NUMERIC", "BLOB", "")
JOINS = ("JOIN", "INNER JOIN", "LEFT JOIN", "LEFT OUTER JOIN", "RIGHT JOIN", "FULL OUTER JOIN", "CROSS JOIN",
         "NATURAL JOIN", "JOIN USING", "NATURAL LEFT JOIN")
COMPOUNDS = ("UNION", "UNION ALL", "INTERSECT", "EXCEPT")
COMPARE = ("=", "<", ">", "<=", ">=", "!=", "IS", "IS NOT", "IS DISTINCT FROM")
OPERATORS = ("+", "-", "*", "/", "%", "||", "&", "|", "<<", ">>", "=", "<", "AND", "OR", "IS", "IS NOT")
COLLATIONS = ("BINARY", "NOCASE", "RTRIM")
AGGREGATES = ("count", "sum", "total", "avg", "min", "max")
WINDOWS = ("row_number()", "rank()", "dense_rank()", "percent_rank()", "cume_dist()", "ntile(2)", "lag(c)",
           "lead(c, 1, {h})", "first_value(c)", "last_value(c)", "nth_value(c, 2)", "sum(c)", "avg(c)",
           "count(*)", "count(c)", "min(c)", "max(c)", "total(c)")
FRAMES = ("", "ROWS BETWEEN 1 PRECEDING AND CURRENT ROW", "ROWS UNBOUNDED PRECEDING",
          "RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
          "GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
          "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW",
          "ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING EXCLUDE TIES", "RANGE CURRENT ROW")
TRIGGER_EVENTS = ("INSERT", "UPDATE", "UPDATE OF b", "DELETE")


def _slug(words: str) -> str:
    return words.lower().replace(" ", "-")


_MARKERS = (("{h}", "any"), ("{s}", "small"), ("{p}", "pattern"))


def _stmt(draw: st.DrawFn, build: str, kind: str, ordered: bool = False) -> Stmt:
    """A statement whose `{h}` / `{s}` / `{p}` markers become holes (any value, small int, pattern)."""
    slots: list[Expr] = []
    out, i = [], 0
    while i < len(build):
        for marker, domain in _MARKERS:
            if build.startswith(marker, i):
                out.append("{" + str(len(slots)) + "}")
                slots.append(hole(domain))
                i += len(marker)
                break
        else:
            ch = build[i]
            out.append("{{" if ch == "{" else "}}" if ch == "}" else ch)
            i += 1
    return Stmt("".join(out), tuple(slots), kind, ordered)


def _select(draw: st.DrawFn, fam: str) -> tuple[str, str, bool]:
    """A query of family `fam`: (SQL with markers, statement kind, whether its rows are ordered)."""
    cmp = draw(st.sampled_from(COMPARE))
    if fam == "join":
        kind = draw(st.sampled_from(JOINS))
        if kind == "JOIN USING":
            return "SELECT a, t1.b, t2.y FROM t1 JOIN t2 USING (a)", "join-using", False
        if kind.startswith("NATURAL") or kind == "CROSS JOIN":
            return f"SELECT t1.a, t1.b, t2.y FROM t1 {kind} t2", f"join-{_slug(kind)}", False
        on = draw(st.sampled_from(("t1.a = t2.a", f"t1.a = t2.a AND t2.y {cmp} {{h}}", "t1.b = t2.y")))
        return (f"SELECT t1.a, t1.c, t2.a, t2.z FROM t1 {kind} t2 ON {on}",
                f"join-{_slug(kind.replace(' OUTER', ''))}", False)
    if fam == "subquery":
        form = draw(st.sampled_from(("scalar", "in", "not-in", "exists", "correlated", "from")))
        sql = {
            "scalar": f"SELECT a, (SELECT max(y) FROM t2) {cmp} b FROM t1",
            "in": "SELECT a FROM t1 WHERE b IN (SELECT y FROM t2)",
            "not-in": "SELECT a FROM t1 WHERE c NOT IN (SELECT z FROM t2 WHERE z IS NOT NULL)",
            "exists": "SELECT a FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a AND "
                      f"t2.y {cmp} {{h}})",
            "correlated": "SELECT a, (SELECT count(*) FROM t2 WHERE t2.a <= t1.a), "
                          "(SELECT min(z) FROM t2 WHERE t2.a = t1.a) FROM t1",
            "from": f"SELECT s.k, s.n FROM (SELECT a AS k, b {cmp} {{h}} AS n FROM t1) AS s "
                    "WHERE s.n IS NOT NULL",
        }[form]
        return sql, f"subquery-{form}", False
    if fam == "cte":
        if draw(st.booleans()):
            return ("WITH RECURSIVE r(n, v) AS (SELECT 1, {h} UNION ALL SELECT n + 1, v || n FROM r "
                    "WHERE n < 4) SELECT n, v FROM r", "cte-recursive", False)
        return (f"WITH c AS (SELECT a, b FROM t1 WHERE c {cmp} {{h}}) SELECT c.a, c.b, t2.z FROM c "
                "LEFT JOIN t2 ON t2.a = c.a", "cte", False)
    if fam == "compound":
        op = draw(st.sampled_from(COMPOUNDS))
        return f"SELECT b FROM t1 {op} SELECT y FROM t2 {op} SELECT {{h}}", f"compound-{_slug(op)}", False
    if fam == "group":
        agg = draw(st.sampled_from(AGGREGATES))
        return (f"SELECT b, count(*), {agg}(c) FROM t1 GROUP BY b "
                f"HAVING count(*) {cmp} {{s}} OR {agg}(c) {cmp} {{h}}", f"group-{agg}", False)
    if fam == "window":
        fn = draw(st.sampled_from(WINDOWS))
        ranking = fn.endswith(("rank()", "number()", "dist()", "(2)"))  # frames do not apply to these
        frame = "" if ranking else draw(st.sampled_from(FRAMES))
        part = draw(st.sampled_from(("", "PARTITION BY b ")))
        head = fn.split("(")[0]
        over = f"{part}ORDER BY a {frame}".strip()
        return f"SELECT a, {fn} OVER ({over}) FROM t1", f"window-{head}" + ("-frame" if frame else ""), False
    if fam == "aggregate":
        form = draw(st.sampled_from(("order-by", "filter", "distinct")))
        sql = {
            "order-by": "SELECT group_concat(b, {h} ORDER BY a DESC), json_group_array(c ORDER BY a) FROM t1",
            "filter": f"SELECT count(*) FILTER (WHERE c {cmp} {{h}}), "
                      "sum(a) FILTER (WHERE b IS NOT NULL) FROM t1",
            "distinct": "SELECT count(DISTINCT b), total(DISTINCT c), max(DISTINCT b) FROM t1",
        }[form]
        return sql, f"aggregate-{form}", False
    if fam == "collate":
        coll = draw(st.sampled_from(COLLATIONS))
        return (f"SELECT a, b FROM t1 WHERE b {cmp} {{h}} COLLATE {coll} ORDER BY b COLLATE {coll}, a",
                f"collate-{coll.lower()}", True)
    if fam == "pattern":
        op = draw(st.sampled_from(("LIKE", "NOT LIKE", "GLOB", "NOT GLOB")))
        esc = " ESCAPE '!'" if "LIKE" in op and draw(st.booleans()) else ""
        return f"SELECT a FROM t1 WHERE b {op} {{p}}{esc}", f"pattern-{op.lower().replace(' ', '-')}", False
    if fam == "case":
        return (f"SELECT a, CASE WHEN b {cmp} {{h}} THEN c WHEN c IS NULL THEN {{h}} ELSE b END, "
                "CASE b WHEN {h} THEN 1 ELSE 0 END FROM t1", "case", False)
    op = draw(st.sampled_from(OPERATORS))
    return f"SELECT a, b {op} c, NULL {op} b, c {op} NULL FROM t1", "null-ops", False


def _t2_setup(stmt: Stmt) -> bool:
    text = stmt.template
    return text.startswith(("CREATE TABLE t2(", "INSERT INTO t2(")) or " ON t2(" in text


def _without_unused_t2(stmts: list[Stmt]) -> list[Stmt]:
    """The statements without t2's table, rows and indexes when nothing else reads t2 (creating a table
    is the costliest statement of a case on Turso)."""
    if any("t2" in s.template for s in stmts if not _t2_setup(s)):
        return stmts
    return [s for s in stmts if not _t2_setup(s)]


@st.composite
def query_cases(draw: st.DrawFn) -> Case:
    """A schema of two small tables (maybe an index, a view, a trigger), rows, DML, then 2-3 queries."""
    used: list[str] = []
    types = [draw(st.sampled_from(COLUMN_TYPES)) for _ in range(4)]
    stmts = [Stmt(f"CREATE TABLE t1(a INTEGER PRIMARY KEY, b {types[0]}, c {types[1]})".replace(" ,", ","),
                  (), "create-table"),
             Stmt(f"CREATE TABLE t2(a INTEGER, y {types[2]}, z {types[3]})".replace(" )", ")"), (),
                  "create-table")]
    if draw(st.integers(0, 2)) == 0:
        used.append("index")
        idx = draw(st.sampled_from(("CREATE INDEX i1 ON t1(b)",
                                    "CREATE INDEX i2 ON t2(y) WHERE y IS NOT NULL",
                                    "CREATE INDEX i3 ON t1(c + 1)", "CREATE UNIQUE INDEX i4 ON t2(a, y)",
                                    "CREATE INDEX i5 ON t1(b COLLATE NOCASE, c DESC)")))
        stmts.append(Stmt(idx, (), "create-index"))
    trigger = draw(st.integers(0, 3)) == 0
    if trigger:
        used.append("trigger")
        when = draw(st.sampled_from(("BEFORE", "AFTER")))
        event = draw(st.sampled_from(TRIGGER_EVENTS))
        row = "old" if event == "DELETE" else "new"
        cond = draw(st.sampled_from(("", f" WHEN {row}.b IS NOT NULL", f" WHEN {row}.a > 1")))
        stmts += [Stmt("CREATE TABLE log(n INTEGER PRIMARY KEY, ev TEXT, v)", (), "create-table"),
                  Stmt(f"CREATE TRIGGER tr {when} {event} ON t1 FOR EACH ROW{cond} BEGIN "
                       f"INSERT INTO log(ev, v) VALUES ('{when} {event}', {row}.b); END", (),
                       "create-trigger")]
    rows1 = ", ".join(f"({k}, {{h}}, {{h}})" for k in (1, 2, 3))
    stmts.append(_stmt(draw, f"INSERT INTO t1(a, b, c) VALUES {rows1}", "insert"))
    rows2 = ", ".join("({s}, {h}, {h})" for _ in range(3))
    stmts.append(_stmt(draw, f"INSERT INTO t2(a, y, z) VALUES {rows2}", "insert"))
    if draw(st.integers(0, 3)) == 0:
        used.append("view")
        stmts.append(Stmt("CREATE VIEW v1 AS SELECT t1.a, t1.b, t2.z FROM t1 LEFT JOIN t2 ON t1.a = t2.a",
                          (), "create-view"))
    dml = draw(st.integers(0, 4))
    if dml == 0:
        used.append("upsert")
        action = draw(st.sampled_from(("DO NOTHING", "DO UPDATE SET b = excluded.b, c = t1.c || excluded.c",
                                       "DO UPDATE SET c = excluded.c WHERE t1.b IS NOT excluded.b")))
        stmts.append(_stmt(draw, f"INSERT INTO t1(a, b, c) VALUES (2, {{h}}, {{h}}) ON CONFLICT(a) {action}",
                           "upsert"))
    elif dml == 1:
        used.append("returning")
        verb = draw(st.sampled_from(("UPDATE t1 SET c = {h} WHERE b IS NOT NULL RETURNING a, c",
                                     "DELETE FROM t2 WHERE y > {h} RETURNING a, y",
                                     "INSERT INTO t1(b, c) VALUES ({h}, {h}) RETURNING a, typeof(b), c")))
        stmts.append(_stmt(draw, verb, "returning"))
    if trigger and event != "INSERT":
        stmts.append(_stmt(draw, "UPDATE t1 SET b = {h} WHERE a >= 2", "update"))
        stmts.append(Stmt("DELETE FROM t1 WHERE a = 3", (), "delete"))
    # two or three queries of different forms (a shuffled list spreads the forms evenly over cases)
    forms = draw(st.permutations(FAMILIES[:11]))[: draw(st.integers(2, 3))]
    for fam in forms:
        sql, kind, ordered = _select(draw, fam)
        used.append(kind if kind == "null-ops" else kind.split("-")[0])
        stmts.append(_stmt(draw, sql, kind, ordered))
    if "view" in used:
        stmts.append(Stmt("SELECT a, b, z FROM v1", (), "view"))
    if trigger:
        stmts.append(Stmt("SELECT ev, v FROM log ORDER BY n", (), "trigger-log", ordered=True))
    stmts = _without_unused_t2(stmts)
    if not any(s.kind == "create-index" for s in stmts):
        used = [u for u in used if u != "index"]
    tag = "+".join(dict.fromkeys(u if u in FAMILIES else "group" for u in used))
    return Case("query", tuple(stmts), stateful=True, tag=tag)
