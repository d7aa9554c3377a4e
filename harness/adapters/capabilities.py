"""Named capabilities: one documented rule each, probed on the live engine where possible and cached."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from stc_harness.errors import DatabaseError, UsageError


class Probed(Protocol):
    """What probing needs of a backend (`stc_harness.adapters.protocol.Backend` has it): a name and
    `connect`."""

    name: str

    async def connect(self, url: str, **options: Any) -> Any:
        """Open a connection to `url`."""
        ...


@dataclass(frozen=True)
class Capability:
    """One capability: its name, a one-line description, and how to probe it (None: declared only)."""

    name: str
    doc: str
    probe_sql: tuple[str, ...] = ()
    connect_options: tuple[tuple[str, Any], ...] = ()


def _cap(name: str, doc: str, *sql: str, **options: Any) -> Capability:
    return Capability(name, doc, tuple(sql), tuple(sorted(options.items())))


#: Every capability the harness knows. Asking for any other name is an error.
CATALOGUE: dict[str, Capability] = {
    c.name: c
    for c in (
        _cap("async_api", "The adapter offers an async connection (declared)."),
        _cap("sync_api", "The driver offers a synchronous (blocking) API too (declared)."),
        _cap("batch", "Many statements can run in one trip to the driver's thread (declared)."),
        _cap("shared_memory_pool", "Every pool slot on `:memory:` sees the same database (declared)."),
        _cap("concurrent_writes", "The `concurrent_writes` option: MVCC journal + BEGIN CONCURRENT."),
        _cap("experimental_toggles", "Builder toggles for experimental engine features (declared)."),
        _cap("encryption", "At-rest page encryption with a cipher and a hex key (declared)."),
        _cap("interrupt", "A running statement can be interrupted from another task (declared)."),
        _cap("busy_timeout", "PRAGMA busy_timeout is honoured.", "PRAGMA busy_timeout = 0"),
        _cap("load_extension", "SQLite extensions can be loaded at run time (declared)."),
        _cap("begin_concurrent", "BEGIN CONCURRENT starts a transaction.",
             "CREATE TABLE t(x)", "BEGIN CONCURRENT", "INSERT INTO t VALUES (1)", "COMMIT"),
        _cap("savepoints", "SAVEPOINT / RELEASE / ROLLBACK TO.",
             "CREATE TABLE t(x)", "BEGIN", "SAVEPOINT a", "INSERT INTO t VALUES (1)", "ROLLBACK TO a",
             "RELEASE a", "COMMIT"),
        _cap("strict_tables", "CREATE TABLE ... STRICT.", "CREATE TABLE t(x INTEGER) STRICT"),
        _cap("returning", "INSERT ... RETURNING.",
             "CREATE TABLE t(x)", "INSERT INTO t VALUES (1) RETURNING x"),
        _cap("upsert", "INSERT ... ON CONFLICT DO UPDATE.",
             "CREATE TABLE t(x PRIMARY KEY, y)",
             "INSERT INTO t VALUES (1, 1) ON CONFLICT(x) DO UPDATE SET y = excluded.y"),
        _cap("window_functions", "Window functions.", "SELECT row_number() OVER () FROM (SELECT 1)"),
        _cap("json", "JSON functions.", "SELECT json_extract('{\"a\": 1}', '$.a')"),
        _cap("foreign_keys", "PRAGMA foreign_keys = ON enforces foreign keys.",
             "PRAGMA foreign_keys = ON", "CREATE TABLE p(id INTEGER PRIMARY KEY)",
             "CREATE TABLE c(p INTEGER REFERENCES p(id))"),
        _cap("views", "CREATE VIEW.", "CREATE TABLE t(x)", "CREATE VIEW v AS SELECT x FROM t"),
        _cap("triggers", "CREATE TRIGGER.", "CREATE TABLE t(x)",
             "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END"),
        _cap("alter_rename_column", "ALTER TABLE ... RENAME COLUMN.", "CREATE TABLE t(x)",
             "ALTER TABLE t RENAME COLUMN x TO y"),
        _cap("alter_drop_column", "ALTER TABLE ... DROP COLUMN.", "CREATE TABLE t(x, y)",
             "ALTER TABLE t DROP COLUMN y"),
        _cap("generated_columns", "GENERATED ALWAYS AS columns without any toggle.",
             "CREATE TABLE t(x, y AS (x + 1))"),
        _cap("without_rowid", "WITHOUT ROWID tables without any toggle.",
             "CREATE TABLE t(x PRIMARY KEY) WITHOUT ROWID"),
        _cap("attach", "ATTACH DATABASE without any toggle.", "ATTACH DATABASE ':memory:' AS other"),
        _cap("vacuum", "VACUUM without any toggle.", "CREATE TABLE t(x)", "VACUUM"),
        _cap("autoincrement", "INTEGER PRIMARY KEY AUTOINCREMENT.",
             "CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT)"),
    )
}


def known_names() -> list[str]:
    """All capability names, sorted."""
    return sorted(CATALOGUE)


def require_known(name: str) -> Capability:
    """Return the capability called `name`, or raise a usage error listing the known ones."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UsageError(
            f"unknown capability {name!r}; known capabilities: {', '.join(known_names())}"
        ) from None


class CapabilitySet:
    """A backend's capabilities: declared values plus probes run once against the live engine."""

    def __init__(self, backend: Probed, declared: dict[str, tuple[bool, str]]) -> None:
        for name in declared:
            require_known(name)
        self._backend = backend
        self._values: dict[str, tuple[bool, str]] = dict(declared)
        self._lock: asyncio.Lock | None = None

    def declared(self, name: str) -> tuple[bool, str] | None:
        """The value known without probing (declared or already probed), or None."""
        require_known(name)
        return self._values.get(name)

    async def get(self, name: str) -> tuple[bool, str]:
        """(present, reason) for `name`, probing the live engine the first time; unknown names raise."""
        cap = require_known(name)
        if name in self._values:
            return self._values[name]
        if not cap.probe_sql:
            value = (False, "not declared by the backend and not probeable")
        else:
            value = await self._probe(cap)
        self._values[name] = value
        return value

    async def has(self, name: str) -> bool:
        """Whether `name` is present."""
        return (await self.get(name))[0]

    async def missing(self, names: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
        """The (name, reason) pairs of those `names` that are absent."""
        out = []
        for name in names:
            present, reason = await self.get(name)
            if not present:
                out.append((name, reason))
        return out

    async def probe_all(self) -> dict[str, tuple[bool, str]]:
        """Probe every capability and return them all (for the report)."""
        return {name: await self.get(name) for name in known_names()}

    async def _probe(self, cap: Capability) -> tuple[bool, str]:
        url = f"{self._backend.name}::memory:"
        try:
            conn = await self._backend.connect(url, **dict(cap.connect_options))
        except DatabaseError as exc:
            return False, f"probe could not connect: {exc.raw.cls}: {exc.raw.message}"
        try:
            for sql in cap.probe_sql:
                await conn.execute(sql)
        except DatabaseError as exc:
            return False, f"probe {sql!r} failed: {exc.raw.cls}: {exc.raw.message}"
        finally:
            await conn.close()
        return True, "probed: " + "; ".join(cap.probe_sql)
