"""`python -m stc_harness.differential.isolated BACKEND < case.json`: replay a case in a process of its own.

BACKEND is a backend name or the `package.module:factory` target a backend was loaded from.

Prints `{"observation": ..., "messages": ...}` as JSON. Used for cases that kill or hang a driver,
which the normal suites must replay without dying with it (`replay.replay_isolated`).
"""

from __future__ import annotations

import asyncio
import json
import sys

from stc_harness.adapters.backend_registry import available, load_target
from stc_harness.differential.replay import replay


async def _run(which: str, case: dict[str, object]) -> tuple[object, object]:
    backend = load_target(available().get(which, which))
    conn = await backend.connect(f"{backend.name}::memory:")
    try:
        return await replay(conn, case)
    finally:
        await conn.close()


def main(argv: list[str]) -> int:
    """Replay the case read from stdin on backend `argv[0]`; print the observation."""
    if len(argv) != 1 or (argv[0] not in available() and ":" not in argv[0]):
        names = ",".join([*available(), "package.module:factory"])
        print(f"usage: python -m stc_harness.differential.isolated {{{names}}} < case.json", file=sys.stderr)
        return 2
    obs, messages = asyncio.run(_run(argv[0], json.load(sys.stdin)))
    sys.stdout.write(json.dumps({"observation": obs, "messages": messages}) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
