"""Migrations: ordered steps, each migration applied inside BEGIN/COMMIT and recorded in a tracking table.

A migration is a name (the ordering key) and steps: SQL statements, or operations such as `Rebuild`
(the six-step table rebuild for the ALTER COLUMN forms SQLite cannot do) and `PythonStep`. A failing
step rolls the whole migration back; a migration already recorded is skipped, so applying twice is a
no-op, and a recorded migration whose steps changed since is refused. `001_312a5f9792b0f890.txt`,
"Migrations", is the contract: BEGIN / COMMIT per migration, the six-step rebuild in the same
transaction.

Folders hold `NNN_name.sql` files (statements split on `;` at line ends) and `NNN_name.py` files that
define `STEPS`, a list of SQL strings and operations.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from stc_harness.errors import DatabaseError, ErrorKind, RawError, UsageError
from stc_harness.toolkit.schema import quote_ident, sql_tokens

TRACKING_TABLE = "_conformance_migrations"


@runtime_checkable
class Operation(Protocol):
    """A migration step that is not a plain SQL statement."""

    #: Whether foreign-key enforcement must be off while the migration runs (set before BEGIN).
    foreign_keys_off: bool

    def describe(self) -> str:
        """A stable text naming what the step does (part of the migration's checksum)."""
        ...

    async def apply(self, conn: Any) -> None:
        """Run the step on `conn`, inside the migration's transaction."""
        ...


Step = str | Operation


class MigrationError(DatabaseError):
    """A migration failed and was rolled back: which one, which step, and the classified cause."""

    def __init__(self, migration: str, step: int, statement: str, cause: DatabaseError) -> None:
        super().__init__(cause.kind, cause.raw, cause.backend)
        self.args = (f"migration {migration!r} rolled back: step {step + 1} failed: "
                     f"[{cause.backend}] {cause.kind.value}: {cause.raw.message}  (step: {statement[:200]})",)
        self.migration = migration
        self.step = step
        self.statement = statement
        self.cause = cause


@dataclass(frozen=True)
class Migration:
    """One migration: a name (the ordering key) and its steps (SQL text or operations)."""

    name: str
    statements: tuple[Step, ...]

    @property
    def checksum(self) -> str:
        """A digest of the steps, recorded when applied so a later edit is noticed."""
        text = "\n;\n".join(s if isinstance(s, str) else s.describe() for s in self.statements)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    @property
    def foreign_keys_off(self) -> bool:
        """Whether any step needs foreign-key enforcement off while the migration runs."""
        return any(getattr(s, "foreign_keys_off", False) for s in self.statements)


@dataclass(frozen=True)
class PythonStep:
    """A step written in Python: `await fn(conn)` inside the migration's transaction.

    A step that calls `rebuild_table` must set `foreign_keys_off=True`, so the runner turns foreign-key
    enforcement off before BEGIN (SQLite ignores the PRAGMA inside a transaction).
    """

    fn: Callable[[Any], Awaitable[Any]]
    label: str = ""
    foreign_keys_off: bool = False

    def describe(self) -> str:
        """The label, or the function's qualified name."""
        return f"python:{self.label or getattr(self.fn, '__qualname__', repr(self.fn))}"

    async def apply(self, conn: Any) -> None:
        """Call the function."""
        await self.fn(conn)


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did: rows copied, schema objects recreated, foreign-key violations seen."""

    table: str
    copied: int
    recreated: tuple[str, ...]
    violations: tuple[tuple[Any, ...], ...] = ()


@dataclass(frozen=True)
class Rebuild:
    """The six-step rebuild as a migration step: change a table's definition keeping its rows.

    `definition` is what follows the table name in CREATE TABLE, e.g. `(id INTEGER PRIMARY KEY,
    n TEXT NOT NULL) STRICT`. `copy` maps new columns to SQL expressions over the old ones; by default
    every column present in both is copied as is.
    """

    table: str
    definition: str
    copy: Mapping[str, str] | None = None
    check_foreign_keys: bool = True
    foreign_keys_off: bool = field(default=True, init=False)

    def describe(self) -> str:
        """The table, definition and copy map."""
        copy = sorted(self.copy.items()) if self.copy else None
        return f"rebuild:{self.table}:{self.definition}:{copy}:{self.check_foreign_keys}"

    async def apply(self, conn: Any) -> None:
        """Run `rebuild_table`."""
        await rebuild_table(conn, self.table, self.definition, self.copy, self.check_foreign_keys)


def _mentions(sql: str | None, name: str) -> bool:
    return sql is not None and name.lower() in (t.lower() for t in sql_tokens(sql))


def _fk_error(backend: str, table: str, violations: Sequence[tuple[Any, ...]]) -> DatabaseError:
    shown = ", ".join(f"{r[0]} rowid {r[1]} -> {r[2]}" for r in violations[:5])
    return DatabaseError(ErrorKind.FOREIGN_KEY_VIOLATION,
                         RawError("harness.migrations.rebuild",
                                  f"rebuilding {table}: PRAGMA foreign_key_check found "
                                  f"{len(violations)} violation(s): {shown}"), backend)


async def rebuild_table(conn: Any, table: str, definition: str, copy: Mapping[str, str] | None = None,
                        check_foreign_keys: bool = True) -> RebuildReport:
    """The six-step rebuild, on `conn` inside the caller's transaction (foreign keys must be off).

    1. create the new table under a temporary name; 2. copy the rows; 3. drop the old table (views and
    triggers elsewhere that name it are set aside first); 4. rename the new table; 5. recreate the
    indexes, triggers and views; 6. `PRAGMA foreign_key_check`, raising a FOREIGN_KEY_VIOLATION error
    (so the migration rolls back) if it reports anything.
    """
    backend = getattr(conn, "backend_name", "?")
    if await conn.fetch_value("PRAGMA foreign_keys"):
        raise UsageError(f"rebuild of {table}: foreign keys are enforced, so DROP TABLE would fire ON DELETE "
                         "actions; run it inside migrate() (it turns them off around the migration) or "
                         "PRAGMA foreign_keys = OFF before BEGIN")
    entries = await conn.fetch_all("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid")
    if not any(t == "table" and n.lower() == table.lower() for t, n, _, _ in entries):
        raise UsageError(f"rebuild: no table named {table!r}")
    own = [(t, n, s) for t, n, tbl, s in entries
           if t in ("index", "trigger") and tbl.lower() == table.lower() and s]
    elsewhere = [(t, n, s) for t, n, tbl, s in entries if _mentions(s, table)
                 and (t == "view" or (t == "trigger" and tbl.lower() != table.lower()))]
    seq = None
    if any(n == "sqlite_sequence" for _, n, _, _ in entries):
        seq = await conn.fetch_value("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
    old_cols = [r[1] for r in await conn.fetch_all(f"PRAGMA table_xinfo({quote_ident(table)})") if r[6] == 0]
    tmp = f"_rebuild_{table}"
    await conn.execute(f"CREATE TABLE {quote_ident(tmp)} {definition}")
    new_cols = [r[1] for r in await conn.fetch_all(f"PRAGMA table_xinfo({quote_ident(tmp)})") if r[6] == 0]
    mapping = dict(copy) if copy is not None else {c: quote_ident(c) for c in new_cols if c in old_cols}
    if mapping:
        targets = ", ".join(quote_ident(c) for c in mapping)
        copied = (await conn.execute(f"INSERT INTO {quote_ident(tmp)} ({targets}) SELECT "
                                     f"{', '.join(mapping.values())} FROM {quote_ident(table)}")).rowcount
    else:
        copied = 0
    for kind, name, _ in elsewhere:
        await conn.execute(f"DROP {kind.upper()} {quote_ident(name)}")
    await conn.execute(f"DROP TABLE {quote_ident(table)}")
    await conn.execute(f"ALTER TABLE {quote_ident(tmp)} RENAME TO {quote_ident(table)}")
    recreated = []
    for kind, name, sql in own + elsewhere:
        await conn.execute(sql)
        recreated.append(f"{kind} {name}")
    if seq is not None:
        await conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (seq, table))
    violations: tuple[tuple[Any, ...], ...] = ()
    if check_foreign_keys:
        violations = tuple(await conn.fetch_all("PRAGMA foreign_key_check"))
        if violations:
            raise _fk_error(backend, table, violations)
    return RebuildReport(table, copied, tuple(recreated), violations)


_TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|END|ROLLBACK(?!\s+TO\b))\b", re.IGNORECASE)


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


def check_steps(name: str, steps: Sequence[Step]) -> tuple[Step, ...]:
    """Validate a migration's steps: SQL text or operations, no transaction control of their own."""
    for i, step in enumerate(steps):
        if isinstance(step, str):
            if _TRANSACTION_CONTROL.match(step):
                raise UsageError(f"migration {name!r}, step {i + 1}: {step.split()[0].upper()} is not "
                                 "allowed; the runner wraps every migration in BEGIN/COMMIT itself")
        elif not isinstance(step, Operation):
            raise UsageError(f"migration {name!r}, step {i + 1}: expected SQL text or an operation "
                             f"(Rebuild, PythonStep), got {type(step).__name__}")
    return tuple(steps)


def _load_python(path: Path) -> tuple[Step, ...]:
    spec = importlib.util.spec_from_file_location(f"_conformance_migration_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import migration {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    steps = getattr(module, "STEPS", None)
    if not isinstance(steps, (list, tuple)):
        raise UsageError(f"migration {path} must define STEPS, a list of SQL strings and operations")
    return tuple(steps)


def load_folder(folder: Path) -> list[Migration]:
    """Every `*.sql` and `*.py` migration in `folder`, ordered by name."""
    if not folder.is_dir():
        raise UsageError(f"migrations folder {folder} does not exist; create it or set "
                         "conformance_migrations in the pytest ini, or pass migrations= to maketest")
    out = []
    for path in sorted([*folder.glob("*.sql"), *folder.glob("*.py")], key=lambda p: (p.stem, p.suffix)):
        if path.name.startswith("_"):
            continue
        if path.suffix == ".sql":
            steps: tuple[Step, ...] = tuple(split_sql(path.read_text(encoding="utf-8")))
        else:
            steps = _load_python(path)
        out.append(Migration(path.stem, check_steps(path.stem, steps)))
    _check_unique(out)
    return out


def _check_unique(migrations: Sequence[Migration]) -> None:
    seen: set[str] = set()
    for mig in migrations:
        if mig.name in seen:
            raise UsageError(f"two migrations are named {mig.name!r}; names must be unique")
        seen.add(mig.name)


async def _ensure_table(conn: Any) -> None:
    await conn.execute(f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} (name TEXT PRIMARY KEY, "
                       "checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")


async def applied_checksums(conn: Any) -> dict[str, str]:
    """The recorded migrations, name -> checksum, in the order they were applied."""
    await _ensure_table(conn)
    rows = await conn.fetch_all(f"SELECT name, checksum FROM {TRACKING_TABLE} ORDER BY rowid")
    return {r[0]: r[1] for r in rows}


async def applied(conn: Any) -> list[str]:
    """Names of the migrations already applied, in order."""
    return list(await applied_checksums(conn))


async def _rollback(conn: Any) -> None:
    with contextlib.suppress(DatabaseError):
        await conn.execute("ROLLBACK")


async def apply_migration(conn: Any, mig: Migration) -> None:
    """Apply one migration inside BEGIN/COMMIT and record it; any failure rolls the whole of it back."""
    fk_was_on = bool(mig.foreign_keys_off and await conn.fetch_value("PRAGMA foreign_keys"))
    if fk_was_on:
        await conn.execute("PRAGMA foreign_keys = OFF")
    try:
        await conn.execute("BEGIN")
        index, current = 0, ""
        try:
            for step in mig.statements:
                current = step if isinstance(step, str) else step.describe()
                if isinstance(step, str):
                    await conn.execute(step)
                else:
                    await step.apply(conn)
                index += 1
            index, current = len(mig.statements), "record in tracking table"
            await conn.execute(f"INSERT INTO {TRACKING_TABLE} (name, checksum) VALUES (?, ?)",
                               (mig.name, mig.checksum))
            index, current = index + 1, "COMMIT"
            await conn.execute("COMMIT")
        except DatabaseError as exc:
            await _rollback(conn)
            raise MigrationError(mig.name, index, current, exc) from exc
        except BaseException:
            await _rollback(conn)
            raise
    finally:
        if fk_was_on:
            await conn.execute("PRAGMA foreign_keys = ON")


async def migrate(conn: Any, migrations: Sequence[Migration]) -> list[str]:
    """Apply each pending migration in order, each in its own transaction; return the names applied.

    A migration already recorded is skipped; one recorded with different steps is refused (a
    `UsageError`), since the database was built from the old steps.
    """
    _check_unique(migrations)
    done = await applied_checksums(conn)
    newly = []
    for mig in migrations:
        if mig.name in done:
            if done[mig.name] != mig.checksum:
                raise UsageError(f"migration {mig.name!r} changed after it was applied (checksum "
                                 f"{done[mig.name]} recorded, {mig.checksum} now); "
                                 "add a new migration instead")
            continue
        check_steps(mig.name, mig.statements)
        await apply_migration(conn, mig)
        newly.append(mig.name)
    return newly
