"""Reversible monkey-patching of modules, classes and the globals that already hold the patched objects."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Modules whose globals are never rebound: the harness itself (its SQLite reference must stay SQLite),
#: the drivers being patched, and pytest's own machinery.
SKIP_PREFIXES = (
    "stc_harness",
    "stc_backends",
    "turso",
    "sqlite3",
    "_sqlite3",
    "aiosqlite",
    "sqlean",
    "_pytest",
    "pytest",
    "pluggy",
    "sqlalchemy.dialects.sqlite",
    "importlib",
    "builtins",
)

_ABSENT: Any = object()


@dataclass
class Patches:
    """Every attribute set and global rebound, so that `undo()` restores exactly what was there."""

    attrs: list[tuple[Any, str, Any, bool]] = field(default_factory=list)
    items: list[tuple[dict[str, Any], str, Any]] = field(default_factory=list)

    def set(self, target: Any, name: str, value: Any) -> None:
        """Set `target.name = value`, remembering the old value (or its absence)."""
        had = name in vars(target) if isinstance(target, type) else hasattr(target, name)
        old = vars(target).get(name) if isinstance(target, type) else getattr(target, name, None)
        self.attrs.append((target, name, old, had))
        setattr(target, name, value)

    def set_item(self, mapping: dict[str, Any], name: str, value: Any) -> None:
        """Set `mapping[name] = value`, remembering the old value (or its absence)."""
        self.items.append((mapping, name, mapping.get(name, _ABSENT)))
        mapping[name] = value

    def rebind(self, replaced: dict[int, Any], skip: tuple[str, ...] = SKIP_PREFIXES) -> None:
        """Rebind globals of already imported modules that hold an object in `replaced` (by id)."""
        for modname, module in list(sys.modules.items()):
            if module is None or modname.startswith(skip):
                continue
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for name, value in list(namespace.items()):
                if name.startswith("__") or isinstance(value, (int, str, float, bytes, tuple)):
                    continue
                new = replaced.get(id(value))
                if new is not None and new is not value:
                    self.set_item(namespace, name, new)

    @contextlib.contextmanager
    def suspended(self) -> Iterator[None]:
        """Put every original back for the block, then the patches again (nothing is searched anew)."""
        attrs = [(t, n, vars(t).get(n, _ABSENT) if isinstance(t, type) else getattr(t, n, _ABSENT))
                 for t, n, _, _ in self.attrs]
        items = [(m, n, m.get(n, _ABSENT)) for m, n, _ in self.items]
        saved_attrs, saved_items = list(self.attrs), list(self.items)
        self.undo()
        try:
            yield
        finally:
            for target, name, value in attrs:
                if value is not _ABSENT:
                    setattr(target, name, value)
            for mapping, name, value in items:
                if value is not _ABSENT:
                    mapping[name] = value
            self.attrs[:0], self.items[:0] = saved_attrs, saved_items

    def undo(self) -> None:
        """Restore every patched attribute and rebound global, newest first."""
        for mapping, name, old in reversed(self.items):
            if old is _ABSENT:
                mapping.pop(name, None)
            else:
                mapping[name] = old
        for target, name, old, had in reversed(self.attrs):
            if had:
                setattr(target, name, old)
            else:
                delattr(target, name)
        self.items.clear()
        self.attrs.clear()
