"""Saved regression cases: load them, and replay one through a harness connection (one batch)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from stc_harness.adapters.backend_registry import child_environment
from stc_harness.differential.normalise import Outcome, failed, observation, ok
from stc_harness.differential.worker import death_of
from stc_harness.errors import DatabaseError, UsageError

#: The saved cases that ship with the package (a link to the repository's suites/discovery_cases, copied
#: into the wheel), so an installed hunt outside the repository knows them too.
PACKAGED_CASES = Path(__file__).resolve().parent / "discovery_cases"
#: Where `hunt --save` writes cases, relative to the working directory (the repository's folder).
CASES_DIR = "suites/discovery_cases"

CASE_FIELDS = ("signature", "backend", "reference", "kind", "index", "statements", "observed")


def load_case(path: Path) -> dict[str, Any]:
    """Load and validate one case file; a bad file is a usage error naming it and the missing fields."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable JSON regression case ({exc})") from exc
    missing = [f for f in CASE_FIELDS if f not in data]
    if missing:
        raise UsageError(f"{path}: regression case lacks {', '.join(missing)}; re-save it with "
                         "`python -m stc_harness hunt --save`")
    if path.stem != data["signature"]:
        raise UsageError(f"{path}: file name must be the signature {data['signature']!r} + .json")
    return data


def load_cases(folder: Path) -> dict[str, dict[str, Any]]:
    """Every `<signature>.json` in `folder`, by signature, sorted."""
    if not folder.is_dir():
        return {}
    return {p.stem: load_case(p) for p in sorted(folder.glob("*.json"))}


def saved_cases(folder: Path) -> dict[str, dict[str, Any]]:
    """The cases that ship with the package with those in `folder` over them (a case of the same
    signature in `folder` wins), like a registry folder added to the built-in registry."""
    return {**load_cases(PACKAGED_CASES), **load_cases(folder)}


def default_cases_dir() -> Path:
    """The saved cases to read when none are named: the repository's folder from its root, else the
    ones that ship with the package."""
    return Path(CASES_DIR) if Path(CASES_DIR).is_dir() else PACKAGED_CASES


def outcomes_of(results: list[Any], statements: list[dict[str, Any]]) -> list[Outcome]:
    """Normalise a harness batch's results (Result or classified DatabaseError, in place)."""
    out = []
    for res, stmt in zip(results, statements, strict=True):
        if isinstance(res, DatabaseError):
            out.append(failed(res))
        elif isinstance(res, BaseException):
            raise res
        else:
            out.append(ok(res.rows, res.rowcount, bool(stmt.get("ordered")), bool(stmt.get("counted"))))
    return out


async def replay(conn: Any, case: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Run a saved case's statements in one batch on `conn`; its observation and the raw error messages."""
    stmts = case["statements"]
    results = await conn.batch([s["sql"] for s in stmts])
    outcomes = outcomes_of(results, stmts)
    messages = {str(i): o.message for i, o in enumerate(outcomes) if o.message}
    return observation(outcomes), messages


#: Kinds of finding whose case must be replayed in a separate process (it kills or hangs the driver).
ISOLATED_KINDS = ("crash", "hang")


def needs_isolation(case: dict[str, Any]) -> bool:
    """Whether a saved case must be replayed in a process of its own."""
    return case.get("kind") in ISOLATED_KINDS


async def replay_isolated(backend: str, case: dict[str, Any],
                          timeout: float = 30.0) -> tuple[Any, dict[str, str]]:
    """Replay a case in a child process; how the process ended is the observation if it did not finish.

    `backend` is a backend name or its `package.module:factory` target (see `target_of`).
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stc_harness.differential.isolated", backend,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=child_environment())
    try:
        out, err = await asyncio.wait_for(proc.communicate(json.dumps(case).encode()), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return {"process": f"no answer within {timeout:g}s"}, {}
    if proc.returncode == 0:
        data = json.loads(out.decode())
        return data["observation"], data["messages"]
    tail = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip()]
    panic = next((ln.strip() for ln in tail if "panicked at" in ln), "")
    return {"process": death_of(proc.returncode)}, {"stderr": panic or " | ".join(tail[-2:])}
