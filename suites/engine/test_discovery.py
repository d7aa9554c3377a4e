"""Regression cases found by differential discovery (`python -m stc_harness hunt --save`), replayed as checks.

Each `discovery_cases/<signature>.json` is one minimal reproduction: its statements run in one batch
on a fresh in-memory database of each backend and the normalised outcome of every statement is the
observation. A case that killed or hung a driver replays in a child process, and how that process
ended is the observation. The registry entry for each case lives in `differences/discovery.toml`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from stc_harness import DISCOVERY, CheckContext, Unsupported, UsageError, check
from stc_harness.adapters.backend_registry import target_of
from stc_harness.differential.engines import engine
from stc_harness.differential.replay import load_cases, needs_isolation, replay, replay_isolated

#: Replayable cases (a "tracked_only" case differs only from SQLite 3.50.4, not from the stdlib SQLite).
ALL_CASES = load_cases(Path(__file__).parent.parent / "discovery_cases")
CASES = {sig: case for sig, case in ALL_CASES.items() if not case.get("tracked_only")}


async def _replay(ctx: CheckContext, case: dict[str, Any]) -> object:
    if needs_isolation(case):
        obs, messages = await replay_isolated(target_of(ctx.backend), case, timeout=30)
    else:
        conn = await ctx.connect(ctx.url(memory=True))
        obs, messages = await replay(conn, case)
    ctx.note(sql=[s["sql"] for s in case["statements"]], kind=case["kind"])
    if messages:
        ctx.note(messages=messages)
    return obs


if CASES:  # @check with no params would define one unparametrised check

    @check(title="A minimal reproduction found by differential discovery", source=DISCOVERY, params=CASES,
           timeout=40)
    async def test_replay(ctx: CheckContext, case: dict[str, Any]) -> object:
        return await _replay(ctx, case)


#: The hunt the main command runs: seeded and fixed in size, so every run finds the same things.
HUNT_SEED, HUNT_CASES = 0, 12_500
REGISTRY = Path(__file__).parent.parent / "differences"


def _hunt(other: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the seeded hunt of `other` against the tracked SQLite (the release Turso tracks; the stdlib
    SQLite where it is not installed), blocking; called in a worker thread. A finding the tracked
    SQLite shares is a SQLite version gap, never a failure."""
    from stc_harness.differences import load_registry
    from stc_harness.differential.causes import VERSION_GAP, default_reference
    from stc_harness.differential.findings import UNDOCUMENTED
    from stc_harness.differential.hunt import HuntConfig, hunt, known_cases

    reference = default_reference()
    config = HuntConfig(seed=HUNT_SEED, cases=HUNT_CASES, engines=[engine(reference), engine(other)],
                        reference=reference, registry=load_registry(REGISTRY), time_cap=120,
                        tracked_only=frozenset(s for s, c in ALL_CASES.items() if c.get("tracked_only")),
                        known=known_cases(ALL_CASES, HUNT_SEED))
    res = hunt(config)
    found = sorted(({"signature": f.signature, "sql": f.case.sqls()} for f in res.findings
                    if f.status == UNDOCUMENTED and f.attribution != VERSION_GAP),
                   key=lambda f: f["signature"])
    stats = {"reference": reference, "cases": res.cases, "statements": res.statements,
             "truncated": res.truncated,
             "documented_findings": sum(f.status != UNDOCUMENTED for f in res.findings),
             "version_gaps": sum(f.attribution == VERSION_GAP for f in res.findings),
             "statements_compared_per_s": round(res.compared_per_second),
             "shrink_seconds": round(res.shrink_seconds, 2)}
    return found, stats


@check(title=f"A seeded differential hunt (seed {HUNT_SEED}, {HUNT_CASES} cases) finds no difference "
             "the registry does not document", source=DISCOVERY, expect={"undocumented": []}, timeout=150)
async def test_hunt(ctx: CheckContext) -> object:
    from stc_harness.adapters.backend_registry import REFERENCE
    from stc_harness.outcomes import SQLITE_BACKENDS

    if ctx.name == REFERENCE or ctx.name in SQLITE_BACKENDS:
        raise Unsupported("differential_hunt", "a SQLite release: the hunt compares every other backend with "
                          "the SQLite release Turso tracks")
    try:
        engine(ctx.name)
    except UsageError as exc:
        raise Unsupported("differential_hunt", str(exc)) from None
    found, stats = await asyncio.to_thread(_hunt, ctx.name)
    ctx.note(**stats)
    return {"undocumented": found}
