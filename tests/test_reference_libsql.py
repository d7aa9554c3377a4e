"""`--reference=libsql`: a run judged against libSQL, led by what changes from it to Turso; bad references."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import load_report, run_repo
from stc_harness.checks import DOCUMENTED, DRIFT, SAME, UNDOCUMENTED, Run, Verdict
from stc_harness.differences import Entry, Registry
from stc_harness.reference_view import rejudge
from stc_harness.sources import Source

pytest.importorskip("libsql")
pytest.importorskip("conformance_libsql.backend")


@pytest.fixture(autouse=True)
def _libsql_included(_two_backend_default: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the two-backend default of tests/conftest.py: these runs are about the libsql backend."""
    monkeypatch.delenv("CONFORMANCE_EXCLUDE_BACKENDS", raising=False)


def _entry(entry_id: str, backend: str, expect: object) -> Entry:
    return Entry(id=entry_id, area="errors", checks=("errors.x",), title="t", source=Source("doc", "s"),
                 reason="r", expect={backend: expect}, impact="cosmetic")


REGISTRY = Registry([_entry("e.turso", "turso", 2), _entry("e.libsql", "libsql", 3)])


def _judge(outcome: str, backend: str, seen: object, ref_seen: object, sqlite_seen: object,
           gone: bool = False) -> Verdict:
    verdict = Verdict(outcome, "", ref_seen, "libsql", REGISTRY.for_check("errors.x", backend), gone=gone)
    return rejudge(verdict, "errors.x", backend, Run("ok", seen), "libsql", Run("ok", ref_seen), REGISTRY,
                   Run("ok", sqlite_seen))


def test_a_change_is_explained_by_the_reference_entry_only_when_the_backend_does_what_sqlite_does() -> None:
    # libSQL observes 3 (its entry holds); sqlite observes 1: sqlite's difference from libSQL is libSQL's own
    explained = _judge(UNDOCUMENTED, "sqlite", 1, 3, 1)
    assert (explained.outcome, explained.entry.id) == (DOCUMENTED, "e.libsql")
    # a backend doing a third thing is not explained by libSQL's entry
    assert _judge(UNDOCUMENTED, "other", 5, 3, 1).outcome == UNDOCUMENTED
    # libSQL not behaving as its entry says: nothing to explain with
    assert _judge(UNDOCUMENTED, "sqlite", 1, 4, 1).outcome == UNDOCUMENTED


def test_two_backends_that_differ_from_sqlite_alike_do_not_differ_from_each_other() -> None:
    alike = _judge(DRIFT, "turso", 3, 3, 1, gone=True)
    assert alike.outcome == SAME


def test_unknown_and_uninstalled_references_are_usage_errors(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = run_repo(["suites/engine/test_smoke.py", "--reference=nosuch", "-q"], tmp_path / "a",
                       timeout=120)
    assert unknown.returncode == 4
    assert "--reference=nosuch: unknown backend 'nosuch'; known backends:" in unknown.stderr
    monkeypatch.setenv("CONFORMANCE_EXCLUDE_BACKENDS", "libsql")  # as if the plugin were not installed
    missing = run_repo(["suites/engine/test_smoke.py", "--reference=libsql", "-q"], tmp_path / "b",
                       timeout=120)
    assert missing.returncode == 4
    assert "--reference=libsql: the libsql backend is not installed; install it with pip install -e " \
           "plugins/libsql" in missing.stderr


def test_a_libsql_reference_run_leads_with_what_changes_from_libsql_to_turso(tmp_path: Path) -> None:
    result = run_repo(["suites/engine/test_errors.py", "-k", "dbapi_class", "--reference=libsql", "-q",
                       f"--report-dir={tmp_path / 'r'}"], tmp_path / "b", timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    doc = load_report(tmp_path / "r")
    assert doc["reference"] == "libsql"
    first = doc["sections"][0]
    assert first["id"] == "from-libsql-to-turso"
    assert first["title"] == "What will change for your application: from libsql to turso"
    rows = {r[1]["text"]: r for r in first["rows"]}
    # libSQL raises plain ValueErrors where Turso (like sqlite3) raises IntegrityError: libSQL's own
    unique = rows["errors.dbapi_class[unique]"]
    assert unique[2] == "libsql differs from SQLite"
    assert "IntegrityError" in unique[4]
    outcomes = {c["id"]: c["results"]["sqlite"]["outcome"] for c in doc["checks"]}
    assert outcomes["errors.dbapi_class[unique]"] == DOCUMENTED  # explained by libSQL's own entry
    assert "What will change for your application: from libsql to turso" in \
        (tmp_path / "r" / "compatibility.md").read_text(encoding="utf-8")
