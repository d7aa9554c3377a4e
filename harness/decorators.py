"""`maketest`, `maketest_turso`, `maketest_sqlite`: one `async def f(conn)` becomes a test per backend."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from stc_harness.backend_registry import NOT_IN_ALL, available
from stc_harness.capabilities import require_known
from stc_harness.hard_timeout import HardTimeout, run_on_own_thread

TestBody = Callable[[Any], Awaitable[Any]]

#: Seconds a `maketest` test may run (as for checks); `maketest(..., timeout=)` changes it.
DEFAULT_TIMEOUT = 15.0
#: Seconds closing the test's connection may take after the test before it is abandoned.
CLOSE_LIMIT = 2.0


def _make_one(fn: TestBody, backend: str, migrate: bool, migrations: str | Path | None, memory: bool,
              requires: tuple[str, ...], timeout: float) -> Callable[..., Any]:
    async def test(request: pytest.FixtureRequest, tmp_path: Path) -> None:
        from stc_harness.migrations import load_folder
        from stc_harness.migrations import migrate as run_migrations
        from stc_harness.plugin import state_of

        st = state_of(request.config)
        sel = next((s for s in st.selected.values() if s.backend.name == backend), None)
        if sel is None and backend in st.broken:
            pytest.skip(f"backend {backend!r} is not installed: {st.broken[backend]}")
        if sel is None:
            pytest.skip(f"backend {backend!r} not selected (selected: {', '.join(st.selected)})")
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
