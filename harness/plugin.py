"""The pytest plugin: backend selection, fixtures, markers, check verdicts and the report."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from stc_harness import reference_view
from stc_harness.adapters import backend_registry
from stc_harness.adapters.backend_registry import Selected
from stc_harness.adapters.capabilities import require_known
from stc_harness.checks import (
    DEFINED,
    DOCUMENTED,
    DRIFT,
    LOUD,
    SAME,
    TIMEOUT,
    UNDOCUMENTED,
    UNSUPPORTED,
    Body,
    CheckSpec,
    DocumentedDifference,
    DriftError,
    Run,
    UndocumentedDifference,
    VerdictFailure,
    driver_attribution,
    execute,
    judge,
    same_observation,
    with_attribution,
)
from stc_harness.crash_records import complete_crash_records, crash_record
from stc_harness.differences import AREAS, Registry, RegistryError, builtin_folder, load_registries
from stc_harness.errors import UsageError
from stc_harness.observe import canonical
from stc_harness.safety import watchdog
from stc_harness.safety.hard_timeout import HardTimeout, run_on_own_thread
from stc_harness.safety.isolation import job_for, run_isolated
from stc_harness.safety.output_paths import check_folder
from stc_harness.safety.secrets import redact, remember_environment
from stc_harness.side_runs import side_run
from stc_harness.test_records import record_of_test
from stc_harness.variants import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    Neighbourhood,
    VariantSettings,
    explore,
    with_neighbourhood,
)
from stc_harness.variants import KEY as VARIANT_KEY

RECORD_KEY = "conformance"

#: Key of `config.workeroutput` under which an xdist worker hands a usage error to the controller.
USAGE_KEY = "conformance_usage_error"

#: Seconds a check may take beyond its timeout to close what it opened before its thread is abandoned.
CLEANUP_GRACE = 2.0

#: Added to the report's file names when the run stopped early: `compatibility-interrupted.json`.
INTERRUPTED_SUFFIX = "-interrupted"


@dataclass
class PluginState:
    """Everything the plugin decided at configure time, plus what the run collects."""

    selected: dict[str, Selected]
    reference: Selected
    registry: Registry
    allow_undocumented: bool
    report_dir: Path | None
    isolate: bool = False
    builtin_ids: set[str] = field(default_factory=set)
    broken: dict[str, str] = field(default_factory=dict)
    tracked: Selected | None = None
    tracked_why: str = ""
    tracked_runs: dict[str, Run] = field(default_factory=dict)
    reference_runs: dict[str, Run] = field(default_factory=dict)
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    variants: VariantSettings = field(default_factory=VariantSettings)
    #: Outcomes of single variants, by (backend name, check id, case), run once per process.
    variant_runs: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    #: SQLite's runs, by check id, when another backend is the reference (see `reference_view`).
    sqlite_runs: dict[str, Run] = field(default_factory=dict)


STATE = pytest.StashKey[PluginState]()


def state_of(config: pytest.Config) -> PluginState:
    """The plugin state of this run."""
    return config.stash[STATE]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the `conformance` group."""
    group = parser.getgroup("conformance", "cross-backend conformance (SQLite vs Turso)")
    group.addoption("--backend", action="append", default=[], dest="conformance_backends",
                    metavar="NAME|all|URL|module:factory",
                    help="backend to run (repeatable); default: every installed backend")
    group.addoption("--reference", default=None, dest="conformance_reference", metavar="NAME",
                    help="backend whose observations are the baseline (default: sqlite); --reference=libsql "
                         "reports what changes from libSQL to Turso")
    group.addoption("--tracked-reference", default=None, dest="conformance_tracked", metavar="NAME|none",
                    help="the SQLite release Turso tracks, run on the checks where a backend differs to "
                         f"attribute the difference (default: {backend_registry.TRACKED}; none: off)")
    group.addoption("--registry", default=None, dest="conformance_registry", metavar="DIR",
                    help="folder of your own documented-difference files, added to the built-in "
                         "registry (default: ini conformance_registry)")
    group.addoption("--report-dir", default=None, dest="conformance_report_dir", metavar="DIR",
                    help="write compatibility.json/.md/.html there at the end of the run")
    group.addoption("--allow-undocumented", action="store_true", dest="conformance_allow_undocumented",
                    help="report undocumented differences without failing the run")
    group.addoption("--allow-missing-backends", action="store_true", dest="conformance_allow_missing",
                    help="let a default run go on when a backend installed by default "
                         f"({', '.join(backend_registry.DEFAULT_BACKENDS)}) fails to load")
    group.addoption("--isolate", action="store_true", dest="conformance_isolate",
                    help="run every check in a child process (slow; a check that kills its process "
                         "is then a `crash` even without xdist). @check(isolated=True) does it per check")
    group.addoption("--variants", type=int, default=DEFAULT_COUNT, dest="conformance_variants", metavar="N",
                    help="variants drawn per check with variants= and per backend (default: "
                         f"{DEFAULT_COUNT}; 0: fixed cases only)")
    group.addoption("--variant-seed", type=int, default=DEFAULT_SEED, dest="conformance_variant_seed",
                    metavar="S", help=f"seed of the variants (default: {DEFAULT_SEED}); it is in the report")
    parser.addini("conformance_registry", "folder of your own documented-difference files, added to the "
                  "registry that ships with the package", default="")
    parser.addini("conformance_migrations", "folder of migrations for maketest(..., migrate=True)",
                  default="migrations")
    parser.addini("conformance_report_dir", "default --report-dir", default="")


def _path_option(config: pytest.Config, option: str, ini: str) -> Path | None:
    """A folder from the command line (relative to where pytest started) or the ini (relative to its file)."""
    value = config.getoption(option)
    base = config.invocation_params.dir
    if not value:
        value = config.getini(ini)
        base = config.inipath.parent if config.inipath else config.rootpath
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else base / path


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
        registry, builtin_ids = load_registries(_path_option(config, "conformance_registry",
                                                             "conformance_registry"))
        bad = registry.unknown_backends({*backend_registry.available(), *backend_registry.PLUGINS})
        if bad:
            raise RegistryError("; ".join(f"{e.origin}: entry {e.id!r}: expect names unknown backend(s) "
                                          f"{', '.join(names)}" for e, names in bad)
                                + f"; known backends: {', '.join(sorted(backend_registry.available()))}")
        report_dir = _path_option(config, "conformance_report_dir", "conformance_report_dir")
        if report_dir is not None:
            check_folder(report_dir, "--report-dir")
        variants = VariantSettings(config.getoption("conformance_variants"),
                                   config.getoption("conformance_variant_seed"))
    except (UsageError, RegistryError) as exc:
        raise pytest.UsageError(str(exc)) from None
    tracked_name = config.getoption("conformance_tracked") or backend_registry.TRACKED
    tracked, tracked_why = _tracked(tracked_name, by_id)
    config.stash[STATE] = PluginState(
        selected=by_id, reference=reference, registry=registry,
        allow_undocumented=config.getoption("conformance_allow_undocumented"),
        isolate=config.getoption("conformance_isolate"),
        report_dir=report_dir,
        broken=broken, builtin_ids=builtin_ids, tracked=tracked, tracked_why=tracked_why,
        variants=variants,
    )
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Collector(config), "conformance-collector")
    elif config.workerinput.get(watchdog.INPUT_KEY):  # type: ignore[attr-defined]
        watchdog.start(config.workerinput[watchdog.INPUT_KEY], config.workerinput["workerid"])  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Make sure a driver thread a timed-out check left blocked cannot keep this process from exiting."""
    from stc_harness.safety import exit_guard

    exit_guard.arm(session.exitstatus)


def _tracked(name: str, selected: dict[str, Selected]) -> tuple[Selected | None, str]:
    """The tracked SQLite backend, or None and why (then attribution is unavailable; never an error)."""
    if name == "none":
        return None, "switched off (--tracked-reference=none)"
    if name in selected:
        return selected[name], ""
    try:
        return backend_registry.select([name])[0][0], ""
    except UsageError as exc:
        return None, str(exc)


def tracked_line(st: PluginState) -> str:
    """One line saying which SQLite attributes the differences, or that attribution is unavailable."""
    if st.tracked is None:
        return f"attribution unavailable: no tracked SQLite ({st.tracked_why})"
    info = st.tracked.backend.info
    purpose = info.extra.get("purpose", "the SQLite release Turso tracks (attribution reference)")
    return (f"tracked SQLite: {st.tracked.id}: {info.driver} {info.driver_version}, "
            f"engine {info.engine_version}: {purpose}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which backends run, with driver and engine versions, and which is the reference."""
    st = state_of(config)
    lines = []
    for sel in st.selected.values():
        info = sel.backend.info
        opts = f" options {sel.options}" if sel.options else ""
        lines.append(f"backend {sel.id}: {info.driver} {info.driver_version}, "
                     f"engine {info.engine_version}{opts}")
    for name, why in st.broken.items():
        lines.append(f"backend {name}: not installed ({why})")
    total = len(st.registry.entries)
    lines.append(f"reference: {st.reference.id}; registry: {total} documented differences "
                 f"({len(st.builtin_ids)} built in, {total - len(st.builtin_ids)} yours)")
    lines.append(tracked_line(st))
    return redact(lines)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize checks over (backend, param) and `conformance_backend` users over backends."""
    st = state_of(metafunc.config)
    specs: dict[str | None, CheckSpec] | None = getattr(metafunc.function, "conformance_specs", None)
    if specs is not None and "conformance_target" in metafunc.fixturenames:
        targets, ids = [], []
        for sel_id in st.selected:
            for key in specs:
                targets.append((sel_id, key))
                ids.append(sel_id if key is None else f"{sel_id}-{key}")
        metafunc.parametrize("conformance_target", targets, ids=ids)
    elif "conformance_backend" in metafunc.fixturenames:
        metafunc.parametrize("conformance_backend", list(st.selected), ids=list(st.selected), indirect=True)


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
        sel = st.selected[sel_id]
        entry = st.registry.for_check(spec.id, sel.backend.name)
        if entry and sel.backend.name in entry.expect and sel.backend.name != st.reference.backend.name:
            item.add_marker(pytest.mark.xfail(
                strict=reference_view.is_default(st.reference), raises=DocumentedDifference,
                reason=f"{entry.id}: {entry.title} ({entry.source}); an XPASS means the difference is "
                       f"gone: remove the {sel.backend.name!r} expectation of entry {entry.id!r}"))
    problem = registry_problem(st) or shadowing_problem(st)
    if problem:
        _usage_problem(session, items, problem)
        return
    areas = {spec.area for spec in DEFINED.values()}
    ours = own_suite_areas()
    unused = [e for e in st.registry.unused(DEFINED, areas) if e.id not in st.builtin_ids or e.area in ours]
    if unused:
        _usage_problem(session, items, (
            "registry entries name checks no suite defines: "
            + "; ".join(f"{e.id} ({e.origin}) -> {[c for c in e.checks if c not in DEFINED]}" for e in unused)
            + ". Fix the check id or remove the entry."))


def own_suite_areas() -> set[str]:
    """Areas of the loaded checks that come from this project's own suites (beside the built-in registry).

    Only for these are built-in entries naming undefined checks an error: a user's suite of the same
    area name is not ours to judge, and an installed package ships the registry without the suites.
    """
    return {spec.area for spec in DEFINED.values() if _from_own_suites(spec)}


def _from_own_suites(spec: CheckSpec) -> bool:
    """True for a check defined in this project's own suites (not in a user's)."""
    parts = spec.origin.split(".")
    module = next((sys.modules[m] for m in (".".join(parts[:i]) for i in range(len(parts), 0, -1))
                   if m in sys.modules), None)
    path = getattr(module, "__file__", None)
    return bool(path) and Path(path).resolve().is_relative_to(_own_suites_folder())


@functools.cache
def _own_suites_folder() -> Path:
    """The folder of this project's own suites (the built-in registry's parent), resolved once."""
    return builtin_folder().resolve().parent


def shadowing_problem(st: PluginState) -> str | None:
    """A user's check with the id of a built-in one would inherit its registry entry: named, with the fix."""
    builtin = {check: e for e in reversed(st.registry.entries.values()) if e.id in st.builtin_ids
               for check in e.checks}  # reversed: the first entry naming a check wins, as before
    clashes = [f"your check {spec.id!r} ({spec.origin}) has the id of a built-in check that registry entry "
               f"{builtin[spec.id].id!r} ({builtin[spec.id].origin}) documents"
               for spec in DEFINED.values() if spec.id in builtin and not _from_own_suites(spec)]
    if not clashes:
        return None
    return ("; ".join(clashes) + ". Fix: rename the check or its module (the area is the module's name "
            "after test_), so it does not take over the built-in entry.")


def registry_problem(st: PluginState) -> str | None:
    """A registry entry whose area is neither built-in nor declared by a loaded check, named."""
    bad = st.registry.unknown_areas({spec.area for spec in DEFINED.values()})
    if not bad:
        return None
    return "; ".join(f"{e.origin}: entry {e.id!r}: unknown area {e.area!r}" for e in bad) + (
        f"; known areas: {', '.join(sorted({*AREAS, *(s.area for s in DEFINED.values())}))} "
        "(built-in, and those the loaded checks declare)")


async def _run_on(st: PluginState, spec: CheckSpec, body: Body, key: str | None, sel: Selected,
                  folder: Path) -> Run:
    """Run the check on one backend, in this process or (isolated) in a child process."""
    if spec.isolated or st.isolate:
        job = job_for(body, key, sel.target, sel.options, folder)
        return await asyncio.to_thread(run_isolated, job, spec.timeout)
    start = time.perf_counter()
    try:
        with watchdog.watching(f"{spec.id} on {sel.id}", spec.timeout + CLEANUP_GRACE):
            return await run_on_own_thread(lambda: execute(spec, body, sel.backend, folder, sel.options),
                                           spec.timeout + CLEANUP_GRACE, f"{spec.id} on {sel.id}")
    except HardTimeout as exc:
        return Run(TIMEOUT, message=f"did not finish within {spec.timeout:g}s: {exc}",
                   duration=time.perf_counter() - start)


async def _run_case(st: PluginState, spec: CheckSpec, body: Body, case: Any, sel: Selected,
                    folder: Path) -> Any:
    """One variant of a check on one backend (once per process): its observation, or its status."""
    key = (sel.backend.name, spec.id, json.dumps(canonical(case), sort_keys=True))
    if key not in st.variant_runs:
        one = dataclasses.replace(spec, param=case, isolated=False)
        n = len(st.variant_runs)
        try:
            with watchdog.watching(f"{spec.id} variant on {sel.id}", spec.timeout + CLEANUP_GRACE):
                run = await run_on_own_thread(
                    lambda: execute(one, body, sel.backend, folder / f"v{n}", sel.options),
                    spec.timeout + CLEANUP_GRACE, f"{spec.id} variant on {sel.id}")
        except HardTimeout:
            run = Run(TIMEOUT)
        st.variant_runs[key] = run.observation if run.status == "ok" else {"status": run.status}
    return st.variant_runs[key]


async def _neighbourhood(st: PluginState, spec: CheckSpec, body: Body, sel: Selected,
                         tmp_path: Path) -> Neighbourhood:
    """The check's variants on `sel` and on the reference (see `stc_harness.variants`)."""
    ref = st.reference
    return await explore(spec.variants,
                         lambda case: _run_case(st, spec, body, case, sel, tmp_path / "variants"),
                         lambda case: _run_case(st, spec, body, case, ref, tmp_path / "ref-variants"),
                         st.variants, pinned_case(st.registry, spec.id, sel.backend.name))


def pinned_case(registry: Registry, check_id: str, backend: str) -> Any:
    """The minimal variant the registry documents for this check and backend (None: none documented)."""
    entry = registry.for_check(check_id)
    documented = entry.expect.get(backend) if entry is not None else None
    if isinstance(documented, dict) and isinstance(documented.get(VARIANT_KEY), dict):
        return documented[VARIANT_KEY].get("case")
    return None


async def _tracked_with_minimal(st: PluginState, spec: CheckSpec, body: Body, hood: Neighbourhood,
                                tracked: Run, tmp_path: Path) -> Run:
    """The tracked SQLite's run shaped like the backend's: with its outcome at the minimal variant."""
    if tracked.status != "ok" or hood.minimal is None or st.tracked is None:
        return tracked
    outcome = await _run_case(st, spec, body, hood.minimal.case, st.tracked, tmp_path / "tracked-variants")
    if same_observation(outcome, hood.minimal.baseline):
        return tracked
    probe = dataclasses.replace(hood.minimal, observed=outcome)
    return dataclasses.replace(tracked, observation=with_neighbourhood(
        tracked.observation, Neighbourhood(hood.seed, hood.count, minimal=probe)))


async def _tracked_run(st: PluginState, spec: CheckSpec, body: Body, key: str | None,
                       tmp_path: Path) -> Run | None:
    """The tracked SQLite's run of this check (once per process), or None when it is unavailable."""
    if st.tracked is None:
        return None
    run = st.tracked_runs.get(spec.id)
    if run is None:
        run = st.tracked_runs[spec.id] = await _run_on(st, spec, body, key, st.tracked, tmp_path / "tracked")
    return run


async def run_check_test(spec: CheckSpec, body: Body, sel_id: str, request: pytest.FixtureRequest,
                         tmp_path: Path, key: str | None = None) -> None:
    """Run one check on one backend (and on the reference, once per process), record, and rule."""
    st = state_of(request.config)
    sel = st.selected[sel_id]
    cached = st.reference_runs.get(spec.id) if sel.id == st.reference.id and not spec.has_expect else None
    # a backend collected before the reference (libsql sorts first) already ran the reference's baseline
    run = cached or await _run_on(st, spec, body, key, sel, tmp_path / "run")
    if sel.id == st.reference.id and not spec.has_expect:
        st.reference_runs.setdefault(spec.id, run)  # the other backends' baseline: no second run
    ref_name = st.reference.backend.name
    ref_run = None
    if not spec.has_expect and sel.backend.name != ref_name:
        ref_run = st.reference_runs.get(spec.id)
        if ref_run is None:
            with side_run():
                ref_run = await _run_on(st, spec, body, key, st.reference, tmp_path / "reference")
            st.reference_runs[spec.id] = ref_run
    tracked_name = st.tracked.backend.name if st.tracked is not None else backend_registry.TRACKED
    if sel.backend.name == tracked_name:
        st.tracked_runs.setdefault(spec.id, run)  # its fixed case: what attribution compares
    fixed = run
    hood: Neighbourhood | None = None
    if spec.variants is not None and run.status == "ok" and sel.backend.name != ref_name:
        with side_run():
            hood = await _neighbourhood(st, spec, body, sel, tmp_path)
        run = dataclasses.replace(run, observation=with_neighbourhood(run.observation, hood))
    verdict = judge(spec, sel.backend.name, run, ref_name, ref_run, st.registry, tracked_name)
    if verdict.differs and sel.backend.name not in (ref_name, tracked_name):
        if spec.layer == "engine":
            with side_run():
                tracked_run = await _tracked_run(st, spec, body, key, tmp_path)
                if hood is not None and tracked_run is not None:
                    tracked_run = await _tracked_with_minimal(st, spec, body, hood, tracked_run, tmp_path)
            verdict = with_attribution(verdict, run, tracked_run,
                                       st.tracked.id if st.tracked is not None else "none")
        else:
            verdict = driver_attribution(verdict)
    if not reference_view.is_default(st.reference):
        verdict = await _against_reference(st, spec, body, key, sel, run, ref_run, verdict, tmp_path)
    if hood is not None and hood.minimal is not None:
        fixed_same = ref_run is not None and ref_run.status == "ok" and same_observation(
            ref_run.observation, fixed.observation)
        verdict.message += ("; the fixed case behaves as the reference, but a neighbouring input does "
                            "not: " if fixed_same else "; variants: ") + hood.sentence(sel.id, ref_name)
    verdict.message += difference_paths(verdict, run, sel.backend.name)
    record = {
        "check": spec.id, "area": spec.area, "layer": spec.layer, "title": spec.title,
        "source": spec.source.as_dict(),
        "backend": sel_id, "outcome": verdict.outcome, "message": verdict.message,
        "observed": run.observation if run.status == "ok" else None,
        "baseline": verdict.baseline, "baseline_from": verdict.baseline_from,
        "entry": verdict.entry.as_dict() if verdict.entry else None,
        "attribution": verdict.attribution, "tracked_observed": verdict.tracked_observed,
        "notes": run.notes, "duration": round(run.duration, 4), "nodeid": request.node.nodeid,
    }
    if spec.variants is not None:
        record["variants"] = (hood.as_dict() if hood is not None else
                              {"seed": st.variants.seed, "count": st.variants.count, "ran": 0,
                               "baseline": sel.backend.name == ref_name})
        record["notes"] = {**run.notes, "variants": record["variants"]}
    record = redact(record)
    verdict.message = record["message"]
    request.node.user_properties.append((RECORD_KEY, json.dumps(record, default=str)))
    if verdict.outcome in (SAME,):
        return
    if verdict.outcome == DOCUMENTED:
        if request.node.get_closest_marker("xfail") is None:  # the tracked SQLite on a version gap
            pytest.xfail(f"{DOCUMENTED}: {verdict.message}")
        raise DocumentedDifference(f"{DOCUMENTED}: {verdict.message}")
    if verdict.outcome == DRIFT:
        if verdict.gone:
            return  # strict xfail turns this pass into an XPASS failure that names the entry
        raise DriftError(f"{DRIFT}: {verdict.message}")
    if verdict.outcome == UNDOCUMENTED:
        if st.allow_undocumented:
            return
        raise UndocumentedDifference(f"{UNDOCUMENTED}: {verdict.message}")
    if verdict.outcome == UNSUPPORTED:
        pytest.skip(f"unsupported on {sel_id}: {verdict.message}")
    pytest.fail(f"{verdict.outcome}: {verdict.message}", pytrace=False)


async def _against_reference(st: PluginState, spec: CheckSpec, body: Body, key: str | None, sel: Selected,
                             run: Run, ref_run: Run | None, verdict: Any, tmp_path: Path) -> Any:
    """The verdict against a reference other than SQLite, with that reference's own differences applied."""
    sqlite_run = run if sel.backend.name == backend_registry.REFERENCE else st.sqlite_runs.get(spec.id)
    if sqlite_run is None and reference_view.needs_sqlite(verdict, st.reference, sel.backend.name, ref_run):
        sqlite = backend_registry.select([backend_registry.REFERENCE])[0][0]
        sqlite_run = st.sqlite_runs[spec.id] = await _run_on(st, spec, body, key, sqlite, tmp_path / "sqlite")
    out = reference_view.rejudge(verdict, spec.id, sel.backend.name, run, st.reference.backend.name, ref_run,
                                 st.registry, sqlite_run)
    return out if out is verdict else dataclasses.replace(out, attribution=None)


def difference_paths(verdict: Any, run: Run, backend: str) -> str:
    """"; differs at: <path>: <observed>, expected <x>; ..." for a drift or an undocumented difference."""
    from stc_harness.observe import canonical
    from stc_harness.report.render import value_diff

    if verdict.outcome == DRIFT and not verdict.gone and verdict.entry and backend in verdict.entry.expect:
        expected = canonical(verdict.entry.expect[backend])
    elif verdict.outcome == UNDOCUMENTED:
        expected = verdict.baseline
    else:
        return ""
    paths = value_diff(run.observation, expected)
    if not paths:
        return ""
    return "; differs at: " + "; ".join(f"{path or '(top)'}: {got}, expected {want}"
                                        for path, got, want in paths)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Record a user's maketest and fixture tests; redact known secrets from failure text and output."""
    if call.excinfo is not None and isinstance(call.excinfo.value, (VerdictFailure, pytest.xfail.Exception)):
        # a verdict's message says everything: pytest's filter of a ~30-frame asyncio traceback costs ~8 ms
        call.excinfo.traceback = call.excinfo.traceback[-1:]
    outcome = yield
    report = outcome.get_result()
    if STATE in item.config.stash and not any(k == RECORD_KEY for k, _ in report.user_properties):
        record = record_of_test(item, report, call, state_of(item.config).selected)
        if record is not None:
            report.user_properties.append((RECORD_KEY, json.dumps(redact(record), default=str)))
    if report.longrepr is not None:
        text = str(report.longrepr)
        if redact(text) != text:
            report.longrepr = redact(text)
    report.sections = [(title, redact(content)) for title, content in report.sections]


def _is_crash_report(report: pytest.TestReport) -> bool:
    """Whether xdist made this report for an item whose worker died while running it."""
    return report.failed and (report.when == "???" or "crashed while running" in str(report.longrepr))


class Progress:
    """How many tests the run collected and how many finished: an interrupted run writes a partial report."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.finished: set[str] = set()

    def collected(self, count: int) -> None:
        """Note a collection of `count` tests (the largest count wins: xdist workers each report theirs)."""
        if count:
            self.total = max(self.total or 0, count)

    def saw(self, report: pytest.TestReport) -> None:
        """Count a test once it has a result (its call, or a setup that skipped or failed, or a crash)."""
        done = report.when == "call" or (report.when == "setup" and not report.passed)
        if done or _is_crash_report(report):
            self.finished.add(report.nodeid)

    def interruption(self, exitstatus: int) -> dict[str, int] | None:
        """`{"ran": N, "total": M}` when the run stopped before every collected test ran, else None."""
        ran = len(self.finished)
        total = self.total if self.total is not None else ran
        if exitstatus == pytest.ExitCode.INTERRUPTED or ran < total:
            return {"ran": ran, "total": max(total, ran)}
        return None


def write_report(st: PluginState, config: pytest.Config, interrupted: dict[str, int] | None) -> list[Path]:
    """Write the report: a partial one beside the complete one, never over it; a failed write elsewhere."""
    from stc_harness.report.build import build_report
    from stc_harness.report.write import STEM, write_all
    from stc_harness.safety.output_paths import write_or_fallback

    assert st.report_dir is not None
    doc = redact(build_report(st, config))
    used = {row["entry"]["id"] for row in doc["checks"] if row.get("entry")}
    used |= {eid for row in doc["checks"] for eid in (row.get("entries") or {}).values()}
    doc["registry"] = [e for e in doc["registry"] if e["id"] in used or e["id"] not in st.builtin_ids]
    stem = STEM
    if interrupted:
        doc["interrupted"] = interrupted
        stem = f"{STEM}{INTERRUPTED_SUFFIX}"
    return write_or_fallback(lambda folder: write_all(doc, folder, stem), st.report_dir,
                             lambda message: sys.stderr.write(f"conformance: {message}\n"))


class Collector:
    """Gathers check records on the controller (or the serial process) and writes the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.usage_errors: list[str] = []
        self.progress = Progress()
        self.watchdog_dir: str | None = None
        self.written: list[Path] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """How many tests a serial run will run (under xdist the workers say it)."""
        self.progress.collected(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """How many tests an xdist run will run: every worker collects them all."""
        self.progress.collected(len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take each check's record; a check whose worker crashed becomes a `crash` record."""
        st = state_of(self.config)
        self.progress.saw(report)
        for key, value in report.user_properties:
            if key == RECORD_KEY:
                rec = json.loads(value)
                st.records[(rec["check"], rec["backend"])] = rec
                return
        if _is_crash_report(report):
            lines = str(report.longrepr).strip().splitlines() or ["worker crashed"]
            rec = crash_record(report.nodeid, lines[-1][:500], st.selected)
            if rec:
                self._watchdog_timeout(report, rec)
                st.records[(rec["check"], rec["backend"])] = rec

    def _watchdog_timeout(self, report: pytest.TestReport, rec: dict[str, Any]) -> None:
        """Mark a crash record as a timeout when the worker's watchdog ended it (see
        stc_harness.safety.watchdog)."""
        worker = getattr(getattr(report, "node", None), "workerinput", {}).get("workerid")
        traceback = watchdog.fired(self.watchdog_dir, worker) if worker and self.watchdog_dir else None
        if traceback:
            rec["watchdog"] = True
            rec["message"] = (f"the worker was still blocked {watchdog.GRACE:g}s past the check's timeout "
                              "(stuck holding the interpreter) and was replaced")
            rec["notes"] = {"traceback": traceback[-2000:]}

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Give each xdist worker the folder of watchdog files (see stc_harness.safety.watchdog)."""
        if self.watchdog_dir is None:
            self.watchdog_dir = tempfile.mkdtemp(prefix="conformance-watchdog-")
        node.workerinput[watchdog.INPUT_KEY] = self.watchdog_dir

    @pytest.hookimpl(optionalhook=True)  # an xdist hook: a serial run may have xdist absent or disabled
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Keep a usage error an xdist worker found while collecting (reported at the end)."""
        message = getattr(node, "workeroutput", {}).get(USAGE_KEY)
        if message and message not in self.usage_errors:
            self.usage_errors.append(message)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Complete crash records and write the report files when a report folder was chosen."""
        st = state_of(self.config)
        if self.usage_errors:
            for message in self.usage_errors:
                sys.stderr.write(f"ERROR: {message}\n")
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        complete_crash_records(st.records, st.selected, st.registry)
        for rec in st.records.values():
            if rec.pop("watchdog", False):
                rec["outcome"] = TIMEOUT
        interrupted = self.progress.interruption(exitstatus)
        stopped = interrupted is not None and exitstatus == pytest.ExitCode.INTERRUPTED
        if st.report_dir is None or not (st.records or stopped):
            return  # nothing ran and nobody pressed Ctrl-C (a usage or collection error): no report
        self.written = write_report(st, self.config, interrupted)

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        """A short per-outcome summary of the checks."""
        st = state_of(config)
        if not st.records and not self.written:
            return
        from stc_harness.report.build import outcome_counts

        terminalreporter.section("conformance")
        for backend, per in outcome_counts(st.records.values()).items():
            terminalreporter.write_line(f"{backend}: " + ", ".join(f"{n} {o}" for o, n in per.items() if n))
        for rec in sorted(st.records.values(), key=lambda r: (r["check"], r["backend"])):
            if rec["outcome"] in LOUD:
                terminalreporter.write_line(f"  {rec['outcome']:<24} {rec['check']} [{rec['backend']}]")
        md = next((p for p in self.written if p.suffix == ".md"), None)
        if md is not None:
            interrupted = self.progress.interruption(exitstatus)
            mark = (f"; interrupted: {interrupted['ran']} of {interrupted['total']} checks ran, so the "
                    "complete report beside it was left as it was" if interrupted else "")
            terminalreporter.write_line(f"report: {md} (.json, .html){mark}")


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def conformance_backend(request: pytest.FixtureRequest) -> Any:
    """The backend under test (parametrized over the selected backends); honours `@requires`."""
    st = state_of(request.config)
    sel = st.selected[request.param]
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
    return state_of(request.config).selected[sel_id]


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
    return state_of(request.config).selected
