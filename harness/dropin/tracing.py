"""Install the call trace on one engine's side: the same API names on SQLite and on Turso.

On SQLite the stdlib's C classes cannot be patched, so `sqlite3.connect` hands out traced subclasses
(`factory=`), which keeps `isinstance(conn, sqlite3.Connection)` true; aiosqlite's Python classes are
patched in place. On Turso, pyturso's Python classes are patched in place (the routing has already made
them `sqlite3.Connection` etc.). SQLAlchemy's statements are recorded where every dialect sends them,
`DefaultDialect.do_execute*`, so dialect-specific DBAPI calls underneath do not count.
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stc_harness.dropin.imports import forget, on_import
from stc_harness.dropin.patches import Patches
from stc_harness.dropin.probes import HiddenFromProbes
from stc_harness.dropin.stand_ins import (
    NOT_SUPPLIED,
    adapter_attribute,
    adapting,
    emulated_register_adapter,
    inert,
    missing_getattr,
    module_getattr,
)
from stc_harness.dropin.wrappers import (
    async_wrapper,
    property_wrapper,
    sa_connect_wrapper,
    sa_isolation_wrapper,
    sa_wrapper,
    sync_wrapper,
)

#: Connection methods both sync and async modules have (sqlite3's and aiosqlite's names).
_SHARED_METHODS = ("cursor", "execute", "executemany", "executescript", "commit", "rollback", "close",
                   "create_function", "set_trace_callback", "set_authorizer", "set_progress_handler",
                   "iterdump", "backup", "enable_load_extension", "load_extension", "interrupt")
CONNECTION_METHODS = (*_SHARED_METHODS, "create_aggregate", "create_collation", "create_window_function",
                      "blobopen", "serialize", "deserialize", "getlimit", "setlimit", "__enter__", "__exit__")
CONNECTION_PROPERTIES = ("in_transaction", "total_changes")
CURSOR_METHODS = ("execute", "executemany", "executescript", "fetchone", "fetchmany", "fetchall", "close",
                  "__next__")
CURSOR_PROPERTIES = ("rowcount", "lastrowid", "description")
AIO_CONNECTION_METHODS = (*_SHARED_METHODS, "execute_fetchall", "execute_insert", "__aenter__", "__aexit__")
AIO_CURSOR_METHODS = ("execute", "executemany", "executescript", "fetchone", "fetchmany", "fetchall",
                      "close", "__anext__")
MODULE_FUNCTIONS = (
    "connect",
    "register_adapter",
    "register_converter",
    "complete_statement",
    "adapt",
    "enable_callback_tracebacks",
    "enable_shared_cache",
)
#: Methods that only register a callback: missing on Turso, they are made inert (the run goes on and
#: the first statement that needs the callback shows the next difference). The rest raise as they would.
INERT_METHODS = (
    "create_function",
    "create_aggregate",
    "create_collation",
    "create_window_function",
    "set_trace_callback",
    "set_authorizer",
    "set_progress_handler",
    "enable_load_extension",
)
INERT_FUNCTIONS = (
    "register_adapter",
    "register_converter",
    "enable_callback_tracebacks",
    "enable_shared_cache",
)
#: Where every SQLAlchemy dialect executes a statement, opens a DBAPI connection and sets its isolation
#: level (`DefaultDialect`'s methods), and the wrapper that records each.
SA_DIALECT_METHODS: tuple[tuple[str, Callable[[Callable[..., Any]], Callable[..., Any]]], ...] = (
    ("do_execute", sa_wrapper),
    ("do_executemany", sa_wrapper),
    ("do_execute_no_params", sa_wrapper),
    ("connect", sa_connect_wrapper),
    ("_assert_and_set_isolation_level", sa_isolation_wrapper),
)
#: What SQLAlchemy's aiosqlite dialect reads off its DBAPI adapter beyond the DB-API (SQLAlchemy 2.1:
#: `has_stop`, whether the driver's connection has stop(), read when an engine is made). Traced on
#: SQLAlchemy's own adapter and on pyturso's, which stands in for it on Turso and may lack them.
SA_ADAPTER_NAMES = ("has_stop",)


@dataclass
class Tracing:
    """The trace wrappers of one side (`sqlite` or `turso`); `uninstall()` removes them all."""

    engine: str
    adapt: bool = True
    patches: Patches = field(default_factory=Patches)
    adaptations: list[str] = field(default_factory=list)

    def install(self) -> Tracing:
        """Wrap the modules, classes and SQLAlchemy's execution path of this side (or of both: `both`)."""
        if self.engine in ("turso", "both"):
            self._turso_classes()
            self._missing_module_names()
        if self.engine == "both":
            self._turso_modules()
        replaced: dict[int, Any] = {}
        for name in MODULE_FUNCTIONS:
            current = getattr(sqlite3, name, None)
            if current is None:
                continue
            if self.engine == "turso" and self.adapt and name == "register_adapter":
                new = emulated_register_adapter()
                self.adaptations.append("sqlite3.register_adapter")
            elif self.engine == "turso" and self.adapt and name in INERT_FUNCTIONS:
                new = inert(f"sqlite3.{name}")
                self.adaptations.append(f"sqlite3.{name}")
            else:
                new = sync_wrapper(
                    f"sqlite3.{name}",
                    self._sqlite_connect(current)
                    if (name == "connect" and self.engine not in ("turso", "libsql"))  # no factory=
                    else current,
                    False,
                )
            replaced[id(current)] = new
            for module in (sqlite3, sqlite3.dbapi2):
                if hasattr(module, name):
                    self.patches.set(module, name, new)
        self.patches.rebind(replaced)
        on_import("aiosqlite", self._aiosqlite)
        on_import("sqlalchemy.engine.default", self._sqlalchemy)
        if self.engine in ("sqlite", "both"):
            on_import("sqlalchemy.dialects.sqlite.aiosqlite", self._sqlalchemy_aiosqlite_adapter)
        if self.engine in ("turso", "both"):
            on_import("turso.sqlalchemy.dialect", self._turso_aio_adapter)
        return self

    def uninstall(self) -> None:
        """Remove every wrapper (and stop waiting for modules not imported yet)."""
        forget("aiosqlite")
        forget("sqlalchemy.engine.default")
        forget("sqlalchemy.dialects.sqlite.aiosqlite")
        forget("turso.sqlalchemy.dialect")
        self.patches.undo()

    # --- SQLite side --------------------------------------------------------------------------------

    def _sqlite_connect(self, connect: Callable[..., Any]) -> Callable[..., Any]:
        """sqlite3.connect handing out traced subclasses of the factory asked for."""

        @functools.wraps(connect)
        def traced_connect(database: Any, *args: Any, **kwargs: Any) -> Any:
            if len(args) >= 5:
                args = (*args[:4], traced_connection_class(args[4]), *args[5:])
            else:
                kwargs["factory"] = traced_connection_class(kwargs.get("factory") or sqlite3.Connection)
            return connect(database, *args, **kwargs)

        return traced_connect

    # --- Turso side ---------------------------------------------------------------------------------

    def _missing_module_names(self) -> None:
        """A failed lookup of a module-level name on pyturso's modules is recorded (as `sqlite3.<name>`)."""
        import turso
        import turso.aio

        for module, shown in ((turso, "sqlite3"), (turso.aio, "aiosqlite")):
            if "__getattr__" not in vars(module):
                self.patches.set(module, "__getattr__", module_getattr(module.__name__, shown))

    def _turso_modules(self) -> None:
        """pyturso's own connect functions, under the names of the modules they stand for."""
        import turso
        import turso.aio

        for module, name, shown in (
            (turso, "connect", "sqlite3.connect"),
            (turso.aio, "connect", "aiosqlite.connect"),
        ):
            self.patches.set(module, name, sync_wrapper(shown, getattr(module, name), False))

    def _turso_classes(self) -> None:
        import turso.lib
        import turso.lib_aio

        self._patch_class(turso.lib.Connection, "Connection", CONNECTION_METHODS, CONNECTION_PROPERTIES)
        if self.adapt and self.engine == "turso":  # beneath the trace: what the code passed is what is shown
            for name, many in (("execute", False), ("executemany", True)):
                self.patches.set(turso.lib.Cursor, name, adapting(getattr(turso.lib.Cursor, name), many))
        self._patch_class(turso.lib.Cursor, "Cursor", CURSOR_METHODS, CURSOR_PROPERTIES)
        self._patch_class(
            turso.lib_aio.Connection,
            "aio.Connection",
            AIO_CONNECTION_METHODS,
            CONNECTION_PROPERTIES,
            asynchronous=True,
        )
        self._patch_class(
            turso.lib_aio.Cursor, "aio.Cursor", AIO_CURSOR_METHODS, CURSOR_PROPERTIES, asynchronous=True
        )

    def _patch_class(
        self,
        cls: type,
        kind: str,
        methods: tuple[str, ...],
        properties: tuple[str, ...],
        asynchronous: bool = False,
        rewrap: Callable[[Any], Any] | None = None,
    ) -> None:
        for name in methods:
            current = getattr(cls, name, None)
            if current is None:
                if self.engine == "turso" and self.adapt and name in INERT_METHODS:
                    stand_in = inert(f"{kind}.{name}", asynchronous, method=True)
                    self.patches.set(cls, name, HiddenFromProbes(stand_in))
                    self.adaptations.append(f"{kind}.{name}")
                continue
            inner = getattr(current, "__wrapped__", None)
            if inspect.iscoroutinefunction(current):
                wrapped = async_wrapper(f"{kind}.{name}", current)
            elif rewrap is not None and inspect.iscoroutinefunction(inner):
                wrapped = rewrap(async_wrapper(f"{kind}.{name}", inner))  # aiosqlite's awaitable-or-context
            else:
                wrapped = sync_wrapper(f"{kind}.{name}", current, True)
            self.patches.set(cls, name, wrapped)
        for name in properties:
            descriptor = inspect.getattr_static(cls, name, None)
            if isinstance(descriptor, property) and descriptor.fget is not None:
                self.patches.set(
                    cls, name, property_wrapper(f"{kind}.{name}", descriptor.fget, descriptor.fset)
                )
        if "__getattr__" not in vars(cls):
            self.patches.set(cls, "__getattr__", missing_getattr(kind))

    # --- client libraries, when the suite imports them ----------------------------------------------

    def _aiosqlite(self) -> None:
        import aiosqlite.context
        import aiosqlite.core
        import aiosqlite.cursor

        if self.engine != "turso":  # on Turso the routing made aiosqlite's classes turso.aio's, patched above
            self._patch_class(
                aiosqlite.core.Connection,
                "aio.Connection",
                AIO_CONNECTION_METHODS,
                CONNECTION_PROPERTIES,
                asynchronous=True,
                rewrap=aiosqlite.context.contextmanager,
            )
            self._patch_class(
                aiosqlite.cursor.Cursor,
                "aio.Cursor",
                AIO_CURSOR_METHODS,
                CURSOR_PROPERTIES,
                asynchronous=True,
            )
        current = aiosqlite.connect
        new = sync_wrapper("aiosqlite.connect", current, False)
        for module in (aiosqlite, aiosqlite.core):
            if getattr(module, "connect", None) is current:
                self.patches.set(module, "connect", new)
        self.patches.rebind({id(current): new})

    def _sqlalchemy_aiosqlite_adapter(self) -> None:
        from sqlalchemy.dialects.sqlite import aiosqlite

        for name in SA_ADAPTER_NAMES:
            self.patches.set(aiosqlite.AsyncAdapt_aiosqlite_dbapi, name,
                             adapter_attribute(f"sqlalchemy.dbapi.{name}", name))

    def _turso_aio_adapter(self) -> None:
        import turso.aio
        from turso.sqlalchemy import dialect

        # what SQLAlchemy's own adapter would answer for turso.aio
        answers = {"has_stop": hasattr(turso.aio.Connection, "stop")}
        adapt = self.adapt and self.engine == "turso"
        for name in SA_ADAPTER_NAMES:
            supplied = answers.get(name, NOT_SUPPLIED) if adapt else NOT_SUPPLIED
            self.patches.set(dialect.AsyncAdapt_turso_dbapi, name,
                             adapter_attribute(f"sqlalchemy.dbapi.{name}", name, supplied))

    def _sqlalchemy(self) -> None:
        from sqlalchemy.engine import default

        for name, wrap in SA_DIALECT_METHODS:
            current = vars(default.DefaultDialect).get(name)
            if current is not None:
                self.patches.set(default.DefaultDialect, name, wrap(current))


# --- traced subclasses of the stdlib's C classes --------------------------------------------------------

_CLASSES: dict[type, type] = {}


def _traced_subclass(
    base: type, kind: str, methods: tuple[str, ...], properties: tuple[str, ...], extra: dict[str, Any]
) -> type:
    namespace: dict[str, Any] = {"__module__": base.__module__, "__doc__": base.__doc__, **extra}
    for name in methods:
        current = getattr(base, name, None)
        if current is not None and name not in extra:
            namespace[name] = sync_wrapper(f"{kind}.{name}", current, True)
    for name in properties:
        descriptor = getattr(base, name, None)
        if descriptor is not None and hasattr(descriptor, "__get__"):
            namespace[name] = property_wrapper(
                f"{kind}.{name}", functools.partial(_get_descriptor, descriptor)
            )
    namespace["__getattr__"] = missing_getattr(kind)
    return type(base.__name__, (base,), namespace)


def _get_descriptor(descriptor: Any, obj: Any) -> Any:
    return descriptor.__get__(obj, type(obj))


def traced_cursor_class(base: type) -> type:
    """A traced subclass of a sqlite3.Cursor class (cached)."""
    cls = _CLASSES.get(base)
    if cls is None:
        cls = _CLASSES[base] = _traced_subclass(base, "Cursor", CURSOR_METHODS, CURSOR_PROPERTIES, {})
    return cls


def traced_connection_class(base: Any) -> Any:
    """A traced subclass of a sqlite3.Connection class (cached); anything else is returned as it is."""
    if not isinstance(base, type) or not issubclass(base, sqlite3.Connection) or base in _CLASSES.values():
        return base
    cls = _CLASSES.get(base)
    if cls is None:
        base_cursor = base.cursor

        def cursor(self: Any, factory: Any = None) -> Any:
            factory = sqlite3.Cursor if factory is None else factory
            if isinstance(factory, type) and issubclass(factory, sqlite3.Cursor):
                factory = traced_cursor_class(factory)
            return base_cursor(self, factory)

        # The C methods make their cursor without calling self.cursor(): do what they do, through it.
        def execute(self: Any, sql: str, parameters: Any = (), /) -> Any:
            cur = self.cursor()
            cur.execute(sql, parameters)
            return cur

        def executemany(self: Any, sql: str, parameters: Any, /) -> Any:
            cur = self.cursor()
            cur.executemany(sql, parameters)
            return cur

        def executescript(self: Any, script: str, /) -> Any:
            cur = self.cursor()
            cur.executescript(script)
            return cur

        own: dict[str, Callable[..., Any]] = {"cursor": cursor}
        for name, fn in (
            ("execute", execute),
            ("executemany", executemany),
            ("executescript", executescript),
        ):
            if getattr(base, name) is getattr(sqlite3.Connection, name):  # a user's override stays theirs
                own[name] = fn
        cls = _CLASSES[base] = _traced_subclass(
            base,
            "Connection",
            CONNECTION_METHODS,
            CONNECTION_PROPERTIES,
            {name: sync_wrapper(f"Connection.{name}", fn, True) for name, fn in own.items()},
        )
    return cls
