"""A run judged against another reference than SQLite (`--reference=libsql`): what changes from it.

The registry documents every backend's differences from SQLite. Judged against libSQL instead, a backend
differs from the reference in two ways the registry already explains: by a difference of its own (its
entry holds, and the reference does not share it) or by one of the reference's own (the reference's entry
holds, and the backend observes what SQLite does, measured). Two backends whose entries expect the same
thing do not differ from each other at all. `rejudge` applies exactly this to the ordinary verdict.
"""

from __future__ import annotations

from stc_harness.adapters import backend_registry
from stc_harness.adapters.backend_registry import Selected
from stc_harness.checks import (
    DOCUMENTED,
    DRIFT,
    ERROR,
    SAME,
    UNDOCUMENTED,
    UNSUPPORTED,
    Run,
    Verdict,
    same_observation,
)
from stc_harness.differences import Entry, Registry
from stc_harness.errors import UsageError
from stc_harness.observe import canonical

#: Verdicts a reference's own documented difference can explain.
EXPLAINABLE = (UNDOCUMENTED, ERROR)


def resolve(name: str, selected: dict[str, Selected]) -> Selected:
    """The `--reference` backend: one of this run's, else loaded by name; a usage error names the fix."""
    if name in selected:
        return selected[name]
    known = backend_registry.available()
    if name not in known and name in backend_registry.PLUGINS:
        raise UsageError(f"--reference={name}: the {name} backend is not installed; install it with "
                         f"{backend_registry.PLUGINS[name]}, or choose one of: {', '.join(sorted(known))}")
    try:
        return backend_registry.select([name])[0][0]
    except UsageError as exc:
        raise UsageError(f"--reference={name}: {exc}") from None


def is_default(reference: Selected) -> bool:
    """Whether the run is judged against SQLite, the registry's own reference."""
    return str(reference.backend.name) == backend_registry.REFERENCE


def seen(run: Run) -> object:
    """What a run observed, or its crash/timeout as an entry documents one."""
    return run.observation if run.status == "ok" else {run.status: run.message}


def own_entry(registry: Registry, check_id: str, reference: str, ref_run: Run | None) -> Entry | None:
    """The reference's own registry entry for this check, if it holds on the reference's run."""
    entry = registry.for_check(check_id, reference)
    if entry is None or reference not in entry.expect or ref_run is None:
        return None
    return entry if same_observation(seen(ref_run), canonical(entry.expect[reference])) else None


def needs_sqlite(verdict: Verdict, reference: Selected, backend: str, ref_run: Run | None) -> bool:
    """Whether `rejudge` needs SQLite's run of the check to decide this verdict."""
    return not is_default(reference) and backend != str(reference.backend.name) and \
        verdict.outcome in EXPLAINABLE and (ref_run is None or ref_run.status != UNSUPPORTED)


def rejudge(verdict: Verdict, check_id: str, backend: str, run: Run, reference: str, ref_run: Run | None,
            registry: Registry, sqlite_run: Run | None) -> Verdict:
    """The verdict against a non-SQLite reference, with the reference's own documented differences applied."""
    if backend == reference:
        return verdict
    if verdict.outcome == ERROR and ref_run is not None and ref_run.status == UNSUPPORTED:
        return Verdict(UNSUPPORTED, f"the reference {reference} cannot run this check ({ref_run.message}): "
                                    "nothing to compare with", entry=verdict.entry)
    ref_entry = own_entry(registry, check_id, reference, ref_run)
    if ref_entry is None:
        return verdict
    if verdict.outcome == DRIFT and verdict.gone and verdict.entry is not None:
        return Verdict(SAME, f"as {reference}: both differ from SQLite alike "
                             f"({verdict.entry.id}, {ref_entry.id})",
                       verdict.baseline, verdict.baseline_from, verdict.entry)
    own = registry.for_check(check_id, backend)
    if verdict.outcome == ERROR and own is not None and backend in own.expect \
            and same_observation(seen(run), canonical(own.expect[backend])):
        return Verdict(DOCUMENTED, f"both differ from SQLite: {backend} as documented by {own.id}, "
                                   f"{reference} by {ref_entry.id}",
                       seen(ref_run) if ref_run is not None else None, reference, own)
    if verdict.outcome in EXPLAINABLE and run.status == "ok" and sqlite_run is not None \
            and sqlite_run.status == "ok" and same_observation(run.observation, sqlite_run.observation):
        return Verdict(DOCUMENTED, f"{reference}'s own difference, documented by {ref_entry.id} "
                                   f"({ref_entry.source}); {backend} observes what SQLite does",
                       seen(ref_run) if ref_run is not None else None, reference, ref_entry)
    return verdict
