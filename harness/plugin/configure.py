"""Configure a run: backends, reference, tracked SQLite and registry; usage errors before it starts."""

from __future__ import annotations

import pytest

from stc_harness import reference_view
from stc_harness.adapters import backend_registry
from stc_harness.core.session import CheckSession, tracked_backend
from stc_harness.differences import RegistryError, load_registries
from stc_harness.errors import UsageError
from stc_harness.outcomes import TRACKED_BACKEND
from stc_harness.plugin.collector import Collector
from stc_harness.plugin.options import path_option
from stc_harness.plugin.state import STATE, PluginState
from stc_harness.safety import exit_guard, watchdog
from stc_harness.safety.output_paths import check_folder
from stc_harness.safety.secrets import remember_environment
from stc_harness.variants import VariantSettings


def pytest_configure(config: pytest.Config) -> None:
    """Register markers and resolve backends, reference and registry (usage errors end the run early)."""
    config.addinivalue_line("markers", "requires(*capabilities): skip unless the backend has them all")
    config.addinivalue_line("markers", "conformance_check: a cross-backend check (set by @check)")
    remember_environment()
    try:
        selected, broken = backend_registry.select(config.getoption("conformance_backends"))
        if not config.getoption("conformance_allow_missing"):
            backend_registry.require_defaults(broken)
        ref_name = config.getoption("conformance_reference") or backend_registry.REFERENCE
        by_id = {s.id: s for s in selected}
        reference = reference_view.resolve(ref_name, by_id)
        registry, builtin_ids = load_registries(path_option(config, "conformance_registry",
                                                            "conformance_registry"))
        bad = registry.unknown_backends({*backend_registry.available(), *backend_registry.PLUGINS})
        if bad:
            raise RegistryError("; ".join(f"{e.origin}: entry {e.id!r}: expect names unknown backend(s) "
                                          f"{', '.join(names)}" for e, names in bad)
                                + f"; known backends: {', '.join(sorted(backend_registry.available()))}")
        report_dir = path_option(config, "conformance_report_dir", "conformance_report_dir")
        if report_dir is not None:
            check_folder(report_dir, "--report-dir")
        variants = VariantSettings(config.getoption("conformance_variants"),
                                   config.getoption("conformance_variant_seed"))
    except (UsageError, RegistryError) as exc:
        raise pytest.UsageError(str(exc)) from None
    tracked_name = config.getoption("conformance_tracked") or TRACKED_BACKEND
    tracked, tracked_why = tracked_backend(tracked_name, by_id)
    session = CheckSession(selected=by_id, reference=reference, registry=registry, tracked=tracked,
                           tracked_why=tracked_why, isolate=config.getoption("conformance_isolate"),
                           variants=variants)
    config.stash[STATE] = PluginState(
        session=session, allow_undocumented=config.getoption("conformance_allow_undocumented"),
        report_dir=report_dir, builtin_ids=builtin_ids, broken=broken)
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Collector(config), "conformance-collector")
    elif config.workerinput.get(watchdog.INPUT_KEY):  # type: ignore[attr-defined]
        watchdog.start(config.workerinput[watchdog.INPUT_KEY], config.workerinput["workerid"])  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Make sure a driver thread a timed-out check left blocked cannot keep this process from exiting."""
    exit_guard.arm(session.exitstatus)
