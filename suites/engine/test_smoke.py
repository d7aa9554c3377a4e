"""Smoke checks: connect, create, insert, select, commit and rollback, in memory and on file; URL paths."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stc_harness import CheckContext, check, driver_guide, orm_backend, rows

BASICS = orm_backend("Features")
MEMORY_AND_FILE = {"memory": True, "file": False}


@check(title="Create, insert and select round-trip", source=BASICS, params=MEMORY_AND_FILE)
async def test_create_insert_select(ctx: CheckContext, memory: bool) -> object:
    conn = await ctx.connect(ctx.url(memory=memory))
    await conn.execute("CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT NOT NULL, published INTEGER)")
    inserted = await conn.execute("INSERT INTO post (title, published) VALUES (?, ?)", ("Hello", 1))
    got = await conn.execute("SELECT id, title AS Title, published AS isPublished FROM post")
    # Applications map rows by column name: the names are part of the result (exact, case included).
    return {"rowcount": inserted.rowcount, "lastrowid": inserted.lastrowid, "rows": rows(got.rows),
            "columns": list(got.columns)}


#: Queries whose result column names an application maps rows by (ORMs use aliases like these).
COLUMN_NAMES = {
    "star": "SELECT * FROM Post",
    "aliases_mixed_case": "SELECT id AS postId, title AS \"Post Title\" FROM Post",
    "as_declared_other_case": "SELECT ID, TITLE FROM post",
    "aggregate_alias": "SELECT count(*) AS Total, max(id) FROM Post",
    "join_qualified": "SELECT p.id, q.title FROM Post AS p JOIN Post AS q ON q.id = p.id",
    "expression_unaliased": "SELECT id + 1, upper(title) FROM Post",
}


@check(title="Result.columns: the column names a query returns, exactly as SQLite names them", source=BASICS,
       params=COLUMN_NAMES)
async def test_column_names(ctx: CheckContext, sql: str) -> object:
    conn = await ctx.connect(ctx.url(memory=True))
    await conn.execute("CREATE TABLE Post (Id INTEGER PRIMARY KEY, Title TEXT)")
    await conn.execute("INSERT INTO Post VALUES (1, 'x')")
    return list((await conn.execute(sql)).columns)


@check(title="A committed transaction persists", source=orm_backend("Transactions"), params=MEMORY_AND_FILE)
async def test_commit_persists(ctx: CheckContext, memory: bool) -> object:
    conn = await ctx.connect(ctx.url(memory=memory))
    await conn.execute("CREATE TABLE t (x INTEGER)")
    async with conn.transaction():
        await conn.execute("INSERT INTO t VALUES (1)")
    return rows(await conn.fetch_all("SELECT x FROM t"))


@check(title="A rolled-back transaction leaves nothing", source=orm_backend("Transactions"),
       params=MEMORY_AND_FILE)
async def test_rollback_discards(ctx: CheckContext, memory: bool) -> object:
    conn = await ctx.connect(ctx.url(memory=memory))
    await conn.execute("CREATE TABLE t (x INTEGER)")
    raised = False
    try:
        async with conn.transaction():
            await conn.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("roll back")
    except RuntimeError:
        raised = True
    return {"raised": raised, "rows": rows(await conn.fetch_all("SELECT x FROM t")),
            "in_tx": await conn.is_in_transaction()}


@check(title="File databases persist across connections", source=orm_backend("Usage"))
async def test_file_persists_across_connections(ctx: CheckContext) -> object:
    url = ctx.url()
    first = await ctx.connect(url)
    await first.execute("CREATE TABLE t (x TEXT)")
    await first.execute("INSERT INTO t VALUES ('kept')")
    await first.close()
    second = await ctx.connect(url)
    return rows(await second.fetch_all("SELECT x FROM t"))


URLS = driver_guide("Connection URL options")
@contextlib.contextmanager
def _working_directory(folder: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


@check(title="A relative path in '<backend>:<path>' resolves against the working directory", source=URLS)
async def test_relative_path_resolves_against_cwd(ctx: CheckContext) -> object:
    ctx.folder.mkdir(parents=True, exist_ok=True)
    with _working_directory(ctx.folder):
        url = ctx.backend.parse_url(f"{ctx.name}:relative.db")
    conn = await ctx.connect(url)
    await conn.execute("CREATE TABLE t (x)")
    return {"file_in_working_directory": (ctx.folder / "relative.db").is_file(),
            "parsed_path_is_absolute": Path(url.path).is_absolute()}


def _open_with_query(module: Any, folder: Path) -> list[str]:
    """Open 'q.db?mode=ro' with the blocking driver (no URI mode) and list the files it created."""
    with _working_directory(folder):
        conn = module.connect("q.db?mode=ro")
        try:
            conn.execute("CREATE TABLE t (x)")
        finally:
            conn.close()
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("q.db"))


@check(title="The driver does not parse query parameters: 'q.db?mode=ro' names a file, opened writable",
       source=URLS)
async def test_driver_does_not_parse_query_parameters(ctx: CheckContext) -> object:
    module = ctx.sync_module()
    folder = ctx.folder / "query"
    folder.mkdir(parents=True, exist_ok=True)
    files = await asyncio.to_thread(_open_with_query, module, folder)
    return {"main_file_created": "q.db?mode=ro" in files}
