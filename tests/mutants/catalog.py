"""Every mutant: where its one deviation sits, the theme it belongs to, and the suites that should see it.

`make_<name>()` (a module-level `__getattr__`) builds the backend, so `--backend=mutants.catalog:make_<name>`
names any mutant; `make_control()` is SQLite through the same wrappers with no deviation.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from mutants.engine import (
    CONSTRAINT_KINDS,
    Deviation,
    MutantBackend,
    lower_every_limit,
    map_values,
    pad_parameters,
    rewrite,
    rollback_if,
    run_on_connect,
    set_limit,
    wrap32,
)
from mutants.modules import (
    ASYNC,
    ASYNC_MODULES,
    CLIENT,
    CLIENT_MODULES,
    CONTROL_ASYNC,
    CONTROL_SYNC,
    SYNC,
    SYNC_MODULES,
)
from stc_harness.errors import ErrorKind

S = "suites/engine/"
D = "suites/driver/"
C = "suites/client/"


@dataclass(frozen=True)
class Mutant:
    """One mutant: its place (engine adapter, sync module, async module), theme, deviation and suites."""

    name: str
    place: str
    theme: str
    what: str
    suites: tuple[str, ...]
    deviation: Deviation = field(default_factory=Deviation)
    sync_module: str = CONTROL_SYNC
    async_module: str = CONTROL_ASYNC

    def backend(self) -> MutantBackend:
        """The backend: SQLite through the mutant's wrappers."""
        return MutantBackend(self.name, self.deviation, self.sync_module, self.async_module)


def _starts(*words: str) -> Any:
    pattern = re.compile(r"^\s*(" + "|".join(words) + r")\b", re.I)
    return lambda sql: bool(pattern.match(sql))


def _big_int(v: Any) -> Any:
    return float(v) if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53 else v


def _schema_query(sql: str) -> bool:
    return bool(re.search(r"sqlite_(schema|master)", sql, re.I))


def _schema_text_query(sql: str) -> bool:
    return bool(re.search(r"sqlite_(schema|master)|table_info", sql, re.I))


def _index_info_query(sql: str) -> bool:
    return bool(re.search(r"index_x?info", sql, re.I))


def _expression_named(value: Any) -> Any:
    """An expression slot of an index as a column: cid -1 (not -2) and a name (not NULL)."""
    if value is None:
        return "expr"
    return -1 if value == -2 and not isinstance(value, bool) else value


def _render_anew(value: Any) -> Any:
    """SQL text laid out again, as an engine that renders its parse tree would: double quotes single."""
    return value.replace('"', "'") if isinstance(value, str) else value


_ENGINE: list[tuple[str, str, str, tuple[str, ...], Deviation]] = [
    ("unknown_collation_binary", "names", "a short unknown collation name is taken as BINARY",
     (S + "test_names.py", S + "test_grammar.py"),
     Deviation(sql=rewrite(r"\bCOLLATE\s+(?!binary\b|nocase\b|rtrim\b)([a-z]{2,3})\b", "COLLATE BINARY"))),
    ("select_error_ends_transaction", "errors-per-statement-kind",
     "a runtime error in a SELECT rolls the open transaction back",
     (S + "test_statements.py", S + "test_transactions.py", S + "test_errors.py"),
     Deviation(failed=rollback_if(_starts("SELECT", "WITH", "VALUES")))),
    ("any_error_ends_transaction", "errors-per-statement-kind",
     "any failed statement rolls the open transaction back",
     (S + "test_statements.py", S + "test_transactions.py", S + "test_errors.py"),
     Deviation(failed=rollback_if(lambda sql: True))),
    ("pragma_wraps_32bit", "pragma-edges", "an integer PRAGMA value is truncated to 32 bits",
     (S + "test_pragmas.py",),
     Deviation(sql=rewrite(r"(PRAGMA\s+\w+\s*=\s*)(-?\d{10,})", wrap32))),
    ("foreign_keys_pragma_ignored", "pragma-edges", "PRAGMA foreign_keys = ... is accepted and ignored",
     (S + "test_pragmas.py", S + "test_statements.py", S + "test_migrations.py"),
     Deviation(sql=rewrite(r"PRAGMA\s+foreign_keys\s*=\s*\w+", "PRAGMA foreign_keys"))),
    ("missing_parameters_null", "parameter-styles", "a missing parameter value is bound as NULL",
     (S + "test_parameters.py", S + "test_errors.py", S + "test_types.py"),
     Deviation(params=pad_parameters)),
    ("at_dollar_unbound", "parameter-styles", "@name and $name placeholders are bound as NULL",
     (S + "test_parameters.py", S + "test_types.py"),
     Deviation(sql=rewrite(r"(?<![\w'])[@$][A-Za-z_]\w*", "NULL"))),
    ("schema_names_lowercase", "names", "names read from sqlite_schema are lower-cased",
     (S + "test_names.py", S + "test_schema.py", S + "test_migrations.py"),
     Deviation(rows=map_values(lambda v: v.lower() if isinstance(v, str) else v, _schema_query))),
    ("schema_text_rendered", "schema-text", "stored SQL and column defaults are read back re-quoted",
     (S + "test_schema.py", S + "test_migrations.py"),
     Deviation(rows=map_values(_render_anew, _schema_text_query))),
    ("expression_index_named", "schema", "PRAGMA index_info names an expression's slot (cid -1, a name)",
     (S + "test_schema.py",),
     Deviation(rows=map_values(_expression_named, _index_info_query))),
    ("in_transaction_false", "transaction-state", "the adapter reports no open transaction, ever",
     (S + "test_statements.py", S + "test_transactions.py"),
     Deviation(in_transaction=lambda value: False)),
    ("commit_is_rollback", "transaction-state", "COMMIT rolls back",
     (S + "test_transactions.py", S + "test_statements.py", S + "test_smoke.py"),
     Deviation(sql=rewrite(r"^\s*(COMMIT|END)(\s+TRANSACTION)?\s*$", "ROLLBACK"))),
    ("rollback_is_commit", "transaction-state", "ROLLBACK commits",
     (S + "test_transactions.py", S + "test_statements.py"),
     Deviation(sql=rewrite(r"^\s*ROLLBACK(\s+TRANSACTION)?\s*$", "COMMIT"))),
    ("rollback_to_ignored", "transaction-state", "ROLLBACK TO a savepoint does nothing",
     (S + "test_transactions.py", S + "test_migrations.py"),
     Deviation(sql=rewrite(r"^\s*ROLLBACK\s+(TRANSACTION\s+)?TO\s+(SAVEPOINT\s+)?\w+\s*$", "SELECT 1"))),
    ("begin_immediate_deferred", "transaction-state",
     "BEGIN IMMEDIATE/EXCLUSIVE start a deferred transaction",
     (S + "test_transactions.py", S + "test_pooling.py"),
     Deviation(sql=rewrite(r"^\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE)", "BEGIN"))),
    ("big_integers_as_real", "types-at-edges", "integers beyond 2**53 come back as REAL",
     (S + "test_types.py", S + "test_limits.py"),
     Deviation(rows=map_values(_big_int))),
    ("blob_as_text", "types-at-edges", "BLOB values come back as TEXT",
     (S + "test_types.py", S + "test_smoke.py"),
     Deviation(rows=map_values(lambda v: bytes(v).decode("latin-1") if isinstance(v, bytes) else v))),
    ("text_rstripped", "types-at-edges", "trailing spaces of TEXT values are dropped",
     (S + "test_types.py", S + "test_smoke.py"),
     Deviation(rows=map_values(lambda v: v.rstrip() if isinstance(v, str) else v))),
    ("real_rounded", "types-at-edges", "REAL values are rounded to 6 decimals",
     (S + "test_types.py",),
     Deviation(rows=map_values(lambda v: round(v, 6) if isinstance(v, float) else v))),
    ("null_as_empty_text", "types-at-edges", "NULL comes back as ''",
     (S + "test_types.py", S + "test_smoke.py"),
     Deviation(rows=map_values(lambda v: "" if v is None else v))),
    ("rowcount_unknown", "driver-counters", "the adapter's rowcount is always -1",
     (S + "test_smoke.py", S + "test_types.py", S + "test_pooling.py"),
     Deviation(rowcount=lambda sql, n: -1)),
    ("error_kinds_generic", "error-classes", "every error is classified DRIVER_OPERATION_FAILED",
     (S + "test_errors.py", S + "test_statements.py", S + "test_grammar.py", S + "test_limits.py"),
     Deviation(kind=lambda kind: ErrorKind.DRIVER_OPERATION_FAILED)),
    ("constraint_kinds_generic", "error-classes", "every constraint error is a generic CONSTRAINT_VIOLATION",
     (S + "test_errors.py", S + "test_statements.py"),
     Deviation(kind=lambda kind: ErrorKind.CONSTRAINT_VIOLATION if kind in CONSTRAINT_KINDS else kind)),
    ("insert_or_ignore", "grammar-conflict-clauses", "a plain INSERT behaves as INSERT OR IGNORE",
     (S + "test_statements.py", S + "test_errors.py", S + "test_grammar.py"),
     Deviation(sql=rewrite(r"^\s*INSERT\s+INTO\b", "INSERT OR IGNORE INTO"))),
    ("desc_as_asc", "grammar-clauses", "ORDER BY ... DESC sorts ascending",
     (S + "test_grammar.py",),
     Deviation(sql=rewrite(r"(ORDER\s+BY\s+[^;]*?)\bDESC\b", r"\1ASC"))),
    ("foreign_keys_default_on", "connection-defaults", "foreign keys are enforced by default",
     (S + "test_pragmas.py", S + "test_migrations.py"),
     Deviation(on_connect=run_on_connect("PRAGMA foreign_keys = ON"))),
    ("like_case_sensitive", "connection-defaults", "LIKE is case-sensitive by default",
     (S + "test_grammar.py", S + "test_pragmas.py"),
     Deviation(on_connect=run_on_connect("PRAGMA case_sensitive_like = ON"))),
    ("recursive_triggers_on", "connection-defaults", "recursive triggers are on by default",
     (S + "test_triggers.py", S + "test_pragmas.py"),
     Deviation(on_connect=run_on_connect("PRAGMA recursive_triggers = ON"))),
    ("wal_by_default", "connection-defaults", "a file database is switched to WAL at connect",
     (S + "test_pragmas.py", S + "test_transactions.py", S + "test_errors.py"),
     Deviation(on_connect=run_on_connect("PRAGMA journal_mode = WAL", files_only=True))),
    ("length_limit_small", "limits", "SQLITE_LIMIT_LENGTH lowered to 100000",
     (S + "test_limits.py", S + "test_types.py"),
     Deviation(on_connect=set_limit(sqlite3.SQLITE_LIMIT_LENGTH, 100_000))),
    ("variable_limit_small", "limits", "SQLITE_LIMIT_VARIABLE_NUMBER lowered to 999",
     (S + "test_limits.py",),
     Deviation(on_connect=set_limit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999))),
    ("limits_lowered_by_one", "limits", "every run-time limit SQLite lets a connection lower is one lower",
     (S + "test_limits.py",),
     Deviation(on_connect=lower_every_limit)),
    ("conflict_clause_ignored", "grammar-conflict-clauses",
     "OR ROLLBACK/ABORT/FAIL/IGNORE/REPLACE and column ON CONFLICT clauses are ignored (plain ABORT)",
     (S + "test_grammar.py",),
     Deviation(sql=rewrite(r"\b(OR|ON\s+CONFLICT)\s+(ROLLBACK|ABORT|FAIL|IGNORE|REPLACE)\b", ""))),
    ("distinct_ignored", "grammar-clauses", "SELECT DISTINCT returns duplicates",
     (S + "test_grammar.py",), Deviation(sql=rewrite(r"\bSELECT\s+DISTINCT\b", "SELECT"))),
    ("upsert_update_as_nothing", "grammar-clauses", "ON CONFLICT ... DO UPDATE does nothing",
     (S + "test_grammar.py",), Deviation(sql=rewrite(r"\bDO\s+UPDATE\s+SET\b.*?(?=\s+ON\s+CONFLICT|$)",
                                                     "DO NOTHING"))),
    ("if_not_exists_dropped", "grammar-clauses", "IF NOT EXISTS is dropped: re-creating raises",
     (S + "test_grammar.py",), Deviation(sql=rewrite(r"\bIF\s+NOT\s+EXISTS\b", ""))),
    ("journal_mode_set_ignored", "mvcc-journal-modes", "PRAGMA journal_mode = X answers the mode, unchanged",
     (S + "test_mvcc.py",),
     Deviation(sql=rewrite(r"PRAGMA\s+journal_mode\s*=\s*'?\w+'?", "PRAGMA journal_mode"))),
    ("wal_writers_not_exclusive", "mvcc-write-skew",
     "a plain BEGIN takes the write lock at once (as BEGIN IMMEDIATE): the second reader-writer is refused",
     (S + "test_mvcc.py", S + "test_transactions.py"),
     Deviation(sql=rewrite(r"^\s*BEGIN\s*$", "BEGIN IMMEDIATE"))),
    ("executemany_first_only", "driver-counters", "executemany runs only the first parameter set",
     (S + "test_types.py", S + "test_limits.py", S + "test_errors.py"),
     Deviation(many=lambda seq: seq[:1])),
]

MUTANTS: dict[str, Mutant] = {}
for _name, _theme, _what, _suites, _dev in _ENGINE:
    MUTANTS[_name] = Mutant(_name, "engine adapter", _theme, _what, _suites, _dev)

_SYNC_SUITES: dict[str, tuple[str, ...]] = {
    "sync_commit_noop": (D + "test_driver_transactions.py", D + "test_driver_state.py"),
    "sync_rollback_noop": (D + "test_driver_transactions.py", D + "test_driver_state.py",
                           D + "test_driver_timing.py"),
    "sync_in_transaction_false": (D + "test_driver_transactions.py", D + "test_driver_state.py"),
    "sync_autocommit_forced": (D + "test_driver_transactions.py", D + "test_driver_state.py"),
    "sync_no_busy_wait": (D + "test_driver_transactions.py", D + "test_driver_exceptions.py"),
    "sync_rowcount_unknown": (D + "test_driver_cursor.py",),
    "sync_lastrowid_none": (D + "test_driver_cursor.py",),
    "sync_names_lowercase": (D + "test_driver_cursor.py",),
    "sync_fetchmany_all": (D + "test_driver_cursor.py",),
    "sync_missing_binding_null": (D + "test_driver_binding.py", D + "test_driver_exceptions.py"),
    "sync_integrity_as_operational": (D + "test_driver_exceptions.py",),
    "sync_parse_error_prefix": (D + "test_driver_exceptions.py",),
    "sync_close_ignored": (D + "test_driver_state.py",),
    "sync_paramstyle_named": (D + "test_driver_surface.py",),
    "sync_threadsafety_zero": (D + "test_driver_surface.py",),
    "sync_same_thread_off": (D + "test_driver_threads.py", D + "test_driver_surface.py"),
    "sync_wal_left_beside": (D + "test_driver_connect.py",),
    "sync_lazy_dml": (D + "test_driver_timing.py",),
}
for _name, (_what, _) in SYNC.items():
    MUTANTS[_name] = Mutant(_name, "sync module", "driver", _what, _SYNC_SUITES[_name],
                            sync_module=SYNC_MODULES[_name])
for _name, (_what, _) in ASYNC.items():
    MUTANTS[_name] = Mutant(_name, "async module", "driver-async", _what, (D + "test_driver_async.py",),
                            async_module=ASYNC_MODULES[_name])

_CLIENT_SUITES: dict[str, tuple[str, ...]] = {
    "client_rowcount_unknown": (C + "test_client_sqlalchemy.py",),
    "client_lastrowid_none": (C + "test_client_sqlalchemy.py",),
    "client_description_late": (C + "test_client_sqlalchemy.py", C + "test_client_alembic.py"),
    "client_binary_missing": (C + "test_client_sqlalchemy.py",),
    "client_isolation_level_ignored": (C + "test_client_sqlalchemy.py",),
}
for _name, (_what, _, _) in CLIENT.items():
    MUTANTS[_name] = Mutant(_name, "sync module (client path)", "client", _what, _CLIENT_SUITES[_name],
                            sync_module=CLIENT_MODULES[_name])

CONTROL = Mutant("control", "none", "control", "SQLite through the same wrappers, no deviation", ())


def make_control() -> MutantBackend:
    """The control: SQLite through the mutants' wrappers with no deviation."""
    return CONTROL.backend()


def make_stdlib_thirdparty() -> MutantBackend:
    """A third-party-style backend: SQLite under another name whose own modules are the stdlib ones."""
    return MutantBackend("thirdparty", Deviation(), "sqlite3", "aiosqlite")


def __getattr__(attr: str) -> Any:
    """`make_<mutant>`: the factory `--backend=mutants.catalog:make_<mutant>` names."""
    name = attr.removeprefix("make_")
    if attr.startswith("make_") and name in MUTANTS:
        return MUTANTS[name].backend
    raise AttributeError(attr)
