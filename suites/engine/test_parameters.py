"""Parameter styles (`?`, `?NNN`, `:a`, `@a`, `$a`), mixed and with values missing or extra.

SQLite binds every style; Python's `sqlite3` refuses a missing or surplus value and a dictionary for a
nameless parameter. A fixed case per style, and a neighbourhood of mixed placeholder lists with each
shape of parameters (`variants=`).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from stc_harness import CheckContext, Source, check

BINDING = Source("https://sqlite.org/lang_expr.html", "Parameters")
PLACEHOLDERS = ("?", "?1", "?2", ":a", "@a", "$a", ":b")
#: How the values are passed: a sequence of as many values as placeholders, one short, one extra, a
#: mapping with every name, a mapping missing one name, nothing.
SHAPES = ("sequence", "sequence_short", "sequence_extra", "mapping", "mapping_missing", "none")


def _values(placeholders: list[str], shape: str) -> Any:
    names = sorted({p[1:] for p in placeholders if p[0] in ":@$"})
    count = len(placeholders)
    if shape == "sequence":
        return [10 * (i + 1) for i in range(count)]
    if shape == "sequence_short":
        return [10 * (i + 1) for i in range(count - 1)]
    if shape == "sequence_extra":
        return [10 * (i + 1) for i in range(count + 1)]
    if shape == "mapping":
        return {n: f"v{n}" for n in names}
    if shape == "mapping_missing":
        return {n: f"v{n}" for n in names[1:]}
    return ()


CASES = st.tuples(st.lists(st.sampled_from(PLACEHOLDERS), min_size=1, max_size=3), st.sampled_from(SHAPES))


@check(title="A statement's placeholders bound from a sequence or a mapping, as the sqlite3 module does",
       source=BINDING,
       params={"qmark": (["?", "?"], "sequence"), "named": ([":a"], "mapping"),
               "numbered": (["?2", "?1"], "sequence")},
       variants={"qmark": CASES})
async def test_parameter_style(ctx: CheckContext, case: tuple[list[str], str]) -> object:
    placeholders, shape = case
    conn = await ctx.connect(ctx.url(memory=True))
    sql = "SELECT " + ", ".join(placeholders)
    ctx.note(sql=sql)
    return await ctx.attempt(conn.fetch_all(sql, _values(list(placeholders), shape)), "raw")
