"""Cursor semantics: description names exactly as written, rowcount after every statement kind,
lastrowid, arraysize/fetchmany, iteration and `Row`.

Applications map rows by `description` names, so a name is compared exactly: case, spacing of an
expression, alias quoting. One check per query shape.
"""

from __future__ import annotations

from typing import Any

from driver_support import MEMORY, blocking, outcome, plain, pydoc, raised

from stc_harness import CheckContext, check

CURSOR = pydoc("Cursor objects")
SCHEMA = (
    'CREATE TABLE Item (Id INTEGER PRIMARY KEY, lowerName TEXT, UPPER INTEGER, "Quoted Col" REAL)',
    "INSERT INTO Item VALUES (1, 'a', 10, 1.5)",
    "INSERT INTO Item VALUES (2, 'b', 20, 2.5)",
    "CREATE VIEW ItemView AS SELECT Id AS ViewId, lowerName FROM Item",
)

#: Queries whose description names are compared.
DESCRIPTIONS = {
    "star": "SELECT * FROM Item",
    "columns_as_declared": "SELECT Id, lowerName, UPPER FROM Item",
    "columns_other_case": "SELECT id, LOWERNAME, upper FROM item",
    "alias_mixed_case": 'SELECT Id AS MyId, lowerName AS "Display Name" FROM Item',
    "alias_quoted_keyword": 'SELECT Id AS "select" FROM Item',
    "qualified": "SELECT Item.Id, i.lowerName FROM Item AS i JOIN Item ON Item.Id = i.Id",
    "expression_spacing": "SELECT Id+1, Id  *  2, UPPER - 1 FROM Item",
    "function_call": "SELECT count(*), MAX(UPPER), lower(lowerName) FROM Item",
    "literals": "SELECT 1, 'text', NULL, 2.5, x'00'",
    "cast": "SELECT CAST(Id AS TEXT) FROM Item",
    "quoted_identifier": 'SELECT "Quoted Col", [Quoted Col], `Quoted Col` FROM Item',
    "subquery": "SELECT (SELECT max(Id) FROM Item), sub.n FROM (SELECT Id AS n FROM Item) AS sub",
    "view": "SELECT * FROM ItemView",
    "returning": "INSERT INTO Item (lowerName) VALUES ('c') RETURNING Id, lowerName AS Name, UPPER + 1",
    "pragma": "PRAGMA table_info(Item)",
    "duplicate_names": "SELECT Id, Id, lowerName AS Id FROM Item",
    "case_expression": "SELECT CASE WHEN Id > 1 THEN 'big' ELSE 'small' END FROM Item",
    "compound_select": "SELECT Id AS First FROM Item UNION SELECT UPPER AS Second FROM Item",
}


def _with_schema(module: Any, path: str) -> Any:
    conn = module.connect(path)
    for stmt in SCHEMA:
        conn.execute(stmt)
    conn.commit()
    return conn


def _description(module: Any, path: str, sql: str) -> Any:
    conn = _with_schema(module, path)
    try:
        cur = conn.execute(sql)
        names = [d[0] for d in cur.description] if cur.description is not None else None
        cur.fetchall()
        return names
    finally:
        conn.close()


@check(
    title="cursor.description names, exactly as SQLite names the result columns",
    source=CURSOR,
    params=DESCRIPTIONS,
    layer="driver",
)
async def test_description_names(ctx: CheckContext, sql: str) -> object:
    return await blocking(_description, ctx.sync_module(), MEMORY, sql)


def _description_shape(module: Any, path: str, sql: str) -> Any:
    conn = _with_schema(module, path)
    try:
        cur = conn.execute(sql)
        return outcome(lambda: cur.description)
    finally:
        conn.close()


DESCRIPTION_SHAPES = {
    "select": "SELECT Id, lowerName FROM Item",
    "insert": "INSERT INTO Item (UPPER) VALUES (1)",
    "create": "CREATE TABLE other (x)",
    "update_no_rows": "UPDATE Item SET UPPER = 0 WHERE 0",
    "empty_select": "SELECT Id FROM Item WHERE 0",
}


@check(
    title="cursor.description: 7-tuples (name + six None) for queries, None for statements",
    source=CURSOR,
    params=DESCRIPTION_SHAPES,
    layer="driver",
)
async def test_description_shape(ctx: CheckContext, sql: str) -> object:
    return await blocking(_description_shape, ctx.sync_module(), MEMORY, sql)


#: Statements and how they are run; observed: rowcount (and lastrowid) afterwards.
ROWCOUNTS: dict[str, tuple[str, str, Any]] = {
    "select": ("execute", "SELECT * FROM Item", ()),
    "select_fetched": ("execute_fetch", "SELECT * FROM Item", ()),
    "insert_one": ("execute", "INSERT INTO Item (lowerName) VALUES ('c')", ()),
    "insert_three": ("execute", "INSERT INTO Item (lowerName) VALUES ('c'), ('d'), ('e')", ()),
    "insert_select": ("execute", "INSERT INTO Item (lowerName) SELECT lowerName FROM Item", ()),
    "update_all": ("execute", "UPDATE Item SET UPPER = UPPER + 1", ()),
    "update_none": ("execute", "UPDATE Item SET UPPER = 0 WHERE Id > 100", ()),
    "delete_one": ("execute", "DELETE FROM Item WHERE Id = 1", ()),
    "delete_all": ("execute", "DELETE FROM Item", ()),
    "replace": ("execute", "REPLACE INTO Item (Id, lowerName) VALUES (1, 'z')", ()),
    "insert_or_ignore_ignored": ("execute", "INSERT OR IGNORE INTO Item (Id) VALUES (1)", ()),
    "upsert": (
        "execute",
        "INSERT INTO Item (Id, lowerName) VALUES (1, 'u') "
        "ON CONFLICT (Id) DO UPDATE SET lowerName = excluded.lowerName",
        (),
    ),
    "create_table": ("execute", "CREATE TABLE other (x)", ()),
    "drop_view": ("execute", "DROP VIEW ItemView", ()),
    "insert_returning_fetched": (
        "execute_fetch",
        "INSERT INTO Item (lowerName) VALUES ('r') RETURNING Id",
        (),
    ),
    "update_returning_fetched": ("execute_fetch", "UPDATE Item SET UPPER = 1 RETURNING Id", ()),
    "executemany_insert": (
        "executemany",
        "INSERT INTO Item (lowerName) VALUES (?)",
        [("m",), ("n",), ("o",)],
    ),
    "executemany_update": (
        "executemany",
        "UPDATE Item SET UPPER = ? WHERE Id = ?",
        [(5, 1), (6, 2), (7, 99)],
    ),
    "executescript": (
        "executescript",
        "INSERT INTO Item (lowerName) VALUES ('s'); UPDATE Item SET UPPER = 3;",
        (),
    ),
    "fresh_cursor": ("none", "", ()),
}


def _rowcount(module: Any, path: str, item: tuple[str, str, Any]) -> Any:
    how, sql, params = item
    conn = _with_schema(module, path)
    try:
        cur = conn.cursor()
        if how in ("execute", "execute_fetch"):
            cur.execute(sql, params)
            if how == "execute_fetch":
                cur.fetchall()
        elif how == "executemany":
            cur.executemany(sql, params)
        elif how == "executescript":
            cur.executescript(sql)
        return {"rowcount": cur.rowcount, "lastrowid": plain(cur.lastrowid)}
    finally:
        conn.close()


@check(
    title="cursor.rowcount and lastrowid after each statement kind",
    source=CURSOR,
    params=ROWCOUNTS,
    layer="driver",
)
async def test_rowcount(ctx: CheckContext, item: tuple[str, str, Any]) -> object:
    return await blocking(_rowcount, ctx.sync_module(), MEMORY, item)


def _lastrowid_sequence(module: Any, path: str) -> Any:
    conn = _with_schema(module, path)
    try:
        cur = conn.cursor()
        steps = (
            ("initial", lambda: None),
            ("insert", lambda: cur.execute("INSERT INTO Item (lowerName) VALUES ('x')")),
            ("update", lambda: cur.execute("UPDATE Item SET UPPER = 9")),
            ("select", lambda: cur.execute("SELECT 1")),
            ("other_cursor_insert", lambda: conn.execute("INSERT INTO Item (lowerName) VALUES ('o')")),
            ("insert_or_ignore_ignored", lambda: cur.execute("INSERT OR IGNORE INTO Item (Id) VALUES (1)")),
        )
        seen = {}
        for name, step in steps:
            done = outcome(step)
            seen[name] = plain(cur.lastrowid) if "ok" in done else done
        return seen
    finally:
        conn.close()


@check(
    title="cursor.lastrowid: initial, after INSERT, UPDATE, SELECT, another cursor's INSERT, an ignored "
    "INSERT",
    source=CURSOR,
    layer="driver",
)
async def test_lastrowid_sequence(ctx: CheckContext) -> object:
    return await blocking(_lastrowid_sequence, ctx.sync_module(), MEMORY)


def _fetching(module: Any, path: str, key: str) -> Any:
    conn = _with_schema(module, path)
    try:
        conn.executemany("INSERT INTO Item (lowerName) VALUES (?)", [(c,) for c in "cdefg"])
        cur = conn.execute("SELECT Id FROM Item ORDER BY Id")
        if key == "arraysize_default":
            return cur.arraysize
        if key == "fetchmany_default":
            return [plain(cur.fetchmany()), plain(cur.fetchmany())]
        if key == "fetchmany_arraysize_3":
            cur.arraysize = 3
            return [plain(cur.fetchmany()), plain(cur.fetchmany()), plain(cur.fetchmany())]
        if key == "fetchmany_size":
            return [plain(cur.fetchmany(4)), plain(cur.fetchmany(size=4)), plain(cur.fetchmany(4))]
        if key == "fetchone_past_end":
            return [plain(cur.fetchall()), plain(cur.fetchone()), plain(cur.fetchall())]
        try:  # a cursor that is no iterator (libsql's) raises TypeError: that is the observation
            if key == "iterate":
                return [plain(r) for r in cur]
            if key == "iter_is_self":
                return iter(cur) is cur
            if key == "mixed":
                return [plain(cur.fetchone()), plain(next(cur)), plain(cur.fetchmany(2)),
                        plain(cur.fetchall())]
        except TypeError as exc:
            return raised(exc)
        if key == "row_type":
            return type(cur.fetchone()).__name__
        if key == "execute_returns_cursor":
            return cur.execute("SELECT 1") is cur
        raise KeyError(key)
    finally:
        conn.close()


FETCHING = (
    "arraysize_default",
    "fetchmany_default",
    "fetchmany_arraysize_3",
    "fetchmany_size",
    "fetchone_past_end",
    "iterate",
    "iter_is_self",
    "mixed",
    "row_type",
    "execute_returns_cursor",
)


@check(
    title="Fetching: arraysize, fetchmany, fetchone past the end, iteration, row type",
    source=CURSOR,
    params={k: k for k in FETCHING},
    layer="driver",
)
async def test_fetching(ctx: CheckContext, key: str) -> object:
    return await blocking(_fetching, ctx.sync_module(), MEMORY, key)


def _row(module: Any, path: str, key: str) -> Any:
    conn = _with_schema(module, path)
    try:
        try:
            conn.row_factory = getattr(module, "Row", None)
        except AttributeError as exc:  # a Connection without row_factory (libsql's)
            return {"row_factory": raised(exc)}
        row = conn.execute("SELECT Id, lowerName AS Name FROM Item ORDER BY Id").fetchone()
        other = conn.execute("SELECT Id, lowerName AS Name FROM Item ORDER BY Id").fetchone()
        probes = {
            "keys": lambda: list(row.keys()),
            "by_name": lambda: row["Name"],
            "by_name_other_case": lambda: row["name"],
            "by_index": lambda: row[1],
            "by_negative_index": lambda: row[-1],
            "slice": lambda: list(row[0:1]),
            "missing_name": lambda: row["nope"],
            "len": lambda: len(row),
            "equal_rows": lambda: row == other,
            "hashable": lambda: hash(row) == hash(other),
            "as_tuple": lambda: tuple(row),
            "as_dict": lambda: dict(zip(row.keys(), row, strict=False)),
            "type_name": lambda: type(row).__name__,
        }
        return outcome(probes[key])
    finally:
        conn.close()


ROW_PROBES = (
    "keys",
    "by_name",
    "by_name_other_case",
    "by_index",
    "by_negative_index",
    "slice",
    "missing_name",
    "len",
    "equal_rows",
    "hashable",
    "as_tuple",
    "as_dict",
    "type_name",
)


@check(
    title="row_factory = module.Row: how a row behaves",
    source=pydoc("Row objects"),
    params={k: k for k in ROW_PROBES},
    layer="driver",
)
async def test_row(ctx: CheckContext, key: str) -> object:
    return await blocking(_row, ctx.sync_module(), MEMORY, key)


def _factories(module: Any, path: str, key: str) -> Any:
    conn = _with_schema(module, path)
    try:
        try:  # a Connection or Cursor without the factory attribute (libsql's) is the observation
            if key == "row_factory_dict":
                conn.row_factory = lambda cur, row: {d[0]: v for d, v in
                                                     zip(cur.description, row, strict=False)}
            elif key == "cursor_row_factory":
                cur = conn.cursor()
                cur.row_factory = lambda c, row: list(row)
                return outcome(lambda: type(cur.execute("SELECT Id FROM Item").fetchone()).__name__)
            elif key == "text_factory_str_upper":
                conn.text_factory = lambda b: b.decode().upper()
        except AttributeError as exc:
            return {"setting": raised(exc)}
        return outcome(lambda: conn.execute("SELECT Id, lowerName FROM Item ORDER BY Id").fetchall())
    finally:
        conn.close()


@check(
    title="row_factory and text_factory callables",
    source=pydoc("How to create and use row factories"),
    params={k: k for k in ("row_factory_dict", "cursor_row_factory", "text_factory_str_upper")},
    layer="driver",
)
async def test_factories(ctx: CheckContext, key: str) -> object:
    return await blocking(_factories, ctx.sync_module(), MEMORY, key)
