"""A mutant for tests/test_contention_race.py: SQLite whose failed BEGIN leaves a transaction open, rarely.

Loaded by target (`--backend=contention_leak_mutant:make_mutant`, with tests/ on PYTHONPATH); it holds no
tests itself. One deviation: on each database, the `LEAK_AT`-th failed BEGIN IMMEDIATE/EXCLUSIVE issues a
plain BEGIN before raising, so that connection is left in a transaction, as Turso's is, but far later in
the race than Turso ever needed (26,234 failed BEGINs at worst in ~370 trials).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from stc_backends.sqlite import SQLiteBackend

#: The failed BEGIN (counted per database, over all its connections) that leaves a transaction open.
LEAK_AT = 30_000


class _Leaky:
    """A DB-API connection whose `LEAK_AT`-th failed BEGIN IMMEDIATE/EXCLUSIVE leaves a transaction open."""

    def __init__(self, raw: Any, failures: Iterator[int]) -> None:
        self._raw = raw
        self._failures = failures

    def execute(self, sql: str, *args: Any) -> Any:
        """The driver's execute; a failed locking BEGIN is counted and, at `LEAK_AT`, leaks a BEGIN."""
        try:
            return self._raw.execute(sql, *args)
        except Exception:
            if sql in ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE") and next(self._failures) == LEAK_AT:
                self._raw.execute("BEGIN")
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _LeakyBackend(SQLiteBackend):
    """SQLite under another name, its connections' raw calls going through `_Leaky`."""

    name = "leaky"

    def __init__(self) -> None:
        super().__init__()
        self._failures: dict[str, Iterator[int]] = {}

    async def connect(self, url: Any, **options: Any) -> Any:
        conn = await super().connect(url, **options)
        failures = self._failures.setdefault(str(self.parse_url(url).path), itertools.count(1))
        run = conn._run

        def leaky_run(fn: Callable[[Any], Any]) -> Any:
            return run(lambda raw: fn(_Leaky(raw, failures)))

        conn._run = leaky_run
        return conn


def make_mutant() -> Any:
    """SQLite with one rare deviation (see `_Leaky`), named `leaky`."""
    return _LeakyBackend()
