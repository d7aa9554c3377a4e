"""Stand-ins hidden from probes: `hasattr(sqlite3, "x")` answers as plain Turso would, `sqlite3.x` works.

The drop-in gives every name Turso lacks a stand-in (a shim, an inert call) so the run goes on past it. Code
that asks first (`if hasattr(sqlite3, "enable_callback_tracebacks")`, `getattr(conn, "create_function",
None)`) must take the path it takes on plain Turso, where the name is absent: a guarded call is no wall.
A lookup made by attribute syntax (`sqlite3.x`, `conn.x(...)`, `from sqlite3 import x`) gets the stand-in;
one made by a builtin called with the name (`hasattr`, `getattr`) is told the name is missing.
"""

from __future__ import annotations

import dis
import sys
import types
from collections.abc import Callable
from types import FrameType
from typing import Any

#: The drop-in's own modules: their lookups are never a user's probe.
_OWN = "stc_harness."
#: Instructions that look an attribute up by its name in the code: a use, not a probe.
_DIRECT = frozenset(dis.opmap[name] for name in ("LOAD_ATTR", "LOAD_METHOD", "IMPORT_FROM", "LOAD_SUPER_ATTR")
                    if name in dis.opmap)


def looked_up_directly(frame: FrameType | None) -> bool:
    """Whether the lookup running in `frame` is attribute syntax (else a builtin such as hasattr made it)."""
    if frame is None or str(frame.f_globals.get("__name__", "")).startswith(_OWN):
        return True  # the drop-in's own look at what it patched
    code = frame.f_code.co_code
    return not 0 <= frame.f_lasti < len(code) or code[frame.f_lasti] in _DIRECT


class HiddenFromProbes:
    """A stand-in method on a driver class that `hasattr`/`getattr(obj, name, default)` do not find."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self.fn
        if not looked_up_directly(sys._getframe(1)):
            raise AttributeError(f"'{type(obj).__name__}' object has no attribute '{self.fn.__name__}'")
        return types.MethodType(self.fn, obj)


class ProbedModule(types.ModuleType):
    """The routed `sqlite3` module: its stand-ins are hidden from probes (see the module docstring)."""

    #: Module-level names only a stand-in provides (set by the routing, which restores it when undone).
    hidden: frozenset[str] = frozenset()

    def __getattribute__(self, name: str) -> Any:
        if name in ProbedModule.hidden and not looked_up_directly(sys._getframe(1)):
            raise AttributeError(f"module 'sqlite3' has no attribute {name!r}")
        return super().__getattribute__(name)
