"""Which test modules need a library module whose import made a traced call: its calls are theirs too.

A library that calls a name Turso lacks while it is imported (`sqlite3.enable_callback_tracebacks(True)` at
the top of a module) stops every test module that imports it, on plain Turso. Its import runs once per
process, while the first test module that needs it is collected, so its calls land in that module's import
trace only. After collection, each engine's run charges those calls to every other test module that
needs the library too, in a trace of their own (`<import> tests/test_b.py <- pkg.base, pkg.queue`, in the
order the libraries were imported).

A test module needs a library module when it refers, through its globals, to the library module or to an
object defined in it, directly or through modules it refers to in turn: an object of a module exists only
once that module was imported. (An import made only for its side effects leaves no reference: such a test
module is not charged.)
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterable, Mapping
from pathlib import Path

from stc_harness.dropin.stopped import TEST_FILE

#: Between a test module and the library module in the name of the trace that charges one to the other.
NEEDS = " <- "

_DEFINED = (type, types.FunctionType, types.BuiltinFunctionType)


def references(module: types.ModuleType) -> set[str]:
    """The modules `module`'s globals refer to: modules, and the modules of classes, functions and objects."""
    out: set[str] = set()
    for value in list(vars(module).values()):
        if isinstance(value, types.ModuleType):
            out.add(value.__name__)
            continue
        # a class or a function says where it was defined; an instance is its class's (no __getattr__ run)
        owner = value.__dict__.get("__module__") if isinstance(value, type) else (
            getattr(value, "__module__", None) if isinstance(value, _DEFINED) else type(value).__module__)
        if isinstance(owner, str):
            out.add(owner)
    return out


class Needs:
    """Whether one module needs another, by the references of the modules loaded now (memoised).

    Only the project's own modules (files under `root`; any module when `root` is None) are followed: an
    installed library never refers to the project's modules, and following them all (SQLAlchemy,
    Hypothesis, pytest) for every test module would cost seconds on a large suite.
    """

    def __init__(self, modules: Mapping[str, types.ModuleType] | None = None,
                 root: Path | None = None) -> None:
        self.modules = sys.modules if modules is None else modules
        self.root = None if root is None else str(root) + os.sep
        self._refs: dict[str, set[str]] = {}

    def _references(self, name: str) -> set[str]:
        if name not in self._refs:
            module = self.modules.get(name)
            path = getattr(module, "__file__", None) if isinstance(module, types.ModuleType) else None
            followed = module is not None and (self.root is None or (
                isinstance(path, str) and os.path.realpath(path).startswith(self.root)))
            self._refs[name] = references(module) if followed else set()  # type: ignore[arg-type]
        return self._refs[name]

    def reaches(self, start: str, targets: set[str]) -> set[str]:
        """The `targets` that module `start` needs (itself excluded)."""
        seen, stack, found = {start}, [start], set()
        while stack:
            for name in self._references(stack.pop()):
                if name in targets:
                    found.add(name)
                if name not in seen:
                    seen.add(name)
                    stack.append(name)
        return found - {start}


def module_files(root: Path, modules: Mapping[str, types.ModuleType] | None = None) -> dict[str, str]:
    """{path relative to `root` (as traces write it): module name} of the loaded modules with a file."""
    out: dict[str, str] = {}
    for name, module in list((sys.modules if modules is None else modules).items()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str):
            out[os.path.relpath(os.path.realpath(path), root)] = name
    return out


def charged(buckets: Mapping[str, list[list[str]]], test_modules: Iterable[tuple[str, str]],
            root: Path) -> dict[str, list[list[str]]]:
    """The extra import traces: `<file> <- <library>` with the library's import-time calls, for each test
    module (file, module name) that needs a library whose calls were charged to another one's import.

    `buckets`: the import traces written so far, by test file (`<conftest>` included: those apply to every
    test already). Only calls made in a library's own file count (where the call was made).
    """
    if not any(buckets.values()):
        return {}  # no call was made while a test module was imported (or tracing is off)
    files = module_files(root)
    by_library: dict[str, list[tuple[str, list[str]]]] = {}
    for bucket, events in buckets.items():
        for event in events:
            path = event[4].rpartition(":")[0] if len(event) > 4 else ""
            library = files.get(path)
            if library is not None and bucket != "<conftest>" and not _is_test_file(path):
                by_library.setdefault(library, []).append((bucket, event))
    if not by_library:
        return {}
    needs = Needs(root=root)
    out: dict[str, list[list[str]]] = {}
    for file, name in test_modules:
        reached = needs.reaches(name, set(by_library))
        # in the order the libraries were imported (the first is the wall on plain Turso), and only those
        # whose calls were charged to another test module's import
        libraries = [lib for lib in by_library if lib in reached
                     and all(bucket != file for bucket, _ in by_library[lib])]
        if libraries:  # made on this module's behalf: its own file is where the test side stood
            out[f"{file}{NEEDS}{', '.join(libraries)}"] = [[*e[:5], file] for lib in libraries
                                                          for _, e in by_library[lib]]
    return out


def _is_test_file(path: str) -> bool:
    return os.path.basename(path) == "conftest.py" or TEST_FILE.search(path) is not None
