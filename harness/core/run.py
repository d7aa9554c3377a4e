"""One check on one backend, ruled: its run, the reference's, the tracked SQLite's, variants, its record."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stc_harness import reference_view
from stc_harness.adapters import backend_registry
from stc_harness.adapters.backend_registry import Selected
from stc_harness.checks import (
    Body,
    CheckSpec,
    Run,
    Verdict,
    driver_attribution,
    judge,
    same_observation,
    with_attribution,
)
from stc_harness.core.records import check_record
from stc_harness.core.session import CheckSession
from stc_harness.differences import Registry
from stc_harness.observe import canonical
from stc_harness.outcomes import DRIFT, UNDOCUMENTED
from stc_harness.report.view import value_diff
from stc_harness.safety.secrets import redact
from stc_harness.side_runs import side_run
from stc_harness.variants import KEY as VARIANT_KEY
from stc_harness.variants import Neighbourhood, explore, with_neighbourhood


@dataclass
class Ruling:
    """A check's verdict on one backend and its record (redacted: the verdict's message is the record's)."""

    verdict: Verdict
    record: dict[str, Any]


async def run_check(session: CheckSession, spec: CheckSpec, body: Body, sel_id: str, folder: Path,
                    key: str | None = None, nodeid: str = "") -> Ruling:
    """Run one check on one backend (and on the reference, once per process) and rule on it."""
    st = session
    sel = st.selected[sel_id]
    cached = st.reference_runs.get(spec.id) if sel.id == st.reference.id and not spec.has_expect else None
    # a backend collected before the reference (libsql sorts first) already ran the reference's baseline
    run = cached or await st.run_on(spec, body, key, sel, folder / "run")
    if sel.id == st.reference.id and not spec.has_expect:
        st.reference_runs.setdefault(spec.id, run)  # the other backends' baseline: no second run
    ref_name = st.reference.backend.name
    ref_run = None
    if not spec.has_expect and sel.backend.name != ref_name:
        ref_run = st.reference_runs.get(spec.id)
        if ref_run is None:
            with side_run():
                ref_run = await st.run_on(spec, body, key, st.reference, folder / "reference")
            st.reference_runs[spec.id] = ref_run
    tracked_name = st.tracked_name
    if sel.backend.name == tracked_name:
        st.tracked_runs.setdefault(spec.id, run)  # its fixed case: what attribution compares
    fixed = run
    hood: Neighbourhood | None = None
    if spec.variants is not None and run.status == "ok" and sel.backend.name != ref_name:
        with side_run():
            hood = await _neighbourhood(st, spec, body, sel, folder)
        run = dataclasses.replace(run, observation=with_neighbourhood(run.observation, hood))
    verdict = judge(spec, sel.backend.name, run, ref_name, ref_run, st.registry, tracked_name)
    if verdict.differs and sel.backend.name not in (ref_name, tracked_name):
        if spec.layer == "engine":
            with side_run():
                tracked_run = await _tracked_run(st, spec, body, key, folder)
                if hood is not None and tracked_run is not None:
                    tracked_run = await _tracked_with_minimal(st, spec, body, hood, tracked_run, folder)
            verdict = with_attribution(verdict, run, tracked_run,
                                       st.tracked.id if st.tracked is not None else "none")
        else:
            verdict = driver_attribution(verdict)
    if not reference_view.is_default(st.reference):
        verdict = await _against_reference(st, spec, body, key, sel, run, ref_run, verdict, folder)
    if hood is not None and hood.minimal is not None:
        fixed_same = ref_run is not None and ref_run.status == "ok" and same_observation(
            ref_run.observation, fixed.observation)
        verdict.message += ("; the fixed case behaves as the reference, but a neighbouring input does "
                            "not: " if fixed_same else "; variants: ") + hood.sentence(sel.id, ref_name)
    verdict.message += difference_paths(verdict, run, sel.backend.name)
    record = check_record(
        spec.id, spec.area, sel_id, verdict.outcome, layer=spec.layer, title=spec.title,
        source=spec.source.as_dict(), message=verdict.message,
        observed=run.observation if run.status == "ok" else None,
        baseline=verdict.baseline, baseline_from=verdict.baseline_from,
        entry=verdict.entry.as_dict() if verdict.entry else None,
        attribution=verdict.attribution, tracked_observed=verdict.tracked_observed,
        notes=run.notes, duration=run.duration, nodeid=nodeid)
    if spec.variants is not None:
        record["variants"] = (hood.as_dict() if hood is not None else
                              {"seed": st.variants.seed, "count": st.variants.count, "ran": 0,
                               "baseline": sel.backend.name == ref_name})
        record["notes"] = {**run.notes, "variants": record["variants"]}
    record = redact(record)
    verdict.message = record["message"]
    return Ruling(verdict, record)


async def _against_reference(st: CheckSession, spec: CheckSpec, body: Body, key: str | None, sel: Selected,
                             run: Run, ref_run: Run | None, verdict: Verdict, folder: Path) -> Verdict:
    """The verdict against a reference other than SQLite, with that reference's own differences applied."""
    sqlite_run = run if sel.backend.name == backend_registry.REFERENCE else st.sqlite_runs.get(spec.id)
    if sqlite_run is None and reference_view.needs_sqlite(verdict, st.reference, sel.backend.name, ref_run):
        sqlite = backend_registry.select([backend_registry.REFERENCE])[0][0]
        sqlite_run = st.sqlite_runs[spec.id] = await st.run_on(spec, body, key, sqlite, folder / "sqlite")
    out = reference_view.rejudge(verdict, spec.id, sel.backend.name, run, st.reference.backend.name, ref_run,
                                 st.registry, sqlite_run)
    return out if out is verdict else dataclasses.replace(out, attribution=None)


def difference_paths(verdict: Verdict, run: Run, backend: str) -> str:
    """"; differs at: <path>: <observed>, expected <x>; ..." for a drift or an undocumented difference."""
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


async def _neighbourhood(st: CheckSession, spec: CheckSpec, body: Body, sel: Selected,
                         folder: Path) -> Neighbourhood:
    """The check's variants on `sel` and on the reference (see `stc_harness.variants`)."""
    ref = st.reference
    return await explore(spec.variants,
                         lambda case: st.run_case(spec, body, case, sel, folder / "variants"),
                         lambda case: st.run_case(spec, body, case, ref, folder / "ref-variants"),
                         st.variants, pinned_case(st.registry, spec.id, sel.backend.name))


def pinned_case(registry: Registry, check_id: str, backend: str) -> Any:
    """The minimal variant the registry documents for this check and backend (None: none documented)."""
    entry = registry.for_check(check_id)
    documented = entry.expect.get(backend) if entry is not None else None
    if isinstance(documented, dict) and isinstance(documented.get(VARIANT_KEY), dict):
        return documented[VARIANT_KEY].get("case")
    return None


async def _tracked_with_minimal(st: CheckSession, spec: CheckSpec, body: Body, hood: Neighbourhood,
                                tracked: Run, folder: Path) -> Run:
    """The tracked SQLite's run shaped like the backend's: with its outcome at the minimal variant."""
    if tracked.status != "ok" or hood.minimal is None or st.tracked is None:
        return tracked
    outcome = await st.run_case(spec, body, hood.minimal.case, st.tracked, folder / "tracked-variants")
    if same_observation(outcome, hood.minimal.baseline):
        return tracked
    probe = dataclasses.replace(hood.minimal, observed=outcome)
    return dataclasses.replace(tracked, observation=with_neighbourhood(
        tracked.observation, Neighbourhood(hood.seed, hood.count, minimal=probe)))


async def _tracked_run(st: CheckSession, spec: CheckSpec, body: Body, key: str | None,
                       folder: Path) -> Run | None:
    """The tracked SQLite's run of this check (once per process), or None when it is unavailable."""
    if st.tracked is None:
        return None
    run = st.tracked_runs.get(spec.id)
    if run is None:
        run = st.tracked_runs[spec.id] = await st.run_on(spec, body, key, st.tracked, folder / "tracked")
    return run
