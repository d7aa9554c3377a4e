"""libSQL as a conformance backend: the `libsql` package's sqlite3-like module on local files."""

from conformance_libsql.backend import LibsqlBackend, LibsqlConnection

__all__ = ["LibsqlBackend", "LibsqlConnection"]
