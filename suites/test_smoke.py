"""Smoke checks: connect, create, insert, select, commit and rollback, in memory and on file."""

from __future__ import annotations

from harness import CheckContext, check, orm_backend, rows

BASICS = orm_backend("Features")
MEMORY_AND_FILE = {"memory": True, "file": False}


@check(title="Create, insert and select round-trip", source=BASICS, params=MEMORY_AND_FILE)
async def test_create_insert_select(ctx: CheckContext, memory: bool) -> object:
    conn = await ctx.connect(ctx.url(memory=memory))
    await conn.execute("CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT NOT NULL, published INTEGER)")
    inserted = await conn.execute("INSERT INTO post (title, published) VALUES (?, ?)", ("Hello", 1))
    got = await conn.fetch_all("SELECT id, title, published FROM post")
    return {"rowcount": inserted.rowcount, "lastrowid": inserted.lastrowid, "rows": rows(got)}


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
