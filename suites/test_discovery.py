"""Regression cases found by differential discovery (`python -m harness hunt --save`), replayed as checks.

Each `discovery_cases/<signature>.json` is one minimal reproduction: its statements run in one batch
on a fresh in-memory database of each backend and the normalised outcome of every statement is the
observation. A case that killed or hung a driver replays in a child process, and how that process
ended is the observation. The registry entry for each case lives in `differences/discovery.toml`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import DISCOVERY, CheckContext, check
from harness.differential.replay import load_cases, needs_isolation, replay, replay_isolated

CASES = load_cases(Path(__file__).parent / "discovery_cases")


async def _replay(ctx: CheckContext, case: dict[str, Any]) -> object:
    if needs_isolation(case):
        obs, messages = await replay_isolated(ctx.name, case, timeout=30)
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
