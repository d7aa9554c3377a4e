"""Collection: checks parametrized over (backend, param), marks added, problems ending the run early."""

from __future__ import annotations

import pytest

from stc_harness import reference_view
from stc_harness.adapters.capabilities import require_known
from stc_harness.checks import CheckSpec
from stc_harness.errors import UsageError
from stc_harness.plugin.runner import DocumentedDifference
from stc_harness.plugin.state import USAGE_KEY, state_of
from stc_harness.plugin.validation import registry_problem, shadowing_problem, unused_entries_problem


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize checks over (backend, param) and `conformance_backend` users over backends."""
    selected = state_of(metafunc.config).session.selected
    specs: dict[str | None, CheckSpec] | None = getattr(metafunc.function, "conformance_specs", None)
    if specs is not None and "conformance_target" in metafunc.fixturenames:
        targets, ids = [], []
        for sel_id in selected:
            for key in specs:
                targets.append((sel_id, key))
                ids.append(sel_id if key is None else f"{sel_id}-{key}")
        metafunc.parametrize("conformance_target", targets, ids=ids)
    elif "conformance_backend" in metafunc.fixturenames:
        metafunc.parametrize("conformance_backend", list(selected), ids=list(selected), indirect=True)


def _usage_problem(session: pytest.Session, items: list[pytest.Item], message: str) -> None:
    """End the run with a usage error; on an xdist worker, hand it to the controller instead.

    A `UsageError` raised while a worker collects would be an INTERNALERROR on the controller, so the
    worker runs nothing, says why in its `workeroutput`, and the controller reports it (exit status 4).
    """
    config = session.config
    if not hasattr(config, "workerinput"):
        raise pytest.UsageError(message)
    config.workeroutput[USAGE_KEY] = message  # type: ignore[attr-defined]
    session.shouldfail = message
    items.clear()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Validate capability names and the registry; mark documented differences as strict xfail.

    A `maketest` test also gets the marks of the function it was made from, whichever side of the
    decorator they were written on (`@pytest.mark.requires(...)` above `@maketest_turso` included).
    """
    st = state_of(config)
    run = st.session
    for item in items:
        source = getattr(getattr(item, "function", None), "maketest_source", None)
        for mark in getattr(source, "pytestmark", []):
            item.add_marker(getattr(pytest.mark, mark.name)(*mark.args, **mark.kwargs))
        for mark in item.iter_markers("requires"):
            for name in mark.args:
                try:
                    require_known(name)
                except UsageError as exc:
                    _usage_problem(session, items, f"{item.nodeid}: {exc}")
                    return
        target = getattr(item, "callspec", None) and item.callspec.params.get("conformance_target")
        specs = getattr(getattr(item, "function", None), "conformance_specs", None)
        if not target or not specs:
            continue
        sel_id, key = target
        spec = specs[key]
        sel = run.selected[sel_id]
        entry = run.registry.for_check(spec.id, sel.backend.name)
        if entry and sel.backend.name in entry.expect and sel.backend.name != run.reference.backend.name:
            item.add_marker(pytest.mark.xfail(
                strict=reference_view.is_default(run.reference), raises=DocumentedDifference,
                reason=f"{entry.id}: {entry.title} ({entry.source}); an XPASS means the difference is "
                       f"gone: remove the {sel.backend.name!r} expectation of entry {entry.id!r}"))
    problem = (registry_problem(run.registry) or shadowing_problem(run.registry, st.builtin_ids)
               or unused_entries_problem(run.registry, st.builtin_ids))
    if problem:
        _usage_problem(session, items, problem)
