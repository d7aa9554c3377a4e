"""Dump, restore and back up a store; take the write lock for exclusive work."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shopapp.db import connect
from shopapp.errors import StoreBusy


def dump_sql(conn: sqlite3.Connection) -> str:
    """The whole store as an SQL script (`Connection.iterdump`)."""
    return "\n".join(conn.iterdump())


def restore_sql(path: str | Path, script: str) -> sqlite3.Connection:
    """A new store at `path` built from a dump (`executescript`); returns it opened.

    The dump lists tables by name, children before parents, so it is loaded with foreign keys off.
    """
    loader = sqlite3.connect(path)
    try:
        loader.executescript(script)
    finally:
        loader.close()
    return connect(path)


def backup_to(conn: sqlite3.Connection, path: str | Path) -> int:
    """Copy the store into a file with the online backup API; return the pages copied so far."""
    copied = 0

    def progress(status: int, remaining: int, total: int) -> None:
        nonlocal copied
        copied = total - remaining

    dest = sqlite3.connect(path)
    try:
        conn.backup(dest, pages=1, progress=progress)
    finally:
        dest.close()
    return copied


@contextmanager
def exclusive_writer(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A connection holding the write lock (BEGIN IMMEDIATE) for the block; StoreBusy if another has it.

    The connection is in autocommit mode (isolation_level=None) with timeout=0: it never waits.
    """
    conn = connect(path, timeout=0)
    conn.isolation_level = None
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusy(str(exc)) from exc
            raise
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()
