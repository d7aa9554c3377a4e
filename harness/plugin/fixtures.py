"""The plugin's fixtures: the backend under test, its URL, connections and pools, and the check runner."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from stc_harness.adapters.backend_registry import Selected
from stc_harness.plugin.runner import run_check_test
from stc_harness.plugin.state import PluginState, state_of


@pytest.fixture
def conformance_backend(request: pytest.FixtureRequest) -> Any:
    """The backend under test: a check's, or the one a test is parametrized over (honouring `@requires`)."""
    if not hasattr(request, "param"):  # a check (or a fixture of its) asks: its target names the backend
        sel_id, _ = request.node.callspec.params["conformance_target"]
        return state_of(request.config).session.selected[sel_id].backend
    sel = state_of(request.config).session.selected[request.param]
    names = [n for m in request.node.iter_markers("requires") for n in m.args]
    if names:
        missing = _run_sync(sel.backend.capabilities.missing(names))
        if missing:
            pytest.skip("; ".join(f"{sel.id} lacks {n}: {r}" for n, r in missing))
    return sel.backend


def _run_sync(coro: Any) -> Any:
    """Run a short coroutine (a capability probe) on a private loop from a sync fixture."""
    return asyncio.run(coro)


def _selected(request: pytest.FixtureRequest) -> Selected:
    """The selected backend the test is parametrized over (the `conformance_backend` parameter)."""
    sel_id = request.node.callspec.params["conformance_backend"]
    return state_of(request.config).session.selected[sel_id]


@pytest.fixture
def database_url(conformance_backend: Any, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The database the backend's URL names (`--backend=turso:app.db`), else a fresh file under `tmp_path`."""
    sel = _selected(request)
    if sel.url is not None:
        return f"{sel.url.scheme}::memory:" if sel.url.is_memory else f"{sel.url.scheme}:{sel.url.path}"
    return f"{conformance_backend.name}:{tmp_path / 'test.db'}"


@pytest_asyncio.fixture(loop_scope="function")
async def connection(conformance_backend: Any, database_url: str,
                     request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A connection to `database_url` with the URL's options, closed after the test."""
    conn = await conformance_backend.connect(database_url, **_selected(request).options)
    try:
        yield conn
    finally:
        await conn.close()


@pytest_asyncio.fixture(loop_scope="function")
async def memory_connection(conformance_backend: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A connection on a fresh in-memory database, with the URL's options."""
    options = _selected(request).options
    conn = await conformance_backend.connect(f"{conformance_backend.name}::memory:", **options)
    try:
        yield conn
    finally:
        await conn.close()


@pytest_asyncio.fixture(loop_scope="function")
async def pool(conformance_backend: Any, database_url: str,
               request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A pool of up to four connections on `database_url`, with the URL's options."""
    p = conformance_backend.pool(database_url, max_size=4, **_selected(request).options)
    try:
        yield p
    finally:
        await p.close()


@pytest.fixture
def selected_backends(request: pytest.FixtureRequest) -> dict[str, Selected]:
    """The backends chosen for this run, by id."""
    return state_of(request.config).session.selected


@pytest.fixture
def conformance_state(request: pytest.FixtureRequest) -> PluginState:
    """The plugin's state of this run (what `maketest` tests look their backend up in)."""
    return state_of(request.config)


@pytest.fixture
def conformance_run(request: pytest.FixtureRequest) -> Callable[..., Awaitable[None]]:
    """What an `@check` test calls: `await conformance_run(spec, body, backend_id, folder, key)`."""
    return functools.partial(run_check_test, request)
