"""The observation of a compat probe: each statement's normalised outcome, the last one reduced to its
shape for `shape` probes."""

from __future__ import annotations

from typing import Any


def shaped(obs: list[dict[str, Any]], shape: bool) -> list[dict[str, Any]]:
    """`obs` with the last statement reduced to `{"works": True, "rows": <any rows?>}` or its error."""
    if not shape or not obs:
        return obs
    last = obs[-1]
    reduced = {"error": last["error"]} if "error" in last else {"works": True, "rows": bool(last.get("rows"))}
    return [*obs[:-1], reduced]
