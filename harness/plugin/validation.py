"""Problems with the loaded checks and the registry, found at collection: each named, with its fix."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from stc_harness.checks import DEFINED, CheckSpec
from stc_harness.differences import AREAS, Registry, builtin_folder


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


def shadowing_problem(registry: Registry, builtin_ids: set[str]) -> str | None:
    """A user's check with the id of a built-in one would inherit its registry entry: named, with the fix."""
    builtin = {check: e for e in reversed(registry.entries.values()) if e.id in builtin_ids
               for check in e.checks}  # reversed: the first entry naming a check wins, as before
    clashes = [f"your check {spec.id!r} ({spec.origin}) has the id of a built-in check that registry entry "
               f"{builtin[spec.id].id!r} ({builtin[spec.id].origin}) documents"
               for spec in DEFINED.values() if spec.id in builtin and not _from_own_suites(spec)]
    if not clashes:
        return None
    return ("; ".join(clashes) + ". Fix: rename the check or its module (the area is the module's name "
            "after test_), so it does not take over the built-in entry.")


def registry_problem(registry: Registry) -> str | None:
    """A registry entry whose area is neither built-in nor declared by a loaded check, named."""
    bad = registry.unknown_areas({spec.area for spec in DEFINED.values()})
    if not bad:
        return None
    return "; ".join(f"{e.origin}: entry {e.id!r}: unknown area {e.area!r}" for e in bad) + (
        f"; known areas: {', '.join(sorted({*AREAS, *(s.area for s in DEFINED.values())}))} "
        "(built-in, and those the loaded checks declare)")


def unused_entries_problem(registry: Registry, builtin_ids: set[str]) -> str | None:
    """Registry entries naming checks no suite defines (a user's, or a built-in one of our own areas)."""
    areas = {spec.area for spec in DEFINED.values()}
    ours = own_suite_areas()
    unused = [e for e in registry.unused(DEFINED, areas) if e.id not in builtin_ids or e.area in ours]
    if not unused:
        return None
    return ("registry entries name checks no suite defines: "
            + "; ".join(f"{e.id} ({e.origin}) -> {[c for c in e.checks if c not in DEFINED]}" for e in unused)
            + ". Fix the check id or remove the entry.")
