"""The libsql plugin (plugins/libsql): a third-party backend on the public API, its URLs, probed
capabilities, per-backend registry entries, the "from libSQL to Turso" section, and a mutant that a
check catches."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from conftest import TESTS, load_report, run_repo
from stc_harness.adapters.backend_registry import available, select
from stc_harness.differences import Entry, Registry, RegistryError
from stc_harness.errors import DatabaseError, ErrorKind, UsageError
from stc_harness.report.migration import migration_section
from stc_harness.sources import Source

pytest.importorskip("libsql")
backend_module = pytest.importorskip("conformance_libsql.backend")


@pytest.fixture(autouse=True)
def _libsql_included(_two_backend_default: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the two-backend default of tests/conftest.py: these tests are about the libsql backend."""
    monkeypatch.delenv("CONFORMANCE_EXCLUDE_BACKENDS", raising=False)


def test_registered_by_entry_point_and_loaded_by_name() -> None:
    assert available()["libsql"] == "conformance_libsql.backend:LibsqlBackend"
    (sel,), _ = select(["libsql"])
    info = sel.backend.info
    assert (sel.id, info.driver, sel.backend.sync_module, sel.backend.async_module) == \
        ("libsql", "libsql", "libsql", None)
    assert info.engine_version == "3.45.1"  # what sqlite_version() says, not the module's claim
    assert info.extra["sqlite_version_info"] != info.engine_version


@pytest.mark.parametrize(("url", "names"), [
    ("libsql://my-db.example.turso.io", ["remote", "libsql::memory:"]),
    ("libsql::memory:?sync_url=x", ["sync_url", "network", "libsql::memory:"]),
    ("libsql::memory:?auth_token=x", ["auth_token"]),
    ("libsql::memory:?cache=shared", ["unknown option", "cache", "busy_timeout"]),
    ("libsql::memory:?concurrent_writes=1", ["concurrent_writes", "MVCC"]),
])
def test_bad_urls_are_usage_errors_naming_what_works(url: str, names: list[str]) -> None:
    with pytest.raises(UsageError) as info:
        select([url])
    for name in names:
        assert name in str(info.value)


def test_capabilities_are_probed_on_the_live_module() -> None:
    backend = backend_module.LibsqlBackend()

    async def run() -> dict[str, tuple[bool, str]]:
        return {n: await backend.capabilities.get(n) for n in
                ("encryption", "begin_concurrent", "concurrent_writes", "load_extension", "interrupt",
                 "shared_memory_pool", "attach", "strict_tables")}

    caps = asyncio.run(run())
    assert caps["encryption"][0]
    assert caps["encryption"][1].startswith("probed")
    assert not caps["begin_concurrent"][0]
    assert "syntax error" in caps["begin_concurrent"][1]
    assert not caps["load_extension"][0]
    assert not caps["interrupt"][0]
    assert not caps["shared_memory_pool"][0]
    assert caps["attach"][0]
    assert caps["strict_tables"][0]
    assert all(reason.startswith("probed") for _, reason in caps.values())


def test_errors_are_classified_from_plain_value_errors(tmp_path: Path) -> None:
    backend = backend_module.LibsqlBackend()

    async def run() -> list[ErrorKind]:
        conn = await backend.connect(f"libsql:{tmp_path / 'x.db'}")
        kinds = []
        try:
            await conn.execute("CREATE TABLE t (v UNIQUE NOT NULL)")
            for sql in ("INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (NULL)",
                        "SELECT * FROM nope", "SELEC 1"):
                try:
                    await conn.execute(sql)
                except DatabaseError as exc:
                    kinds.append(exc.kind)
        finally:
            await conn.close()
        try:
            await backend.connect(f"libsql:{tmp_path / 'missing' / 'x.db'}")
        except DatabaseError as exc:
            kinds.append(exc.kind)
        return kinds

    assert asyncio.run(run()) == [ErrorKind.UNIQUE_VIOLATION, ErrorKind.NOT_NULL_VIOLATION,
                                  ErrorKind.NO_SUCH_TABLE, ErrorKind.SYNTAX, ErrorKind.CANT_OPEN]


def _entry(eid: str, backend: str) -> Entry:
    return Entry(eid, "errors", ("errors.x",), "t", Source("d", "s"), "r", {backend: 1}, "f.toml",
                 "cosmetic", "turso")


def test_registry_takes_one_entry_per_backend_on_a_check() -> None:
    reg = Registry([_entry("errors.a", "turso"), _entry("errors.b", "libsql")])
    assert reg.for_check("errors.x").id == "errors.a"  # the main entry: the first loaded
    assert reg.for_check("errors.x", "libsql").id == "errors.b"
    assert reg.for_check("errors.x", "sqlite").id == "errors.a"
    with pytest.raises(RegistryError, match=r"errors\.b. \(both name backend .libsql."):
        reg.add(_entry("errors.c", "libsql"))


def test_from_libsql_to_turso_section_lists_changes_worst_first() -> None:
    def res(outcome: str, observed: Any) -> dict[str, Any]:
        return {"outcome": outcome, "observed": observed, "message": ""}

    doc = {"reference": "sqlite", "backends": [{"id": b} for b in ("sqlite", "libsql", "turso")],
           "registry": [{"id": "e.l", "impact": "cosmetic"}],
           "checks": [
               {"id": "a.same", "title": "", "entry": None,
                "results": {"sqlite": res("same", 1), "libsql": res("same", 1), "turso": res("same", 1)}},
               {"id": "a.cosmetic", "title": "", "entry": {"id": "e.t", "impact": "cosmetic"}, "entries": {},
                "results": {"sqlite": res("same", 1), "libsql": res("same", 1),
                            "turso": res("documented-difference", 2)}},
               {"id": "a.silent", "title": "", "entry": {"id": "e.t2", "impact": "silent-data-change"},
                "entries": {"libsql": "e.l"},
                "results": {"sqlite": res("same", 1), "libsql": res("documented-difference", 3),
                            "turso": res("documented-difference", 2)}},
           ]}
    section = migration_section(doc, "libsql")
    assert section is not None
    assert section["id"] == "from-libsql-to-turso"
    assert [(r[0], r[1]["text"], r[2]) for r in section["rows"]] == [
        ("silent-data-change", "a.silent", "both differ from SQLite"),
        ("cosmetic", "a.cosmetic", "turso differs from SQLite")]
    assert migration_section(doc, "nope") is None


def test_a_mutant_of_the_plugin_turns_a_check_red(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    args = ["suites/engine/test_errors.py", "-k", "test_kind and unique", "--backend=sqlite",
            "--allow-undocumented",
            "-q", "-p", "no:randomly"]
    for name, target in (("real", "libsql"), ("mutant", "test_libsql_plugin_mutant:make_mutant")):
        result = run_repo([*args, f"--backend={target}", f"--report-dir={tmp_path / name}"],
                          tmp_path / f"b{name}",
                          timeout=120)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    real = {c["id"]: c["results"]["libsql"]["outcome"] for c in load_report(tmp_path / "real")["checks"]}
    mutant = {c["id"]: c["results"]["libsql"]["outcome"] for c in load_report(tmp_path / "mutant")["checks"]}
    assert real["errors.kind[unique]"] == "same"
    assert mutant["errors.kind[unique]"] == "undocumented-difference"


def test_a_machine_without_a_libsql_wheel_runs_without_it(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # as on musl Linux (Alpine), where no libsql wheel exists: the module does not import
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "libsql.py").write_text("raise ImportError('no libsql wheel for this platform')\n",
                                      encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(shadow))
    result = run_repo(["suites/engine/test_smoke.py", "--collect-only"], tmp_path / "b", timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "backend libsql: not installed (" in result.stdout, result.stdout[:1500]
    assert "the libsql package is not installed (no libsql wheel for this " \
           "platform); it ships wheels only" in result.stdout
    assert "[libsql" not in result.stdout  # nothing is collected for it
    makefile = (Path(__file__).parents[1] / "Makefile").read_text(encoding="utf-8")
    assert 'echo "libsql: no wheel for this machine; the libsql backend is skipped"' in makefile
