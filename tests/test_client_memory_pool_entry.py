"""The registry entry on pooled `sqlite+turso://` in-memory engines says what breaks tests, and that holds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
ENTRY_ID = "client_sqlalchemy.memory-engine-shared-across-threads"


def entry() -> dict[str, Any]:
    """The entry, read from the registry file."""
    path = ROOT / "suites" / "differences" / "client_sqlalchemy.toml"
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    return next(d for d in doc["difference"] if d["id"] == ENTRY_ID)


def test_entry_names_the_two_databases() -> None:
    """The title says two connections out at once see two databases (it used to say they share one)."""
    title = entry()["title"]
    assert "two connections checked out at once see two databases" in title
    assert "sees one database" not in title


def test_two_connections_out_at_once_see_two_databases() -> None:
    """What the entry states, measured: a second checkout is an empty database; a later one is the first."""
    sa = pytest.importorskip("sqlalchemy")
    pytest.importorskip("turso.sqlalchemy")
    engine = sa.create_engine("sqlite+turso://")
    try:
        assert type(engine.pool).__name__ == "QueuePool"
        with engine.connect() as first:
            first.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            first.commit()
            with engine.connect() as second, pytest.raises(sa.exc.DBAPIError, match="no such table"):
                second.execute(sa.text("SELECT count(*) FROM t"))
    finally:
        engine.dispose()
