"""The driver layer: module lookup helpers, the driver suites' building blocks, and that each driver
suite sees a deliberate breakage (busy wait, column-name case, closed connections, lazy RETURNING)."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, TESTS, load_report, run_repo
from stc_harness.checks import CheckContext
from stc_harness.errors import Unsupported

sys.path.insert(0, str(ROOT / "suites" / "driver"))
import driver_support


class _Bare:
    """A third-party backend that names no driver modules."""

    name = "bare"


def test_modules_named_by_the_builtin_backends(tmp_path: Path) -> None:
    from stc_backends.sqlite import SQLiteBackend
    from stc_backends.turso import TursoBackend

    assert CheckContext(SQLiteBackend(), tmp_path).async_module().__name__ == "aiosqlite"
    assert CheckContext(TursoBackend(), tmp_path).async_module().__name__ == "turso.aio"
    assert CheckContext(TursoBackend(), tmp_path).sync_module().__name__ == "turso"


@pytest.mark.parametrize("method", ["sync_module", "async_module"])
def test_a_backend_without_modules_is_unsupported_with_the_fix(tmp_path: Path, method: str) -> None:
    with pytest.raises(Unsupported) as info:
        getattr(CheckContext(_Bare(), tmp_path), method)()
    assert "bare" in info.value.reason
    assert method in info.value.reason


def test_outcome_and_plain() -> None:
    import sqlite3

    assert driver_support.outcome(lambda: (1, b"\x00", None)) == {"ok": [1, "x'00'", "NULL"]}
    assert driver_support.outcome(lambda: 1 / 0) == {"raises": "ZeroDivisionError"}
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    assert driver_support.plain(conn.execute("SELECT 1 AS a, 'x' AS b").fetchone()) == [1, "x"]
    assert driver_support.plain(conn.cursor()) == "<Cursor>"
    conn.close()


def test_blocking_returns_raises_and_is_bounded() -> None:
    release = threading.Event()

    async def scenario() -> None:
        assert await driver_support.blocking(lambda: 41 + 1) == 42
        with pytest.raises(KeyError):
            await driver_support.blocking(lambda: {}["x"])
        with pytest.raises(TimeoutError, match=r"within 0\.2s"):
            await driver_support.blocking(release.wait, 5, bound=0.2)

    try:
        asyncio.run(scenario())
    finally:
        release.set()


#: Each deliberate breakage, and checks that must then go non-`same` for the broken backend.
BREAKAGES: dict[str, tuple[str, list[str]]] = {
    "no_busy_wait": ("suites/driver/test_driver_transactions.py",
                     ["driver_transactions.busy_wait_default",
                      "driver_transactions.busy_timeout_read_back[default]"]),
    "upper_names": ("suites/driver/test_driver_cursor.py",
                    ["driver_cursor.description_names[alias_mixed_case]",
                     "driver_cursor.description_names[columns_other_case]"]),
    "close_ignored": ("suites/driver/test_driver_state.py",
                      ["driver_state.connection_after_close[cursor]",
                       "driver_state.connection_after_close[commit]"]),
    "lazy_returning": ("suites/driver/test_driver_timing.py",
                       ["driver_timing.unfetched_returning_commit[insert_returning_one]",
                        "driver_timing.unfetched_returning_closed[update_returning]"]),
}
SELECT = {"no_busy_wait": "busy_wait_default or busy_timeout_read_back", "upper_names": "description_names",
          "close_ignored": "connection_after_close", "lazy_returning": "unfetched_returning"}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_the_driver_suites_see_a_deliberate_breakage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      breakage: str) -> None:
    suite, must_differ = BREAKAGES[breakage]
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    result = run_repo([suite, "-k", SELECT[breakage], "--backend=sqlite",
                       f"--backend=fake_backend.driver_wrappers:make_{breakage}", "--allow-undocumented",
                       f"--report-dir={tmp_path / 'out'}", "-q"], tmp_path / "base", timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    checks: dict[str, Any] = {c["id"]: c["results"] for c in load_report(tmp_path / "out")["checks"]}
    for cid in must_differ:
        assert checks[cid]["sqlite"]["outcome"] == "same", cid
        assert checks[cid][breakage]["outcome"] == "undocumented-difference", (cid, checks[cid][breakage])


def _row(cid: str, area: str, layer: str, outcome: str, impact: str | None = None) -> dict[str, Any]:
    entry = {"title": f"entry of {cid}", "impact": impact} if impact else None
    return {"id": cid, "area": area, "layer": layer, "title": f"title of {cid}", "entry": entry,
            "results": {"sqlite": {"outcome": "same"}, "turso": {"outcome": outcome}}}


def test_driver_theme_section_counts_and_orders_by_impact() -> None:
    from stc_harness.report.layers import driver_theme_section

    doc = {"reference": "sqlite", "backends": [{"id": "sqlite"}, {"id": "turso"}], "checks": [
        _row("driver_state.a", "driver_state", "driver", "documented-difference", "cosmetic"),
        _row("driver_state.b", "driver_state", "driver", "documented-difference", "lost-or-extra-writes"),
        _row("driver_state.c", "driver_state", "driver", "same"),
        _row("driver_state.d", "driver_state", "driver", "unsupported"),
        _row("types.e", "types", "engine", "undocumented-difference"),
    ]}
    section = driver_theme_section(doc)
    assert section is not None
    assert section["id"] == "driver-themes"
    assert section["rows"] == [["state", "turso", 3, 1, 2, "lost-or-extra-writes",
                                {"text": "entry of driver_state.b", "href": "#driver_state.b"},
                                {"text": "entry of driver_state.a", "href": "#driver_state.a"}, ""]]
    assert len(section["columns"]) == len(section["rows"][0])
    engine_only = {"reference": "sqlite", "backends": [], "checks": [doc["checks"][-1]]}
    assert driver_theme_section(engine_only) is None


def test_every_driver_check_is_marked_driver_layer() -> None:
    import importlib.util

    from stc_harness.checks import DEFINED

    for path in sorted((ROOT / "suites" / "driver").glob("test_driver_*.py")):
        if path.stem not in sys.modules:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[path.stem] = module
            spec.loader.exec_module(module)
    driver = [s for s in DEFINED.values() if s.area.startswith("driver_")]
    assert len(driver) > 400
    assert {s.layer for s in driver} == {"driver"}
