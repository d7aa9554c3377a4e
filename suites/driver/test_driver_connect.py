"""connect(): every keyword sqlite3 accepts, the path types it takes, `file:` URIs, and refused keywords.

Each check opens a fresh database file in its folder with the backend's blocking module, exactly as an
application would call `sqlite3.connect(...)`, and observes whether the call is accepted (and what the
connection then does) or what it raises.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from driver_support import blocking, db_path, outcome, pydoc

from stc_harness import CheckContext, Source, Unsupported, check

CONNECT = pydoc("Module functions")

#: sqlite3.connect()'s keywords (Python 3.11), each with a value an application passes.
KEYWORDS: dict[str, Any] = {
    "timeout": 1.5,
    "detect_types": 0,
    "isolation_level_none": None,
    "isolation_level_deferred": "DEFERRED",
    "isolation_level_immediate": "IMMEDIATE",
    "isolation_level_exclusive": "EXCLUSIVE",
    "check_same_thread": False,
    "factory": "<module.Connection>",
    "cached_statements": 16,
    "uri": False,
    "autocommit": True,
}


def _keyword_name(key: str) -> str:
    return "isolation_level" if key.startswith("isolation_level") else key


def _open_with(module: Any, path: str, key: str) -> dict[str, Any]:
    value = KEYWORDS[key]
    if value == "<module.Connection>":
        value = getattr(module, "Connection", None)

    def use() -> Any:
        conn = module.connect(path, **{_keyword_name(key): value})
        try:
            conn.execute("CREATE TABLE t (x)")
            conn.execute("INSERT INTO t VALUES (1)")
            conn.commit()
            return conn.execute("SELECT x FROM t").fetchall()
        finally:
            conn.close()

    return outcome(use)


@check(
    title="connect() accepts the sqlite3 keyword (and the connection then works)",
    source=CONNECT,
    params={k: k for k in KEYWORDS},
    layer="driver",
)
async def test_keyword(ctx: CheckContext, key: str) -> object:
    if key == "autocommit" and sys.version_info < (3, 12):
        raise Unsupported("python_3_12", "sqlite3.connect(autocommit=...) needs Python 3.12+")
    return await blocking(_open_with, ctx.sync_module(), db_path(ctx), key)


def _positional(module: Any, path: str) -> dict[str, Any]:
    def use() -> Any:
        conn = module.connect(path, 1.5)
        conn.close()
        return "opened"

    return outcome(use)


@check(title="connect(path, 1.5): timeout as the second positional argument", source=CONNECT, layer="driver")
async def test_positional_timeout(ctx: CheckContext) -> object:
    return await blocking(_positional, ctx.sync_module(), db_path(ctx))


def _unknown_keyword(module: Any, path: str) -> dict[str, Any]:
    return outcome(lambda: module.connect(path, no_such_keyword=1))


@check(title="connect() with an unknown keyword raises TypeError", source=CONNECT, layer="driver")
async def test_unknown_keyword(ctx: CheckContext) -> object:
    return await blocking(_unknown_keyword, ctx.sync_module(), db_path(ctx))


def _round_trip(module: Any, database: Any, reopen: Any = None, **kwargs: Any) -> dict[str, Any]:
    def use() -> Any:
        conn = module.connect(database, **kwargs)
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
            conn.execute("INSERT INTO t VALUES (1)")
            conn.commit()
            return conn.execute("SELECT count(*) FROM t").fetchall()
        finally:
            conn.close()

    return outcome(use)


PATHS = (
    "str",
    "pathlib_Path",
    "bytes",
    "memory",
    "empty_string",
    "file_uri",
    "file_uri_memory",
    "relative_str",
    "missing_directory",
    "directory_itself",
    "file_uri_without_uri_flag",
)


def _path_case(module: Any, folder: str, key: str) -> dict[str, Any]:
    base = Path(folder)
    target = base / "p.db"
    cases: dict[str, tuple[Any, dict[str, Any]]] = {
        "str": (str(target), {}),
        "pathlib_Path": (target, {}),
        "bytes": (str(target).encode(), {}),
        "memory": (":memory:", {}),
        "empty_string": ("", {}),
        "file_uri": (f"file:{target}", {"uri": True}),
        "file_uri_memory": ("file::memory:", {"uri": True}),
        "relative_str": (
            str(target.relative_to(Path.cwd())) if target.is_relative_to(Path.cwd()) else str(target),
            {},
        ),
        "missing_directory": (str(base / "no" / "such" / "dir.db"), {}),
        "directory_itself": (str(base), {}),
        "file_uri_without_uri_flag": (f"file:{target}?mode=rwc", {}),
    }
    database, kwargs = cases[key]
    result = _round_trip(module, database, **kwargs)
    if key == "file_uri_without_uri_flag":
        # sqlite3 treats the name as a plain file name unless uri=True: observe which file appeared.
        result["plain_file_created"] = (base / "p.db?mode=rwc").exists() or any(
            p.name.startswith("file:") for p in base.iterdir()
        )
    return result


@check(
    title="connect() takes the database argument in this form",
    source=CONNECT,
    params={k: k for k in PATHS},
    layer="driver",
)
async def test_path(ctx: CheckContext, key: str) -> object:
    ctx.folder.mkdir(parents=True, exist_ok=True)
    return await blocking(_path_case, ctx.sync_module(), str(ctx.folder), key)


def _uri_readonly(module: Any, path: str, stmt: str) -> dict[str, Any]:
    setup = module.connect(path)
    setup.execute("CREATE TABLE t (x)")
    setup.execute("INSERT INTO t VALUES (1)")
    setup.commit()
    setup.close()

    def use() -> Any:
        conn = module.connect(f"file:{path}?mode=ro", uri=True)
        try:
            got = conn.execute(stmt).fetchall()
            conn.commit()
            return got
        finally:
            conn.close()

    return outcome(use)


READ_ONLY_STATEMENTS = {
    "read": "SELECT x FROM t",
    "write": "INSERT INTO t VALUES (2)",
    "create": "CREATE TABLE u (y)",
}


@check(
    title="connect('file:...?mode=ro', uri=True): reads work, writes raise",
    source=pydoc("How to work with SQLite URIs"),
    params=READ_ONLY_STATEMENTS,
    layer="driver",
)
async def test_uri_mode_ro(ctx: CheckContext, stmt: str) -> object:
    return await blocking(_uri_readonly, ctx.sync_module(), db_path(ctx), stmt)


def _uri_mode_ro_missing(module: Any, path: str) -> dict[str, Any]:
    return outcome(lambda: module.connect(f"file:{path}?mode=ro", uri=True).execute("SELECT 1").fetchall())


@check(
    title="connect('file:missing?mode=ro', uri=True) on a file that does not exist raises",
    source=pydoc("How to work with SQLite URIs"),
    layer="driver",
)
async def test_uri_mode_ro_missing_file(ctx: CheckContext) -> object:
    return await blocking(_uri_mode_ro_missing, ctx.sync_module(), db_path(ctx))


def _factory_subclass(module: Any, path: str) -> dict[str, Any]:
    base = getattr(module, "Connection", None)
    if not isinstance(base, type):
        return {"connection_class": False}

    def use() -> Any:
        sub = type("MyConnection", (base,), {})
        conn = module.connect(path, factory=sub)
        try:
            return type(conn).__name__
        finally:
            conn.close()

    return outcome(use)


@check(
    title="connect(factory=<Connection subclass>) returns an instance of the subclass",
    source=pydoc("Module functions"),
    layer="driver",
)
async def test_factory_subclass(ctx: CheckContext) -> object:
    return await blocking(_factory_subclass, ctx.sync_module(), db_path(ctx))


def _files_after_close(module: Any, folder: str, mode: str) -> dict[str, list[str]]:
    path = Path(folder) / "left.db"

    def files() -> list[str]:
        return sorted(p.name.removeprefix("left.db") or "<database>" for p in Path(folder).iterdir()
                      if p.name.startswith("left.db"))

    conn = module.connect(str(path))
    opened = files()
    if mode:
        conn.execute(f"PRAGMA journal_mode = {mode}").fetchall()
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    return {"after_connect": opened, "after_close": files()}


@check(
    title="connect() and close() of the only connection to a file database: the files in its folder",
    source=Source("https://sqlite.org/wal.html", "The WAL File"),
    params={"default_mode": "", "wal": "WAL"},
    layer="driver",
)
async def test_files_after_close(ctx: CheckContext, mode: str) -> object:
    ctx.folder.mkdir(parents=True, exist_ok=True)
    return await blocking(_files_after_close, ctx.sync_module(), str(ctx.folder), mode)
