"""The tracked SQLite backend (sqlean.py): what it is, its semantics, and a missing install."""

from __future__ import annotations

import asyncio
import builtins
import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

from stc_harness.adapters.backend_registry import select
from stc_harness.errors import DatabaseError, ErrorKind, UsageError
from stc_harness.outcomes import TRACKED_BACKEND

sqlean = pytest.importorskip("sqlean")


def test_it_is_sqlite_3_50_4_with_the_stdlib_api_and_no_extensions(tmp_path: Path) -> None:
    from stc_backends.sqlean import PURPOSE, SqleanBackend

    backend = SqleanBackend()
    assert (backend.name, backend.sync_module, backend.async_module) == ("sqlean", "sqlean", None)
    assert backend.info.engine_version.startswith("3.50.4")
    assert backend.info.extra["purpose"] == PURPOSE
    assert PURPOSE == "the SQLite release Turso tracks (attribution reference)"

    async def run() -> tuple[Any, Any, str]:
        conn = await backend.connect(f"sqlean:{tmp_path / 'x.db'}")
        try:
            subsec = await conn.fetch_value("SELECT typeof(datetime('now', 'subsec'))")  # 3.42+
            busy = await conn.fetch_value("PRAGMA busy_timeout")
            try:
                await conn.execute("SELECT regexp_like('a', 'a')")  # a sqlean extension: must be off
            except DatabaseError as exc:
                return subsec, busy, exc.raw.message
            return subsec, busy, "extension present"
        finally:
            await conn.close()

    assert asyncio.run(run()) == ("text", 0, "no such function: regexp_like")


def test_constraint_kinds_match_the_stdlib_classification(tmp_path: Path) -> None:
    from stc_backends.sqlean import SqleanBackend

    async def run() -> ErrorKind:
        conn = await SqleanBackend().connect("sqlean::memory:")
        try:
            await conn.execute("CREATE TABLE t (v UNIQUE)")
            await conn.execute("INSERT INTO t VALUES (1)")
            with pytest.raises(DatabaseError) as info:
                await conn.execute("INSERT INTO t VALUES (1)")
            return info.value.kind
        finally:
            await conn.close()

    assert asyncio.run(run()) is ErrorKind.UNIQUE_VIOLATION


def test_all_leaves_the_tracked_sqlite_out_and_a_name_selects_it() -> None:
    chosen, broken = select([])
    assert TRACKED_BACKEND not in {s.id for s in chosen} | set(broken)
    assert [s.id for s in select([TRACKED_BACKEND])[0]] == [TRACKED_BACKEND]


def test_without_sqlean_py_the_backend_fails_to_load_saying_attribution_unavailable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_sqlean(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "sqlean" or name.startswith("sqlean."):
            raise ImportError("No module named 'sqlean'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sqlean)
    monkeypatch.delitem(sys.modules, "stc_backends.sqlean", raising=False)
    with pytest.raises(UsageError) as info:
        select([TRACKED_BACKEND])
    assert "attribution unavailable" in str(info.value)
    monkeypatch.undo()
    importlib.import_module("stc_backends.sqlean")
