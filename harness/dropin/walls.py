"""A connection's walls: calls made inert while it was set up, shown again in each later test that uses it."""

from __future__ import annotations

import sys
from typing import Any

from stc_harness.dropin.trace import (
    INERT,
    TRACER,
    user_lines,
)

#: The outcome of a wall shown again: a connection set up earlier with a call Turso lacks is used now.
EARLIER_WALL = "missing on Turso: made inert when this connection was set up, earlier in the run"


#: Whether any connection of this process has a wall remembered.
_WALLED = [False]


def remember_wall(connection: Any, qualname: str, args: str) -> None:
    """Note on a connection that its set-up made a call inert (without the stand-in it would not exist)."""
    walls = getattr(connection, "_stc_walls", None)
    if walls is None:
        walls = []
        try:
            object.__setattr__(connection, "_stc_walls", walls)
        except (AttributeError, TypeError):
            return
        _WALLED[0] = True
    if len(walls) < 50:
        walls.append((qualname, args, TRACER.generation, user_lines(sys._getframe(2))[0]))


def show_walls(owner: Any, frame: Any) -> None:
    """Before a traced call on a connection (or its cursor) set up in an earlier test with calls made
    inert, record those calls again, once per test: on Turso without the stand-ins this connection would
    not have been set up, so they are what breaks this test too."""
    if owner is None or not _WALLED[0]:  # no connection has a wall (always so on SQLite): a hot path
        return
    connection = owner if hasattr(owner, "_stc_walls") else getattr(owner, "connection", None)
    walls = getattr(connection, "_stc_walls", None)
    if not walls or id(connection) in TRACER.walls_shown:
        return
    TRACER.walls_shown.add(id(connection))
    for qualname, args, generation, where in walls:
        if generation != TRACER.generation:  # made in this test: already in its trace
            TRACER.add(qualname, args, INERT, EARLIER_WALL, frame, where=where)
