"""Every PRAGMA of Turso's compatibility table in depth: read, set, read back, and the effect observed.

The specs are `stc_harness.compat.pragmas.PRAGMAS`: per PRAGMA a statement list on a fresh database file
(schema, read, write, read-back, then statements that show the effect). A PRAGMA accepted and ignored
reads back the old value or misses the effect, so it differs from SQLite: never `same`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from stc_harness import CheckContext, Source, check
from stc_harness.compat.observe import shaped_where
from stc_harness.compat.pragmas import PRAGMAS, SHAPE, PragmaSpec
from stc_harness.differential.replay import replay

DOC = "https://www.sqlite.org/pragma.html"


async def run_pragma(ctx: CheckContext, name: str, spec: PragmaSpec) -> list[dict[str, Any]]:
    """The spec's statements in one batch on a fresh database file; each statement's outcome."""
    sqls = spec.statements(name)
    ctx.note(sql=list(sqls))
    conn = await ctx.connect(ctx.url())
    case = {"statements": [{"sql": s, "ordered": False, "counted": False} for s in sqls]}
    obs, messages = await replay(conn, case)
    if messages:
        ctx.note(messages=messages)
    return shaped_where(obs, sqls, SHAPE)


@check(title="A PRAGMA read, set, read back, and its effect observed, as SQLite does", area="pragmas",
       source=Source(DOC, "every PRAGMA of Turso's compatibility table"),
       params={name: (name, spec) for name, spec in PRAGMAS.items()})
async def test_pragma(ctx: CheckContext, param: tuple[str, PragmaSpec]) -> object:
    name, spec = param
    return await run_pragma(ctx, name, spec)


#: Integers at the edges of the types PRAGMA values are stored in (32- and 64-bit, signed and unsigned).
EDGES = (0, 1, -1, 2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**32 - 1, 2**32, 2**63 - 1, -2**63, 65536, 65537)
EDGE_VALUES = st.sampled_from(EDGES) | st.integers(min_value=-2**63, max_value=2**63 - 1)
#: PRAGMAs taking an integer, with the small value a hand-written check would set.
INTEGER_PRAGMAS = {"user_version": 7, "application_id": 7, "busy_timeout": 100, "max_page_count": 100,
                   "foreign_keys": 1, "query_only": 1, "synchronous": 1, "cache_size": 100}


@check(title="An integer PRAGMA set to a value at the edge of its type reads back as SQLite reads it back",
       area="pragmas", source=Source(DOC, "PRAGMAs taking an integer"),
       params={name: (name, value) for name, value in INTEGER_PRAGMAS.items()},
       variants={name: st.tuples(st.just(name), EDGE_VALUES) for name in INTEGER_PRAGMAS})
async def test_pragma_edge_value(ctx: CheckContext, case: tuple[str, int]) -> object:
    name, value = case
    conn = await ctx.connect(ctx.url(memory=True))
    before = await conn.fetch_all(f"PRAGMA {name}")
    set_it = await ctx.attempt(conn.fetch_all(f"PRAGMA {name} = {value}"), "raw_set")
    after = await conn.fetch_all(f"PRAGMA {name}")
    return {"set": "ok" if "ok" in set_it else set_it, "changed": after != before,
            "read_back": [list(r) for r in after]}
