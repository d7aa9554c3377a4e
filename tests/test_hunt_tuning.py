"""The hunt workers' process settings (`differential.tuning`) and the engines' lean statement path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stc_harness.differential import tuning
from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.engines import Engine, dbapi_execute, engine, run_cases
from stc_harness.differential.worker import ProcessExecutor
from stc_harness.errors import DatabaseError, ErrorKind, RawError


def _thp_enabled() -> str | None:
    """This process's `THP_enabled` line of /proc/self/status ("1", "0"), or None where there is none."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("THP_enabled:"):
            return line.split(":", 1)[1].strip()
    return None


def probe_engine() -> Engine:
    """An engine whose every statement returns what the worker process runs with: TMPDIR, huge pages."""

    def execute(conn: Any, sql: str) -> tuple[list[tuple[Any, ...]], int]:
        return [(os.environ.get("TMPDIR", ""), _thp_enabled() or "")], -1

    def classify(exc: BaseException) -> DatabaseError:
        return DatabaseError(ErrorKind.PANIC, RawError(type(exc).__name__, str(exc)), "probe")

    return Engine("probe", "none", "0", lambda: object(), classify, execute=execute)


def test_temporary_files_go_to_the_memory_folder_unless_the_user_chose_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # setenv first, so that monkeypatch records TMPDIR's original state (usually: not set) and restores it
    # after the function under test set it: a TMPDIR leaking into later tests breaks Chromium's socket.
    monkeypatch.setenv("TMPDIR", "placeholder")
    monkeypatch.delenv("TMPDIR")
    assert tuning.temporary_files_in_memory(str(tmp_path / "absent")) is False
    assert "TMPDIR" not in os.environ
    assert tuning.temporary_files_in_memory(str(tmp_path)) is True
    assert os.environ["TMPDIR"] == str(tmp_path)
    monkeypatch.setenv("TMPDIR", "/chosen")
    assert tuning.temporary_files_in_memory(str(tmp_path)) is False
    assert os.environ["TMPDIR"] == "/chosen"


@pytest.mark.skipif(_thp_enabled() is None, reason="no THP_enabled in /proc/self/status (not Linux >= 3.15)")
def test_huge_pages_are_turned_off_for_the_process() -> None:
    code = ("from stc_harness.differential import tuning; from pathlib import Path; "
            "ok = tuning.small_pages_only(); "
            "line = [ln for ln in Path('/proc/self/status').read_text().splitlines() "
            "if ln.startswith('THP_enabled:')][0]; print(ok, line.split(':')[1].strip())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["True", "0"]


def test_a_hunt_worker_runs_with_the_tuning() -> None:
    ex = ProcessExecutor("probe", timeout=10.0, spec="test_hunt_tuning:probe_engine")
    try:
        [outcomes] = ex.run([Case("expr", (Stmt("SELECT 1"),))])
    finally:
        ex.close()
    [[[tmp_class, tmp], [thp_class, thp]]] = outcomes[0].obs["rows"]
    memory = os.path.isdir(tuning.MEMORY_TMP) and os.access(tuning.MEMORY_TMP, os.W_OK | os.X_OK)
    assert tmp == os.environ.get("TMPDIR") or (tuning.MEMORY_TMP if memory else "")
    if _thp_enabled() is not None:
        assert thp == "0"
    assert tmp_class == thp_class == "text"


STATEMENTS = ["CREATE TABLE t(a INTEGER, b TEXT)", "INSERT INTO t VALUES (1, 'x'), (2, 'y')",
              "SELECT a, b FROM t ORDER BY a", "UPDATE t SET b = upper(b)", "SELECT a, b FROM t ORDER BY a",
              "DROP TABLE t", "CREATE TABLE t(a TEXT)", "SELECT * FROM t", "DELETE FROM t", "SELECT 1/0"]


def _outcome(execute: Any, conn: Any, sql: str) -> Any:
    try:
        return execute(conn, sql)
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome compared
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("name", ["sqlite", "sqlean"])
def test_the_kept_cursor_without_a_statement_cache_sees_what_the_dbapi_sees(name: str) -> None:
    pytest.importorskip("sqlean") if name == "sqlean" else None
    eng = engine(name)
    lean, plain = eng.open(), eng.open()
    try:
        for sql in STATEMENTS * 2:  # each statement again after the schema changed under it
            assert _outcome(eng.execute, lean, sql) == _outcome(dbapi_execute, plain, sql), sql
    finally:
        lean.close()
        plain.close()
    [outcomes] = run_cases(eng, [Case("dml", tuple(Stmt(s) for s in STATEMENTS), stateful=True)])
    assert [o.obs for o in outcomes][2] == {"rows": [[["integer", 1], ["text", "x"]],
                                                     [["integer", 2], ["text", "y"]]]}
    assert [o.obs for o in outcomes][4] == {"rows": [[["integer", 1], ["text", "X"]],
                                                     [["integer", 2], ["text", "Y"]]]}


@pytest.mark.parametrize("name", ["sqlite", "sqlean"])
def test_a_connection_opened_another_way_still_runs(name: str, tmp_path: Path) -> None:
    pytest.importorskip("sqlean") if name == "sqlean" else None
    import dataclasses
    import importlib

    eng = engine(name)
    module = importlib.import_module(eng.driver.split(".")[0])
    path = str(tmp_path / "x.db")
    plain = dataclasses.replace(eng, open=lambda: module.connect(path, isolation_level=None))
    [outcomes] = run_cases(plain, [Case("dml", tuple(Stmt(s) for s in STATEMENTS[:3]), stateful=True)])
    rows = [[["integer", 1], ["text", "x"]], [["integer", 2], ["text", "y"]]]
    assert [o.obs for o in outcomes] == [{"rows": []}, {"rows": [], "rowcount": 2}, {"rows": rows}]
