"""`--dropin=libsql`: the drop-in's second engine is libSQL, the `libsql` module in place of `sqlite3`.

The routing replaces, in place, every `sqlite3` name the `libsql` module also has (`connect`, `Connection`,
`Cursor`, `Error`, `paramstyle`, `sqlite_version_info`, `LEGACY_TRANSACTION_CONTROL`); every other name
stays the stdlib's, so `except sqlite3.IntegrityError` meets libsql's plain `ValueError` exactly as an
application would. aiosqlite needs no routing (it calls `sqlite3.connect` in its thread, so it runs on
libsql), nor does SQLAlchemy's pysqlite dialect (it imports `sqlite3.dbapi2`). Nothing is adapted.

Tracing reuses the Turso side's in-place patching: libsql's classes accept new attributes, so their
methods are wrapped as pyturso's are; their attributes (`rowcount`, `lastrowid`, `description`,
`in_transaction`) are native descriptors, wrapped read-only. Not traced: libsql's `isolation_level`
(read and written by the driver's own code paths too) and the exceptions' classes (plain `ValueError`s,
shown by message).

The report is the drop-in report with the second engine called libSQL; causes are matched against
libSQL's own registry entries and check results (see `knowledge`), never Turso's.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import sqlite3
import sqlite3.dbapi2
from dataclasses import dataclass, field
from typing import Any

import pytest

from stc_harness.differences import Registry
from stc_harness.dropin.patches import Patches
from stc_harness.dropin.routing import RoutingError
from stc_harness.dropin.shims import ENGINE_FREE
from stc_harness.dropin.tracing import (
    CONNECTION_METHODS,
    CURSOR_METHODS,
    Tracing,
    property_wrapper,
)

#: The `--dropin` value, and the engine name its child runs get.
ENGINE = "libsql"
#: The drop-in's data keeps the second engine's slot under this key (its report shows libSQL).
SLOT = "turso"
#: Native attributes of libsql's classes traced as read-only properties.
CONNECTION_ATTRIBUTES = ("in_transaction",)
CURSOR_ATTRIBUTES = ("rowcount", "lastrowid", "description")
INSTALL = "pip install 'libsql>=0.1.5,<0.2' (or make, which installs the libsql plugin)"


def _libsql() -> Any:
    try:
        import libsql
    except ImportError as exc:
        raise RoutingError(f"--dropin=libsql: the libsql module does not import ({exc}); fix: {INSTALL}; it "
                           "ships wheels only (glibc Linux, macOS, Windows; none for musl/Alpine)") from exc
    return libsql


@dataclass
class LibsqlRouting:
    """`sqlite3`'s names libsql also has, replaced by libsql's in one process; `uninstall()` undoes it."""

    patches: Patches = field(default_factory=Patches)
    routed: list[str] = field(default_factory=list)

    def install(self) -> LibsqlRouting:
        """Route `sqlite3` (and `sqlite3.dbapi2`) to libsql; globals already holding a routed name follow."""
        libsql = _libsql()
        replaced: dict[int, Any] = {}
        for name in (n for n in dir(sqlite3) if not n.startswith("_") and n not in ENGINE_FREE):
            if not hasattr(libsql, name):
                continue
            for module in (sqlite3, sqlite3.dbapi2):
                if hasattr(module, name):
                    replaced[id(getattr(module, name))] = getattr(libsql, name)
                    self.patches.set(module, name, getattr(libsql, name))
        self.patches.rebind(replaced)
        self.routed.append("sqlite3")
        return self

    def uninstall(self) -> None:
        """Restore every routed name."""
        self.patches.undo()
        self.routed.clear()


class LibsqlTracing(Tracing):
    """The call trace on the libSQL side: `sqlite3`'s module functions and libsql's classes, in place."""

    def install(self) -> LibsqlTracing:
        """Wrap libsql's Connection and Cursor, then what every side wraps (module functions, clients)."""
        libsql = _libsql()
        for cls, kind, methods, attributes in (
                (libsql.Connection, "Connection", CONNECTION_METHODS, CONNECTION_ATTRIBUTES),
                (libsql.Cursor, "Cursor", CURSOR_METHODS, CURSOR_ATTRIBUTES)):
            self._patch_class(cls, kind, methods, ())
            for name in attributes:
                native = inspect.getattr_static(cls, name, None)
                if native is not None and hasattr(native, "__get__"):
                    self.patches.set(cls, name, property_wrapper(f"{kind}.{name}", _reader(native)))
        super().install()
        return self


def _reader(native: Any) -> Any:
    """A getter reading a native (pyo3) attribute descriptor."""

    def read(obj: Any) -> Any:
        return native.__get__(obj, type(obj))

    return read


def install_child(config: pytest.Config, trace: bool) -> None:
    """In a libSQL child run: route and (unless --dropin-notrace) trace, undone when the run ends."""
    try:
        routing = LibsqlRouting().install()
    except RoutingError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.add_cleanup(routing.uninstall)
    if trace:
        tracing = LibsqlTracing(ENGINE).install()
        config.add_cleanup(tracing.uninstall)


def check_routable() -> None:
    """Install and undo the routing once, so a missing libsql fails before any test runs."""
    try:
        LibsqlRouting().install().uninstall()
    except RoutingError as exc:
        raise pytest.UsageError(str(exc)) from None


def view(registry: Registry, checks: list[dict[str, Any]]) -> tuple[Registry, list[dict[str, Any]]]:
    """What explains a libSQL divergence: libSQL's own registry entries and libSQL's check results, each
    result in the slot the drop-in's explanation reads (so nothing of Turso's explains a libSQL failure)."""
    own = Registry([e for e in registry.entries.values() if ENGINE in e.expect])
    rows = []
    for row in checks:
        result = (row.get("results") or {}).get(ENGINE)
        if result is None:
            continue
        entry_id = (row.get("entries") or {}).get(ENGINE)
        entry = {"id": entry_id} if entry_id else (row.get("entry") if ENGINE in (
            (row.get("entry") or {}).get("expect") or {}) else None)
        rows.append({**row, "results": {SLOT: result}, "entry": entry})
    return own, rows


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def words(text: Any) -> Any:
    """Turso's name in a report text, as libSQL's."""
    if not isinstance(text, str):
        return text
    return (text.replace("pyturso", "libsql").replace("TURSO", "LIBSQL").replace("Turso", "libSQL")
            .replace("turso", "libsql"))


def relabel(doc: dict[str, Any]) -> dict[str, Any]:
    """The drop-in report of a libSQL run: the second engine named, versioned and described as libSQL."""
    libsql = _libsql()
    for backend in doc.get("backends", []):
        if backend.get("id") == SLOT:
            conn = libsql.connect(":memory:")
            try:
                engine = str(conn.execute("SELECT sqlite_version()").fetchall()[0][0])
            finally:
                conn.close()
            backend.update(id=ENGINE, name=ENGINE, driver="libsql", driver_version=_version("libsql"),
                           engine_version=engine)
    for section in doc.get("sections", []):
        if section.get("id") == "dropin-summary":
            section["intro"] = section.get("intro", "").replace("Adaptations on.", "No adaptations.")
        section["title"] = words(section.get("title"))
        section["intro"] = words(section.get("intro"))
        columns = section.get("columns", [])
        keep = {i for i, c in enumerate(columns) if c in ("test", "example test", "tests")}  # node ids
        section["columns"] = [words(c) for c in columns]
        section["rows"] = [[cell if i in keep else words(cell) for i, cell in enumerate(row)]
                           for row in section.get("rows", [])]
        if section.get("id") == "dropin-adaptations":
            section["intro"] = "None on libSQL: the libsql module is reached exactly as it is."
            section["rows"] = [[r[0], "no", *r[2:]] for r in section.get("rows", [])]
    doc.setdefault("dropin", {})["engine"] = ENGINE
    return doc
