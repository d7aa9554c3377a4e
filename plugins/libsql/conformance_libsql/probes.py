"""What libSQL can do, measured on the live module once per process (never assumed from its version)."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Any

#: SQLite's file header: an encrypted database must not start with it.
SQLITE_MAGIC = b"SQLite format 3\x00"
#: The only cipher libsql's `encryption_key` uses (SQLite3 Multiple Ciphers' AES-256-CBC, libSQL's default).
CIPHER = "aes256cbc"


def _error(call: Any) -> str | None:
    """None if `call()` succeeds, else its exception as `Class: message`."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - any failure is the probe's answer
        return f"{type(exc).__name__}: {exc}"
    return None


def begin_concurrent(module: Any) -> tuple[bool, str]:
    """Whether BEGIN CONCURRENT (Turso's MVCC) starts a transaction."""
    conn = module.connect(":memory:", isolation_level=None)
    try:
        failed = _error(lambda: conn.execute("BEGIN CONCURRENT"))
    finally:
        conn.close()
    if failed:
        return False, f"probed: BEGIN CONCURRENT fails ({failed}); libSQL has no MVCC journal"
    return True, "probed: BEGIN CONCURRENT starts a transaction"


def shared_memory(module: Any) -> tuple[bool, str]:
    """Whether two `:memory:` connections see one database."""
    first = module.connect(":memory:", isolation_level=None)
    second = module.connect(":memory:", isolation_level=None)
    try:
        first.execute("CREATE TABLE probe (x)")
        failed = _error(lambda: second.execute("SELECT * FROM probe"))
    finally:
        first.close()
        second.close()
    if failed:
        return False, (f"probed: a second ':memory:' connection does not see the first's table ({failed}); "
                       "the in-memory pool is capped at one connection")
    return True, "probed: two ':memory:' connections see one database"


def encryption(module: Any) -> tuple[bool, str]:
    """Whether `connect(encryption_key=...)` writes a file that is not plain SQLite and reads it back."""
    key = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="libsql-probe-") as folder:
        path = str(Path(folder) / "probe.db")
        conn = module.connect(path, isolation_level=None, encryption_key=key)
        try:
            conn.execute("CREATE TABLE t (x)")
            conn.execute("INSERT INTO t VALUES ('marker')")
        finally:
            conn.close()
        head = Path(path).read_bytes()[:16]
        again = module.connect(path, isolation_level=None, encryption_key=key)
        try:
            back = again.execute("SELECT x FROM t").fetchall()
        finally:
            again.close()
    if head == SQLITE_MAGIC or back != [("marker",)]:
        return False, "probed: connect(encryption_key=...) wrote a plain SQLite file or did not read back"
    return True, (f"probed: connect(encryption_key=...) writes a file without SQLite's header and reads it "
                  f"back; one cipher ({CIPHER}), the key given as text")


def by_attribute(module: Any, attribute: str, what: str) -> tuple[bool, str]:
    """Whether `module.Connection` has `attribute`."""
    present = hasattr(module.Connection, attribute)
    has = "has" if present else "has no"
    return present, f"probed: {module.__name__}.Connection {has} {attribute} ({what})"


def probe_all(module: Any) -> dict[str, tuple[bool, str]]:
    """Every capability the harness cannot probe with SQL alone (the SQL ones, ATTACH included, it probes)."""
    concurrent = begin_concurrent(module)
    return {
        "async_api": (True, "the harness's driver thread over the blocking libsql module"),
        "sync_api": (True, f"the {module.__name__} module (a sqlite3-like DB-API module)"),
        "batch": (True, "one driver-thread hop per batch"),
        "shared_memory_pool": shared_memory(module),
        "concurrent_writes": concurrent,
        "begin_concurrent": concurrent,
        "experimental_toggles": (False, "libSQL has no experimental-feature toggles"),
        "encryption": encryption(module),
        "interrupt": by_attribute(module, "interrupt", "a running statement cannot be interrupted"),
        "load_extension": by_attribute(module, "enable_load_extension", "extensions cannot be loaded"),
    }
