"""The observation of a compat probe: each statement's normalised outcome, the last one reduced to its
shape for `shape` probes."""

from __future__ import annotations

from typing import Any


def reduce(outcome: dict[str, Any]) -> dict[str, Any]:
    """One statement's outcome reduced to `{"works": True, "rows": <any rows?>}`, or its error."""
    if "error" in outcome:
        return {"error": outcome["error"]}
    return {"works": True, "rows": bool(outcome.get("rows"))}


def shaped(obs: list[dict[str, Any]], shape: bool) -> list[dict[str, Any]]:
    """`obs` with the last statement reduced (`reduce`) when `shape`."""
    if not shape or not obs:
        return obs
    return [*obs[:-1], reduce(obs[-1])]


def shaped_where(obs: list[dict[str, Any]], sqls: tuple[str, ...],
                 shape: frozenset[str]) -> list[dict[str, Any]]:
    """`obs` with every statement whose SQL is in `shape` reduced (`reduce`)."""
    return [reduce(o) if sql in shape else o for o, sql in zip(obs, sqls, strict=True)]
