"""Cross-backend conformance harness: measure where Turso and SQLite behave the same and differ."""

from typing import TYPE_CHECKING, Any

from stc_harness.adapters.protocol import Backend, Connection, EncryptionOpts, Result, TransactionMode
from stc_harness.checks import CheckContext
from stc_harness.errors import DatabaseError, ErrorKind, Unsupported, UsageError
from stc_harness.observe import canonical, rows, sql_value
from stc_harness.sources import DISCOVERY, Source, driver_guide, orm_backend

if TYPE_CHECKING:
    from stc_harness.decorators import check, maketest, maketest_sqlite, maketest_turso

#: The decorators are pytest's side (`stc_harness.decorators` uses pytest's marks): loaded on first use, so
#: that the core, the report and the command-line tools import without pytest (~0.1 s a process).
_DECORATORS = frozenset({"check", "maketest", "maketest_sqlite", "maketest_turso"})

__all__ = [
    "DISCOVERY",
    "Backend",
    "CheckContext",
    "Connection",
    "DatabaseError",
    "EncryptionOpts",
    "ErrorKind",
    "Result",
    "Source",
    "TransactionMode",
    "Unsupported",
    "UsageError",
    "canonical",
    "check",
    "driver_guide",
    "maketest",
    "maketest_sqlite",
    "maketest_turso",
    "orm_backend",
    "rows",
    "sql_value",
]


def __getattr__(name: str) -> Any:
    """`check` and the `maketest` decorators, imported from `stc_harness.decorators` when first asked for."""
    if name in _DECORATORS:
        from stc_harness import decorators

        return getattr(decorators, name)
    raise AttributeError(f"module 'stc_harness' has no attribute {name!r}")
