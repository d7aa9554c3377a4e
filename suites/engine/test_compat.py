"""Turso's own compatibility table (COMPAT.md), row by row: each row's feature probed on every backend.

The rows are data (`compat/turso_compat.toml`, rebuilt by `python -m stc_harness compat-update`); the
probes are `stc_harness.compat.probes`. A row comparable with SQLite is judged like any check: its probe's
observation against the reference SQLite's. A row of Turso's own additions (extensions, Turso-only
PRAGMAs) runs on Turso only and must work, as the vendor claims. Rows of the C API and VDBE opcodes
have no SQL probe and say why. How each claim fares (holds, differs, "No" but works...) is summarised
in the report section "Turso's compatibility claims, measured" (`stc_harness.compat.verdict`).
"""

from __future__ import annotations

from typing import Any

from stc_harness import CheckContext, Source, Unsupported, check
from stc_harness.compat.probes import Probe, not_probed, probe
from stc_harness.compat.table import Row, load
from stc_harness.differential.replay import replay

SOURCE, ROWS = load()
DOC = f"{SOURCE.repository}@{SOURCE.commit[:12]}:{SOURCE.path}"
PROBED = {r.key: r for r in ROWS if probe(r) is not None and not probe(r).turso_only}  # type: ignore[union-attr]
TURSO_ONLY = {r.key: r for r in ROWS if probe(r) is not None and probe(r).turso_only}  # type: ignore[union-attr]
UNPROBED = {r.key: r for r in ROWS if probe(r) is None}


def _source(row: Row) -> Source:
    return Source(DOC, f"{row.section}: {row.feature}")


async def run_probe(ctx: CheckContext, row: Row, p: Probe) -> list[dict[str, Any]]:
    """Run the probe's statements in one batch on a fresh database; each statement's outcome."""
    ctx.note(claim=row.claim, comment=row.comment, sql=list(p.sql), source=str(_source(row)))
    conn = await ctx.connect(ctx.url() if p.file else ctx.url(memory=True))
    case = {"statements": [{"sql": s, "ordered": " ORDER BY " in s.upper(), "counted": False} for s in p.sql]}
    obs, messages = await replay(conn, case)
    if messages:
        ctx.note(messages=messages)
    return p.observe(obs)


@check(title="A row of Turso's compatibility table: its probe behaves as the reference SQLite does",
       source=Source(DOC, "every table"), params=PROBED, area="compat")
async def test_row(ctx: CheckContext, row: Row) -> object:
    p = probe(row)
    assert p is not None
    if p.since:
        ctx.note(since=f"SQLite {p.since} added this feature")
    return await run_probe(ctx, row, p)


@check(title="A row of Turso's own additions in its compatibility table: the feature works on Turso",
       source=Source(DOC, "extensions and Turso-specific tables"), params=TURSO_ONLY, area="compat",
       expect={"works": True})
async def test_turso_feature(ctx: CheckContext, row: Row) -> object:
    if ctx.backend.name != "turso":
        raise Unsupported("turso_extension", f"{row.feature} is one of Turso's own additions "
                                             f"({row.section}); SQLite has no such feature")
    p = probe(row)
    assert p is not None
    obs = await run_probe(ctx, row, p)
    failed = [o["error"] for o in obs if "error" in o]
    return {"works": not failed} if not failed else {"works": False, "error": failed[0]}


@check(title="A row of Turso's compatibility table that no SQL probe can reach (C API, VDBE opcodes)",
       source=Source(DOC, "C API and VDBE opcodes"), params=UNPROBED, area="compat")
async def test_unprobed(ctx: CheckContext, row: Row) -> object:
    ctx.note(claim=row.claim, comment=row.comment, source=str(_source(row)))
    raise Unsupported("sql_probe", not_probed(row))
