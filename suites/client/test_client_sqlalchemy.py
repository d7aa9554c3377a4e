"""Client layer: SQLAlchemy Core and ORM, sync and async, on SQLite (pysqlite, aiosqlite) and Turso (pyturso's
dialects `sqlite+turso`, `sqlite+aioturso`), the real client code with nothing in between."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import enum
import threading
import uuid
from typing import Any

import pytest
from stc_harness import CheckContext, Source, Unsupported, check

sa = pytest.importorskip("sqlalchemy", reason="the client layer needs the 'clients' extra (SQLAlchemy)")

from sqlalchemy import orm  # noqa: E402

#: Where the behaviour these checks compare is stated.
SA_SQLITE = Source("SQLAlchemy 2.x documentation", "SQLite dialect (pysqlite, aiosqlite)")
SA_TRANSACTIONS = Source("SQLAlchemy 2.x documentation", "Working with transactions and the DBAPI")
SA_TYPES = Source("SQLAlchemy 2.x documentation", "The type hierarchy (generic types)")
PYTURSO_DIALECT = Source("pyturso 0.8.3 turso/sqlalchemy/dialect.py", "_TursoDialectMixin")

#: The SQLAlchemy URL scheme of each engine, sync and async.
SCHEMES = {"sqlite": ("sqlite", "sqlite+aiosqlite"), "turso": ("sqlite+turso", "sqlite+aioturso")}
SYNC_ASYNC = {"sync": False, "async": True}


def _url(ctx: CheckContext, path: str | None = None, *, asynchronous: bool = False) -> str:
    ctx.note(sqlalchemy=sa.__version__)
    schemes = SCHEMES.get(ctx.name)
    if schemes is None:
        raise Unsupported("sqlalchemy_dialect", f"no SQLAlchemy dialect is known for backend {ctx.name!r}")
    if asynchronous:
        pytest.importorskip("greenlet", reason="async SQLAlchemy engines need greenlet")
    scheme = schemes[1] if asynchronous else schemes[0]
    if path == ":memory:":
        return f"{scheme}://"
    ctx.folder.mkdir(parents=True, exist_ok=True)
    return f"{scheme}:///{ctx.folder / (path or 'app.db')}"


def _error(exc: BaseException) -> dict[str, str]:
    """An exception as an observation: SQLAlchemy's class, and the DB-API class it wraps (not messages)."""
    orig = getattr(exc, "orig", None)
    out = {"error": type(exc).__name__}
    if orig is not None:
        out["dbapi"] = type(orig).__name__
    return out


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
            out["duplicate"] = _error(exc)
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
        return {"integrity_error": _error(exc), "books_after_rollback": left}


@check(title="SQLAlchemy Core: create_all, insert/update/delete rowcounts, a failed transaction rolls back, "
             "drop_all", source=SA_SQLITE, layer="client", params=SYNC_ASYNC)
async def test_core_crud(ctx: CheckContext, asynchronous: bool) -> object:
    url = _url(ctx, asynchronous=asynchronous)
    if not asynchronous:
        engine = sa.create_engine(url)
        try:
            return await asyncio.to_thread(_crud_rolled_back, engine)
        finally:
            engine.dispose()
    from sqlalchemy.ext.asyncio import create_async_engine

    try:
        engine = create_async_engine(url)
    except Exception as exc:  # noqa: BLE001 - an engine that cannot be made is the observation
        return {"create_async_engine": _error(exc)}
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: _crud_rolled_back(c.engine))
    except Exception as exc:  # noqa: BLE001 - the first connect failing is the observation
        return {"connect": _error(exc)}
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


def _orm(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
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
    finally:
        engine.dispose()


@check(title="SQLAlchemy ORM: relationship load, delete-orphan and cascade delete", source=SA_SQLITE,
       layer="client")
async def test_orm_relationships(ctx: CheckContext) -> object:
    return await asyncio.to_thread(_orm, _url(ctx))


REFLECTED = ("tables", "temp_tables", "indexes", "index_name_case", "foreign_keys", "declared_types")


def _reflect(url: str, what: str) -> Any:
    engine = sa.create_engine(url)
    try:
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
                    return {"create_temp": _error(exc)}
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
    finally:
        engine.dispose()


@check(title="SQLAlchemy reflection: tables, temp tables, indexes, foreign keys, declared types",
       source=SA_SQLITE, layer="client", params={k: k for k in REFLECTED})
async def test_reflection(ctx: CheckContext, what: str) -> object:
    return await asyncio.to_thread(_reflect, _url(ctx), what)


def _xs(conn: Any) -> list[int]:
    return [r[0] for r in conn.execute(sa.text("SELECT x FROM t ORDER BY x"))]


def _savepoints(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
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
    finally:
        engine.dispose()


@check(title="SQLAlchemy transactions: rollback, and begin_nested() savepoint rollback inside a transaction",
       source=SA_TRANSACTIONS, layer="client")
async def test_savepoints(ctx: CheckContext) -> object:
    return await asyncio.to_thread(_savepoints, _url(ctx))


def _autocommit(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
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
    finally:
        engine.dispose()


@check(title="SQLAlchemy isolation_level='AUTOCOMMIT': each statement commits at once",
       source=SA_TRANSACTIONS, layer="client")
async def test_autocommit(ctx: CheckContext) -> object:
    return await asyncio.to_thread(_autocommit, _url(ctx))


def _memory_pool(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        seen: dict[str, Any] = {}

        def other_thread() -> None:
            try:
                with engine.connect() as conn:
                    seen["other_thread"] = conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
            except sa.exc.DBAPIError as exc:
                seen["other_thread"] = _error(exc)

        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join(10)
        with engine.connect() as conn:
            seen["same_thread"] = conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
        return {"pool": type(engine.pool).__name__, **seen}
    finally:
        engine.dispose()


@check(title="SQLAlchemy ':memory:' engine: what a second pooled connection (another thread) sees",
       source=SA_SQLITE, layer="client")
async def test_memory_engine_pool(ctx: CheckContext) -> object:
    return await asyncio.to_thread(_memory_pool, _url(ctx, ":memory:"))


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


def _roundtrip(url: str, key: str) -> dict[str, Any]:
    col_type, value = TYPED_VALUES[key]
    md = sa.MetaData()
    table = sa.Table("v", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("val", col_type))
    engine = sa.create_engine(url)
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
        return {"insert": _error(exc), "cause": type(exc.orig).__name__ if exc.orig else None}
    finally:
        engine.dispose()


@check(title="SQLAlchemy column types round-trip (Numeric, DateTime, JSON, LargeBinary, Uuid, Boolean, Enum)",
       source=SA_TYPES, layer="client", params={k: k for k in TYPED_VALUES})
async def test_type_roundtrip(ctx: CheckContext, key: str) -> object:
    return await asyncio.to_thread(_roundtrip, _url(ctx), key)

