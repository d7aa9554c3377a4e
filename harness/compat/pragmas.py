"""Every PRAGMA of Turso's compatibility table in depth: read it, set it, read it back, observe its effect.

Each spec is a statement list run in one batch on a fresh database file: the read, the write and the
read-back of the value, then statements whose result shows whether the setting took effect (a foreign
key refused, LIKE turned case-sensitive, a write refused...). A PRAGMA an engine accepts and ignores
reads back the old value or leaves the effect out, so it never observes what SQLite does: it can
never pass as `same`. Action and introspection PRAGMAs run on a small schema instead.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A parent/child schema most effects use (foreign key, CHECK, index, a view).
SCHEMA = ("CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT)",
          "CREATE TABLE k(a INTEGER PRIMARY KEY, b TEXT UNIQUE, c INTEGER REFERENCES p(id), "
          "v INTEGER CHECK (v > 0))",
          "CREATE INDEX ki ON k(b, c)", "INSERT INTO p VALUES (1, 'one'), (2, 'two')",
          "INSERT INTO k VALUES (1, 'x', 1, 5), (2, 'y', 2, 6)")


@dataclass(frozen=True)
class PragmaSpec:
    """What to set (None: read only) and the statements that show the effect."""

    value: str | None
    effect: tuple[str, ...] = ()
    schema_first: bool = True

    def statements(self, name: str) -> tuple[str, ...]:
        """The whole probe: schema, read, set, read back, effect."""
        head = SCHEMA if self.schema_first else ()
        if self.value is None:
            return (*head, f"PRAGMA {name}", *self.effect)
        return (*head, f"PRAGMA {name}", f"PRAGMA {name} = {self.value}", f"PRAGMA {name}", *self.effect)


_FRESH = False  # set before any table exists (page size, encoding, auto_vacuum)

PRAGMAS: dict[str, PragmaSpec] = {
    "analysis_limit": PragmaSpec("100", ("ANALYZE", "SELECT count(*) > 0 FROM sqlite_stat1")),
    "application_id": PragmaSpec("77"),
    "auto_vacuum": PragmaSpec("1", (*SCHEMA, "DELETE FROM k", "DROP TABLE k", "PRAGMA freelist_count"),
                              schema_first=_FRESH),
    "automatic_index": PragmaSpec("0"),
    "busy_timeout": PragmaSpec("1234"),
    "cache_size": PragmaSpec("-500"),
    "cache_spill": PragmaSpec("0"),
    "case_sensitive_like": PragmaSpec("1", ("SELECT 'a' LIKE 'A', name FROM p WHERE name LIKE 'ONE'",)),
    "cell_size_check": PragmaSpec("1"),
    "checkpoint_fullfsync": PragmaSpec("1"),
    "collation_list": PragmaSpec(None, ("SELECT count(*) >= 3 FROM pragma_collation_list",)),
    "compile_options": PragmaSpec(None, ("SELECT count(*) > 0 FROM pragma_compile_options",)),
    "count_changes": PragmaSpec("1", ("INSERT INTO p VALUES (3, 'three')",)),
    "data_store_directory": PragmaSpec(None),
    "data_version": PragmaSpec(None, ("INSERT INTO p VALUES (3, 'three')", "PRAGMA data_version")),
    "database_list": PragmaSpec(None, ("SELECT seq, name FROM pragma_database_list",)),
    "default_cache_size": PragmaSpec("100"),
    "defer_foreign_keys": PragmaSpec("1", ("PRAGMA foreign_keys = 1", "BEGIN", "INSERT INTO k VALUES (3, 'z', 9, 1)",
                                           "SELECT count(*) FROM k", "COMMIT", "ROLLBACK", "SELECT count(*) FROM k")),
    "empty_result_callbacks": PragmaSpec("1"),
    "encoding": PragmaSpec("'UTF-16le'", (*SCHEMA, "SELECT hex(name) FROM p WHERE id = 1", "PRAGMA encoding"),
                           schema_first=_FRESH),
    "foreign_key_check": PragmaSpec(None, ("INSERT INTO k VALUES (3, 'z', 9, 1)", "PRAGMA foreign_key_check",
                                           "PRAGMA foreign_key_check(k)")),
    "foreign_key_list": PragmaSpec(None, ("PRAGMA foreign_key_list(k)",)),
    "foreign_keys": PragmaSpec("1", ("INSERT INTO k VALUES (3, 'z', 9, 1)", "DELETE FROM p WHERE id = 1",
                                     "SELECT count(*) FROM k")),
    "freelist_count": PragmaSpec(None, ("DELETE FROM k", "DROP TABLE k", "SELECT count(*) FROM pragma_freelist_count "
                                        "WHERE freelist_count > 0")),
    "full_column_names": PragmaSpec("1"),
    "fullfsync": PragmaSpec("1"),
    "function_list": PragmaSpec(None, ("SELECT count(*) > 0 FROM pragma_function_list WHERE name = 'abs'",)),
    "hard_heap_limit": PragmaSpec("0"),
    "ignore_check_constraints": PragmaSpec("1", ("INSERT INTO k VALUES (3, 'z', 1, -1)", "SELECT count(*) FROM k")),
    "incremental_vacuum": PragmaSpec(None, ("DELETE FROM k", "PRAGMA incremental_vacuum(1)", "SELECT count(*) FROM k")),
    "index_info": PragmaSpec(None, ("PRAGMA index_info(ki)",)),
    "index_list": PragmaSpec(None, ("PRAGMA index_list(k)",)),
    "index_xinfo": PragmaSpec(None, ("PRAGMA index_xinfo(ki)",)),
    "integrity_check": PragmaSpec(None, ("PRAGMA integrity_check(k)",)),
    "journal_mode": PragmaSpec("WAL", ("INSERT INTO p VALUES (3, 'three')", "PRAGMA journal_mode = DELETE",
                                       "PRAGMA journal_mode")),
    "journal_size_limit": PragmaSpec("4096"),
    "legacy_alter_table": PragmaSpec("1", ("CREATE VIEW pv AS SELECT name FROM p", "ALTER TABLE p RENAME TO p2",
                                           "SELECT sql FROM sqlite_schema WHERE name = 'pv'")),
    "legacy_file_format": PragmaSpec("1"),
    "locking_mode": PragmaSpec("EXCLUSIVE", ("INSERT INTO p VALUES (3, 'three')", "PRAGMA locking_mode = NORMAL",
                                             "PRAGMA locking_mode")),
    "max_page_count": PragmaSpec("5", ("WITH RECURSIVE s(n) AS (SELECT 10 UNION ALL SELECT n + 1 FROM s "
                                       "WHERE n < 210) INSERT INTO p SELECT n, hex(zeroblob(500)) FROM s",
                                       "SELECT count(*) <= 12 FROM p")),
    "mmap_size": PragmaSpec("0"),
    "module_list": PragmaSpec(None, ("SELECT count(*) > 0 FROM pragma_module_list",)),
    "optimize": PragmaSpec(None),
    "page_count": PragmaSpec(None, ("SELECT page_count > 0 FROM pragma_page_count",)),
    "page_size": PragmaSpec("8192", (*SCHEMA, "PRAGMA page_size"), schema_first=_FRESH),
    "parser_trace": PragmaSpec("0"),
    "pragma_list": PragmaSpec(None, ("SELECT count(*) > 0 FROM pragma_pragma_list WHERE name = 'user_version'",)),
    "query_only": PragmaSpec("1", ("INSERT INTO p VALUES (3, 'three')", "SELECT count(*) FROM p",
                                   "PRAGMA query_only = 0", "INSERT INTO p VALUES (4, 'four')")),
    "quick_check": PragmaSpec(None, ("PRAGMA quick_check",)),
    "read_uncommitted": PragmaSpec("1"),
    "recursive_triggers": PragmaSpec("1", ("CREATE TABLE rt(n INTEGER)",
                                           "CREATE TRIGGER rtr AFTER INSERT ON rt WHEN new.n < 5 BEGIN "
                                           "INSERT INTO rt VALUES (new.n + 1); END",
                                           "INSERT INTO rt VALUES (1)", "SELECT count(*) FROM rt")),
    "reverse_unordered_selects": PragmaSpec("1", ("SELECT group_concat(name) FROM p",)),
    "schema_version": PragmaSpec(None, ("CREATE TABLE s2(x)", "SELECT schema_version > 0 FROM pragma_schema_version")),
    "secure_delete": PragmaSpec("1"),
    "short_column_names": PragmaSpec("0"),
    "shrink_memory": PragmaSpec(None),
    "soft_heap_limit": PragmaSpec("0"),
    "stats": PragmaSpec(None, ("SELECT count(*) > 0 FROM pragma_stats",)),
    "synchronous": PragmaSpec("OFF", ("PRAGMA synchronous = NORMAL", "PRAGMA synchronous")),
    "table_info": PragmaSpec(None, ("PRAGMA table_info(k)",)),
    "table_list": PragmaSpec(None, ("SELECT schema, name, type, ncol FROM pragma_table_list WHERE name IN ('p', 'k')",)),
    "table_xinfo": PragmaSpec(None, ("PRAGMA table_xinfo(k)",)),
    "temp_store": PragmaSpec("2"),
    "temp_store_directory": PragmaSpec(None),
    "threads": PragmaSpec("2"),
    "trusted_schema": PragmaSpec("0"),
    "user_version": PragmaSpec("42"),
    "vdbe_addoptrace": PragmaSpec("0"),
    "vdbe_debug": PragmaSpec("0"),
    "vdbe_listing": PragmaSpec("0"),
    "vdbe_trace": PragmaSpec("0"),
    "wal_autocheckpoint": PragmaSpec("500"),
    "wal_checkpoint": PragmaSpec(None, ("PRAGMA journal_mode = WAL", "INSERT INTO p VALUES (3, 'three')",
                                        "PRAGMA wal_checkpoint(TRUNCATE)")),
    "writable_schema": PragmaSpec("0"),
}

#: Statements whose answer depends on the build or the file system, compared by shape only.
SHAPE = frozenset({"PRAGMA compile_options", "PRAGMA function_list", "PRAGMA pragma_list", "PRAGMA module_list",
                   "PRAGMA collation_list", "PRAGMA stats", "PRAGMA database_list", "PRAGMA data_version",
                   "PRAGMA page_count", "PRAGMA freelist_count", "PRAGMA schema_version", "PRAGMA optimize",
                   "PRAGMA shrink_memory", "PRAGMA threads", "PRAGMA soft_heap_limit", "PRAGMA hard_heap_limit",
                   "PRAGMA mmap_size", "PRAGMA cache_spill", "PRAGMA wal_checkpoint(TRUNCATE)"})
