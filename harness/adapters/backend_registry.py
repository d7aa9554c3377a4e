"""Finding backends: built-ins, the `conformance.backends` entry-point group, `module:factory`, URLs."""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from stc_harness.adapters.urls import DatabaseURL, parse_url
from stc_harness.errors import Unsupported, UsageError
from stc_harness.outcomes import TRACKED_BACKEND
from stc_harness.safety.secrets import is_secret_option, mask, remember

ENTRY_POINT_GROUP = "conformance.backends"
BUILTIN: dict[str, str] = {"sqlite": "stc_backends.sqlite:SQLiteBackend",
                           "turso": "stc_backends.turso:TursoBackend",
                           "sqlean": "stc_backends.sqlean:SqleanBackend"}
REFERENCE = "sqlite"
#: The tracked SQLite (`outcomes.TRACKED_BACKEND`): the release Turso tracks, through the stdlib sqlite3
#: API. It attributes each difference (Turso's own or a SQLite version gap) and runs only for checks that
#: differ, so `all` leaves it out (name it with --backend to run every check on it, as the matrix's SQLite
#: axis does).
NOT_IN_ALL = (TRACKED_BACKEND,)
#: Backends a default run must load: one that does not is an error (else a CI that lost pyturso goes green).
#: Others (a third-party backend, the tracked SQLite) are optional: their absence is shown in the header.
DEFAULT_BACKENDS = ("sqlite", "turso")

#: Plugin backends this repository ships as distributions of their own (plugins/<name>/): the built-in
#: registry holds entries for them, which must load (and simply never match) where one is not installed.
PLUGINS: dict[str, str] = {"libsql": "pip install -e plugins/libsql (the conformance-libsql distribution)"}

#: `package.module:factory` (a dotted module path, a colon, and an identifier).
_TARGET = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


@dataclass
class Selected:
    """A backend chosen for this run: its id in test names, the instance, default options and target."""

    id: str
    backend: Any
    options: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    url: DatabaseURL | None = None  # from a URL `--backend`: the database the fixtures open


#: Environment variable: comma-separated entry-point backends to leave out, as if not installed (the
#: harness's own tests set it to `libsql`, since they assert what a two-backend default run does).
EXCLUDE_ENV = "CONFORMANCE_EXCLUDE_BACKENDS"


def available() -> dict[str, str]:
    """Every backend name this environment knows, mapped to its `module:factory` target."""
    found = dict(BUILTIN)
    excluded = {n.strip() for n in os.environ.get(EXCLUDE_ENV, "").split(",") if n.strip()}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in excluded:
            found[ep.name] = ep.value
    return found


def load_target(target: str) -> Any:
    """Import `package.module:factory` and call the factory; errors say what is wrong and how to fix it."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"backend target {target!r} must look like 'package.module:factory'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"backend target {target!r}: cannot import {module_name!r} ({exc}); "
                         "is the package installed?") from exc
    factory: Callable[[], Any] | None = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise UsageError(f"backend target {target!r}: {module_name} has no callable {attr!r}")
    try:
        backend = factory()
    except Exception as exc:
        raise UsageError(f"backend target {target!r}: factory raised {type(exc).__name__}: {exc}") from exc
    for need in ("name", "connect", "pool", "capabilities", "info"):
        if not hasattr(backend, need):
            raise UsageError(f"backend target {target!r}: the object it made has no {need!r}; "
                             "see stc_harness.adapters.protocol.Backend")
    if not str(backend.name).isidentifier():
        raise UsageError(f"backend target {target!r}: name {backend.name!r} must be an identifier")
    with contextlib.suppress(AttributeError, TypeError):  # a backend with __slots__ keeps no target
        backend.conformance_target = target
    return backend


def target_of(backend: Any) -> str:
    """The `module:factory` a child process rebuilds `backend` from (a built-in or entry point by name)."""
    target = getattr(backend, "conformance_target", None) or available().get(str(backend.name))
    if not target:
        raise UsageError(f"backend {backend.name!r} was not loaded from a 'module:factory' target, so a "
                         "child process cannot rebuild it; select it with --backend=package.module:factory")
    return str(target)


def child_environment() -> dict[str, str]:
    """The environment for a child process that must import what this one imports (the same `sys.path`)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def installed() -> tuple[dict[str, Any], dict[str, str]]:
    """Instances of every backend `all` selects that loads here, and the reason each other one does not."""
    ok: dict[str, Any] = {}
    broken: dict[str, str] = {}
    for name, target in sorted(available().items()):
        if name in NOT_IN_ALL:
            continue
        try:
            ok[name] = load_target(target)
        except (UsageError, ImportError) as exc:
            broken[name] = str(exc)
    return ok, broken


def url_id(url: DatabaseURL) -> str:
    """The id of a backend chosen by URL: scheme, `memory` or the file's name, and the options.

    `turso::memory:?concurrent_writes=1` -> `turso+memory+concurrent_writes`; `sqlite:/data/app.db` ->
    `sqlite+app.db`. Characters a test id would mangle become `_`.
    """
    where = "memory" if url.is_memory else re.sub(r"[^\w.]", "_", Path(url.path).name)
    opts = [k if v in ("1", "true", "") else f"{k}_{v}" for k, v in url.options]
    return "+".join([url.scheme, where, *(re.sub(r"[^\w.]", "_", o) for o in opts)])


def check_url_path(url: DatabaseURL, given: str) -> None:
    """A URL's database file must be one the fixtures can open: its folder exists, and it is no folder."""
    if url.is_memory:
        return
    path = Path(url.path)
    if not path.parent.is_dir():
        raise UsageError(f"--backend {mask(given)!r}: folder {path.parent} does not exist; create it, or use "
                         f"'{url.scheme}::memory:'")
    if path.is_dir():
        raise UsageError(f"--backend {mask(given)!r}: {path} is a folder; name a database file")


def validate_url(backend: Any, value: str) -> None:
    """Let the backend's `parse_url` refuse a URL it cannot open (remote host, unknown option) first."""
    try:
        backend.parse_url(value)
    except (UsageError, Unsupported, ValueError) as exc:
        raise UsageError(f"--backend {mask(value)!r}: {exc}") from None


def refuse_secrets(value: str) -> None:
    """Refuse a `--backend` value whose query holds a secret, before anything is named after it."""
    _, sep, query = value.partition("?")
    if not sep:
        return
    for name, option in parse_qsl(query, keep_blank_values=True):
        if is_secret_option(name, option):
            remember(option)
            raise UsageError(f"--backend {mask(value)!r}: option {mask(name)!r} holds a secret (a key in a "
                             "URL would be named in test ids, logs and reports); pass the key in code, "
                             "e.g. encryption=stc_harness.EncryptionOpts(cipher, hexkey) "
                             "to connect() or pool()")


def require_defaults(broken: dict[str, str]) -> None:
    """Fail when a backend installed by default did not load, naming it and the way out."""
    missing = {name: why for name, why in broken.items() if name in DEFAULT_BACKENDS}
    if missing:
        raise UsageError("; ".join(f"backend {name!r} is installed by default but did not load ({why})"
                                   for name, why in missing.items())
                         + ". Install it again (pip install sqlite-turso-conformance), choose backends with "
                           "--backend, or pass --allow-missing-backends to run without it")


def select(values: list[str]) -> tuple[list[Selected], dict[str, str]]:
    """Resolve `--backend` values: a name, `all`, a URL (`turso::memory:?opt=v`), or `module:factory`.

    Returns the chosen backends and, for `all` (the default), why each backend that did not load failed.

    A URL picks the backend of its scheme with the URL's query options as default connect options; the
    fixtures (`database_url`, `connection`, `pool`, `memory_connection`) open its database, while every
    check makes its own. The id is `<scheme>+<memory or file name>+<option>...`.
    """
    known = available()
    if not values:
        values = ["all"]
    chosen: list[Selected] = []
    broken: dict[str, str] = {}
    for value in values:
        refuse_secrets(value)
        if value == "all":
            loaded, broken = installed()
            if not loaded:
                why = "; ".join(f"{n}: {r}" for n, r in broken.items())
                raise UsageError(f"no backend is installed: {why}")
            chosen.extend(Selected(n, b, target=known[n]) for n, b in loaded.items())
        elif value in known:
            chosen.append(Selected(value, load_target(known[value]), target=known[value]))
        elif ":" in value and value.partition(":")[0] in known:
            url = parse_url(value, schemes=tuple(known))
            check_url_path(url, value)
            backend = load_target(known[url.scheme])
            validate_url(backend, value)
            chosen.append(Selected(url_id(url), backend, dict(url.options), known[url.scheme], url))
        elif _TARGET.match(value):
            backend = load_target(value)
            chosen.append(Selected(str(backend.name), backend, target=value))
        else:
            raise UsageError(f"unknown backend {mask(value)!r}; known backends: {', '.join(sorted(known))} "
                             "(or 'all', a URL such as 'turso::memory:', or 'package.module:factory')")
    seen: dict[str, Selected] = {}
    for sel in chosen:
        seen.setdefault(sel.id, sel)
    return list(seen.values()), broken
