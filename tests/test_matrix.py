"""The version matrix (stc_harness.report.matrix) and the Turso adapter's probes for old pyturso."""

from __future__ import annotations

import asyncio
import json
import types
from pathlib import Path

import pytest

from stc_harness.report import matrix as mx

# --- synthetic reports ----------------------------------------------------------------------------------


def result(outcome: str = "same", observed: object = None, message: str = "") -> dict:
    return {"outcome": outcome, "message": message, "observed": observed, "baseline": observed,
            "baseline_from": "sqlite", "notes": {"raw": "never compared"}, "duration": 0.01, "nodeid": "x"}


def report(backend: str, version: str, results: dict[str, dict], python: str = "3.11.7") -> dict:
    driver = "pyturso" if backend == "turso" else "aiosqlite"
    return {
        "schema_version": 1, "generated_at": "2026-01-01T00:00:00+00:00", "python": python,
        "reference": "sqlite",
        "backends": [{"id": backend, "name": backend, "driver": driver, "driver_version": version,
                      "engine_version": "3.45.0", "options": {}}],
        "registry": [], "summary": {},
        "checks": [{"id": cid, "area": cid.split(".")[0], "title": f"title of {cid}",
                    "source": {"document": "001_312a5f9792b0f890.txt", "section": "Errors"}, "entry": None,
                    "results": {backend: res}} for cid, res in results.items()],
    }


def three_versions() -> list[tuple[str, dict]]:
    """interrupt appears in 0.7.2; the rowcount observation changes in 0.8.3; smoke never changes."""
    return [
        ("sqlite", report("sqlite", "0.22.1", {"a.interrupt": result("same", {"error": "INTERRUPTED"}),
                                               "a.rowcount": result("same", 1),
                                               "a.smoke": result("same", [[1]])})),
        ("t061", report("turso", "0.6.1", {"a.interrupt": result("unsupported", None, "no interrupt()"),
                                           "a.rowcount": result("undocumented-difference", -1),
                                           "a.smoke": result("same", [[1]])})),
        ("t083", report("turso", "0.8.3", {"a.interrupt": result("same", {"error": "INTERRUPTED"}),
                                           "a.rowcount": result("undocumented-difference", 0),
                                           "a.smoke": result("same", [[1]])})),
        ("t072", report("turso", "0.7.2", {"a.interrupt": result("same", {"error": "INTERRUPTED"}),
                                           "a.rowcount": result("undocumented-difference", -1),
                                           "a.smoke": result("same", [[1]])})),
    ]


# --- the model ------------------------------------------------------------------------------------------


def test_version_key_orders_release_numbers() -> None:
    versions = ["0.10.0", "0.8.3", "0.6.1", "0.8.10", "0.7.2"]
    assert sorted(versions, key=mx.version_key) == ["0.6.1", "0.7.2", "0.8.3", "0.8.10", "0.10.0"]


def test_resolve_labels(tmp_path: Path) -> None:
    folder = tmp_path / "py3.11-pyturso0.6.1-turso"
    folder.mkdir()
    assert mx.resolve(str(folder)) == ("py3.11-pyturso0.6.1-turso", folder / "compatibility.json")
    assert mx.resolve(str(folder / "compatibility.json"))[0] == "py3.11-pyturso0.6.1-turso"
    assert mx.resolve(f"old={folder}") == ("old", folder / "compatibility.json")
    assert mx.resolve(str(tmp_path / "x.json")) == ("x", tmp_path / "x.json")


def test_columns_are_ordered_reference_first_then_by_version() -> None:
    m = mx.build_matrix(three_versions())
    assert [c["label"] for c in m["columns"]] == ["sqlite", "t061", "t072", "t083"]
    assert m["columns"][1]["header"] == "turso (pyturso 0.6.1)"


def test_changes_are_attributed_to_the_version_that_brought_them() -> None:
    m = mx.build_matrix(three_versions())
    by_to = {g["to"]: g for g in m["changes"]}
    assert set(by_to) == {"0.7.2", "0.8.3"}
    assert by_to["0.7.2"]["from"] == "0.6.1"
    assert [c["check"] for c in by_to["0.7.2"]["checks"]] == ["a.interrupt"]
    first = by_to["0.7.2"]["checks"][0]
    assert (first["what"], first["before"]["outcome"], first["after"]["outcome"]) == \
        ("outcome", "unsupported", "same")
    # Same outcome, different observation: still a change, and says so.
    rowcount = by_to["0.8.3"]["checks"]
    assert [(c["check"], c["what"], c["before"]["observed"], c["after"]["observed"]) for c in rowcount] == \
        [("a.rowcount", "observation", -1, 0)]


def test_changed_checks_come_first_and_say_where() -> None:
    m = mx.build_matrix(three_versions())
    assert [(r["id"], r["status"], r["changed_in"]) for r in m["checks"]] == [
        ("a.interrupt", "changed", ["turso 0.7.2"]),
        ("a.rowcount", "changed", ["turso 0.8.3"]),
        ("a.smoke", "stable", []),
    ]
    assert m["summary"]["t061"]["unsupported"] == 1
    assert m["summary"]["t061"]["undocumented-difference"] == 1


def test_notes_and_messages_are_not_compared() -> None:
    reports = three_versions()
    reports[2][1]["checks"][2]["results"]["turso"]["notes"] = {"raw": "another message"}
    reports[2][1]["checks"][2]["results"]["turso"]["message"] = "another message"
    m = mx.build_matrix(reports)
    assert next(r for r in m["checks"] if r["id"] == "a.smoke")["status"] == "stable"


def test_missing_check_in_one_version_is_a_change() -> None:
    reports = three_versions()
    reports[3][1]["checks"].pop()  # 0.7.2 has no a.smoke
    m = mx.build_matrix(reports)
    by_to = {g["to"]: {c["check"]: c for c in g["checks"]} for g in m["changes"]}
    assert by_to["0.7.2"]["a.smoke"]["after"]["outcome"] == mx.ABSENT
    assert by_to["0.8.3"]["a.smoke"]["before"]["outcome"] == mx.ABSENT


def test_python_dimension() -> None:
    reports = [(f"py{py}-{v}", report("turso", v, {"a.x": result("same", obs)}, python=py))
               for py, v, obs in (("3.10.13", "0.6.1", 1), ("3.12.1", "0.6.1", 2),
                                  ("3.10.13", "0.7.2", 2), ("3.12.1", "0.7.2", 2))]
    m = mx.build_matrix(reports)
    changes = {g["to"]: g for g in m["changes"]}
    assert changes["0.7.2"]["pythons"] == ["3.10", "3.12"]
    assert [(c["check"], c["pythons"]) for c in changes["0.7.2"]["checks"]] == [("a.x", ["3.10"])]
    assert [s["set"] for s in m["python_differences"]] == ["turso 0.6.1"]
    assert m["columns"][0]["header"] == "turso (pyturso 0.6.1, py3.10)"


def test_same_versions_that_disagree_are_unstable() -> None:
    reports = [("run1", report("sqlite", "0.22.1", {"a.x": result("same", 1)})),
               ("run2", report("sqlite", "0.22.1", {"a.x": result("same", 2)}))]
    m = mx.build_matrix(reports)
    assert m["changes"] == []
    assert [(s["set"], [c["check"] for c in s["checks"]]) for s in m["unstable"]] == \
        [("sqlite 0.22.1 on Python 3.11", ["a.x"])]
    assert m["checks"][0]["status"] == "unstable"
    # identical headers fall back to the labels
    assert [c["header"] for c in m["columns"]] == ["run1", "run2"]


def test_report_with_several_backends_gives_one_column_each() -> None:
    doc = report("sqlite", "0.22.1", {"a.x": result("same", 1)})
    doc["backends"].append({**doc["backends"][0], "id": "turso", "name": "turso", "driver": "pyturso",
                            "driver_version": "0.8.3"})
    doc["checks"][0]["results"]["turso"] = result("undocumented-difference", 2)
    m = mx.build_matrix([("both", doc)])
    assert [c["label"] for c in m["columns"]] == ["both/sqlite", "both/turso"]
    assert m["checks"][0]["cells"]["both/turso"]["observed"] == 2


def test_duplicate_labels_are_refused() -> None:
    one = report("turso", "0.6.1", {})
    with pytest.raises(ValueError, match="LABEL=PATH"):
        mx.build_matrix([("x", one), ("x", one)])


# --- renderings -----------------------------------------------------------------------------------------


def test_markdown_puts_what_changed_before_the_full_table() -> None:
    text = mx.render_markdown(mx.build_matrix(three_versions()))
    changed = text.index("## What changed in pyturso 0.7.2 (turso, from 0.6.1)")
    assert changed < text.index("## What changed in pyturso 0.8.3") < text.index("## Every check")
    section = text[changed:text.index("## What changed in pyturso 0.8.3")]
    assert "`a.interrupt`" in section
    assert "unsupported: no interrupt()" in section
    assert "`a.rowcount`" not in section
    row = next(line for line in text.splitlines() if line.startswith("| `a.interrupt` |"))
    assert row.endswith("| turso 0.7.2 | same | unsupported | same | same |")
    assert "**UNDOCUMENTED**" in text


def test_markdown_escapes_table_breakers() -> None:
    reports = three_versions()
    reports[0][1]["checks"][1]["title"] = "pipes | and <b>tags</b>"
    reports[1][1]["checks"][1]["results"]["turso"]["observed"] = "a|b"
    text = mx.render_markdown(mx.build_matrix(reports))
    assert "pipes \\| and \\<b\\>tags\\</b\\>" in text
    assert "`\"a\\|b\"`" in text


def test_html_is_self_contained_and_escaped() -> None:
    reports = three_versions()
    reports[0][1]["checks"][1]["title"] = "<script>alert(1)</script>"
    page = mx.render_html(mx.build_matrix(reports))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "What changed in pyturso 0.7.2" in page
    assert 'class="changed"' in page
    assert "http://" not in page  # nothing loaded from elsewhere
    assert "https://" not in page


# --- command line ---------------------------------------------------------------------------------------


def test_cli_writes_the_three_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    specs = []
    for label, doc in three_versions():
        (tmp_path / label).mkdir()
        (tmp_path / label / "compatibility.json").write_text(json.dumps(doc))
        specs.append(str(tmp_path / label))
    out = tmp_path / "out"
    assert mx.main(["matrix", "--out", str(out), *specs]) == 0
    merged = json.loads((out / "matrix.json").read_text())
    assert (merged["schema"], merged["schema_version"]) == ("conformance-matrix", 1)
    assert merged["columns"][0]["report"].endswith("sqlite/compatibility.json")
    assert (out / "matrix.md").read_text().startswith("# Compatibility matrix")
    assert (out / "matrix.html").read_text().startswith("<!doctype html>")
    assert "2 version changes" in capsys.readouterr().out


def test_cli_names_the_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 99}')
    assert mx.main(["matrix", "--out", str(tmp_path), str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().out
    assert not (tmp_path / "matrix.json").exists()


def test_dispatched_by_python_m_harness(tmp_path: Path) -> None:
    from stc_harness.__main__ import main

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "compatibility.json").write_text(json.dumps(three_versions()[0][1]))
    assert main(["matrix", "--out", str(tmp_path), str(tmp_path / "r")]) == 0
    assert (tmp_path / "matrix.md").exists()


# --- the Turso adapter on older pyturso: capability probes, never a crash ---------------------------------


@pytest.fixture
def old_pyturso(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Pretend pyturso lacks interrupt, encryption, the database-handle API and sqlite_version."""
    import turso

    import stc_backends.turso as bt

    real = turso.lib

    class Connection:  # no interrupt, no enable_load_extension
        pass

    fake = types.SimpleNamespace(Connection=Connection, connect=real.connect)
    bt.driver_features.cache_clear()
    monkeypatch.setattr(turso, "lib", fake)
    monkeypatch.delattr(turso, "sqlite_version", raising=False)
    try:
        yield fake
    finally:
        bt.driver_features.cache_clear()


def test_probe_reports_what_an_old_pyturso_lacks(old_pyturso: types.SimpleNamespace) -> None:
    import stc_backends.turso as bt

    feat = bt.driver_features()
    assert (feat.database_open, feat.encryption, feat.interrupt, feat.engine_version) == \
        (False, False, False, None)
    backend = bt.TursoBackend()
    assert backend.info.engine_version == "unknown"
    for name in ("interrupt", "encryption", "shared_memory_pool", "load_extension"):
        present, reason = backend.capabilities.declared(name)
        assert present is False
        assert reason.startswith(f"pyturso {feat.version}: ")


def test_missing_encryption_is_unsupported_not_a_crash(old_pyturso: types.SimpleNamespace,
                                                       tmp_path: Path) -> None:
    import stc_backends.turso as bt
    from stc_harness.errors import Unsupported

    backend = bt.TursoBackend()
    key = bt.EncryptionOpts("aes256gcm", "ab" * 32)
    with pytest.raises(Unsupported) as info:
        asyncio.run(backend.connect(f"turso:{tmp_path / 'e.db'}", encryption=key))
    assert info.value.capability == "encryption"
    assert "ab" * 32 not in str(info.value)


def test_without_database_open_each_connection_opens_its_own_handle(
        old_pyturso: types.SimpleNamespace, tmp_path: Path) -> None:
    import stc_backends.turso as bt

    async def go() -> list:
        backend = bt.TursoBackend()
        url = f"turso:{tmp_path / 'f.db'}"
        first = await backend.connect(url)
        await first.execute("CREATE TABLE t (x)")
        await first.execute("INSERT INTO t VALUES (7)")
        second = await backend.connect(url)
        try:
            return await second.fetch_all("SELECT x FROM t")
        finally:
            await first.close()
            await second.close()

    assert [tuple(r) for r in asyncio.run(go())] == [(7,)]


def test_interrupt_without_driver_support_is_unsupported() -> None:
    import stc_backends.turso as bt
    from stc_harness.errors import Unsupported

    async def go() -> None:
        conn = await bt.TursoBackend().connect("turso::memory:")
        try:
            conn._raw = types.SimpleNamespace(close=conn._raw.close)  # a Connection without interrupt()
            await conn.interrupt()
        finally:
            await conn.close()

    with pytest.raises(Unsupported, match="interrupt"):
        asyncio.run(go())


def test_current_pyturso_keeps_its_capabilities() -> None:
    import turso.lib as lib

    import stc_backends.turso as bt

    bt.driver_features.cache_clear()
    feat = bt.driver_features()
    assert (feat.database_open, feat.encryption) == (True, True)
    assert feat.interrupt == hasattr(lib.Connection, "interrupt")
    backend = bt.TursoBackend()
    assert backend.capabilities.declared("shared_memory_pool") == \
        (True, "one database handle per pool; every slot connects to it")
    assert backend.capabilities.declared("encryption") == (True, "pyturso EncryptionOpts")


def test_delta_keeps_only_what_differs() -> None:
    before = {"applied": ["002"], "column": {"default": "X'00ff'", "name": "n"}, "rows": [[1], [2], [3]]}
    after = {"applied": ["002"], "column": {"default": "x'00ff'", "name": "n"}, "rows": [[1], [5], [3]]}
    assert mx.delta(before, after) == (
        {"column": {"default": "X'00ff'"}, "rows": [mx.SAME_PART, [2], mx.SAME_PART]},
        {"column": {"default": "x'00ff'"}, "rows": [mx.SAME_PART, [5], mx.SAME_PART]},
    )
    assert mx.delta({"a": 1}, {"b": 1}) == ({"a": 1}, {"b": 1})
    assert mx.delta([1, 2], [1, 2, 3]) == ([1, 2], [1, 2, 3])


def test_changes_show_the_delta() -> None:
    reports = three_versions()
    reports[2][1]["checks"][1]["results"]["turso"]["observed"] = {"keep": "x" * 300, "n": 0}
    reports[3][1]["checks"][1]["results"]["turso"]["observed"] = {"keep": "x" * 300, "n": -1}
    m = mx.build_matrix(reports)
    change = next(g for g in m["changes"] if g["to"] == "0.8.3")["checks"][0]
    assert change["delta"] == {"before": {"n": -1}, "after": {"n": 0}}
    text = mx.render_markdown(m)
    assert 'undocumented** `{"n": -1}` | **UNDOCUMENTED** `{"n": 0}`'.lower() in text.lower()
    page = mx.render_html(m)
    assert "whole observation" in page


# --- the SQLite-version axis --------------------------------------------------------------------------


def sqlite_point(backend: str, driver_version: str, engine: str, results: dict[str, dict]) -> dict:
    doc = report(backend, driver_version, results)
    doc["backends"][0]["engine_version"] = engine
    doc["backends"][0]["driver"] = "sqlean.py" if backend == "sqlean" else "aiosqlite"
    return doc


def test_sqlite_axis_names_the_first_release_that_behaves_like_turso() -> None:
    docs = [
        ("sqlite", sqlite_point("sqlite", "0.22.1", "3.40.1", {"a.gap": result("same", 1),
                                                               "a.own": result("same", 1)})),
        ("q347", sqlite_point("sqlean", "3.47.0", "3.47.0", {"a.gap": result("same", 1),
                                                             "a.own": result("same", 1)})),
        ("q350", sqlite_point("sqlean", "3.50.4.5", "3.50.4", {"a.gap": result("documented-difference", 2),
                                                               "a.own": result("same", 1)})),
        ("q349", sqlite_point("sqlean", "3.49.1", "3.49.1", {"a.gap": result("documented-difference", 2),
                                                             "a.own": result("same", 1)})),
        ("t083", report("turso", "0.8.3", {"a.gap": result("documented-difference", 2),
                                           "a.own": result("documented-difference", 3)})),
    ]
    m = mx.build_matrix(docs)
    axis = m["sqlite_axis"]
    assert axis["releases"] == ["3.40.1", "3.47.0", "3.49.1", "3.50.4"]
    like = {"3.40.1": False, "3.47.0": False, "3.49.1": True, "3.50.4": True}
    assert axis["gaps"] == [{"check": "a.gap", "title": "title of a.gap", "first": "3.49.1",
                             "like_turso": like}]
    md = mx.render_markdown(m)
    assert "## SQLite releases that behave like Turso" in md
    assert "| `a.gap` | 3.49.1 |  |  | \u2713 | \u2713 |" in md
    assert [c["backend"] for c in m["columns"]] == ["sqlite", "sqlean", "sqlean", "sqlean", "turso"]
    assert any(g["backend"] == "sqlean" and g["to"] == "3.49.1" for g in m["changes"])
