"""SQLAlchemy under the drop-in: the async adapter's missing has_stop, an ignored AUTOCOMMIT, a path made
absolute at import, and a shared fixture's error re-raised by pytest (what ormar's suite showed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import clear_xdist_env
from stc_harness.dropin.align import align
from stc_harness.dropin.stand_ins import adapter_attribute
from stc_harness.dropin.trace import TRACER

ASYNC_ENGINE = """\
import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def test_async_engine():
    async def run():
        engine = create_async_engine("sqlite+aiosqlite://")
        async with engine.connect() as conn:
            assert (await conn.execute(text("select 1"))).scalar() == 1
        await engine.dispose()

    asyncio.run(run())
"""

AUTOCOMMIT = """\
import os

from sqlalchemy import create_engine, text

# made absolute at import, as SQLAlchemy's SQLite dialect does with a relative file name
URL = "sqlite:///" + os.path.abspath("app.db")


def test_autocommit_write_is_seen():
    engine = create_engine(URL)
    with engine.begin() as conn:
        conn.execute(text("create table if not exists t (x)"))
        conn.execute(text("delete from t"))
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text("insert into t values (1)"))
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from t")).scalar() == 1
    engine.dispose()
"""

URI_ENGINE = """\
import os

from sqlalchemy import create_engine, text


def test_uri_engine():
    engine = create_engine("sqlite:///file:" + os.path.abspath("app.db") + "?uri=true")
    with engine.connect() as conn:
        assert conn.execute(text("select 1")).scalar() == 1
    engine.dispose()
"""

SHARED_FIXTURE = """\
import pytest
import sqlite3


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    conn = sqlite3.connect(str(tmp_path_factory.mktemp("d") / "m.db"))
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    # Turso's driver refuses a bound memoryview
    conn.execute("INSERT INTO t VALUES (?)", (memoryview(b"ab"),))
    yield conn
    conn.close()


def test_one(data):
    assert data.execute("SELECT count(*) FROM t").fetchone()[0] == 2


def test_two(data):
    assert data.execute("SELECT count(*) FROM t").fetchone()[0] == 2
"""


def _dropin(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str,
            *args: str) -> list[dict[str, Any]]:
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_suite=source)
    result = pytester.runpytest_subprocess("--dropin=turso", "--report-dir=out", *args)
    assert result.ret in (0, 1), result.stdout.str()
    doc = json.loads((pytester.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    return list(doc["dropin"]["tests"])


def _blamed(row: dict[str, Any], key: str = "cause") -> dict[str, Any]:
    ev = row["evidence"]
    return dict(ev["divergences"][ev[key]])


class _Adapter:
    """Stands for a SQLAlchemy DBAPI adapter (its attributes live in the instance)."""


def test_an_adapter_attribute_read_is_recorded_once_as_value_missing_or_supplied() -> None:
    class Own(_Adapter):
        has_stop = adapter_attribute("sqlalchemy.dbapi.has_stop", "has_stop")

    class Lacking(_Adapter):
        has_stop = adapter_attribute("sqlalchemy.dbapi.has_stop", "has_stop")

    class Answered(_Adapter):
        has_stop = adapter_attribute("sqlalchemy.dbapi.has_stop", "has_stop", False)

    own = Own()
    own.has_stop = True
    TRACER.take()
    assert own.has_stop is True
    assert own.has_stop is True  # read twice, recorded once
    with pytest.raises(AttributeError, match="has no attribute 'has_stop'"):
        _ = Lacking().has_stop
    assert Answered().has_stop is False
    events, _ = TRACER.take()
    assert [(e[0], e[2], e[3]) for e in events] == [
        ("sqlalchemy.dbapi.has_stop", "ok", "True"),
        ("sqlalchemy.dbapi.has_stop", "missing", "AttributeError"),
        ("sqlalchemy.dbapi.has_stop", "inert", "missing on Turso: made inert"),
    ]
    (found,) = align(events[:1], events[1:2])
    assert found.kind == "missing-name"
    assert found.missing_name == "has_stop"


def test_an_async_engine_names_has_stop_raw_and_passes_adapted(pytester: pytest.Pytester,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (raw,) = _dropin(pytester, monkeypatch, ASYNC_ENGINE, "--dropin-raw")
    assert raw["category"] == "turso-only"
    assert "has_stop" in raw["turso"]["message"]
    blamed = _blamed(raw)
    assert (blamed["call"], blamed["kind"]) == ("sqlalchemy.dbapi.has_stop", "missing-name")
    assert blamed["explanation"]["entry"] == "client_sqlalchemy.async-dialect-has-stop"
    (adapted,) = _dropin(pytester, monkeypatch, ASYNC_ENGINE)
    assert adapted["category"] == "same-with-adaptations"  # not plain "same": it needs the answer
    assert adapted["adapted_by"] == ["sqlalchemy.dbapi.has_stop"]


def test_an_ignored_autocommit_is_the_cause_and_a_path_made_at_import_is_the_tests_own(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    (row,) = _dropin(pytester, monkeypatch, AUTOCOMMIT)
    assert row["sqlite"]["outcome"] == "passed"  # the import-time absolute path and the test's agree
    assert row["category"] == "turso-only"
    blamed = _blamed(row)
    assert (blamed["call"], blamed["args"]) == ("sqlalchemy.isolation_level", "'AUTOCOMMIT'")
    assert (blamed["sqlite"], blamed["turso"]) == ("→ autocommit", "→ opens transactions")
    assert blamed["explanation"]["entry"] == "client_sqlalchemy.autocommit-ignored"
    assert not (pytester.path / "app.db").exists()  # each engine's run made its own, in its own folder


def test_a_connection_the_dialect_opens_is_traced(pytester: pytest.Pytester,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLAlchemy's pool opens the DBAPI connection, not the test: its connect() is traced all the same."""
    (row,) = _dropin(pytester, monkeypatch, URI_ENGINE)
    assert row["category"] == "turso-only"
    blamed = _blamed(row)
    assert (blamed["call"], blamed["kind"]) == ("sqlalchemy.connect", "error-appears")
    assert blamed["args"].startswith("'file:")
    assert blamed["explanation"]["entry"] == "driver_connect.file-name-with-query-refused"


def test_a_shared_fixtures_cached_error_takes_the_cause_found_where_it_ran(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = _dropin(pytester, monkeypatch, SHARED_FIXTURE)
    assert one["category"] == two["category"] == "turso-only"
    assert one["turso"]["phase"] == two["turso"]["phase"] == "setup"
    memoryview_refused = ("types.native_memoryview", "driver_binding.types-not-adapted")
    assert _blamed(one)["explanation"]["entry"] in memoryview_refused
    assert two["evidence"]["shared_setup"] == one["nodeid"]
    assert _blamed(two) == _blamed(one)
