"""Schema introspection through PRAGMAs and sqlite_schema, normalised so only real differences show.

`snapshot` describes every table (columns, indexes, foreign keys) and every view and trigger in a form
two engines can be compared in: SQL text is re-spaced token by token and simple quoted identifiers are
unquoted, since `CREATE TABLE t(x)` and `CREATE TABLE "t" (x)` define the same thing. `dump` is the
exact form (the stored schema text and every row with its storage class), for checks that a database
did not change at all.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from stc_harness.errors import DatabaseError
from stc_harness.observe import sql_value

#: Tables the harness itself keeps (the migration runner's tracking table) and the engine's own.
INTERNAL_PREFIXES = ("sqlite_", "_conformance_")

_TOKEN = re.compile(
    r"""\s+|'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[xX]'[0-9a-fA-F]*'|"""
    r"""[A-Za-z_][A-Za-z0-9_$]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|"""
    r"""\|\||<=|>=|<>|!=|==|<<|>>|.""",
    re.DOTALL,
)
_PLAIN_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote_ident(name: str) -> str:
    """Quote an identifier for SQL ("a""b" style)."""
    return '"' + name.replace('"', '""') + '"'


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] in '"`[':
        inner = token[1:-1].replace('""', '"') if token[0] == '"' else token[1:-1]
        if _PLAIN_IDENT.fullmatch(inner):
            return inner
    return token


def sql_tokens(sql: str) -> list[str]:
    """The tokens of a SQL text without whitespace, simple quoted identifiers unquoted."""
    return [_unquote(t) for t in _TOKEN.findall(sql) if not t.isspace()]


def normalise_sql(sql: str | None) -> str | None:
    """Re-space SQL text canonically: one space between word-like tokens, none around punctuation."""
    if sql is None:
        return None
    out: list[str] = []
    for tok in sql_tokens(sql.strip().rstrip(";")):
        if out and _wordish(out[-1]) and _wordish(tok):
            out.append(" ")
        out.append(tok)
    return "".join(out)


def _wordish(token: str) -> bool:
    return bool(token) and (token[0].isalnum() or token[0] in "_'\"`[$")


async def _rows(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    return await conn.fetch_all(sql)


async def tables(conn: Any, include_internal: bool = False) -> list[str]:
    """Names of the ordinary tables, sorted."""
    sql = "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
    names = [r[0] for r in await _rows(conn, sql)]
    return [n for n in names if include_internal or not n.startswith(INTERNAL_PREFIXES)]


async def columns(conn: Any, table: str) -> list[dict[str, Any]]:
    """PRAGMA table_info, one dict per column in declaration order (default expression normalised)."""
    rows = await _rows(conn, f"PRAGMA table_info({quote_ident(table)})")
    return [{"name": r[1], "type": r[2], "notnull": r[3], "default": normalise_sql(r[4]), "pk": r[5]}
            for r in rows]


async def indexes(conn: Any, table: str) -> list[dict[str, Any]]:
    """PRAGMA index_list + index_info, sorted by name; auto-index names kept only as their origin."""
    out = []
    for r in await _rows(conn, f"PRAGMA index_list({quote_ident(table)})"):
        name, unique, origin, partial = r[1], r[2], r[3], r[4]
        cols = [c[2] for c in await _rows(conn, f"PRAGMA index_info({quote_ident(name)})")]
        auto = name.startswith("sqlite_autoindex_")
        out.append({"name": None if auto else name, "unique": unique, "origin": origin,
                    "partial": partial, "columns": cols})
    return sorted(out, key=lambda d: (d["name"] or "", d["origin"], d["columns"]))


async def foreign_keys(conn: Any, table: str) -> list[dict[str, Any]]:
    """PRAGMA foreign_key_list grouped by constraint, sorted (ids are an implementation detail)."""
    groups: dict[int, dict[str, Any]] = {}
    for r in await _rows(conn, f"PRAGMA foreign_key_list({quote_ident(table)})"):
        fk = groups.setdefault(r[0], {"table": r[2], "from": [], "to": [], "on_update": r[5],
                                      "on_delete": r[6], "match": r[7]})
        fk["from"].append(r[3])
        fk["to"].append(r[4])
    return sorted(groups.values(), key=lambda d: (d["table"], d["from"]))


async def objects(conn: Any, types: tuple[str, ...] = ("view", "trigger")) -> list[dict[str, Any]]:
    """Views and triggers (or other `types`) from sqlite_schema, SQL normalised, sorted by name."""
    marks = ", ".join("?" for _ in types)
    rows = await conn.fetch_all(
        f"SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ({marks}) ORDER BY name", types)
    return [{"type": r[0], "name": r[1], "table": r[2], "sql": normalise_sql(r[3])} for r in rows]


async def snapshot(conn: Any, include_internal: bool = False) -> dict[str, Any]:
    """The whole schema, normalised: tables with columns, indexes and foreign keys; views; triggers."""
    out: dict[str, Any] = {"tables": {}}
    for table in await tables(conn, include_internal):
        out["tables"][table] = {
            "columns": await columns(conn, table),
            "indexes": await indexes(conn, table),
            "foreign_keys": await foreign_keys(conn, table),
        }
    out["objects"] = await objects(conn)
    return out


def _digest_large(value: Any, limit: int) -> Any:
    typed = sql_value(value)
    if isinstance(value, (bytes, str)) and len(value) > limit:
        data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        return [typed[0], f"sha256:{hashlib.sha256(data).hexdigest()}:{len(value)}"]
    return typed


async def dump(conn: Any, large: int = 256) -> dict[str, Any]:
    """Exact contents: sqlite_schema rows as stored (no normalising) and every table's rows, typed.

    Rows are read in rowid order (or ordered by every column for a table without rowid); values longer
    than `large` are shown as a digest so observations stay small.
    """
    schema = await conn.fetch_all("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
    data: dict[str, Any] = {}
    for (kind, name, _tbl, _sql) in schema:
        if kind != "table" or name.startswith("sqlite_"):
            continue
        try:
            rows = await conn.fetch_all(f"SELECT * FROM {quote_ident(name)} ORDER BY rowid")
        except DatabaseError:  # a WITHOUT ROWID table has no rowid: order by every column
            width = len(await columns(conn, name))
            order = ", ".join(str(i + 1) for i in range(width))
            rows = await conn.fetch_all(f"SELECT * FROM {quote_ident(name)} ORDER BY {order}")
        data[name] = [[_digest_large(v, large) for v in row] for row in rows]
    return {"schema": [[sql_value(v) for v in row] for row in schema], "rows": data}
