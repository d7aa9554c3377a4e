"""Cross-backend conformance harness: measure where Turso and SQLite behave the same and differ."""

from stc_harness.adapters.protocol import Backend, Connection, EncryptionOpts, Result, TransactionMode
from stc_harness.checks import CheckContext
from stc_harness.decorators import check, maketest, maketest_sqlite, maketest_turso
from stc_harness.errors import DatabaseError, ErrorKind, Unsupported, UsageError
from stc_harness.observe import canonical, rows, sql_value
from stc_harness.sources import DISCOVERY, Source, driver_guide, orm_backend

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
