"""A library's import-time calls belong to every test module that needs the library, not only the first."""

from __future__ import annotations

import json
import types

import pytest

from conftest import clear_xdist_env
from stc_harness.dropin.imports_needed import Needs, references

APP_DB = """\
import sqlite3

sqlite3.enable_callback_tracebacks(True)  # at import, unguarded: plain Turso stops here


class Store:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.conn.execute("create table if not exists kv (k, v)")

    def shrink(self):
        self.conn.execute("VACUUM")
"""
TEST_A = """\
from app.db import Store


def test_a_store_opens(tmp_path):
    assert Store(str(tmp_path / "a.db")).conn.execute("select count(*) from kv").fetchone() == (0,)
"""
TEST_B = """\
from app import db


def test_b_store_shrinks(tmp_path):
    db.Store(str(tmp_path / "b.db")).shrink()
"""
TEST_C = """\
import json


def test_c_needs_no_store():
    assert json.loads("1") == 1
"""


def test_a_module_refers_to_what_it_imported_and_to_the_modules_of_its_objects() -> None:
    lib = types.ModuleType("lib")
    exec("class Store:\n    pass\n", lib.__dict__)  # a module made up for the test
    lib.Store.__module__ = "lib"
    mid = types.ModuleType("mid")
    mid.Store = lib.Store  # re-exported, as a package's __init__ does
    user = types.ModuleType("user")
    user.mid, user.instance, user.text = mid, lib.Store(), "just a string"
    assert {"mid", "lib", "builtins"} <= references(user)
    needs = Needs({"lib": lib, "mid": mid, "user": user})
    assert needs.reaches("user", {"lib", "other"}) == {"lib"}
    assert needs.reaches("lib", {"lib"}) == set()


def test_each_test_module_needing_the_library_meets_its_import_wall(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_xdist_env(monkeypatch)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n"
                     "asyncio_default_fixture_loop_scope = function\npythonpath = .\n")
    pytester.mkpydir("app")
    (pytester.path / "app" / "db.py").write_text(APP_DB, encoding="utf-8")
    pytester.makepyfile(test_a=TEST_A, test_b=TEST_B, test_c=TEST_C)
    pytester.runpytest_subprocess("--dropin=turso", "--report-dir=out")
    doc = json.loads((pytester.path / "out" / "dropin.json").read_text(encoding="utf-8"))
    rows = {r["nodeid"].split("::")[-1]: r for r in doc["dropin"]["tests"]}
    # test_a imported app.db first, test_b needs it too: both pass only thanks to the inert name ...
    assert rows["test_a_store_opens"]["adapted_by"] == ["sqlite3.enable_callback_tracebacks"]
    assert rows["test_c_needs_no_store"]["category"] == "same"
    b = rows["test_b_store_shrinks"]
    assert b["category"] == "turso-only", b
    # ... and test_b's first wall is that import-time call, with the VACUUM behind it
    divergences = b["evidence"]["divergences"]
    assert (divergences[0]["call"], divergences[0]["kind"]) == ("sqlite3.enable_callback_tracebacks",
                                                                "missing-name"), divergences[0]
    assert divergences[0]["where"] == "app/db.py:3"
    assert any(d["args"].startswith("'VACUUM'") for d in divergences[1:]), divergences
