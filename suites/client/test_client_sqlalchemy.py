"""Client layer: SQLAlchemy Core and ORM, sync and async, on any backend: the engine is built from the
backend's own DB-API modules (see `client_support`): on Turso pyturso's own dialects (`sqlite+turso`,
`sqlite+aioturso`), on SQLite pysqlite and aiosqlite, elsewhere SQLite's dialects on the backend's modules;
the real client code with nothing in between."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import enum
import threading
import uuid
from typing import Any

import pytest
from client_support import error, target, with_engine

from stc_harness import CheckContext, Source, check

sa = pytest.importorskip("sqlalchemy", reason="the client layer needs the 'clients' extra (SQLAlchemy)")

from sqlalchemy import orm  # noqa: E402

#: Where the behaviour these checks compare is stated.
SA_SQLITE = Source("SQLAlchemy 2.x documentation", "SQLite dialect (pysqlite, aiosqlite)")
SA_TRANSACTIONS = Source("SQLAlchemy 2.x documentation", "Working with transactions and the DBAPI")
SA_TYPES = Source("SQLAlchemy 2.x documentation", "The type hierarchy (generic types)")
PYTURSO_DIALECT = Source("pyturso 0.8.3 turso/sqlalchemy/dialect.py", "_TursoDialectMixin")

SYNC_ASYNC = {"sync": False, "async": True}


def _metadata() -> tuple[Any, Any, Any]:
    md = sa.MetaData()
    author = sa.Table("author", md, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("name", sa.String(50), nullable=False, unique=True))
    book = sa.Table("book", md, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("author_id", sa.ForeignKey("author.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("title", sa.String(200)), sa.Index("ix_book_title", "title"))
    return md, author, book


def _crud(engine: Any) -> dict[str, Any]:
    md, author, book = _metadata()
    md.create_all(engine)
    out: dict[str, Any] = {"tables": sorted(sa.inspect(engine).get_table_names())}
    with engine.begin() as conn:
        res = conn.execute(author.insert(), [{"name": "Ann"}, {"name": "Bob"}])
        out["insert_rowcount"] = res.rowcount
        conn.execute(book.insert(), [{"author_id": 1, "title": "A"}, {"author_id": 2, "title": "B"}])
        out["update_rowcount"] = conn.execute(book.update().where(book.c.author_id == 1)
                                              .values(title="A2")).rowcount
        out["delete_rowcount"] = conn.execute(book.delete().where(book.c.title == "B")).rowcount
        out["rows"] = [list(r) for r in conn.execute(sa.select(book.c.id, book.c.title).order_by(book.c.id))]
        try:
            conn.execute(author.insert(), {"name": "Ann"})
            out["duplicate"] = "accepted"
        except sa.exc.DBAPIError as exc:
            out["duplicate"] = error(exc)
            raise
    md.drop_all(engine)
    out["after_drop_all"] = sorted(sa.inspect(engine).get_table_names())
    return out


def _crud_rolled_back(engine: Any) -> dict[str, Any]:
    try:
        return _crud(engine)
    except sa.exc.IntegrityError as exc:
        with engine.connect() as conn:
            left = conn.execute(sa.text("SELECT count(*) FROM book")).scalar()
        return {"integrity_error": error(exc), "books_after_rollback": left}


@check(title="SQLAlchemy Core: create_all, insert/update/delete rowcounts, a failed transaction rolls back, "
             "drop_all", source=SA_SQLITE, layer="client", params=SYNC_ASYNC)
async def test_core_crud(ctx: CheckContext, asynchronous: bool) -> object:
    recipe = target(ctx, asynchronous=asynchronous)
    if not asynchronous:
        return await asyncio.to_thread(with_engine, recipe, _crud_rolled_back)
    try:
        engine = recipe.async_engine()
    except Exception as exc:  # noqa: BLE001 - an engine that cannot be made is the observation
        return {"create_async_engine": error(exc)}
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: _crud_rolled_back(c.engine))
    except Exception as exc:  # noqa: BLE001 - the first connect failing is the observation
        return {"connect": error(exc)}
    finally:
        await engine.dispose()


class _Base(orm.DeclarativeBase):
    pass


class _Author(_Base):
    __tablename__ = "author"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(50))
    books: orm.Mapped[list[_Book]] = orm.relationship(back_populates="author", cascade="all, delete-orphan",
                                                      order_by="_Book.id")


class _Book(_Base):
    __tablename__ = "book"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    author_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("author.id"))
    title: orm.Mapped[str] = orm.mapped_column(sa.String(200))
    author: orm.Mapped[_Author] = orm.relationship(back_populates="books")


def _orm(engine: Any) -> dict[str, Any]:
    _Base.metadata.create_all(engine)
    with orm.Session(engine) as session:
        session.add(_Author(name="Ann", books=[_Book(title="A"), _Book(title="B")]))
        session.commit()
    with orm.Session(engine) as session:
        ann = session.scalars(sa.select(_Author).options(orm.selectinload(_Author.books))).one()
        loaded = [b.title for b in ann.books]
        ann.books.pop(0)
        session.commit()
        remaining = session.scalars(sa.select(_Book.title).order_by(_Book.id)).all()
        session.delete(ann)
        session.commit()
        after_delete = session.scalar(sa.select(sa.func.count()).select_from(_Book))
    return {"loaded": loaded, "after_orphan_removal": list(remaining),
            "after_cascade_delete": after_delete}


@check(title="SQLAlchemy ORM: relationship load, delete-orphan and cascade delete", source=SA_SQLITE,
       layer="client")
async def test_orm_relationships(ctx: CheckContext) -> object:
    return await asyncio.to_thread(with_engine, target(ctx), _orm)


def _counters(engine: Any) -> dict[str, Any]:
    """Core's counters (rowcount, inserted primary key, result keys) and the ORM's use of them."""
    md = sa.MetaData()
    item = sa.Table("item", md, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(20)))
    md.create_all(engine)
    _Base.metadata.create_all(engine)
    out: dict[str, Any] = {}
    with engine.begin() as conn:
        res = conn.execute(item.insert().values(name="a"))
        out["inserted_primary_key"] = list(res.inserted_primary_key or ())
        out["executemany_rowcount"] = conn.execute(item.insert(), [{"name": "b"}, {"name": "c"}]).rowcount
        out["update_rowcount"] = conn.execute(item.update().where(item.c.id > 1).values(name="z")).rowcount
        out["delete_none_rowcount"] = conn.execute(item.delete().where(item.c.name == "none")).rowcount
        rows = conn.execute(sa.select(item.c.id, item.c.name).order_by(item.c.id))
        out["keys"], out["rows"] = list(rows.keys()), [list(r) for r in rows]
    with orm.Session(engine, expire_on_commit=False) as session:
        kept, gone = _Author(name="kept"), _Author(name="gone")
        session.add_all([kept, gone])
        session.commit()
        out["orm_ids"] = [kept.id, gone.id]
        kept.name = "renamed"
        out["orm_update"] = _commit(session)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM author WHERE id = :id"), {"id": gone.id})
        gone.name = "lost"
        out["orm_update_of_deleted_row"] = _commit(session)
    return out


def _commit(session: Any) -> str:
    try:
        session.commit()
        return "committed"
    except orm.exc.StaleDataError as exc:
        session.rollback()
        return type(exc).__name__


@check(title="SQLAlchemy counters: inserted_primary_key, rowcount of executemany/UPDATE/DELETE, result keys; "
             "the ORM's stale-row detection built on them", source=SA_SQLITE, layer="client",
       params=SYNC_ASYNC)
async def test_dml_counters(ctx: CheckContext, asynchronous: bool) -> object:
    recipe = target(ctx, asynchronous=asynchronous)
    if not asynchronous:
        return await asyncio.to_thread(with_engine, recipe, _counters)
    try:
        engine = recipe.async_engine()
    except Exception as exc:  # noqa: BLE001 - an engine that cannot be made is the observation
        return {"create_async_engine": error(exc)}
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: _counters(c.engine))
    except sa.exc.SQLAlchemyError as exc:  # what the client raised through this driver is the observation
        return {"raised": error(exc)}
    finally:
        await engine.dispose()


REFLECTED = ("tables", "temp_tables", "indexes", "index_name_case", "foreign_keys", "declared_types")


def _reflect(engine: Any, what: str) -> Any:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR(10) UNIQUE)"))
        conn.execute(sa.text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                             "REFERENCES parent(id) ON DELETE CASCADE, price NUMERIC(10, 2), "
                             "name VARCHAR(30) NOT NULL, at DATETIME, flag BOOLEAN)"))
        conn.execute(sa.text("CREATE INDEX ix_child_name ON child (name)"))
        if what == "index_name_case":
            conn.execute(sa.text('CREATE INDEX "IX_Child_Price" ON child (price)'))
            return sorted(i["name"] for i in sa.inspect(conn).get_indexes("child"))
        if what == "temp_tables":
            try:
                conn.execute(sa.text("CREATE TEMP TABLE scratch (x INTEGER)"))
            except sa.exc.DBAPIError as exc:
                return {"create_temp": error(exc)}
        insp = sa.inspect(conn)
        if what == "tables":
            return sorted(insp.get_table_names())
        if what == "temp_tables":
            return {"temp_tables": insp.get_temp_table_names(), "tables": sorted(insp.get_table_names())}
        if what == "indexes":
            return sorted((i["name"], i["column_names"], bool(i["unique"]))
                          for i in insp.get_indexes("child"))
        if what == "foreign_keys":
            return [{k: fk[k] for k in ("constrained_columns", "referred_table", "referred_columns")}
                    | {"ondelete": fk.get("options", {}).get("ondelete")}
                    for fk in insp.get_foreign_keys("child")]
        return [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns("child")]


@check(title="SQLAlchemy reflection: tables, temp tables, indexes, foreign keys, declared types",
       source=SA_SQLITE, layer="client", params={k: k for k in REFLECTED})
async def test_reflection(ctx: CheckContext, what: str) -> object:
    return await asyncio.to_thread(with_engine, target(ctx), lambda engine: _reflect(engine, what))


def _xs(conn: Any) -> list[int]:
    return [r[0] for r in conn.execute(sa.text("SELECT x FROM t ORDER BY x"))]


def _savepoints(engine: Any) -> dict[str, Any]:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            nested = conn.begin_nested()
            conn.execute(sa.text("INSERT INTO t VALUES (2)"))
            nested.rollback()
            conn.execute(sa.text("INSERT INTO t VALUES (3)"))
        out["after_savepoint_rollback"] = _xs(conn)
        conn.rollback()
        trans = conn.begin()
        conn.execute(sa.text("INSERT INTO t VALUES (4)"))
        trans.rollback()
        out["after_rollback"] = _xs(conn)
    return out


@check(title="SQLAlchemy transactions: rollback, and begin_nested() savepoint rollback inside a transaction",
       source=SA_TRANSACTIONS, layer="client")
async def test_savepoints(ctx: CheckContext) -> object:
    return await asyncio.to_thread(with_engine, target(ctx), _savepoints)


def _autocommit(engine: Any) -> dict[str, Any]:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as writer:
        level = writer.get_isolation_level()
        writer.execute(sa.text("INSERT INTO t VALUES (1)"))
        in_tx = writer.connection.dbapi_connection.in_transaction
        with engine.connect() as reader:
            seen = reader.execute(sa.text("SELECT count(*) FROM t")).scalar()
        writer.rollback()  # with AUTOCOMMIT a no-op: the row stays
    with engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
    return {"reported_level": level, "dbapi_in_transaction": in_tx, "seen_by_other_connection": seen,
            "kept_after_rollback": kept}


@check(title="SQLAlchemy isolation_level='AUTOCOMMIT': each statement commits at once",
       source=SA_TRANSACTIONS, layer="client")
async def test_autocommit(ctx: CheckContext) -> object:
    return await asyncio.to_thread(with_engine, target(ctx), _autocommit)


def _memory_pool(engine: Any) -> dict[str, Any]:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    seen: dict[str, Any] = {}

    def other_thread() -> None:
        try:
            with engine.connect() as conn:
                seen["other_thread"] = conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
        except sa.exc.DBAPIError as exc:
            seen["other_thread"] = error(exc)

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join(10)
    with engine.connect() as conn:
        seen["same_thread"] = conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
    return {"pool": type(engine.pool).__name__, **seen}


@check(title="SQLAlchemy ':memory:' engine: what a second pooled connection (another thread) sees",
       source=SA_SQLITE, layer="client")
async def test_memory_engine_pool(ctx: CheckContext) -> object:
    return await asyncio.to_thread(with_engine, target(ctx, ":memory:"), _memory_pool)


class _Colour(enum.Enum):
    red = "red"
    blue = "blue"


TYPED_VALUES: dict[str, tuple[Any, Any]] = {
    "numeric": (sa.Numeric(10, 2), decimal.Decimal("12.34")),
    "datetime": (sa.DateTime(), dt.datetime(2024, 5, 6, 7, 8, 9, 123456)),
    "date": (sa.Date(), dt.date(2024, 5, 6)),
    "json": (sa.JSON(), {"a": [1, 2.5, None, "x"], "b": {"c": True}}),
    "large_binary": (sa.LargeBinary(), b"\x00\xffbytes"),
    "uuid": (sa.Uuid(), uuid.UUID("7d444840-9dc0-11d1-b245-5ffdce74fad2")),
    "boolean": (sa.Boolean(), True),
    "enum": (sa.Enum(_Colour), _Colour.blue),
    "float": (sa.Float(), 1.5),
    "big_integer": (sa.BigInteger(), 2**62),
}


def _roundtrip(engine: Any, key: str) -> dict[str, Any]:
    col_type, value = TYPED_VALUES[key]
    md = sa.MetaData()
    table = sa.Table("v", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("val", col_type))
    try:
        md.create_all(engine)
        with engine.begin() as conn:
            conn.execute(table.insert(), {"val": value})
            back = conn.execute(sa.select(table.c.val)).scalar()
            stored = conn.execute(sa.text("SELECT typeof(val), quote(val) FROM v")).one()
        shown = back.value if isinstance(back, enum.Enum) else back
        return {"equal": back == value, "python_type": type(back).__name__, "value": repr(shown),
                "stored_as": list(stored)}
    except sa.exc.StatementError as exc:
        return {"insert": error(exc), "cause": type(exc.orig).__name__ if exc.orig else None}


@check(title="SQLAlchemy column types round-trip (Numeric, DateTime, JSON, LargeBinary, Uuid, Boolean, Enum)",
       source=SA_TYPES, layer="client", params={k: k for k in TYPED_VALUES})
async def test_type_roundtrip(ctx: CheckContext, key: str) -> object:
    return await asyncio.to_thread(with_engine, target(ctx), lambda engine: _roundtrip(engine, key))

