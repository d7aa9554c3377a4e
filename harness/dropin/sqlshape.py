"""The shape of a SQL statement with its literals and names stripped: its kind, keywords and functions."""

from __future__ import annotations

import re
from functools import lru_cache

#: SQLite's keywords (https://sqlite.org/lang_keywords.html).
_KEYWORDS_TEXT = """
abort action add after all alter always analyze and as asc attach autoincrement before begin between by
cascade case cast check collate column commit conflict constraint create cross current current_date
current_time current_timestamp database default deferrable deferred delete desc detach distinct do drop
each else end escape except exclude exclusive exists explain fail filter first following for foreign from
full generated glob group groups having if ignore immediate in index indexed initially inner insert instead
intersect into is isnull join key last left like limit match materialized natural no not nothing notnull
null nulls of offset on or order others outer over partition plan pragma preceding primary query raise
range recursive references regexp reindex release rename replace restrict returning right rollback row
rows savepoint select set table temp temporary then ties to transaction trigger unbounded union unique
update using vacuum values view virtual when where window with without strict rowid
"""
KEYWORDS = frozenset(_KEYWORDS_TEXT.split())
#: Keywords too common to tell statements apart (the statement's kind is compared on its own).
_COMMON_TEXT = """
and as by from into on or select set table values where not null is in insert update delete create drop
alter
"""
COMMON = frozenset(_COMMON_TEXT.split())
#: Words after which a name followed by `(` is a table or index, not a function.
_NAME_BEFORE_PAREN = frozenset(("into", "table", "exists", "on", "references", "index", "view", "trigger",
                                "join", "from", "update", "key", "using"))
_STRING = re.compile(r"'(?:[^']|'')*'|x'[0-9a-fA-F]*'")
_QUOTED_NAME = re.compile(r'"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]')
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\s*\()?")
_KIND_TWO = {"create", "drop", "alter"}
#: SQLite's own tables, the sources whose rows say what the engine did with a schema.
_SYSTEM_TABLE = re.compile(
    r"\b(?:main\.|temp\.)?(sqlite_(?:master|schema|temp_master|temp_schema|sequence|stat\d))\b",
    re.IGNORECASE)
#: The module of a virtual table (`USING fts5`).
_MODULE = re.compile(r"\busing\s+(\w+)\s*\(", re.IGNORECASE)


def _clean(sql: str) -> str:
    return _QUOTED_NAME.sub(" _ ", _STRING.sub(" ? ", _COMMENT.sub(" ", sql)))


def _words(sql: str) -> list[str]:
    return [m.group(0).lower() for m in _TOKEN.finditer(_clean(sql))]


@lru_cache(maxsize=4096)
def statement_kind(sql: str) -> str:
    """`select`, `insert`, `create table`, `pragma table_info`, `begin`, ... (empty for no statement)."""
    words = [w.rstrip("( ") for w in _words(sql)]
    if not words:
        return ""
    first = words[0]
    if first in _KIND_TWO:
        rest = [w for w in words[1:3] if w not in ("temp", "temporary", "unique", "virtual", "if")]
        return f"{first} {rest[0]}" if rest else first
    if first == "pragma" and len(words) > 1:
        name = words[2] if len(words) > 2 and words[1] in ("main", "temp") else words[1]
        return f"pragma {name}"
    return first


@lru_cache(maxsize=4096)
def sql_features(sql: str) -> frozenset[str]:
    """Distinctive keywords and function names of a statement (`fn:json_extract`, `returning`, `fail`)."""
    out: set[str] = set()
    previous = ""
    for word in _words(sql):
        if word.endswith("("):
            name = word.rstrip("( ")
            if name in KEYWORDS and name not in COMMON:
                out.add(name)
            elif name not in KEYWORDS and name != "_" and previous not in _NAME_BEFORE_PAREN:
                out.add(f"fn:{name}")
            previous = name
            continue
        if word in KEYWORDS and word not in COMMON:
            out.add(word)
        previous = word
    kind = statement_kind(sql)
    if kind.startswith("pragma "):
        out.add(kind.replace(" ", ":"))
    cleaned = _clean(sql)
    out.update(f"src:{m.group(1).lower().replace('master', 'schema')}"
               for m in _SYSTEM_TABLE.finditer(cleaned))
    out.update(f"module:{m.group(1).lower()}" for m in _MODULE.finditer(cleaned))
    if sql.lstrip().startswith(("\ufeff", "\\ufeff")):  # the character, or as a trace renders it
        out.add("byte-order-mark")  # text read from a file saved with one: invisible, and not SQL
    return frozenset(out)
