"""The raw drivers the hunt runs on: a fresh in-memory database per case, in each driver's own thread.

Every statement goes through the driver's DB-API (what applications use) and every error through
the same classifier as the backend's harness adapter, so error kinds mean the same as in the suites.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.connection import PASS_THROUGH
from harness.differential.case import Runnable
from harness.differential.normalise import Outcome, failed, is_panic, ok
from harness.errors import DatabaseError, UsageError


@dataclass(frozen=True)
class Engine:
    """A backend as the hunt drives it: how to open a fresh database, and how to classify errors."""

    name: str
    driver: str
    version: str
    open: Callable[[], Any]
    classify: Callable[[BaseException], DatabaseError]
    spec: str = ""  # how a worker process rebuilds it: a built-in name or `package.module:factory`

    def describe(self) -> str:
        """`name (driver version)` for the run header."""
        return f"{self.name} ({self.driver} {self.version})"


def _replace_invalid_utf8(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def sqlite_engine() -> Engine:
    """SQLite through the stdlib sqlite3 module (what aiosqlite wraps), autocommit.

    TEXT that is not valid UTF-8 is decoded with U+FFFD, as pyturso does, instead of raising: the
    hunt compares engines, and that driver-level difference would otherwise mask every other one.
    """
    from backends.sqlite import classify

    def open_() -> Any:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.text_factory = _replace_invalid_utf8
        return conn

    return Engine("sqlite", "sqlite3", sqlite3.sqlite_version, open_, lambda exc: classify(exc, "sqlite"))


def turso_engine() -> Engine:
    """Turso through pyturso's blocking DB-API core, autocommit."""
    import turso

    from backends.sqlite import _version
    from backends.turso import classify

    def open_() -> Any:
        return turso.connect(":memory:", isolation_level=None)

    return Engine("turso", "pyturso", _version("pyturso"), open_, lambda exc: classify(exc, "turso"))


ENGINES: dict[str, Callable[[], Engine]] = {"sqlite": sqlite_engine, "turso": turso_engine}


def engine(name: str) -> Engine:
    """The engine called `name` (or built by `package.module:factory`); unknown names are usage errors."""
    if name in ENGINES:
        return ENGINES[name]()
    module, sep, attr = name.partition(":")
    if sep:
        import importlib

        try:
            made = getattr(importlib.import_module(module), attr)()
        except (ImportError, AttributeError) as exc:
            raise UsageError(f"cannot build the hunt engine {name!r}: {exc}") from exc
        if not isinstance(made, Engine):
            raise UsageError(f"{name!r} did not return a harness.differential.engines.Engine")
        return dataclasses.replace(made, spec=name)
    raise UsageError(f"the hunt cannot drive backend {name!r}; it knows: {', '.join(ENGINES)} "
                     "(or give a 'package.module:factory' returning an Engine)")


def run_statement(eng: Engine, conn: Any, stmt: Any) -> Outcome:
    """Run one statement on a raw connection and normalise what it did (driver thread)."""
    try:
        cur = conn.execute(stmt.sql())
        try:
            rows = cur.fetchall() if cur.description else []
            return ok(rows, cur.rowcount, stmt.ordered, stmt.counted)
        finally:
            cur.close()
    except PASS_THROUGH:
        raise
    except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException; it is an outcome
        return failed(eng.classify(exc))


def _close(conn: Any) -> None:
    with contextlib.suppress(BaseException):
        conn.close()


@dataclass
class Progress:
    """Which case (and statement) a worker is on, read when a batch times out or the worker dies."""

    index: int = -1
    current: int = -1

    def statement(self, value: int) -> None:
        """Record the statement about to run."""
        self.current = value


def _run_all(eng: Engine, conn: Any, statements: Sequence[Any], progress: Any) -> list[Outcome]:
    if progress is None:
        return [run_statement(eng, conn, s) for s in statements]
    out = []
    for j, stmt in enumerate(statements):
        progress.statement(j)
        out.append(run_statement(eng, conn, stmt))
    return out


def run_cases(eng: Engine, cases: Sequence[Runnable], progress: Any = None) -> list[list[Outcome]]:
    """Run a batch of cases in the calling (driver) thread.

    A stateful case gets its own fresh database; stateless ones share one fresh database per batch,
    replaced after a panic.
    """
    out: list[list[Outcome]] = []
    shared: Any = None
    try:
        for i, case in enumerate(cases):
            if progress is not None:
                progress.index = i
            if case.stateful:
                conn = eng.open()
                try:
                    out.append(_run_all(eng, conn, case.statements, progress))
                finally:
                    _close(conn)
                continue
            if shared is None:
                shared = eng.open()
            outcomes = _run_all(eng, shared, case.statements, progress)
            if any(is_panic(o) for o in outcomes):
                _close(shared)
                shared = None
            out.append(outcomes)
    finally:
        if shared is not None:
            _close(shared)
    return out
