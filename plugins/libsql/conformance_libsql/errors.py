"""Classifying the `libsql` module's exceptions: it raises plain `ValueError`s, so the message decides."""

from __future__ import annotations

import re

from stc_harness.backend_api import DatabaseError, ErrorKind, RawError, exception_chain, kind_from_message

#: SQLite primary result codes libsql puts at the end of an open failure ("...local database x: 14").
RESULT_CODES: dict[int, tuple[str, ErrorKind]] = {
    5: ("SQLITE_BUSY", ErrorKind.SERIALIZATION_FAILURE),
    8: ("SQLITE_READONLY", ErrorKind.READ_ONLY),
    10: ("SQLITE_IOERR", ErrorKind.CONNECTION_LOST),
    14: ("SQLITE_CANTOPEN", ErrorKind.CANT_OPEN),
    26: ("SQLITE_NOTADB", ErrorKind.NOT_A_DATABASE),
}
_CODE_AT_END = re.compile(r":\s*(\d+)`?\s*$")


def classify(exc: BaseException, backend: str = "libsql") -> DatabaseError:
    """A classified error: a Rust panic is PANIC, a trailing result code decides, then the message."""
    raw_class = f"{type(exc).__module__}.{type(exc).__qualname__}"
    message = str(exc)
    if any(type(node).__name__ == "PanicException" for node in exception_chain(exc)):
        return DatabaseError(ErrorKind.PANIC, RawError(raw_class, message), backend)
    code = _CODE_AT_END.search(message)
    named = RESULT_CODES.get(int(code.group(1))) if code else None
    if named is not None:
        return DatabaseError(named[1], RawError(raw_class, message, None, named[0]), backend)
    kind = kind_from_message(message) or ErrorKind.DRIVER_OPERATION_FAILED
    return DatabaseError(kind, RawError(raw_class, message), backend)
