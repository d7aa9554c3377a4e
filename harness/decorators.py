"""The decorators that make tests: `check` (a cross-backend check) and `maketest` (a test per backend).

`@check` makes `async def test_<name>(ctx)` a check judged against the baseline and the registry;
`maketest`, `maketest_turso` and `maketest_sqlite` make one `async def f(conn)` a test per backend.
Both are the pytest side of the harness, without importing the plugin: a check's test asks for the
plugin's `conformance_run` fixture (which calls the core, `stc_harness.core`), a maketest test for
`conformance_state`; the model and the core never import them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import inspect
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from stc_harness.adapters.backend_registry import NOT_IN_ALL, available
from stc_harness.adapters.capabilities import require_known
from stc_harness.checks import DEFINED, MISSING, Body, CheckSpec
from stc_harness.differences import AREA_NAME, AREAS
from stc_harness.errors import UsageError
from stc_harness.outcomes import ENGINE, LAYERS
from stc_harness.safety.hard_timeout import HardTimeout, run_on_own_thread
from stc_harness.sources import Source
from stc_harness.toolkit.migrations import load_folder
from stc_harness.toolkit.migrations import migrate as run_migrations

TestBody = Callable[[Any], Awaitable[Any]]

#: Seconds a `maketest` test may run (as for checks); `maketest(..., timeout=)` changes it.
DEFAULT_TIMEOUT = 15.0
#: Seconds closing the test's connection may take after the test before it is abandoned.
CLOSE_LIMIT = 2.0


def _make_one(fn: TestBody, backend: str, migrate: bool, migrations: str | Path | None, memory: bool,
              requires: tuple[str, ...], timeout: float) -> Callable[..., Any]:
    async def test(request: pytest.FixtureRequest, tmp_path: Path, conformance_state: Any) -> None:
        selected = conformance_state.session.selected  # the plugin's PluginState
        sel = next((s for s in selected.values() if s.backend.name == backend), None)
        if sel is None and backend in conformance_state.broken:
            pytest.skip(f"backend {backend!r} is not installed: {conformance_state.broken[backend]}")
        if sel is None:
            pytest.skip(f"backend {backend!r} not selected (selected: {', '.join(selected)})")
        needs = [*requires, *(n for m in request.node.iter_markers("requires") for n in m.args)]
        missing = await sel.backend.capabilities.missing(list(dict.fromkeys(needs)))
        if missing:
            pytest.skip("; ".join(f"{sel.id} lacks {n}: {r}" for n, r in missing))
        url = f"{backend}::memory:" if memory else f"{backend}:{tmp_path / 'test.db'}"
        folder = Path(migrations or request.config.getini("conformance_migrations"))
        if not folder.is_absolute():
            folder = request.config.rootpath / folder

        async def run() -> None:
            conn = await sel.backend.connect(url, **sel.options)
            try:
                if migrate:
                    await run_migrations(conn, load_folder(folder))
                await fn(conn)
            finally:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(conn.close(), CLOSE_LIMIT)

        try:
            await run_on_own_thread(lambda: asyncio.wait_for(run(), timeout), timeout + CLOSE_LIMIT,
                                    f"{fn.__name__} on {backend}")
        except (HardTimeout, asyncio.TimeoutError):
            pytest.fail(f"timeout: {fn.__name__} did not finish within {timeout:g}s on {sel.id}",
                        pytrace=False)

    test.__name__ = test.__qualname__ = f"test_{fn.__name__.removeprefix('test_')}_{backend}"
    test.__doc__ = fn.__doc__
    test.__module__ = fn.__module__
    test.maketest_source = fn  # type: ignore[attr-defined]  # its marks are added at collection
    test.maketest_backend = backend  # type: ignore[attr-defined]  # for its report record
    return pytest.mark.asyncio(loop_scope="function")(test)


def maketest(*backends: str, migrate: bool = False, migrations: str | Path | None = None,
             memory: bool = False, requires: tuple[str, ...] = (),
             timeout: float = DEFAULT_TIMEOUT) -> Callable[[TestBody], TestBody]:
    """Decorator: define `test_<f>_<backend>` in the caller's module per backend (default: `all`'s).

    `migrate=True` applies the migrations folder (ini `conformance_migrations`, or `migrations=`) first.
    A backend not selected with `--backend`, or lacking a capability in `requires` or in a
    `@pytest.mark.requires(...)` marker, is skipped with the reason: never a silent pass. A test that
    does not finish within `timeout` seconds (whatever it blocks on) fails as a timeout.
    """
    if not timeout > 0:
        raise pytest.UsageError(f"maketest: timeout must be a positive number of seconds, got {timeout!r}")
    known = available()
    names = backends or tuple(sorted(n for n in known if n not in NOT_IN_ALL))
    unknown = [b for b in names if b not in known]
    if unknown:
        raise pytest.UsageError(f"maketest: unknown backend(s) {unknown}; known: {sorted(known)}")
    for name in requires:
        require_known(name)

    def decorate(fn: TestBody) -> TestBody:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"maketest: {fn.__qualname__} must be an 'async def f(conn)'")
        module = sys.modules[fn.__module__]
        for backend in names:
            made = _make_one(fn, backend, migrate, migrations, memory, requires, timeout)
            setattr(module, made.__name__, made)
        fn.__test__ = False  # type: ignore[attr-defined]
        return fn

    return decorate


def _shortcut(backend: str) -> Callable[..., Any]:
    def shortcut(fn: TestBody | None = None, migrate: bool = False, **kwargs: Any) -> Any:
        if fn is None:
            return maketest(backend, migrate=migrate, **kwargs)
        return maketest(backend, migrate=migrate, **kwargs)(fn)

    shortcut.__name__ = f"maketest_{backend}"
    shortcut.__doc__ = (f"`maketest_{backend}(f, migrate)` or `@maketest_{backend}`: "
                        f"define `test_<f>_{backend}` (like `maketest_turso!(my_test, true)`).")
    return shortcut


maketest_turso = _shortcut("turso")
maketest_sqlite = _shortcut("sqlite")


# --- @check ------------------------------------------------------------------------------------------


def _area_of(module: str) -> str:
    leaf = module.rsplit(".", 1)[-1]
    return leaf.removeprefix("test_")


def check_folder(factory: pytest.TempPathFactory, nodeid: str) -> Path:
    """A check's private folder under the run's temporary folder, named after its test, made on first use.

    Most checks never touch a file: pytest's `tmp_path` would make (and a later run delete) a folder
    for each of them, a few milliseconds per check in a run of thousands.
    """
    name = re.sub(r"[^\w.-]+", "_", nodeid.rsplit("::", 1)[-1])[:40]
    digest = hashlib.sha1(nodeid.encode(), usedforsecurity=False).hexdigest()[:10]
    return factory.getbasetemp() / f"{name}-{digest}"


def check(*, title: str, source: Source, area: str | None = None, requires: tuple[str, ...] = (),
          timeout: float = 15.0, expect: Any = MISSING, params: Mapping[str, Any] | None = None,
          isolated: bool = False, layer: str = ENGINE,
          variants: Any = None) -> Callable[[Body], Callable[..., Any]]:
    """Make `async def test_<name>(ctx[, param]) -> observation` a check run once per selected backend.

    The id is `<area>.<name>` (area defaults to the module's `test_<area>` name); with `params`, one
    check per key, `<area>.<name>[<key>]`. `expect` states the observation every backend should make;
    without it, the reference backend's live observation is the baseline. `isolated=True` runs the
    body in a child process (`stc_harness.safety.isolation`), so a check that may kill its process (a Rust
    panic
    across threads ends in SIGABRT, a C driver may segfault) is recorded as `crash` even in a serial run.
    `layer` says what the check measures: `engine` (SQL through the protocol), `driver` (the Python
    modules called directly) or `client` (real client code on top).
    `variants` is a Hypothesis strategy of cases like the `params` values (or a mapping param key ->
    strategy for some keys only): besides its fixed case, each check then runs a seeded, bounded number
    of variants on every backend and the reference, and reports the first and the shrunk differing one
    (`stc_harness.variants`). Variants need `params` and a reference baseline (no `expect`).
    """
    if layer not in LAYERS:
        raise UsageError(f"check {title!r}: unknown layer {layer!r}; choose one of {', '.join(LAYERS)}")
    if timeout <= 0:
        raise UsageError(f"check {title!r}: timeout must be a positive number of seconds, got {timeout!r}")
    for name in requires:
        require_known(name)
    if not isinstance(source, Source):
        raise UsageError(f"check {title!r}: source must be a stc_harness.sources.Source")
    if variants is not None and isolated:
        raise UsageError(f"check {title!r}: variants= cannot be combined with isolated=True (a child "
                         "process per variant); isolate a separate check instead")
    if variants is not None and (not params or expect is not MISSING):
        raise UsageError(f"check {title!r}: variants= needs params= (the fixed cases, whose values the "
                         "strategy's cases resemble) and no expect= (each variant is compared with the "
                         "reference)")
    per_key = variants if isinstance(variants, Mapping) else dict.fromkeys(params or (), variants)
    unknown = set(per_key) - set(params or ())
    if unknown:
        raise UsageError(f"check {title!r}: variants= names keys that are not params: {sorted(unknown)}")

    def decorate(body: Body) -> Callable[..., Any]:
        if not inspect.iscoroutinefunction(body) or not body.__name__.startswith("test_"):
            raise UsageError(f"{body.__qualname__}: a check is an 'async def test_<name>(ctx)'")
        the_area = area or _area_of(body.__module__)
        if not AREA_NAME.match(the_area):
            raise UsageError(f"{body.__module__}.{body.__name__}: area {the_area!r} must be a lowercase "
                             f"identifier (built-in areas: {', '.join(AREAS)}; name the module "
                             "test_<area>.py or pass area=)")
        base_id = f"{the_area}.{body.__name__.removeprefix('test_')}"
        origin = f"{body.__module__}.{body.__qualname__}"
        specs: dict[str | None, CheckSpec] = {}
        for key, value in (params or {None: MISSING}).items():
            cid = base_id if key is None else f"{base_id}[{key}]"
            if cid in DEFINED and DEFINED[cid].origin != origin:
                raise UsageError(f"check id {cid!r} is defined twice: "
                                 f"by {DEFINED[cid].origin} and by {origin}")
            specs[key] = DEFINED[cid] = CheckSpec(cid, the_area, title, source, tuple(requires), timeout,
                                                  expect, value, isolated, origin, layer,
                                                  per_key.get(key))

        @functools.wraps(body)
        async def test(conformance_target: tuple[str, str | None], request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory,
                       conformance_run: Callable[..., Awaitable[None]]) -> None:
            backend_name, key = conformance_target
            folder = check_folder(tmp_path_factory, request.node.nodeid)
            await conformance_run(specs[key], body, backend_name, folder, key)

        test.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
            inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for n in ("conformance_target", "request", "tmp_path_factory", "conformance_run")])
        test.conformance_specs = specs  # type: ignore[attr-defined]
        return pytest.mark.conformance_check(pytest.mark.asyncio(loop_scope="function")(test))

    return decorate
