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
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stc_harness.dropin.imports import forget, on_import
from stc_harness.dropin.patches import Patches
from stc_harness.dropin.trace import (
    INERT,
    MISSING,
    OK,
    RAISE,
    TRACER,
    driver_caller,
    internal_caller,
    render,
    render_exception,
    render_sql,
    user_lines,
    volatile_sql,
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
_SQL_FIRST = ("execute", "executemany", "executescript", "execute_fetchall", "execute_insert")
_FETCH = ("fetchone", "fetchmany", "fetchall", "__next__", "__anext__", "execute_fetchall")
_READS = ("fetchone", "fetchmany", "fetchall", "__next__", "__anext__")

_QUIET = threading.local()


def args_text(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The arguments of a call as normalised text (the statement first for execute-like methods)."""
    parts: list[str] = []
    for i, value in enumerate(args):
        if i == 0 and method in _SQL_FIRST:
            parts.append(render_sql(value))
        elif isinstance(value, type):
            parts.append(value.__name__)
        elif callable(value):
            parts.append("<callable>")
        elif isinstance(value, (list, tuple, dict, str, bytes, int, float, type(None))) or _plain(value):
            parts.append(render(value))
        else:
            parts.append(f"<{type(value).__name__}>")
    parts.extend(
        f"{k}={'<callable>' if callable(v) and not isinstance(v, type) else render(v)}"
        for k, v in sorted(kwargs.items())
    )
    return ", ".join(parts)


def _plain(value: Any) -> bool:
    return type(value).__module__ in ("datetime", "decimal", "pathlib", "uuid")


def _result_text(method: str, result: Any, owner: Any) -> str:
    """A call's result as text (a fetch from a clock- or random-dependent statement: its shape only)."""
    if method in _FETCH:
        return render(result, shape_only=bool(getattr(owner, "_stc_volatile", False)))
    return render(result)


def _mark(owner: Any, method: str, args: tuple[Any, ...], result: Any) -> None:
    """Remember on the cursor its statement, and whether its results depend on the clock or randomness."""
    if method not in _SQL_FIRST or not args:
        return
    sql = args[0]
    flag = volatile_sql(str(sql))
    for target in (owner, result):
        if target is None or not hasattr(target, "fetchone"):  # cursors only, never a connection
            continue
        try:
            object.__setattr__(target, "_stc_volatile", flag)
            object.__setattr__(target, "_stc_sql", sql)
        except (AttributeError, TypeError):
            pass


def _fetch_args(owner: Any, leaf: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A fetch is shown with the statement whose rows it reads (and its own arguments, if any)."""
    sql = getattr(owner, "_stc_sql", None)
    own = args_text(leaf, args, kwargs)
    head = f"of {render_sql(sql)}" if sql is not None else ""
    return f"{head}, {own}".strip(", ") if own else head


def _quiet() -> bool:
    return getattr(_QUIET, "depth", 0) > 0


def sync_wrapper(qualname: str, fn: Callable[..., Any], method: bool) -> Callable[..., Any]:
    """`fn` recording one event per call from user code (never for the drivers' own calls)."""
    leaf = qualname.rsplit(".", 1)[-1]

    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        if not TRACER.enabled or _quiet() or internal_caller(frame):
            result = fn(*args, **kwargs)
            if method and args:
                _mark(args[0], leaf, args[1:], result)
            return result
        shown = args[1:] if method else args
        owner = args[0] if method and args else None
        show_walls(owner, frame)
        text = _fetch_args(owner, leaf, shown, kwargs) if leaf in _READS else args_text(leaf, shown, kwargs)
        try:
            result = fn(*args, **kwargs)
        except StopIteration:
            TRACER.add(qualname, text, OK, "StopIteration", frame)
            raise
        except BaseException as exc:
            TRACER.add(qualname, text, RAISE, render_exception(exc), frame)
            raise
        if owner is not None:
            _mark(owner, leaf, shown, result)
        TRACER.add(qualname, text, OK, _result_text(leaf, result, owner), frame)
        return result

    return traced


def async_wrapper(qualname: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine method recording one event when it completes (or raises)."""
    leaf = qualname.rsplit(".", 1)[-1]

    @functools.wraps(fn)
    async def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__") == "aiosqlite.context":
            frame = frame.f_back  # `async with conn.execute(...)` awaits through aiosqlite's Result
        record = TRACER.enabled and not internal_caller(frame)
        if record:
            show_walls(self, frame)
        text = (
            (_fetch_args(self, leaf, args, kwargs) if leaf in _READS else args_text(leaf, args, kwargs))
            if record
            else ""
        )
        try:
            result = await fn(self, *args, **kwargs)
        except StopAsyncIteration:
            if record:
                TRACER.add(qualname, text, OK, "StopAsyncIteration", frame)
            raise
        except BaseException as exc:
            if record:
                TRACER.add(qualname, text, RAISE, render_exception(exc), frame)
            raise
        _mark(self, leaf, args, result)
        if record:
            TRACER.add(qualname, text, OK, "await→" + _result_text(leaf, result, self), frame)
        return result

    return traced


def property_wrapper(qualname: str, getter: Callable[[Any], Any], setter: Any = None) -> property:
    """A read-only view of `getter` (a descriptor's __get__) that records each read by user code."""

    def get(self: Any) -> Any:
        frame = sys._getframe(1)
        if not TRACER.enabled or internal_caller(frame):
            return getter(self)
        text = _fetch_args(self, "", (), {})
        try:
            value = getter(self)
        except BaseException as exc:
            TRACER.add(qualname, text, RAISE, render_exception(exc), frame)
            raise
        TRACER.add(qualname, text, OK, render(value), frame)
        return value

    return property(get, setter)


def missing_getattr(kind: str) -> Callable[[Any, str], Any]:
    """A `__getattr__` recording a failed attribute lookup by user code, then failing as Python would."""

    def __getattr__(self: Any, name: str) -> Any:
        if not name.startswith("_"):
            frame = sys._getframe(1)
            if TRACER.enabled and not driver_caller(frame):
                TRACER.add(f"{kind}.{name}", "", MISSING, "AttributeError", frame)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'", name=name, obj=self)

    return __getattr__


#: Adapters registered with `sqlite3.register_adapter` on Turso, applied by the drop-in (pyturso has none).
ADAPTERS: dict[type, Callable[[Any], Any]] = {}


def emulated_register_adapter() -> Callable[..., None]:
    """`register_adapter` on Turso: recorded as the missing name it is, and emulated so the run goes on.

    Made merely inert, every later statement binding such a value would fail on a parameter type pyturso
    refuses, and hide what breaks after that (a RETURNING statement left in progress, say).
    """

    def register_adapter(kind: type, adapter: Callable[[Any], Any], /) -> None:
        TRACER.add("sqlite3.register_adapter", args_text("register_adapter", (kind, adapter), {}), INERT,
                   "missing on Turso: emulated by the drop-in", sys._getframe(1))
        ADAPTERS[kind] = adapter

    register_adapter.dropin_inert = "sqlite3.register_adapter"  # type: ignore[attr-defined]
    return register_adapter


def _adapt_row(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: _adapt_value(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return tuple(_adapt_value(v) for v in params)
    return params


def _adapt_value(value: Any) -> Any:
    adapter = ADAPTERS.get(type(value))
    return adapter(value) if adapter is not None else value


def adapting(fn: Callable[..., Any], many: bool) -> Callable[..., Any]:
    """pyturso's execute/executemany applying the adapters registered through the emulation first."""

    @functools.wraps(fn)
    def call(self: Any, sql: str, parameters: Any = (), *args: Any, **kwargs: Any) -> Any:
        if ADAPTERS:
            parameters = (_adapt_row(p) for p in parameters) if many else _adapt_row(parameters)
        return fn(self, sql, parameters, *args, **kwargs)

    return call


def module_getattr(module: str, shown: str) -> Callable[[str], Any]:
    """A module `__getattr__` (PEP 562) recording a failed lookup, then failing as Python would."""

    def __getattr__(name: str) -> Any:
        if not name.startswith("_"):
            frame = sys._getframe(1)
            if TRACER.enabled and not driver_caller(frame):
                TRACER.add(f"{shown}.{name}", "", MISSING, "AttributeError", frame)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


#: The outcome of a wall shown again: a connection set up earlier with a call Turso lacks is used now.
EARLIER_WALL = "missing on Turso: made inert when this connection was set up, earlier in the run"


#: Whether any connection of this process has a wall remembered.
_WALLED = [False]


def remember_wall(connection: Any, qualname: str, args: str) -> None:
    """Note on a connection that its set-up made a call inert (without the stand-in it would not exist)."""
    walls = getattr(connection, "_stc_walls", None)
    if walls is None:
        walls = []
        try:
            object.__setattr__(connection, "_stc_walls", walls)
        except (AttributeError, TypeError):
            return
        _WALLED[0] = True
    if len(walls) < 50:
        walls.append((qualname, args, TRACER.generation, user_lines(sys._getframe(2))[0]))


def show_walls(owner: Any, frame: Any) -> None:
    """Before a traced call on a connection (or its cursor) set up in an earlier test with calls made
    inert, record those calls again, once per test: on Turso without the stand-ins this connection would
    not have been set up, so they are what breaks this test too."""
    if owner is None or not _WALLED[0]:  # no connection has a wall (always so on SQLite): a hot path
        return
    connection = owner if hasattr(owner, "_stc_walls") else getattr(owner, "connection", None)
    walls = getattr(connection, "_stc_walls", None)
    if not walls or id(connection) in TRACER.walls_shown:
        return
    TRACER.walls_shown.add(id(connection))
    for qualname, args, generation, where in walls:
        if generation != TRACER.generation:  # made in this test: already in its trace
            TRACER.add(qualname, args, INERT, EARLIER_WALL, frame, where=where)


def inert(qualname: str, asynchronous: bool = False, method: bool = False) -> Callable[..., Any]:
    """A stand-in for a name Turso lacks that only registers something: records the call, does nothing."""
    leaf = qualname.rsplit(".", 1)[-1]

    def record(args: tuple[Any, ...], kwargs: dict[str, Any], frame: Any) -> None:
        TRACER.add(qualname, args_text(leaf, args, kwargs), INERT, "missing on Turso: made inert", frame)

    if asynchronous:

        async def async_stand_in(self: Any, *args: Any, **kwargs: Any) -> None:
            record(args, kwargs, sys._getframe(1))
            remember_wall(self, qualname, args_text(leaf, args, kwargs))

        async_stand_in.__name__ = leaf
        async_stand_in.dropin_inert = qualname  # type: ignore[attr-defined]
        return async_stand_in

    def stand_in(*args: Any, **kwargs: Any) -> None:
        record(args[1:] if method else args, kwargs, sys._getframe(1))
        if method and args:
            remember_wall(args[0], qualname, args_text(leaf, args[1:], kwargs))

    stand_in.__name__ = leaf
    stand_in.dropin_inert = qualname  # type: ignore[attr-defined]
    return stand_in


class _SADepth:
    def __enter__(self) -> None:
        _QUIET.depth = getattr(_QUIET, "depth", 0) + 1

    def __exit__(self, *exc: object) -> None:
        _QUIET.depth -= 1


def sa_wrapper(fn: Callable[..., Any]) -> Callable[..., Any]:
    """SQLAlchemy's `do_execute*`: one `sqlalchemy.execute` event; DBAPI calls beneath are not recorded."""

    @functools.wraps(fn)
    def traced(self: Any, cursor: Any, statement: str, *rest: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        params = rest[0] if rest and not hasattr(rest[0], "execution_options") else ()
        args = render_sql(statement) + (", " + render(params) if params else "")
        with _SADepth():
            try:
                result = fn(self, cursor, statement, *rest, **kwargs)
            except BaseException as exc:
                TRACER.add("sqlalchemy.execute", args, RAISE, render_exception(exc), frame)
                raise
        _mark(cursor, "execute", (statement,), None)
        TRACER.add("sqlalchemy.execute", args, OK, "None", frame)
        return result

    return traced


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
        return self

    def uninstall(self) -> None:
        """Remove every wrapper (and stop waiting for modules not imported yet)."""
        forget("aiosqlite")
        forget("sqlalchemy.engine.default")
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
                    self.patches.set(cls, name, inert(f"{kind}.{name}", asynchronous, method=True))
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

    def _sqlalchemy(self) -> None:
        from sqlalchemy.engine import default

        for name in ("do_execute", "do_executemany", "do_execute_no_params"):
            current = vars(default.DefaultDialect).get(name)
            if current is not None:
                self.patches.set(default.DefaultDialect, name, sa_wrapper(current))


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
