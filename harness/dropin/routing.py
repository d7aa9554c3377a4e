"""Route `sqlite3`, `aiosqlite` and SQLAlchemy's SQLite URLs to pyturso for one process, and undo it.

The real modules stay in `sys.modules`; their attributes are replaced in place (so `import sqlite3`
anywhere, at any time, sees turso), and every global that already holds one of the original objects
(`from sqlite3 import connect` done before routing) is rebound. `uninstall()` restores every patch.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import sqlite3.dbapi2
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stc_harness.dropin.connect import adapted_aio_connect, adapted_connect
from stc_harness.dropin.dialects import dialect_classes
from stc_harness.dropin.imports import forget, on_import
from stc_harness.dropin.patches import Patches
from stc_harness.dropin.probes import ProbedModule
from stc_harness.dropin.shims import ENGINE_FREE, MISSING_SQLITE3, shim_for
from stc_harness.errors import UsageError

#: SQLAlchemy dialect names the drop-in routes, and which of pyturso's dialects each reaches.
SA_ROUTES = {"sqlite": "sync", "sqlite.pysqlite": "sync", "sqlite.aiosqlite": "async",
             # pyturso's own names too: code (SQLAlchemy's test provisioning) that rebuilds a URL from the
             # dialect's driver name must reach the adapted dialect as well
             "sqlite.turso": "sync", "sqlite.aioturso": "async"}
#: SQLite drivers SQLAlchemy knows that the drop-in cannot route.
SA_UNROUTABLE = ("sqlite.pysqlcipher",)


class RoutingError(UsageError):
    """Something cannot be routed to pyturso; the message names the fix."""


@dataclass
class Routing:
    """The patches of one routing installation, so that `uninstall()` restores exactly what was there."""

    adapt: bool = True
    lookup: Callable[[str], list[str]] = field(default=lambda name: [])
    #: Route aiosqlite and SQLAlchemy when the suite first imports them (a child run), not at once.
    lazy: bool = False
    patches: Patches = field(default_factory=Patches)
    routed: list[str] = field(default_factory=list)

    def _set(self, target: Any, name: str, value: Any) -> None:
        self.patches.set(target, name, value)

    def _set_item(self, mapping: dict[str, Any], name: str, value: Any) -> None:
        self.patches.set_item(mapping, name, value)

    def install(self) -> Routing:
        """Route every installed client library; raise RoutingError (all undone) for one that cannot be."""
        try:
            return self._install()
        except BaseException:
            self.uninstall()
            raise

    def _install(self) -> Routing:
        import turso

        replaced: dict[int, Any] = {}
        sqlite_names = self._sqlite3_names(turso)
        # names only a stand-in provides: absent to hasattr() as on plain Turso (stc_harness.dropin.probes)
        hidden = frozenset(n for n in sqlite_names if n in MISSING_SQLITE3 and not hasattr(turso, n))
        for module in (sqlite3, sqlite3.dbapi2):
            for name, value in sqlite_names.items():
                if hasattr(module, name):
                    replaced[id(getattr(module, name))] = value
                self._set(module, name, value)
            self._set(module, "__class__", ProbedModule)
        self._set(ProbedModule, "hidden", hidden)
        self._keep_turso_row_check(turso)
        self.routed.append("sqlite3")
        self.patches.rebind(replaced)
        if importlib.util.find_spec("aiosqlite") is not None:
            self._when_imported("aiosqlite", lambda: self.patches.rebind(self._route_aiosqlite(sqlite_names)))
            self.routed.append("aiosqlite")
        if importlib.util.find_spec("sqlalchemy") is not None:
            self._when_imported("sqlalchemy", self._route_sqlalchemy)
            self.routed.append("sqlalchemy")
        return self

    def _when_imported(self, name: str, route: Callable[[], None]) -> None:
        if self.lazy:
            on_import(name, route)
        else:
            route()

    def _sqlite3_names(self, turso: Any) -> dict[str, Any]:
        """What each routed sqlite3 name becomes: turso's object, the stdlib's (engine-free), or a shim."""
        names: dict[str, Any] = {}
        for name in (n for n in dir(sqlite3) if not n.startswith("_")):
            if hasattr(turso, name):
                names[name] = getattr(turso, name)
            elif name in MISSING_SQLITE3:
                names[name] = shim_for(f"sqlite3.{name}", MISSING_SQLITE3[name], self.lookup)
            elif name in ENGINE_FREE or name.startswith("SQLITE_") or name == "dbapi2":
                continue
        if self.adapt:
            names["connect"] = adapted_connect
        return names

    def _keep_turso_row_check(self, turso: Any) -> None:
        """pyturso refuses `sys.modules['sqlite3'].Row` as row_factory: keep that aimed at the stdlib Row."""
        lib = sys.modules.get("turso.lib")
        stdlib_row = next((old for t, n, old, _ in self.patches.attrs if t is sqlite3 and n == "Row"), None)
        if lib is None or not hasattr(lib, "_reject_stdlib_row_factory") or stdlib_row is None:
            return

        def reject(rf: Any) -> None:
            if isinstance(rf, type) and issubclass(rf, stdlib_row) and not issubclass(rf, turso.Row):
                raise TypeError("sqlite3.Row is not supported as a row_factory on turso connections; "
                                "use turso.Row instead")

        self._set(lib, "_reject_stdlib_row_factory", reject)

    def _route_aiosqlite(self, sqlite_names: dict[str, Any]) -> dict[int, Any]:
        import aiosqlite
        import aiosqlite.core
        import turso.aio

        names = {"connect": adapted_aio_connect if self.adapt else turso.aio.connect,
                 "Connection": turso.aio.Connection, "Cursor": turso.aio.Cursor}
        for name in ("Row", "Error", "Warning", "DatabaseError", "IntegrityError", "NotSupportedError",
                     "OperationalError", "ProgrammingError", "sqlite_version", "sqlite_version_info",
                     "register_adapter", "register_converter", "paramstyle"):
            if name in sqlite_names:
                names[name] = sqlite_names[name]
        replaced = {}
        for module in (aiosqlite, aiosqlite.core):
            for name, value in names.items():
                if hasattr(module, name):
                    replaced[id(getattr(module, name))] = value
                    self._set(module, name, value)
        return replaced

    def _route_sqlalchemy(self) -> None:
        try:
            import sqlalchemy
            from sqlalchemy.dialects import registry
        except ImportError as exc:  # pragma: no cover - a broken install
            raise RoutingError(f"SQLAlchemy is installed but does not import ({exc}); fix the install "
                               "or uninstall it") from exc
        try:
            import turso.sqlalchemy  # noqa: F401
        except ImportError as exc:
            raise RoutingError(
                f"SQLAlchemy {sqlalchemy.__version__} is installed but pyturso's SQLAlchemy dialects do "
                f"not load ({exc}); fix: pip install 'sqlalchemy>=2.0.45,<2.2' (or the drop-in extra: "
                "pip install 'sqlite-turso-conformance[clients]')") from exc
        sync_cls, async_cls = dialect_classes(self.adapt)
        for name, kind in SA_ROUTES.items():
            cls = sync_cls if kind == "sync" else async_cls
            self._set_item(registry.impls, name, lambda cls=cls: cls)
        for name in SA_UNROUTABLE:
            self._set_item(registry.impls, name, _unroutable(name))

    def suspended(self) -> Any:
        """A context in which nothing is routed (the harness's own backends run a test on SQLite)."""
        return self.patches.suspended()

    def uninstall(self) -> None:
        """Restore every patched attribute and rebound global, newest first."""
        forget("aiosqlite")
        forget("sqlalchemy")
        self.patches.undo()
        self.routed.clear()




def _unroutable(name: str) -> Callable[[], Any]:
    def load() -> Any:
        raise RoutingError(f"SQLAlchemy URL driver {name.replace('.', '+')!r} cannot be routed to Turso by "
                           "the drop-in mode (only sqlite://, sqlite+pysqlite:// and sqlite+aiosqlite:// "
                           "are); fix: use one of those URLs in the suite, or run it without --dropin")

    return load
