"""SQLite file: URIs given to the drop-in's sqlite3.connect(uri=True); why a run that ended early stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from stc_harness.dropin.connect import adapted_connect
from stc_harness.dropin.runner import last_exception_line
from stc_harness.dropin.shims import MissingFeatureError
from stc_harness.dropin.uris import UnsupportedUri, path_for_uri


@pytest.mark.parametrize(("uri", "path"), [
    ("file:data.db", "data.db"),
    ("file:/tmp/a%20b.db?mode=rwc", "/tmp/a b.db"),
    ("file:///tmp/x.db", "/tmp/x.db"),
    ("file::memory:", ":memory:"),
    ("file:private?mode=memory", ":memory:"),
    ("file:private?mode=memory&cache=private", ":memory:"),
])
def test_uris_with_a_plain_path(uri: str, path: str) -> None:
    assert path_for_uri(uri) == path


def test_a_shared_memory_name_is_one_file_per_name() -> None:
    first = path_for_uri("file:memorydb_default?mode=memory&cache=shared")
    assert first == path_for_uri("file:memorydb_default?mode=memory&cache=shared")
    assert first != path_for_uri("file:memorydb_other?mode=memory&cache=shared")
    assert first != path_for_uri("file::memory:?cache=shared")
    assert Path(first).parent.is_dir()
    assert first.endswith(".db")


@pytest.mark.parametrize("uri", ["file:x.db?mode=ro", "file:x.db?mode=rw", "file:x.db?vfs=unix-none",
                                 "file:x.db?immutable=1", "file://host/x.db", "file:?mode=rwc"])
def test_uris_pyturso_cannot_honour_are_refused(uri: str) -> None:
    with pytest.raises(UnsupportedUri):
        path_for_uri(uri)


def test_connections_to_one_shared_memory_name_see_each_others_rows() -> None:
    uri = "file:shared_rows_test?mode=memory&cache=shared"
    writer = adapted_connect(uri, uri=True, isolation_level=None)
    reader = adapted_connect(uri, uri=True, isolation_level=None)
    try:
        writer.execute("CREATE TABLE t (x)")
        writer.execute("INSERT INTO t VALUES (42)")
        assert reader.execute("SELECT x FROM t").fetchall() == [(42,)]
    finally:
        writer.close()
        reader.close()


def test_a_private_memory_uri_is_not_shared() -> None:
    first = adapted_connect("file:private_rows?mode=memory", uri=True, isolation_level=None)
    second = adapted_connect("file:private_rows?mode=memory", uri=True, isolation_level=None)
    try:
        first.execute("CREATE TABLE t (x)")
        assert second.execute("SELECT count(*) FROM sqlite_master").fetchall() == [(0,)]
    finally:
        first.close()
        second.close()


def test_a_read_only_uri_names_the_registry_entries() -> None:
    with pytest.raises(MissingFeatureError, match=r"mode=ro.*driver_connect\.uri-mode-ro-refused"):
        adapted_connect("file:x.db?mode=ro", uri=True)


def test_last_exception_line_is_the_line_that_ended_the_last_traceback(tmp_path: Path) -> None:
    log = tmp_path / "turso.log"
    log.write_text("Traceback (most recent call last):\n  File \"a.py\", line 1\nValueError: first\n"
                   "some output\nTraceback (most recent call last):\n  File \"b.py\", line 2, in f\n"
                   "    g()\ndjango.db.utils.DatabaseError: no such function: f\n", encoding="utf-8")
    assert last_exception_line(log) == "django.db.utils.DatabaseError: no such function: f"
    log.write_text("no traceback here\n", encoding="utf-8")
    assert last_exception_line(log) is None
    assert last_exception_line(tmp_path / "missing.log") is None
