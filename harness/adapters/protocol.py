"""The async backend protocol every adapter implements."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

from stc_harness.adapters.capabilities import CapabilitySet
from stc_harness.adapters.urls import DatabaseURL
from stc_harness.safety import secrets

Params = Sequence[Any] | Mapping[str, Any]
Statement = str | tuple[str, Params]


@dataclass(frozen=True)
class EncryptionOpts:
    """A cipher name and a hex-encoded key (the `encryption=` option); its repr never shows the key."""

    cipher: str
    hexkey: str

    def __post_init__(self) -> None:
        secrets.remember(self.hexkey)

    def __repr__(self) -> str:
        return f"EncryptionOpts(cipher={self.cipher!r}, hexkey=<redacted>)"

    __str__ = __repr__


class TransactionMode(str, enum.Enum):
    """How a transaction begins; see `001_312a5f9792b0f890.txt`, "Overriding the default per-transaction"."""

    DEFAULT = "DEFAULT"
    DEFERRED = "DEFERRED"
    IMMEDIATE = "IMMEDIATE"
    EXCLUSIVE = "EXCLUSIVE"


class Result(NamedTuple):
    """What one statement returned: its rows, the DB-API description, rows changed and last rowid."""

    rows: list[tuple[Any, ...]]
    description: tuple[tuple[Any, ...], ...] | None = None
    rowcount: int = -1
    lastrowid: int | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names (computed on demand: the batch path stays lean)."""
        return tuple(d[0] for d in self.description) if self.description else ()


@dataclass(frozen=True)
class BackendInfo:
    """Name and versions of a backend, as printed in the report header and the report."""

    name: str
    driver: str
    driver_version: str
    engine_version: str
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Connection(Protocol):
    """One async connection; every driver exception leaving it is a classified `DatabaseError`."""

    backend_name: str

    async def execute(self, sql: str, params: Params = ()) -> Result:
        """Run one statement and return its whole result."""
        ...

    async def executemany(self, sql: str, seq_of_params: Sequence[Params]) -> Result:
        """Run one statement once per parameter set."""
        ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Run a query and return all its rows."""
        ...

    async def fetch_one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        """Run a query and return its first row, or None."""
        ...

    async def batch(self, statements: Sequence[Statement]) -> list[Result | BaseException]:
        """Run many statements in one trip to the driver's thread; a failure is returned in place."""
        ...

    def transaction(self, mode: TransactionMode = TransactionMode.DEFAULT) -> Any:
        """Async context manager: BEGIN in `mode`, COMMIT on success, ROLLBACK on exception."""
        ...

    def savepoint(self, name: str) -> Any:
        """Async context manager: SAVEPOINT, RELEASE on success, ROLLBACK TO on exception."""
        ...

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection."""
        ...

    async def interrupt(self) -> None:
        """Abort whatever statement is running on this connection."""
        ...

    async def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        ...


@runtime_checkable
class Backend(Protocol):
    """A database engine the harness can run checks against."""

    name: str

    @property
    def info(self) -> BackendInfo:
        """Driver and engine versions."""
        ...

    @property
    def capabilities(self) -> CapabilitySet:
        """Named capabilities, probed on the live engine and cached."""
        ...

    def parse_url(self, url: str) -> DatabaseURL:
        """Parse a URL of this backend's scheme."""
        ...

    async def connect(self, url: str | DatabaseURL, **options: Any) -> Connection:
        """Open a connection; options are builder arguments such as `concurrent_writes`."""
        ...

    def pool(self, url: str | DatabaseURL, *, max_size: int = 4, acquire_timeout: float = 5.0,
             **options: Any) -> Any:
        """Return a connection pool (see `stc_harness.adapters.pool.Pool`)."""
        ...


async def iterate(conn: Connection, sql: str, params: Params = ()) -> AsyncIterator[tuple[Any, ...]]:
    """Yield the rows of a query one by one (convenience over `fetch_all`)."""
    for row in await conn.fetch_all(sql, params):
        yield row
