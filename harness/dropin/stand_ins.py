"""What stands in for a name Turso lacks: an inert call recorded as a wall (the run goes on to the next
difference), a missing attribute or module name recorded as missing, `register_adapter` emulated."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from stc_harness.dropin.trace import (
    INERT,
    MISSING,
    OK,
    TRACER,
    driver_caller,
    render,
)
from stc_harness.dropin.walls import remember_wall
from stc_harness.dropin.wrappers import args_text

#: No value supplied for a missing adapter attribute (`adapter_attribute`): the lookup fails as it would.
NOT_SUPPLIED = object()


def missing_getattr(kind: str) -> Callable[[Any, str], Any]:
    """A `__getattr__` recording a failed attribute lookup by user code, then failing as Python would."""

    def __getattr__(self: Any, name: str) -> Any:
        if not name.startswith("_"):
            frame = sys._getframe(1)
            if TRACER.enabled and not driver_caller(frame):
                TRACER.add(f"{kind}.{name}", "", MISSING, "AttributeError", frame)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'", name=name, obj=self)

    return __getattr__


def adapter_attribute(shown: str, name: str, supplied: Any = NOT_SUPPLIED) -> property:
    """An instance attribute of a SQLAlchemy DBAPI adapter, each read recorded: its value where the adapter
    set it; where it did not (pyturso's), a missing name, answered with `supplied` if one is given."""

    seen = f"_stc_read_{name}"

    def get(self: Any) -> Any:
        frame = sys._getframe(1)
        record = TRACER.enabled and seen not in vars(self)  # its first read: when the engine is made
        vars(self)[seen] = True
        if name in vars(self):
            value = vars(self)[name]
            if record:
                TRACER.add(shown, "", OK, render(value), frame)
            return value
        if supplied is not NOT_SUPPLIED:
            if record:
                TRACER.add(shown, "", INERT, "missing on Turso: made inert", frame)
            return supplied
        if record:
            TRACER.add(shown, "", MISSING, "AttributeError", frame)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'", name=name, obj=self)

    def set_(self: Any, value: Any) -> None:
        vars(self)[name] = value

    return property(get, set_)


#: Adapters registered with `sqlite3.register_adapter` on Turso, applied by the drop-in (pyturso has none).
ADAPTERS: dict[type, Callable[[Any], Any]] = {}


def emulated_register_adapter() -> Callable[..., None]:
    """`register_adapter` on Turso: recorded as the missing name it is, and emulated so the run goes on.

    Made merely inert, every later statement binding such a value would fail on a parameter type pyturso
    refuses, and hide what breaks after that (a RETURNING statement left in progress, say).
    """

    def register_adapter(kind: type, adapter: Callable[[Any], Any], /) -> None:
        TRACER.add("sqlite3.register_adapter", args_text("register_adapter", (kind, adapter), {}), INERT,
                   "missing on Turso: emulated by the drop-in", sys._getframe(1))
        ADAPTERS[kind] = adapter

    register_adapter.dropin_inert = "sqlite3.register_adapter"  # type: ignore[attr-defined]
    return register_adapter


def _adapt_row(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: _adapt_value(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return tuple(_adapt_value(v) for v in params)
    return params


def _adapt_value(value: Any) -> Any:
    adapter = ADAPTERS.get(type(value))
    return adapter(value) if adapter is not None else value


def adapting(fn: Callable[..., Any], many: bool) -> Callable[..., Any]:
    """pyturso's execute/executemany applying the adapters registered through the emulation first."""

    @functools.wraps(fn)
    def call(self: Any, sql: str, parameters: Any = (), *args: Any, **kwargs: Any) -> Any:
        if ADAPTERS:
            parameters = (_adapt_row(p) for p in parameters) if many else _adapt_row(parameters)
        return fn(self, sql, parameters, *args, **kwargs)

    return call


def module_getattr(module: str, shown: str) -> Callable[[str], Any]:
    """A module `__getattr__` (PEP 562) recording a failed lookup, then failing as Python would."""

    def __getattr__(name: str) -> Any:
        if not name.startswith("_"):
            frame = sys._getframe(1)
            if TRACER.enabled and not driver_caller(frame):
                TRACER.add(f"{shown}.{name}", "", MISSING, "AttributeError", frame)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


def inert(qualname: str, asynchronous: bool = False, method: bool = False) -> Callable[..., Any]:
    """A stand-in for a name Turso lacks that only registers something: records the call, does nothing."""
    leaf = qualname.rsplit(".", 1)[-1]

    def record(args: tuple[Any, ...], kwargs: dict[str, Any], frame: Any) -> None:
        TRACER.add(qualname, args_text(leaf, args, kwargs), INERT, "missing on Turso: made inert", frame)

    if asynchronous:

        async def async_stand_in(self: Any, *args: Any, **kwargs: Any) -> None:
            record(args, kwargs, sys._getframe(1))
            remember_wall(self, qualname, args_text(leaf, args, kwargs))

        async_stand_in.__name__ = leaf
        async_stand_in.dropin_inert = qualname  # type: ignore[attr-defined]
        return async_stand_in

    def stand_in(*args: Any, **kwargs: Any) -> None:
        record(args[1:] if method else args, kwargs, sys._getframe(1))
        if method and args:
            remember_wall(args[0], qualname, args_text(leaf, args[1:], kwargs))

    stand_in.__name__ = leaf
    stand_in.dropin_inert = qualname  # type: ignore[attr-defined]
    return stand_in
