"""The error classifiers on constructed raw exceptions (wrapped as each driver wraps them), the Turso
toggle and encryption options, and an end-to-end search of a real run for the encryption key.

The rows of `001_312a5f9792b0f890.txt`'s error table are triggered for real by `suites/engine/test_errors.py`
(`errors.table_*`); here each row is also pinned on a constructed exception, so a classifier change
that breaks a row fails even where the engine cannot produce that error.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from stc_backends import sqlite as sqlite_backend
from stc_harness.adapters.urls import parse_url
from stc_harness.errors import ErrorKind, UsageError

turso_lib = pytest.importorskip("turso.lib")
engine = pytest.importorskip("turso._turso")
turso_backend = pytest.importorskip("stc_backends.turso")

ROOT = Path(__file__).resolve().parent.parent


def unexported(name: str) -> type[Exception]:
    """A stand-in for an engine variant pyturso does not export (BusySnapshot, IoError): module `turso`."""
    return type(name, (Exception,), {"__module__": "turso"})


def as_pyturso_raises(engine_exc: BaseException) -> BaseException:
    """What pyturso raises for an engine exception: `raise _map_turso_exception(exc)` inside `except`."""
    try:
        try:
            raise engine_exc
        except Exception as exc:  # noqa: BLE001 - exactly as pyturso does
            raise turso_lib._map_turso_exception(exc)  # noqa: B904
    except BaseException as raised:  # noqa: BLE001
        return raised
    raise AssertionError("unreachable")


def turso_kind(engine_exc: BaseException) -> ErrorKind:
    """The harness's kind for an engine exception raised through pyturso."""
    return turso_backend.classify(as_pyturso_raises(engine_exc)).kind


# --- the seed's table, row by row ------------------------------------------------------------------


@pytest.mark.parametrize(("engine_exc", "kind"), [
    pytest.param(engine.Busy("database is locked"), ErrorKind.SERIALIZATION_FAILURE, id="Busy"),
    pytest.param(unexported("BusySnapshot")("database snapshot is stale, rollback and retry the transaction"),
                 ErrorKind.SERIALIZATION_FAILURE, id="BusySnapshot"),
    pytest.param(engine.Error("Write-write conflict"), ErrorKind.SERIALIZATION_FAILURE, id="Error-conflict"),
    pytest.param(engine.Readonly("database is readonly"), ErrorKind.READ_ONLY, id="Readonly"),
    pytest.param(unexported("IoError")("open: NotFound"), ErrorKind.CONNECTION_LOST, id="IoError"),
    pytest.param(engine.Error("integer overflow"), ErrorKind.DRIVER_OPERATION_FAILED, id="other-Error"),
    pytest.param(engine.DatabaseFull("database or disk is full"), ErrorKind.DRIVER_OPERATION_FAILED,
                 id="other-DatabaseFull"),
])
def test_seed_error_table_rows(engine_exc: BaseException, kind: ErrorKind) -> None:
    assert turso_kind(engine_exc) is kind


def test_variant_and_class_are_kept() -> None:
    err = turso_backend.classify(as_pyturso_raises(engine.Busy("database is locked")))
    assert (err.raw.cls, err.raw.variant) == ("turso.lib.OperationalError", "Busy")
    snapshot = turso_backend.classify(as_pyturso_raises(unexported("BusySnapshot")("stale")))
    assert (snapshot.raw.cls, snapshot.raw.variant) == ("turso.BusySnapshot", "BusySnapshot")


def test_conflict_in_a_parse_error_is_not_a_serialization_failure() -> None:
    kind = turso_kind(engine.Error("Parse error: ON CONFLICT clause does not match any constraint"))
    assert kind is not ErrorKind.SERIALIZATION_FAILURE


# --- the harness's finer kinds ------------------------------------------------------------------------


@pytest.mark.parametrize(("engine_exc", "kind"), [
    (engine.Constraint("UNIQUE constraint failed: t.x"), ErrorKind.UNIQUE_VIOLATION),
    (engine.Constraint("FOREIGN KEY constraint failed"), ErrorKind.FOREIGN_KEY_VIOLATION),
    (engine.Constraint("cannot store TEXT value in INTEGER column t.i (19)"), ErrorKind.DATATYPE_MISMATCH),
    (engine.Constraint("some new constraint"), ErrorKind.CONSTRAINT_VIOLATION),
    (engine.Interrupt("interrupted"), ErrorKind.INTERRUPTED),
    (engine.Misuse("bind index 2 is out of bounds"), ErrorKind.PARAMETER),
    (engine.Misuse("something else"), ErrorKind.MISUSE),
    (engine.NotAdb("file is not a database"), ErrorKind.NOT_A_DATABASE),
    (engine.Corrupt("database disk image is malformed"), ErrorKind.NOT_A_DATABASE),
    (engine.Error('near "SELEC": syntax error'), ErrorKind.SYNTAX),
    (engine.Error("Parse error: no such table: t"), ErrorKind.NO_SUCH_TABLE),
    (engine.Error("Parse error: table t already exists"), ErrorKind.DRIVER_OPERATION_FAILED),
    (engine.Error("Parse error: malformed JSON"), ErrorKind.DRIVER_OPERATION_FAILED),
    (engine.Error("Parse error: no such function: f"), ErrorKind.UNSUPPORTED),
    (engine.Error("Parse error: ATTACH is an experimental feature. Enable with --experimental-attach flag"),
     ErrorKind.UNSUPPORTED),
    (engine.Error("Parse error: Custom types require --experimental-custom-types flag"),
     ErrorKind.UNSUPPORTED),
    (engine.Error("Parse error: Cannot execute write statement in query_only mode"), ErrorKind.READ_ONLY),
    (engine.Error("Transaction error: cannot commit - no transaction is active"),
     ErrorKind.TRANSACTION_STATE),
    (engine.Error("Decryption failed for page=1"), ErrorKind.ENCRYPTION),
    (engine.Error("Invalid key size for Aes256Gcm: expected 32 bytes, got 16"), ErrorKind.ENCRYPTION),
    (engine.Error("Unknown cipher name: x"), ErrorKind.ENCRYPTION),
    (engine.Error("Locking error: Failed locking file '/x.db'. File is locked by another process"),
     ErrorKind.CANT_OPEN),
    (engine.Error("Internal error: Connection closed"), ErrorKind.CLOSED),
])
def test_turso_finer_kinds(engine_exc: BaseException, kind: ErrorKind) -> None:
    assert turso_kind(engine_exc) is kind


def test_turso_programming_error_is_misuse() -> None:
    err = turso_backend.classify(turso_lib.ProgrammingError("no SQL statements to execute"))
    assert (err.kind, err.raw.variant) == (ErrorKind.MISUSE, None)


def test_turso_panic() -> None:
    panic = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})("boom")
    assert turso_backend.classify(panic).kind is ErrorKind.PANIC


# --- SQLite: result-code names first, then messages --------------------------------------------------


def sqlite_error(cls: type[Exception], message: str, errorname: str | None) -> Exception:
    """A sqlite3 exception as the C module raises it (with `sqlite_errorname` when it has one)."""
    exc = cls(message)
    if errorname is not None:
        exc.sqlite_errorname = errorname  # type: ignore[attr-defined]
    return exc


@pytest.mark.parametrize(("exc", "kind"), [
    (sqlite_error(sqlite3.OperationalError, "database is locked", "SQLITE_BUSY"),
     ErrorKind.SERIALIZATION_FAILURE),
    (sqlite_error(sqlite3.OperationalError, "database is locked", "SQLITE_BUSY_SNAPSHOT"),
     ErrorKind.SERIALIZATION_FAILURE),
    (sqlite_error(sqlite3.OperationalError, "attempt to write a readonly database", "SQLITE_READONLY"),
     ErrorKind.READ_ONLY),
    (sqlite_error(sqlite3.OperationalError, "attempt to write a readonly database",
                  "SQLITE_READONLY_DBMOVED"), ErrorKind.READ_ONLY),
    (sqlite_error(sqlite3.OperationalError, "disk I/O error", "SQLITE_IOERR_SHORT_READ"),
     ErrorKind.CONNECTION_LOST),
    (sqlite_error(sqlite3.OperationalError, "unable to open database file", "SQLITE_CANTOPEN"),
     ErrorKind.CANT_OPEN),
    (sqlite_error(sqlite3.IntegrityError, "UNIQUE constraint failed: t.x", "SQLITE_CONSTRAINT_UNIQUE"),
     ErrorKind.UNIQUE_VIOLATION),
    (sqlite_error(sqlite3.IntegrityError, "cannot store TEXT value in INTEGER column t.i", "unknown"),
     ErrorKind.DATATYPE_MISMATCH),
    (sqlite_error(sqlite3.OperationalError, "no such table: t", "SQLITE_ERROR"), ErrorKind.NO_SUCH_TABLE),
    (sqlite_error(sqlite3.OperationalError, "integer overflow", "SQLITE_ERROR"),
     ErrorKind.DRIVER_OPERATION_FAILED),
    (sqlite_error(sqlite3.ProgrammingError, "Cannot operate on a closed database.", None), ErrorKind.CLOSED),
    (sqlite_error(sqlite3.ProgrammingError, "Incorrect number of bindings supplied.", None),
     ErrorKind.PARAMETER),
    (sqlite_error(sqlite3.ProgrammingError, "You can only execute one statement at a time.", None),
     ErrorKind.MISUSE),
])
def test_sqlite_kinds(exc: Exception, kind: ErrorKind) -> None:
    assert sqlite_backend.classify(exc).kind is kind


def test_sqlite_real_busy(tmp_path: Path) -> None:
    """A real SQLITE_BUSY from two stdlib connections (timeout 0), classified."""
    path = tmp_path / "busy.db"
    a = sqlite3.connect(path, timeout=0, isolation_level=None)
    b = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        a.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as info:
            b.execute("BEGIN IMMEDIATE")
        err = sqlite_backend.classify(info.value)
        assert (err.kind, err.raw.code) == (ErrorKind.SERIALIZATION_FAILURE, "SQLITE_BUSY")
    finally:
        a.close()
        b.close()


# --- Turso options: toggles and encryption ------------------------------------------------------------


def options(**kwargs: object) -> object:
    return turso_backend.parse_options(parse_url("turso::memory:", schemes=("turso",)), kwargs)


def test_unknown_toggle_is_a_usage_error_naming_it() -> None:
    with pytest.raises(UsageError, match="experimental_no_such") as info:
        options(experimental_no_such=True)
    for name in turso_backend.EXPERIMENTAL_TOGGLES:
        if name != "encryption":
            assert f"experimental_{name}" in str(info.value)


def test_unknown_toggle_in_the_list_form_too() -> None:
    with pytest.raises(UsageError, match="experimental_bogus"):
        options(experimental="attach,bogus")


def test_encryption_toggle_alone_needs_a_key() -> None:
    with pytest.raises(UsageError, match="EncryptionOpts"):
        options(experimental_encryption=True)


def test_toggles_map_to_pyturso_feature_names() -> None:
    opts = options(experimental_materialized_views=True, experimental_attach="true")
    assert opts.features() == "attach,views"  # type: ignore[attr-defined]


def test_key_is_redacted_everywhere_the_options_show() -> None:
    key = "ab" * 32
    opts = options(encryption={"cipher": "aes256gcm", "hexkey": key})
    for text in (repr(opts), str(opts), repr(opts.encryption), repr(opts.cache_key())):  # type: ignore[attr-defined]
        assert key not in text
    with pytest.raises(UsageError) as info:
        turso_backend.parse_options(parse_url(f"turso::memory:?hexkey={key}", schemes=("turso",)), {})
    assert key not in str(info.value)


# --- end to end: the key of a real run is nowhere in its report or output -----------------------------

#: Loaded by the inner run: makes `secrets.token_hex` derive its keys from a seed the test knows.
KEY_RECORDER = '''
import hashlib, itertools, os, secrets
_seed = os.environ["CLASSIFIER_TEST_KEY_SEED"]
_counter = itertools.count()
_made = []

def _token_hex(nbytes=None):
    n = 32 if nbytes is None else nbytes
    i = next(_counter)
    _made.append(i)
    return hashlib.sha256(f"{_seed}:{i}".encode()).hexdigest()[: 2 * n]

secrets.token_hex = _token_hex

def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"keys generated: {len(_made)}")
'''


def candidate_keys(seed: str, count: int) -> list[str]:
    """Every key the inner run made (16- and 32-byte prefixes of each derivation), both cases."""
    keys = []
    for i in range(count):
        full = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()
        for k in (full[:32], full[:64]):
            keys += [k, k.upper()]
    return keys


def test_encryption_key_never_in_report_or_output(project: pytest.Pytester,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    turso_backend.TursoBackend()  # importable and constructible, or this test is meaningless
    seed = os.urandom(16).hex()
    monkeypatch.setenv("CLASSIFIER_TEST_KEY_SEED", seed)
    shutil.copy(ROOT / "suites" / "engine" / "test_encryption.py", project.path / "test_encryption.py")
    registry = project.path / "reg"
    registry.mkdir()
    shutil.copy(ROOT / "suites" / "differences" / "encryption.toml", registry / "encryption.toml")
    project.makeconftest(KEY_RECORDER)
    reports = project.path / "reports"
    result = project.runpytest_subprocess("test_encryption.py", "-v", "-rA", f"--registry={registry}",
                                          f"--report-dir={reports}", "--backend=turso", "--backend=sqlite")
    output = "\n".join(result.outlines + result.errlines)
    made = re.search(r"keys generated: (\d+)", output)
    assert made, output[-2000:]
    count = int(made.group(1))
    assert count >= 10
    result.assert_outcomes(passed=16, skipped=16)
    texts = {"output": output}
    for path in reports.rglob("*"):
        if path.is_file():
            texts[str(path.relative_to(project.path))] = path.read_text(encoding="utf-8", errors="replace")
    assert {"reports/compatibility.json", "reports/compatibility.md"} <= set(texts)
    found = [(name, key[:6]) for key in candidate_keys(seed, count) for name, text in texts.items()
             if key in text]
    assert found == []


def test_several_statements_in_one_execute_is_misuse_whatever_the_python() -> None:
    """Python 3.10's sqlite3 raises sqlite3.Warning here, 3.11+ ProgrammingError: one kind for both."""
    import sqlite3

    from stc_backends.sqlite import classify as classify_sqlite
    from stc_harness.errors import ErrorKind

    message = "You can only execute one statement at a time."
    assert classify_sqlite(sqlite3.Warning(message)).kind is ErrorKind.MISUSE
    assert classify_sqlite(sqlite3.ProgrammingError(message)).kind is ErrorKind.MISUSE
