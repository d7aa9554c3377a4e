"""A lock only Turso's run met, explained by the earlier test that left a transaction open on that file.

The child writes, with each test's trace, the transactions earlier tests of its process left open on a
file the test opened (see stc_harness.dropin.left_open). When a Turso-only failure's cause is a lock (or
the test hung) and its Turso run inherited such a transaction that its SQLite run did not, the lock is
the earlier test's doing: what made that test leave its transaction open is what breaks this one.
"""

from __future__ import annotations

import re
from typing import Any

from stc_harness.dropin.records import TIMEOUT

#: An outcome that says a database was locked (SQLITE_BUSY, SQLITE_LOCKED in either driver's words).
LOCKED = re.compile(r"database (?:table )?is locked|\bbusy\b", re.I)


def _locked(row: dict[str, Any]) -> bool:
    """The test's cause is a lock on Turso, or it hung there (a retry loop on a lock never released)."""
    ev = row.get("evidence") or {}
    index = ev.get("cause")
    if index is None:
        return row["turso"].get("outcome") == TIMEOUT
    return bool(LOCKED.search(str(ev["divergences"][index]["turso"])))


def left_by(
    row: dict[str, Any], sqlite_trace: dict[str, Any], turso_trace: dict[str, Any]
) -> list[str] | None:
    """`[earlier test, file]` when this Turso-only failure is a lock an earlier test left on Turso only."""
    if not _locked(row):
        return None
    on_sqlite = {file for _, file in sqlite_trace.get("inherited", [])}
    only_turso = [x for x in turso_trace.get("inherited", []) if x[1] not in on_sqlite]
    return list(only_turso[-1]) if only_turso else None
