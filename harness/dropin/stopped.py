"""Where a failing test stopped, read from its traceback and its source: the test's own file and the
statement it failed in, and the tear-downs (methods, yield fixtures after their yield) that ran after it.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Any, NamedTuple

#: A test module by its name (`test_x.py`, `x_test.py`, Django's `tests.py`).
TEST_FILE = re.compile(r"(?:^|/)(?:test_[^/]*|[^/]*_test|tests?)\.py$")
#: How many lines above the reported one a statement that failed may start (a multi-line assert).
STATEMENT_SPAN = 3
#: Tear-down methods of test classes: what they run comes after the test's failure.
_TEARDOWNS = frozenset({"tearDown", "asyncTearDown", "tearDownClass", "teardown_method", "teardown_class",
                        "teardown_function", "teardown_module", "teardown", "tearDownModule"})
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
#: Frames of the runner and of installed packages, above the test's own in a traceback.
_RUNNER_CODE = re.compile(r"site-packages/|/lib/python3\.\d+/|/_pytest/|/pluggy/|/unittest/")


@functools.lru_cache(maxsize=256)
def _frames(longrepr: str) -> tuple[tuple[str, int], ...]:
    """(file, line) of every frame of a traceback's text, outermost first (a failure is blamed twice)."""
    return tuple((f, int(n)) for f, n in _FRAME.findall(longrepr))


def stopped_at(failure: dict[str, Any]) -> tuple[str, int, int] | None:
    """The test file and the last line of it Turso reached: the outermost frame of that file in the
    traceback (a helper defined above the test is called from a later line), to the end of its statement."""
    path, _, number = str(failure.get("line") or "").rpartition(":")
    if not path or not number.isdigit():
        return None
    every = _frames(str(failure.get("longrepr") or ""))
    outermost = next((f for f, _ in every if not f.startswith("<") and not _RUNNER_CODE.search(f)), None)
    if outermost is not None and outermost != path and not outermost.endswith("/" + path):
        return None  # failed in code the test called (a library's worker thread, say), not in the test
    frames = [(f, n) for f, n in every if f == path or f.endswith("/" + path)]
    source = str(failure.get("source") or "").strip()
    if source.startswith(("with ", "async with ", "for ", "async for ", "while ")):
        return None  # a block's exit or next round is reported on its first line, after its body ran
    file, line = frames[0] if frames else ("", int(number))
    end = _statement_end(file, line) if file else None
    if end is None:  # the file cannot be read: a statement that opens a bracket goes on below
        opened = sum(source.count(c) for c in "([{") - sum(source.count(c) for c in ")]}")
        end = line + (STATEMENT_SPAN if opened > 0 or source.endswith("\\") else 0)
    return path, line, end


class Outline(NamedTuple):
    """What the drop-in reads of a Python file: where its statements end, its tear-downs, its `try`s."""

    #: First line -> last line of every statement.
    spans: dict[int, int]
    #: The first and last line of every tear-down (a tear-down method; a yield fixture after its yield).
    teardowns: tuple[tuple[int, int], ...]
    #: The first and last line of every `try` body, and the exception classes its handlers name.
    handlers: tuple[tuple[int, int, tuple[str, ...]], ...]


@functools.lru_cache(maxsize=64)
def _outline(file: str) -> Outline:
    """Of a Python file, read once: its statements, tear-downs and `try`s; empty if unreadable."""
    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return Outline({}, (), ())
    spans: dict[int, int] = {}
    teardowns: list[tuple[int, int]] = []
    handlers: list[tuple[int, int, tuple[str, ...]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and node.body:
            last = node.body[-1].end_lineno or node.body[-1].lineno
            handlers.append((node.body[0].lineno, last, _caught(node)))
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            spans[node.lineno] = min(spans.get(node.lineno, node.end_lineno), node.end_lineno)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in _TEARDOWNS:
                teardowns.append((node.lineno, node.end_lineno))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_fixture(node):
                # a yield fixture's code after its yield runs once the test is over
                yielded = [y.end_lineno or y.lineno for y in ast.walk(node) if isinstance(y, ast.Yield)]
                if yielded:
                    teardowns.append((min(yielded) + 1, node.end_lineno))
    return Outline(spans, tuple(teardowns), tuple(handlers))


def _caught(node: ast.Try) -> tuple[str, ...]:
    """The exception classes a `try`'s handlers name (last name: `sqlite3.OperationalError` ->
    `OperationalError`)."""
    names: list[str] = []
    for handler in node.handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        names += [k.attr if isinstance(k, ast.Attribute) else k.id for k in kinds
                  if isinstance(k, ast.Attribute | ast.Name)]
    return tuple(names)


def _is_fixture(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Decorated `@pytest.fixture`, `@fixture` or either called with arguments."""
    for d in node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if (isinstance(target, ast.Name) and target.id == "fixture") or (
                isinstance(target, ast.Attribute) and target.attr == "fixture"):
            return True
    return False


def _statement_end(file: str, line: int) -> int | None:
    """The last line of the statement that starts on `line` of `file` (a multi-line `assert (`)."""
    return _outline(file).spans.get(line)


def handled_in_test(failure: dict[str, Any]) -> frozenset[str]:
    """The exception classes (last name: `OperationalError`) that `except` clauses of the test's own file
    catch around the line of it the failure passed through (its outermost frame in a test file)."""
    frames = _frames(str(failure.get("longrepr") or ""))
    frame = next(((f, n) for f, n in frames if TEST_FILE.search(f)), None)
    if frame is None:
        return frozenset()
    file, line = frame
    return frozenset(name for first, last, names in _outline(file).handlers if first <= line <= last
                     for name in names)


class TeardownLines:
    """Membership test: is `path:line` inside a tear-down (a tear-down method, or a yield fixture after its
    yield) of a file the traceback names, or of one beside them (a conftest.py) under the same root."""

    def __init__(self, failure: dict[str, Any]) -> None:
        self._files = {f for f, _ in _frames(str(failure.get("longrepr") or ""))}
        shown = str(failure.get("line") or "").rpartition(":")[0]
        self._roots = {f[: -len(shown)] for f in self._files if shown and f.endswith("/" + shown)}

    def __contains__(self, origin: object) -> bool:
        path, _, number = str(origin).rpartition(":")
        if not path or not number.isdigit():
            return False
        file = next((f for f in self._files if f == path or f.endswith("/" + path)), None)
        if file is None:
            file = next((r + path for r in self._roots if Path(r + path).is_file()), None)
        return file is not None and any(a <= int(number) <= b for a, b in _outline(file).teardowns)
