"""Database URLs: `sqlite::memory:`, `sqlite:<path>`, `turso::memory:`, `turso:<path>`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from stc_harness.errors import UsageError
from stc_harness.safety.secrets import mask

MEMORY = ":memory:"


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed URL: the scheme (backend name), an absolute path or `:memory:`, and query options."""

    scheme: str
    path: str
    options: tuple[tuple[str, str], ...] = ()

    @property
    def is_memory(self) -> bool:
        """Whether this names an in-memory database."""
        return self.path == MEMORY

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.options)
        return f"{self.scheme}:{self.path}" + (f"?{query}" if query else "")


def parse_url(url: str, *, schemes: tuple[str, ...] = ("sqlite", "turso")) -> DatabaseURL:
    """Parse `scheme::memory:` or `scheme:<path>`; relative paths resolve against the working directory.

    A `?key=value&...` suffix is kept as options (the Turso adapter accepts its builder options there).
    """
    shown = mask(url)  # a key put in a URL is never echoed back
    scheme, sep, rest = url.partition(":")
    if not sep or not scheme:
        raise UsageError(
            f"bad database URL {shown!r}: expected '<scheme>::memory:' or '<scheme>:<path>' "
            f"with scheme one of {', '.join(schemes)}, e.g. 'turso::memory:' or 'sqlite:./app.db'"
        )
    if scheme not in schemes:
        raise UsageError(f"bad database URL {shown!r}: unknown scheme {scheme!r}; "
                         f"known: {', '.join(schemes)}")
    rest, _, query = rest.partition("?")
    try:
        options = tuple(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError as exc:
        raise UsageError(f"bad database URL {shown!r}: the query is not key=value&...") from exc
    if rest == MEMORY:
        return DatabaseURL(scheme, MEMORY, options)
    if not rest:
        raise UsageError(f"bad database URL {shown!r}: no path; use '{scheme}::memory:' or '{scheme}:<path>'")
    path = Path(rest)
    if not path.is_absolute():
        path = Path(os.getcwd()) / path
    return DatabaseURL(scheme, str(path), options)
