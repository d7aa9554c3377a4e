"""One statement on pyturso's engine API directly, with exactly what its DB-API would have given.

`Cursor.execute` + `fetchall` + `close` (pyturso 0.8.3, `turso/lib.py`) builds a cursor, a
`_Prepared` record and a description per statement and wraps every engine call in a helper. This
module makes the same engine calls in the same order (`prepare_first`, `columns`, the one-statement
check, `step`/`row`/`run_io` or `execute`/`run_io`, `last_insert_rowid`, `finalize`) and raises the
same exceptions: engine errors mapped by pyturso's own `_map_turso_exception` inside the handler, so
the DB-API class, the message and the engine variant in `__context__` are what the classifier of
`backends/turso.py` always saw; a panic (a `BaseException`) passes through untouched, after the
statement is finalised as `Cursor.close` would.
"""

from __future__ import annotations

import contextlib
from typing import Any

from turso import lib as _lib
from turso._turso import PyTursoStatusCode as _Status

#: The pyturso release whose DB-API (`turso/lib.py`) this module mirrors call for call; other
#: releases differ (0.7.2 reads `lastrowid` with a statement of its own), so they keep the DB-API.
MIRRORED_RELEASE = (0, 8, 3)

_ROW = _Status.Row
_IO = _Status.Io
_map = _lib._map_turso_exception
_is_insert_or_replace = _lib._is_insert_or_replace


def _finalize_quietly(stmt: Any) -> None:
    with contextlib.suppress(Exception):  # pyturso ignores a failing finalize here too
        stmt.finalize()


def _prepare(conn: Any, sql: str) -> tuple[Any, bool]:
    """`Connection._prepare_first` + `_raise_if_multiple_statements`: the statement, and if it has columns."""
    raw = conn._conn
    try:
        opt = raw.prepare_first(sql)
    except Exception as exc:  # noqa: BLE001
        raise _map(exc)  # noqa: B904 - chained implicitly, exactly as pyturso chains it
    if opt is None:
        raise _lib.ProgrammingError("no SQL statements to execute")
    stmt, tail = opt
    try:
        columns = tuple(stmt.columns())
    except Exception as exc:  # noqa: BLE001
        _finalize_quietly(stmt)
        raise _map(exc)  # noqa: B904
    if sql[tail:]:  # an empty rest holds no second statement: pyturso's check would prepare nothing
        conn._raise_if_multiple_statements(sql, tail)
    return stmt, len(columns) > 0


def _fetch_all(stmt: Any) -> list[tuple[Any, ...]]:
    """`Cursor.fetchall` (`_fetchone_tuple` until done), then what `Cursor.close` does after a panic."""
    rows: list[tuple[Any, ...]] = []
    active = True
    try:
        while True:
            try:
                status = stmt.step()
                while status == _IO:
                    stmt.run_io()
                    status = stmt.step()
                if status == _ROW:
                    rows.append(tuple(stmt.row()))
                    continue
                stmt.finalize()
                active = False
                return rows
            except Exception as exc:  # noqa: BLE001
                _finalize_quietly(stmt)
                active = False
                raise _map(exc)  # noqa: B904
    finally:
        if active:  # a BaseException (a Rust panic) left the statement active: Cursor.close finalises it
            _finalize_quietly(stmt)


def _execute(conn: Any, stmt: Any, sql: str) -> int:
    """The no-rows branch of `Cursor.execute`: run to completion, read rows changed, finalise."""
    try:
        result = stmt.execute()
        while result.status == _IO:
            stmt.run_io()
            result = stmt.execute()
        rowcount = int(result.rows_changed)
        if result.rows_changed > 0 and _is_insert_or_replace(sql):
            conn._last_insert_rowid()  # what `lastrowid` reads (not compared; called as pyturso does)
        stmt.finalize()
    except Exception as exc:  # noqa: BLE001
        _finalize_quietly(stmt)
        raise _map(exc)  # noqa: B904
    return rowcount


def mirrors(version: str) -> bool:
    """Whether this module mirrors the DB-API of pyturso `version` (`0.8.3`)."""
    try:
        return tuple(int(part) for part in version.split(".")) == MIRRORED_RELEASE
    except ValueError:  # a pre-release or local version: not the one mirrored
        return False


def execute(conn: Any, sql: str) -> tuple[list[tuple[Any, ...]], int]:
    """Run `sql` on a `turso.lib.Connection` in autocommit: its rows (none without columns) and rowcount."""
    stmt, has_columns = _prepare(conn, sql)
    if has_columns:
        return _fetch_all(stmt), -1
    return [], _execute(conn, stmt, sql)
