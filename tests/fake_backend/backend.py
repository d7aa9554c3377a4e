"""`FakeBackend`: SQLite through aiosqlite, registered under another name, optionally panicking."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import aiosqlite

from stc_backends.sqlite import SQLiteConnection
from stc_harness.adapters.capabilities import CapabilitySet
from stc_harness.adapters.pool import Pool
from stc_harness.adapters.protocol import BackendInfo, Params, Result
from stc_harness.adapters.urls import DatabaseURL, parse_url

DRIVER_VERSION = "0.0.1-fake"


class PanicException(BaseException):
    """Stands in for `pyo3_runtime.PanicException`: a BaseException, not an Exception."""


class FakeConnection(SQLiteConnection):
    """An aiosqlite connection that answers to another backend name and can panic on request."""

    def __init__(self, aconn: aiosqlite.Connection, name: str, panics: bool, hangs: bool = False) -> None:
        super().__init__(aconn)
        self.backend_name = name
        self.panics = panics
        self.hangs = hangs

    async def execute(self, sql: str, params: Params = ()) -> Result:
        """Run a statement; on a panicking backend, `PANIC` in the SQL raises `PanicException`."""
        if self.hangs and "HANG" in sql:

            def never(raw: Any) -> Result:
                threading.Event().wait()  # blocks the driver's thread for ever, as a stuck C call would
                raise AssertionError("unreachable")

            return await self.call(never)
        if self.panics and "PANIC_RAW" in sql:
            raise PanicException("explicit panic (raw) in fake backend")
        if self.panics and "PANIC" in sql:

            def boom(raw: Any) -> Result:
                raise PanicException("called `Option::unwrap()` on a `None` value (fake)")

            return await self.call(boom)
        return await super().execute(sql, params)


class FakeBackend:
    """A third-party backend as a user would write one, built on aiosqlite."""

    def __init__(self, name: str = "fake", panics: bool = False, hangs: bool = False) -> None:
        self.name = name
        self.panics = panics
        self.hangs = hangs
        self.capabilities = CapabilitySet(self, {
            "async_api": (True, "aiosqlite"),
            "encryption": (False, "the fake backend has no encryption"),
            "concurrent_writes": (False, "the fake backend has no MVCC"),
        })

    @property
    def info(self) -> BackendInfo:
        """Driver and engine versions, as the report header shows them."""
        return BackendInfo(self.name, "fake-driver", DRIVER_VERSION, sqlite3.sqlite_version)

    def parse_url(self, url: str | DatabaseURL) -> DatabaseURL:
        """Parse a `<name>:` URL."""
        return url if isinstance(url, DatabaseURL) else parse_url(url, schemes=(self.name,))

    async def connect(self, url: str | DatabaseURL, **options: Any) -> FakeConnection:
        """Open a connection (options are accepted and ignored)."""
        parsed = self.parse_url(url)
        try:
            aconn = await aiosqlite.connect(parsed.path, isolation_level=None)
        except sqlite3.Error as exc:
            from stc_backends.sqlite import classify

            raise classify(exc, self.name) from exc
        return FakeConnection(aconn, self.name, self.panics, self.hangs)

    def pool(self, url: str | DatabaseURL, *, max_size: int = 4, acquire_timeout: float = 5.0,
             **options: Any) -> Pool:
        """A pool; in memory it is capped at one connection, as for SQLite."""
        parsed = self.parse_url(url)
        return Pool(lambda: self.connect(parsed, **options), max_size=1 if parsed.is_memory else max_size,
                    acquire_timeout=acquire_timeout, name=f"{self.name} pool")


def make_fake() -> FakeBackend:
    """Factory of the well-behaved `fake` backend (`fake_backend.backend:make_fake`)."""
    return FakeBackend()


def make_panicky() -> FakeBackend:
    """Factory of the `panicky` backend, whose `PANIC` statements raise `PanicException`."""
    return FakeBackend("panicky", panics=True)


def make_hanging() -> FakeBackend:
    """Factory of the `hanging` backend, whose `HANG` statements never return."""
    return FakeBackend("hanging", hangs=True)


__all__ = ["FakeBackend", "PanicException", "make_fake", "make_hanging", "make_panicky"]

