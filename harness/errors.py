"""Error kinds shared by every backend, and the classified error that keeps the raw exception."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass


class ErrorKind(str, enum.Enum):
    """What went wrong, in terms an application's retry and message logic can act on."""

    SERIALIZATION_FAILURE = "SERIALIZATION_FAILURE"
    READ_ONLY = "READ_ONLY"
    CONNECTION_LOST = "CONNECTION_LOST"
    UNIQUE_VIOLATION = "UNIQUE_VIOLATION"
    NOT_NULL_VIOLATION = "NOT_NULL_VIOLATION"
    CHECK_VIOLATION = "CHECK_VIOLATION"
    FOREIGN_KEY_VIOLATION = "FOREIGN_KEY_VIOLATION"
    CONSTRAINT_VIOLATION = "CONSTRAINT_VIOLATION"
    DATATYPE_MISMATCH = "DATATYPE_MISMATCH"
    NO_SUCH_TABLE = "NO_SUCH_TABLE"
    NO_SUCH_COLUMN = "NO_SUCH_COLUMN"
    SYNTAX = "SYNTAX"
    TRANSACTION_STATE = "TRANSACTION_STATE"
    UNSUPPORTED = "UNSUPPORTED"
    NOT_A_DATABASE = "NOT_A_DATABASE"
    CANT_OPEN = "CANT_OPEN"
    INTERRUPTED = "INTERRUPTED"
    MISUSE = "MISUSE"
    PARAMETER = "PARAMETER"
    CLOSED = "CLOSED"
    ENCRYPTION = "ENCRYPTION"
    PANIC = "PANIC"
    DRIVER_OPERATION_FAILED = "DRIVER_OPERATION_FAILED"


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what caused it (`__cause__`, else `__context__`), and so on; cycles end the walk."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        yield node
        node = node.__cause__ or node.__context__


class HarnessError(Exception):
    """Base class of errors the harness itself raises (bad input, bad configuration)."""


class UsageError(HarnessError):
    """Bad input from the user: the message names what is wrong and the fix."""


class Unsupported(HarnessError):
    """A capability a check or a caller needs is absent on this backend."""

    def __init__(self, capability: str, reason: str) -> None:
        super().__init__(f"{capability}: {reason}")
        self.capability = capability
        self.reason = reason


@dataclass(frozen=True)
class RawError:
    """The driver's own exception, kept for the report: its class, message and engine variant."""

    cls: str
    message: str
    variant: str | None = None
    code: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """Return a JSON-ready mapping."""
        return {"class": self.cls, "message": self.message, "variant": self.variant, "code": self.code}


class DatabaseError(Exception):
    """A classified driver error: one `ErrorKind` plus the raw exception it came from."""

    def __init__(self, kind: ErrorKind, raw: RawError, backend: str) -> None:
        super().__init__(f"[{backend}] {kind.value}: {raw.cls}: {raw.message}")
        self.kind = kind
        self.raw = raw
        self.backend = backend


#: Message patterns common to SQLite and Turso, tried in order after the variant rules.
MESSAGE_RULES: tuple[tuple[re.Pattern[str], ErrorKind], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        # Turso gates experimental statements with "<X> is an experimental feature. Enable with
        # --experimental-<x> flag" (often behind a "Parse error: " prefix): the statement is known but off.
        (r"experimental feature|--experimental-[a-z-]+ flag|must be explicitly enabled",
         ErrorKind.UNSUPPORTED),
        # Both drivers refuse several statements in one execute(); Python 3.10's sqlite3 raises it as
        # sqlite3.Warning, 3.11+ and pyturso as ProgrammingError: a misuse of the API either way.
        (r"only execute one statement at a time", ErrorKind.MISUSE),
        (r"database is locked|database table is locked|\bbusy\b", ErrorKind.SERIALIZATION_FAILURE),
        (r"readonly|read-only|read only|query_only mode", ErrorKind.READ_ONLY),
        (r"unique constraint failed|primary key constraint failed|is not unique", ErrorKind.UNIQUE_VIOLATION),
        (r"not null constraint failed|may not be null", ErrorKind.NOT_NULL_VIOLATION),
        (r"check constraint failed", ErrorKind.CHECK_VIOLATION),
        (r"foreign key constraint failed|foreign key mismatch", ErrorKind.FOREIGN_KEY_VIOLATION),
        (r"cannot store .* value in .* column|datatype mismatch|type mismatch", ErrorKind.DATATYPE_MISMATCH),
        (r"no such table|no such view", ErrorKind.NO_SUCH_TABLE),
        (r"no such column|has no column named", ErrorKind.NO_SUCH_COLUMN),
        (r"cannot (start|begin) a transaction within a transaction|cannot commit|cannot rollback|"
         r"no transaction is active|no such savepoint|transaction error", ErrorKind.TRANSACTION_STATE),
        (r"incorrect number of bindings|parameter|binding|bind index", ErrorKind.PARAMETER),
        (r"closed (database|connection|cursor)|connection closed|cannot operate on a closed",
         ErrorKind.CLOSED),
        (r"decryption failed|invalid key size|unknown cipher|invalid hex string", ErrorKind.ENCRYPTION),
        (r"not a database|file is not a database|file is encrypted", ErrorKind.NOT_A_DATABASE),
        (r"unable to open database|cannot open|no such file or directory|failed locking file|"
         r"locked by another process", ErrorKind.CANT_OPEN),
        (r"interrupt", ErrorKind.INTERRUPTED),
        # Not "parse error": Turso prefixes many non-syntax errors with it ("Parse error: no such
        # function", "Parse error: table t already exists"); what follows the prefix decides.
        (r"syntax error|incomplete input|unrecognized token|near \"", ErrorKind.SYNTAX),
        (r"not supported|not implemented|unsupported|no such function|no such module",
         ErrorKind.UNSUPPORTED),
        (r"constraint failed", ErrorKind.CONSTRAINT_VIOLATION),
        (r"disk i/o|i/o error|ioerror", ErrorKind.CONNECTION_LOST),
        (r"misuse", ErrorKind.MISUSE),
    )
)


def kind_from_message(message: str) -> ErrorKind | None:
    """Return the kind whose message pattern matches first, or None."""
    for pattern, kind in MESSAGE_RULES:
        if pattern.search(message):
            return kind
    return None


Classifier = Callable[[BaseException], DatabaseError]
