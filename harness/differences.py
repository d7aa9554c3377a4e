"""The registry of documented differences: data files next to the suites, validated on load."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stc_harness import outcomes
from stc_harness.errors import UsageError
from stc_harness.sources import Source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Every area a check or an entry may belong to.
AREAS = ("smoke", "types", "migrations", "transactions", "pooling", "mvcc", "errors", "features",
         "encryption", "limits", "discovery", "grammar",
         # The driver layer (suites/driver/test_driver_<theme>.py): the Python modules called directly.
         "driver_surface", "driver_connect", "driver_transactions", "driver_timing", "driver_state",
         "driver_exceptions", "driver_binding", "driver_cursor", "driver_threads", "driver_async",
         # Engine behaviours around statements that fail, schema read back, triggers.
         "statements", "schema", "triggers",
         # Turso's compatibility table row by row, and every PRAGMA in depth.
         "compat", "pragmas",
         # Neighbourhoods (issue 19): names and parameter styles where one literal stands for a family.
         "names", "parameters",
         # The client layer (suites/client/test_client_<x>.py): real client code on top.
         "client_sqlalchemy", "client_alembic")

#: What an area name looks like (a built-in one, or one a user's checks declare).
AREA_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

REQUIRED = ("id", "check", "title", "source", "reason", "expect", "impact", "attribution")

#: How much a difference hurts a migrating application, worst first (DESIGN.md, "Impact").
IMPACTS = outcomes.IMPACTS
#: Whose difference an entry can say it is, with its meaning: Turso's own, or a gap between SQLite releases
#: that any current SQLite shares (the SQLite Turso tracks observes the same).
ATTRIBUTIONS = outcomes.ATTRIBUTION_MEANING
OPTIONAL = ("area",)


class RegistryError(UsageError):
    """A registry file or entry is malformed; the message names the file and entry."""


@dataclass(frozen=True)
class Entry:
    """One documented difference: which checks it covers and what each backend is expected to observe."""

    id: str
    area: str
    checks: tuple[str, ...]
    title: str
    source: Source
    reason: str
    expect: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    impact: str | None = None
    attribution: str | None = None

    @property
    def backends(self) -> tuple[str, ...]:
        """The backends the entry states an expectation for."""
        return tuple(sorted(self.expect))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (as quoted in the report)."""
        return {"id": self.id, "area": self.area, "checks": list(self.checks), "title": self.title,
                "source": self.source.as_dict(), "reason": self.reason, "expect": self.expect,
                "impact": self.impact, "attribution": self.attribution, "file": self.origin}


class Registry:
    """All entries, indexed by check id (and by check and backend).

    Several entries may cover one check when they name different backends (a plugin backend's own
    entries beside Turso's, in files of their own); the first one loaded is the check's main entry.
    """

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self.entries: dict[str, Entry] = {}
        self.by_check: dict[str, Entry] = {}
        self.by_backend: dict[tuple[str, str], Entry] = {}
        self._all: dict[str, list[Entry]] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: Entry) -> None:
        """Add an entry; a duplicate id, or a check claimed twice for one backend, is an error naming both."""
        if entry.id in self.entries:
            raise RegistryError(f"{entry.origin}: duplicate entry id {entry.id!r} "
                                f"(also in {self.entries[entry.id].origin})")
        for check in entry.checks:
            for backend in entry.expect:
                other = self.by_backend.get((check, backend))
                if other is not None:
                    raise RegistryError(f"{entry.origin}: entry {entry.id!r} covers check {check!r}, "
                                        f"already covered by entry {other.id!r} (both name backend "
                                        f"{backend!r}; entries on one check must name different backends)")
        for check in entry.checks:
            self.by_check.setdefault(check, entry)
            self._all.setdefault(check, []).append(entry)
            for backend in entry.expect:
                self.by_backend[(check, backend)] = entry
        self.entries[entry.id] = entry

    def for_check(self, check_id: str, backend: str | None = None) -> Entry | None:
        """The entry covering `check_id` for `backend` (else the check's main entry), if any."""
        if backend is not None:
            found = self.by_backend.get((check_id, backend))
            if found is not None:
                return found
        return self.by_check.get(check_id)

    def all_for_check(self, check_id: str) -> list[Entry]:
        """Every entry covering `check_id`, the main one first."""
        return list(self._all.get(check_id, ()))

    def unknown_backends(self, known: Iterable[str]) -> list[tuple[Entry, list[str]]]:
        """Entries whose `expect` names a backend this environment does not know (a typo, usually)."""
        names = set(known)
        return [(e, sorted(set(e.expect) - names)) for e in self.entries.values() if set(e.expect) - names]

    def unknown_areas(self, known: Iterable[str]) -> list[Entry]:
        """Entries whose area is neither built-in nor among `known` (the areas the loaded checks declare)."""
        names = {*AREAS, *known}
        return [e for e in self.entries.values() if e.area not in names]

    def unused(self, defined_checks: Iterable[str], loaded_areas: Iterable[str]) -> list[Entry]:
        """Entries of the loaded areas naming a check that no suite defines."""
        defined, areas = set(defined_checks), set(loaded_areas)
        return [e for e in self.entries.values()
                if e.area in areas and any(c not in defined for c in e.checks)]


def parse_entry(raw: dict[str, Any], origin: str) -> Entry:
    """Validate one `[[difference]]` table; every problem names the entry and the fix."""
    name = raw.get("id", "<no id>")
    where = f"{origin}: entry {name!r}"
    missing = [k for k in REQUIRED if not raw.get(k)]
    if missing:
        allowed = "".join(f"; {name} is one of {', '.join(values)}" for name, values
                          in (("impact", IMPACTS), ("attribution", ATTRIBUTIONS)) if name in missing)
        raise RegistryError(f"{where}: missing {', '.join(missing)} "
                            f"(every entry needs {', '.join(REQUIRED)}{allowed})")
    unknown = sorted(set(raw) - {*REQUIRED, *OPTIONAL})
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: "
                            f"{', '.join((*REQUIRED, *OPTIONAL))}")
    for name, allowed in (("impact", IMPACTS), ("attribution", ATTRIBUTIONS)):
        if name in raw and raw[name] not in allowed:
            raise RegistryError(f"{where}: {name} {raw[name]!r} is not one of {', '.join(allowed)}")
    area = raw.get("area") or str(raw["id"]).split(".")[0]
    if not AREA_NAME.match(area):
        raise RegistryError(f"{where}: area {area!r} must be a lowercase identifier such as 'smoke' "
                            f"(built-in areas: {', '.join(AREAS)}; or one your checks declare)")
    src = raw["source"]
    if not isinstance(src, dict) or not src.get("document") or not src.get("section"):
        raise RegistryError(f"{where}: source must be a table with document and section, "
                            'e.g. source = { document = "001_312a5f9792b0f890.txt", '
                            'section = "Concurrent writes" }')
    checks = raw["check"] if isinstance(raw["check"], list) else [raw["check"]]
    if not all(isinstance(c, str) and "." in c for c in checks):
        raise RegistryError(f"{where}: check must be a check id like 'area.name' (or a list of them)")
    expect = raw["expect"]
    if not isinstance(expect, dict) or not expect:
        raise RegistryError(f"{where}: expect must map backend names to the observation each should make")
    return Entry(str(raw["id"]), area, tuple(checks), str(raw["title"]),
                 Source(str(src["document"]), str(src["section"])), str(raw["reason"]), dict(expect), origin,
                 str(raw["impact"]), str(raw["attribution"]))


def load_file(path: Path) -> list[Entry]:
    """Load one registry file (`[[difference]]` tables); parsed once per process while it is unchanged."""
    stat = path.stat()
    return list(_parsed(path, stat.st_mtime_ns, stat.st_size))


# A drop-in parent needs the registry three times (the conformance plugin, the routing check, the
# explaining) and every pytest process once or twice: parsing 66 files costs ~0.1 s each time.
@functools.lru_cache(maxsize=512)
def _parsed(path: Path, mtime_ns: int, size: int) -> tuple[Entry, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"difference"})
    if unknown:
        raise RegistryError(f"{path}: unknown top-level key(s) {', '.join(unknown)}; "
                            "use [[difference]] tables")
    return tuple(parse_entry(raw, path.name) for raw in data.get("difference", []))


def builtin_folder() -> Path:
    """The registry that ships with the package (`harness/registry`, the repository's suites/differences)."""
    return Path(__file__).resolve().parent / "registry"


def check_registry_folder(folder: Path, what: str = "--registry") -> None:
    """A registry folder the user named exists and holds `*.toml` files: a typo is not an empty registry."""
    if not folder.is_dir():
        raise RegistryError(f"{what} {folder}: no such folder; name a folder of *.toml registry files")
    if not any(folder.glob("*.toml")):
        raise RegistryError(f"{what} {folder}: the folder has no *.toml registry files")


def load_registries(user: Path | None) -> tuple[Registry, set[str]]:
    """The built-in registry plus the user's folder, if any; and the ids of the built-in entries."""
    builtin = builtin_folder()
    registry = load_registry(builtin)
    ours = set(registry.entries)
    if user is not None:
        check_registry_folder(user)
        if user.resolve() != builtin.resolve():
            for entry in load_registry(user).entries.values():
                registry.add(entry)
    return registry, ours


def load_registry(folder: Path) -> Registry:
    """Load every `*.toml` file in `folder` (sorted), validating as it goes."""
    registry = Registry()
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            for entry in load_file(path):
                registry.add(entry)
    return registry
