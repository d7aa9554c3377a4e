"""Migrations: ordered `.sql` files, each applied inside BEGIN/COMMIT and recorded in a tracking table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import DatabaseError, UsageError

TRACKING_TABLE = "_conformance_migrations"


@dataclass(frozen=True)
class Migration:
    """One migration: a name (the ordering key) and its statements."""

    name: str
    statements: tuple[str, ...]


def split_sql(text: str) -> list[str]:
    """Split a SQL script into statements on `;` at line ends (triggers' `END;` blocks kept whole)."""
    out, buf, depth = [], [], 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        buf.append(line)
        if re.search(r"\bBEGIN\s*$", stripped, re.IGNORECASE) and "TRIGGER" in " ".join(buf).upper():
            depth += 1
        if stripped.endswith(";"):
            if depth and re.match(r"END\s*;$", stripped, re.IGNORECASE):
                depth -= 1
            if not depth:
                out.append("\n".join(buf).strip().rstrip(";"))
                buf = []
    if buf:
        out.append("\n".join(buf).strip().rstrip(";"))
    return [s for s in out if s]


def load_folder(folder: Path) -> list[Migration]:
    """Every `*.sql` file in `folder`, ordered by name."""
    if not folder.is_dir():
        raise UsageError(f"migrations folder {folder} does not exist; create it or set "
                         "conformance_migrations in the pytest ini, or pass migrations= to maketest")
    return [Migration(p.stem, tuple(split_sql(p.read_text(encoding="utf-8"))))
            for p in sorted(folder.glob("*.sql"))]


async def applied(conn: Any) -> list[str]:
    """Names of the migrations already applied, in order."""
    await conn.execute(f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} "
                       "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
    return [r[0] for r in await conn.fetch_all(f"SELECT name FROM {TRACKING_TABLE} ORDER BY rowid")]


async def migrate(conn: Any, migrations: list[Migration]) -> list[str]:
    """Apply each pending migration in its own transaction; a failing statement rolls it back whole."""
    done = set(await applied(conn))
    newly = []
    for mig in migrations:
        if mig.name in done:
            continue
        await conn.execute("BEGIN")
        try:
            for sql in mig.statements:
                await conn.execute(sql)
            await conn.execute(f"INSERT INTO {TRACKING_TABLE}(name) VALUES (?)", (mig.name,))
            await conn.execute("COMMIT")
        except DatabaseError:
            await conn.rollback_quietly()
            raise
        newly.append(mig.name)
    return newly
