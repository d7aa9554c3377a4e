"""The batch path reports exactly what one statement at a time reports, on every built-in backend."""

from __future__ import annotations

import pytest

from stc_harness.adapters.backend_registry import BUILTIN, load_target

STATEMENTS = [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v)",
    ("INSERT INTO t (v) VALUES (?)", (1,)),
    "UPDATE t SET v = 2",
    "SELECT * FROM t",
    "DELETE FROM t WHERE id = 99",
    ("INSERT INTO t (v) VALUES (?)", (3,)),
    "CREATE INDEX i ON t (v)",
    "SELECT nope FROM t",
    "SELECT 1",
]


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize("name", sorted(BUILTIN))
async def test_batch_equals_one_statement_at_a_time(name: str) -> None:
    backend = load_target(BUILTIN[name])
    batched = await backend.connect(f"{name}::memory:")
    single = await backend.connect(f"{name}::memory:")
    try:
        got = await batched.batch(STATEMENTS)
        want = []
        for stmt in STATEMENTS:
            sql, params = (stmt, ()) if isinstance(stmt, str) else stmt
            try:
                want.append(await single.execute(sql, params))
            except Exception as exc:  # noqa: BLE001 - compared below, in place
                want.append(exc)
        assert [type(r).__name__ for r in got] == [type(r).__name__ for r in want]
        for mine, theirs in zip(got, want, strict=True):
            if isinstance(theirs, Exception):
                assert (mine.kind, mine.raw) == (theirs.kind, theirs.raw)
            else:
                assert (mine.rows, mine.columns, mine.rowcount, mine.lastrowid) == \
                    (theirs.rows, theirs.columns, theirs.rowcount, theirs.lastrowid)
    finally:
        await batched.close()
        await single.close()
