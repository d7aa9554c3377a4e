"""SQLite `file:` URIs given to sqlite3.connect(uri=True): the forms the drop-in can give pyturso a path for.

pyturso has no URI filenames: it takes `file:x?mode=memory&cache=shared` for the name of a file and creates
it in the working directory. The forms below have a path with the same effect for one process; every other
URI (read-only or read-write modes, a vfs, immutable, ...) stays a `MissingFeatureError`.

- `file:path` and `file:path?mode=rwc`: the path itself.
- `file:name?mode=memory` without a shared cache, and `file::memory:`: a private in-memory database.
- `file:name?mode=memory&cache=shared` and `file::memory:?cache=shared` (test runners such as Django's
  use these): one database per name that every connection of this process opening that name shares. It
  lives in a file under a temporary folder of this process, removed at exit. What that papers over (table
  locks of the shared cache, the database vanishing with its last connection) is in the adaptations list.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

#: Query keys a URI may carry and still be given a path, with the values each may take.
_ALLOWED = {"mode": {"rwc", "memory"}, "cache": {"shared", "private"}}

_LOCK = threading.Lock()
_FOLDER: list[Path] = []


class UnsupportedUri(ValueError):
    """A `file:` URI whose query asks for something pyturso cannot give (a mode, a vfs, ...)."""


def _shared_folder() -> Path:
    """This process's folder for shared in-memory databases, made on first use and removed at exit."""
    with _LOCK:
        if not _FOLDER:
            folder = Path(tempfile.mkdtemp(prefix="dropin-shared-memory-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            _FOLDER.append(folder)
        return _FOLDER[0]


def path_for_uri(uri: str) -> str:
    """The path pyturso should open for SQLite URI `uri`; raise `UnsupportedUri` naming what is asked."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise UnsupportedUri(f"not a file: URI: {uri!r}")
    if parts.netloc not in ("", "localhost"):
        raise UnsupportedUri(f"a file: URI with an authority ({parts.netloc!r})")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in query.items():
        if key not in _ALLOWED or value not in _ALLOWED[key]:
            raise UnsupportedUri(f"the URI parameter {key}={value}")
    name = unquote(parts.path)
    memory = query.get("mode") == "memory" or name == ":memory:"
    if not memory:
        if not name:
            raise UnsupportedUri("a file: URI with no path")
        return name
    if query.get("cache") != "shared":
        return ":memory:"
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return str(_shared_folder() / f"{digest}.db")
