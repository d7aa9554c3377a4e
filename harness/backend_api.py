"""Everything a backend author needs, in one import: the public interface a third-party backend is built on.

A backend written only against this module (and `stc_harness` itself) is a supported backend; the
`libsql` plugin in `plugins/libsql/` is one, and docs/adding-a-backend.md walks through it.
"""

from stc_harness.adapters.capabilities import CATALOGUE, Capability, CapabilitySet
from stc_harness.adapters.connection import BaseConnection, DriverThreadConnection, closed_error
from stc_harness.adapters.driver_thread import DriverThread
from stc_harness.adapters.options import coerce_bool, coerce_busy_timeout, reject_unknown
from stc_harness.adapters.pool import Pool
from stc_harness.adapters.protocol import (
    Backend,
    BackendInfo,
    Connection,
    EncryptionOpts,
    Result,
    TransactionMode,
)
from stc_harness.adapters.urls import MEMORY, DatabaseURL, parse_url
from stc_harness.errors import (
    DatabaseError,
    ErrorKind,
    RawError,
    Unsupported,
    UsageError,
    exception_chain,
    kind_from_message,
)

__all__ = [
    "CATALOGUE",
    "MEMORY",
    "Backend",
    "BackendInfo",
    "BaseConnection",
    "Capability",
    "CapabilitySet",
    "Connection",
    "DatabaseError",
    "DatabaseURL",
    "DriverThread",
    "DriverThreadConnection",
    "EncryptionOpts",
    "ErrorKind",
    "Pool",
    "RawError",
    "Result",
    "TransactionMode",
    "Unsupported",
    "UsageError",
    "closed_error",
    "coerce_bool",
    "coerce_busy_timeout",
    "exception_chain",
    "kind_from_message",
    "parse_url",
    "reject_unknown",
]
