"""Transactions one test leaves open that a later test meets: a lock that is the earlier test's doing.

An error the code did not expect, raised between BEGIN and COMMIT, can leave a connection in its
transaction when the test ends; the next test that writes to the same file then meets a lock nobody will
release (a retry loop on `BEGIN IMMEDIATE` spins until the test's timeout). The child notes at each
test's end which connections opened by the code are still in a transaction, and by which test; a test
that opens a file on which such a transaction is still open inherits it, named by the test that left it.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

from stc_harness.dropin.trace import clean_text

#: Connections the code opened on a database file, while they live.
_LIVE: weakref.WeakSet[Any] = weakref.WeakSet()
#: A connection found in a transaction at a test's end: the test it was first found so after.
_LEFT_BY: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
#: Files opened by the running test, and the transactions other tests left open when it started.
_OPENED: set[str] = set()
_HELD: list[tuple[str, str]] = []


def track(conn: Any) -> None:
    """Remember a connection the code opened on a file (its path is `_stc_file`, see wrappers)."""
    path = getattr(conn, "_stc_file", None)
    if not path:
        return
    with contextlib.suppress(TypeError):  # a factory class that refuses weak references
        _LIVE.add(conn)
    _OPENED.add(path)


def _in_transaction(conn: Any) -> bool:
    try:
        return bool(conn.in_transaction)
    except Exception:  # noqa: BLE001 - closed, or made in another thread: never fail the test
        return False


def start_test() -> None:
    """At a test's start: the transactions earlier tests left open that are still open."""
    _OPENED.clear()
    _HELD[:] = [(test, conn._stc_file) for conn, test in list(_LEFT_BY.items()) if _in_transaction(conn)]


def inherited() -> list[list[str]]:
    """`[test that left it, file]` for each transaction left open on a file the running test opened."""
    return [[test, clean_text(path)] for test, path in _HELD if path in _OPENED]


def end_test(nodeid: str) -> None:
    """At a test's end: which connections are in a transaction, and since which test."""
    for conn in list(_LIVE):
        if not _in_transaction(conn):
            _LEFT_BY.pop(conn, None)
        elif conn not in _LEFT_BY:
            with contextlib.suppress(TypeError):
                _LEFT_BY[conn] = nodeid
