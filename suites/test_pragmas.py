"""Every PRAGMA of Turso's compatibility table in depth: read, set, read back, and the effect observed.

The specs are `stc_harness.compat.pragmas.PRAGMAS`: per PRAGMA a statement list on a fresh database file
(schema, read, write, read-back, then statements that show the effect). A PRAGMA accepted and ignored
reads back the old value or misses the effect, so it differs from SQLite: never `same`.
"""

from __future__ import annotations

from typing import Any

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
