"""Run a callback once a module is imported: now if it already is, else right after its first import.

The drop-in patches client libraries (aiosqlite, SQLAlchemy) *when the suite imports them*, not before:
importing them early would load the installed copy before a suite's conftest puts its own copy first.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


class _After(importlib.abc.Loader):
    """A loader that runs the real loader, then the callbacks waiting for that module."""

    def __init__(self, loader: Any, callbacks: list[Callable[[], None]]) -> None:
        self.loader = loader
        self.callbacks = callbacks

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        for callback in self.callbacks:
            callback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


class ImportWatcher(importlib.abc.MetaPathFinder):
    """A meta path finder that hooks the first import of each watched module."""

    def __init__(self) -> None:
        self.waiting: dict[str, list[Callable[[], None]]] = {}
        self._busy = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Find the module with the other finders; wrap its loader if callbacks wait for it."""
        callbacks = self.waiting.get(fullname)
        if not callbacks or self._busy:
            return None
        self._busy = True
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            self._busy = False
        if spec.loader is None:
            return None
        del self.waiting[fullname]
        spec.loader = _After(spec.loader, callbacks)
        return spec


WATCHER = ImportWatcher()


def on_import(name: str, callback: Callable[[], None]) -> None:
    """Call `callback` now if `name` is imported, else once its first import has finished."""
    if name in sys.modules:
        callback()
        return
    WATCHER.waiting.setdefault(name, []).append(callback)
    if WATCHER not in sys.meta_path:
        sys.meta_path.insert(0, WATCHER)


def forget(name: str) -> None:
    """Drop the callbacks still waiting for `name`."""
    WATCHER.waiting.pop(name, None)
