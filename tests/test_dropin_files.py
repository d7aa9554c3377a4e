"""Files a database leaves beside it after close: traced, compared, and named as the cause by evidence."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import clear_xdist_env
from stc_harness.dropin.align import FILES_LEFT_KIND, MINOR, align
from stc_harness.dropin.blame import blame
from stc_harness.dropin.evidence import divergences_of
from stc_harness.dropin.folders import EngineFolders
from stc_harness.dropin.runner import absolute_paths
from stc_harness.dropin.wrappers import left_beside

TESTS = """\
import os
import sqlite3


def test_removes_its_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    conn = sqlite3.connect(str(folder / "app.db"))
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    os.unlink(folder / "app.db")
    os.rmdir(folder)
"""


class _Conn:
    """Stands for a traced connection: the drop-in remembers its database file on it."""


def test_a_close_notes_the_side_files_its_database_still_has(tmp_path: Path) -> None:
    conn = _Conn()
    conn._stc_file = str(tmp_path / "app.db")  # type: ignore[attr-defined]
    assert left_beside(conn) == ""
    (tmp_path / "app.db-wal").write_bytes(b"")
    assert left_beside(conn) == " (files beside the database: -wal)"
    assert left_beside(_Conn()) == ""  # a memory database, or one opened by URI: nothing remembered


def test_files_left_are_a_minor_divergence_and_evidence_only_where_observed() -> None:
    close = ["Connection.close", "", "ok"]
    sqlite = [[*close, "None", "t.py:9", "t.py:9"]]
    turso = [[*close, "None (files beside the database: -wal)", "t.py:9", "t.py:9"]]
    (found,) = align(sqlite, turso)
    assert (found.kind, found.severity) == (FILES_LEFT_KIND, MINOR)
    assert blame([found], {"exc_type": "OSError", "message": "[Errno 39] Directory not empty"}) is found
    assert blame([found], {"exc_type": "AssertionError", "message": "assert 3 == 4"}) is None  # not files
    assert blame([found], {"exc_type": "AssertionError", "message": "len([local('t.db-wal'), ...])"}) is found
    assert divergences_of(sqlite, turso) == []  # a check that never looked at the folder: no evidence
    assert [d.kind for d in divergences_of(sqlite, turso, files=True)] == [FILES_LEFT_KIND]


def test_a_suite_that_removes_its_database_folder_is_explained(pytester: pytest.Pytester,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_files=TESTS)
    result = pytester.runpytest_subprocess("--dropin=turso", "--report-dir=out")
    assert result.ret == 1, result.stdout.str()
    doc = json.loads((pytester.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    (row,) = doc["dropin"]["tests"]
    assert row["category"] == "turso-only"
    assert "Directory not empty" in row["turso"]["message"]
    ev = row["evidence"]
    blamed = ev["divergences"][ev["cause"]]
    assert (blamed["call"], blamed["kind"]) == ("sqlite3.connect", FILES_LEFT_KIND)  # there from the start
    assert blamed["turso"].endswith("(files beside the database: -wal)")
    assert blamed["explanation"]["confidence"] == "proven"
    assert blamed["explanation"]["entry"] == "driver_connect.wal-file-beside-open-database"


def test_a_projects_stray_side_files_are_not_linked_into_an_engines_folder(tmp_path: Path) -> None:
    """A -wal/-shm an earlier run left in the project would sit beside the database a test creates by the
    same name in its engine's folder, which SQLite then cannot open."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("notes.txt", "app.db", "app.db-wal", "app.db-shm", "app.db-journal"):
        (project / name).write_bytes(b"x")
    folders = EngineFolders(project, root=tmp_path / "runs")
    (tmp_path / "runs").mkdir()
    linked = sorted(p.name for p in folders.workdir("sqlite").iterdir())
    assert linked == ["app.db", "notes.txt"]


def test_a_database_already_in_the_project_is_copied_per_engine_not_shared(tmp_path: Path) -> None:
    """A suite's test.db an earlier plain run left: linked, both engines' runs would write one file."""
    project = tmp_path / "project"
    project.mkdir()
    conn = sqlite3.connect(project / "test.db")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    (project / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "runs").mkdir()
    folders = EngineFolders(project, root=tmp_path / "runs")
    mine, theirs = folders.workdir("sqlite") / "test.db", folders.workdir("turso") / "test.db"
    assert not mine.is_symlink()
    assert not theirs.is_symlink()
    assert (folders.workdir("sqlite") / "notes.txt").is_symlink()
    conn = sqlite3.connect(mine)
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    for other in (theirs, project / "test.db"):
        conn = sqlite3.connect(other)
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
        conn.close()


def test_path_options_reach_a_child_absolute_from_where_the_user_started() -> None:
    args = ["tests", "--ignore=tests/a.py", "--ignore", "b.py", "--junitxml=/abs/x.xml", "-k", "x"]
    assert absolute_paths(args, Path("/p")) == [
        "tests", "--ignore=/p/tests/a.py", "--ignore", "/p/b.py", "--junitxml=/abs/x.xml", "-k", "x"]


def test_an_ignored_module_stays_ignored_in_each_engines_folder(pytester: pytest.Pytester,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A child works in its engine's folder from the start: a relative --ignore must still name the file."""
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n",
                        test_broken="import no_such_module_here\n")
    result = pytester.runpytest_subprocess("--dropin=turso", "--report-dir=out", "--ignore=test_broken.py")
    assert result.ret == 0, result.stdout.str()
    doc = json.loads((pytester.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    assert [(r["nodeid"], r["category"]) for r in doc["dropin"]["tests"]] == [("test_ok.py::test_ok", "same")]
