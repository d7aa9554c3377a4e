"""Names pyturso lacks that code merely imports: provided, and raising a clear error only when used."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: sqlite3 names that touch the engine and that pyturso does not offer, with what they are for.
MISSING_SQLITE3: dict[str, str] = {
    "register_adapter": "adapters from Python types to SQLite values",
    "register_converter": "converters from declared column types to Python values (detect_types)",
    "adapt": "the adapter protocol (PEP 246) used by register_adapter",
    "complete_statement": "SQLite's statement-completeness test",
    "enable_callback_tracebacks": "tracebacks from user-defined callbacks",
    "enable_shared_cache": "SQLite's shared-cache mode",
    "Blob": "incremental blob I/O (Connection.blobopen)",
    "PrepareProtocol": "the adapter protocol object",
}

#: Module-level names that never touch the engine (constants, type aliases, version of the module):
#: the routed module keeps the standard library's objects for these.
ENGINE_FREE = ("Binary", "Date", "DateFromTicks", "PARSE_COLNAMES", "PARSE_DECLTYPES", "Time",
               "TimeFromTicks", "Timestamp", "TimestampFromTicks", "adapters", "converters",
               "version", "version_info", "collections", "datetime", "time")


class MissingFeatureError(NotImplementedError):
    """Raised when code uses a name pyturso lacks; names the feature and the registry entry (if any).

    A NotImplementedError, not a DB-API error: `except sqlite3.Error` must not swallow it, since the
    real pyturso would fail on the missing name, not with a database error.
    """


def missing_message(qualname: str, what: str, entries: list[str]) -> str:
    """The message of a missing-feature error: the name, what it does, and the registry entries."""
    known = (f"registry entry {', '.join(entries)}" if entries
             else "no registry entry documents it yet (a lead for a new check)")
    return (f"{qualname} is not provided by pyturso ({what}); the drop-in mode only provides the name. "
            f"Known difference: {known}.")


def make_function_shim(qualname: str, what: str, lookup: Callable[[str], list[str]]) -> Callable[..., Any]:
    """A function standing in for `qualname`: importing it works, calling it raises MissingFeatureError."""

    def shim(*args: Any, **kwargs: Any) -> Any:
        raise MissingFeatureError(missing_message(qualname, what, lookup(qualname.rsplit(".", 1)[-1])))

    shim.__name__ = shim.__qualname__ = qualname.rsplit(".", 1)[-1]
    shim.__doc__ = f"Drop-in stand-in for {qualname}: pyturso lacks it."
    shim.dropin_missing = qualname  # type: ignore[attr-defined]
    return shim


def make_class_shim(qualname: str, what: str, lookup: Callable[[str], list[str]]) -> type:
    """A class standing in for `qualname`: isinstance() is False for everything, instantiating raises."""

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        raise MissingFeatureError(missing_message(qualname, what, lookup(qualname.rsplit(".", 1)[-1])))

    name = qualname.rsplit(".", 1)[-1]
    return type(name, (), {"__new__": __new__, "__doc__": f"Drop-in stand-in for {qualname}.",
                           "dropin_missing": qualname})


def shim_for(qualname: str, what: str, lookup: Callable[[str], list[str]]) -> Any:
    """A class shim for capitalised names, a function shim for the rest."""
    leaf = qualname.rsplit(".", 1)[-1]
    return (make_class_shim if leaf[:1].isupper() else make_function_shim)(qualname, what, lookup)
