"""Client-layer engines on any backend: the SQLAlchemy dialect chosen from the backend's own modules.

A backend names its blocking DB-API module (`sync_module`) and its async driver (`async_module`); the
client suites build their engines from those, never from the backend's name:

- a SQLAlchemy dialect an installed package registers (entry-point group `sqlalchemy.dialects`, name
  `sqlite.<driver>`) whose DB-API *is* the backend's module is what users of that package's URL get, so
  it is used as is: pyturso's `sqlite+turso://` (DB-API `turso`) and `sqlite+aioturso://` (`turso.aio`);
- otherwise SQLite's built-in dialects run on the backend's module, as a user would write
  `create_engine("sqlite://", module=mod)`: pysqlite with `module=sync_module`, and aiosqlite with
  `module=AsyncAdapt_aiosqlite_dbapi(async_module, sync_module)` (the async module is taken to be
  aiosqlite-shaped, the sync module gives the DB-API constants). For the stdlib `sqlite3` and `aiosqlite`
  this is exactly SQLAlchemy's own default.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.metadata import entry_points
from typing import Any, TypeVar

import pytest

from stc_harness import CheckContext

sa = pytest.importorskip("sqlalchemy", reason="the client layer needs the 'clients' extra (SQLAlchemy)")

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

T = TypeVar("T")

#: SQLite's built-in dialects, used on a backend's module when no installed dialect drives that module.
BUILTIN_SYNC = "sqlite+pysqlite"
BUILTIN_ASYNC = "sqlite+aiosqlite"


@functools.cache
def installed_dialects() -> tuple[tuple[str, type[Any]], ...]:
    """The SQLite dialects installed packages register: (`sqlite+driver`, class); unloadable ones skipped."""
    found = []
    for ep in entry_points(group="sqlalchemy.dialects"):
        if not ep.name.startswith("sqlite."):
            continue
        with contextlib.suppress(Exception):  # a broken third-party dialect is not this backend's
            found.append((ep.name.replace(".", "+", 1), ep.load()))
    return tuple(found)


def _dbapi_of(cls: type[Any]) -> Any:
    try:
        return cls.import_dbapi()
    except Exception:  # noqa: BLE001 - a dialect whose driver is missing drives no module here
        return None


def installed_dialect_for(module: Any, asynchronous: bool) -> str | None:
    """The scheme of an installed dialect whose DB-API is `module` (async: an adapter of it), or None."""
    for scheme, cls in installed_dialects():
        if bool(getattr(cls, "is_async", False)) != asynchronous:
            continue
        dbapi = _dbapi_of(cls)
        if dbapi is module or (asynchronous and any(v is module for v in vars(dbapi).values())):
            return scheme
    return None


@dataclass(frozen=True)
class Target:
    """How to make a SQLAlchemy engine on one backend: the URL, and the modules a built-in dialect runs on."""

    url: str
    #: The DB-API module SQLite's built-in dialect runs on (`module=`); None: the URL's dialect's own.
    module: Any = None
    #: The aiosqlite-shaped async module SQLite's built-in async dialect runs on; None: the dialect's own.
    async_module: Any = None

    def engine(self) -> Any:
        """A new (sync) engine."""
        return sa.create_engine(self.url, **({} if self.module is None else {"module": self.module}))

    def async_engine(self) -> Any:
        """A new async engine (a module SQLAlchemy cannot adapt raises here, as for a user)."""
        if self.async_module is None:
            return create_async_engine(self.url)
        adapted = AsyncAdapt_aiosqlite_dbapi(self.async_module, self.module)
        return create_async_engine(self.url, module=adapted)


def target(ctx: CheckContext, path: str | None = None, *, asynchronous: bool = False) -> Target:
    """The engine recipe for this backend: a file in the check's folder (`path`), or `:memory:`."""
    ctx.note(sqlalchemy=sa.__version__)
    sync = ctx.sync_module()
    if asynchronous:
        pytest.importorskip("greenlet", reason="async SQLAlchemy engines need greenlet")
        module = ctx.async_module()
        scheme = installed_dialect_for(module, True)
        recipe = Target("") if scheme else Target("", sync, module)
        scheme = scheme or BUILTIN_ASYNC
    else:
        module = sync
        scheme = installed_dialect_for(module, False)
        recipe = Target("") if scheme else Target("", module)
        scheme = scheme or BUILTIN_SYNC
    ctx.note(sqlalchemy_dialect=scheme, dbapi_module=module.__name__,
             dialect_from="built-in dialect, module=" if recipe.module is not None else "installed dialect")
    if path == ":memory:":
        return replace(recipe, url=f"{scheme}://")
    ctx.folder.mkdir(parents=True, exist_ok=True)
    return replace(recipe, url=f"{scheme}:///{ctx.folder / (path or 'app.db')}")


def error(exc: BaseException) -> dict[str, str]:
    """An exception as an observation: SQLAlchemy's class, and the DB-API class it wraps (not messages)."""
    orig = getattr(exc, "orig", None)
    out = {"error": type(exc).__name__}
    if orig is not None:
        out["dbapi"] = type(orig).__name__
    return out


def with_engine(recipe: Target, fn: Callable[[Any], T]) -> T | dict[str, Any]:
    """`fn(engine)` on a new engine, disposed after.

    `{"connect": error}` when the first connection fails, `{"raised": error}` when `fn` raises a SQLAlchemy
    error it does not observe itself (a driver SQLAlchemy cannot work with); anything else is the check's
    own failure and propagates.
    """
    engine = recipe.engine()
    try:
        try:
            engine.connect().close()
        except Exception as exc:  # noqa: BLE001 - a module SQLAlchemy cannot connect through is the observation
            return {"connect": error(exc)}
        return fn(engine)
    except sa.exc.SQLAlchemyError as exc:  # what the client raised through this driver is the observation
        return {"raised": error(exc)}
    finally:
        engine.dispose()
