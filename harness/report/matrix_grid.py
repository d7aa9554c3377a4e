"""The version matrix as a picture: area x release, each cell coloured by how many checks differ there.

Two series of releases: the pyturso releases (Turso's columns, oldest first) and the SQLite releases (the
columns of the SQLite backends, one per engine version). A cell counts, among the area's checks, those
that differ from the reference (documented, undocumented, drift), those that could not be judged (error,
crash, timeout) and those that did not run there (unsupported, absent). Its colour follows the share that
differs, and the cell always prints the count too: colour is never the only carrier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from stc_harness.outcomes import BROKEN, DIFFERS, SQLITE_BACKENDS, UNSUPPORTED

#: A matrix cell of a check a report has no result for.
ABSENT = "absent"
#: Outcomes counted as "did not run there" in a cell (those that differ: `DIFFERS`; not judged: `BROKEN`).
NOT_RUN_CELL = (UNSUPPORTED, ABSENT)
#: Turso's columns are pyturso releases; the SQLite backends' (`SQLITE_BACKENDS`) are SQLite releases.
TURSO = "turso"
#: Colour steps for the share of an area's checks that differ (upper bound, background, text).
SCALE = ((0.0, "#e3f4e6", "#1e5f2b"), (0.1, "#fff4cc", "#5c4600"), (0.25, "#fde2cc", "#7a3300"),
         (0.5, "#f9c4c4", "#6d0f0f"), (1.0, "#ec9a9a", "#4d0000"))


def version_key(version: str) -> tuple[tuple[int, Any], ...]:
    """Sort key for release numbers: `0.10.0` after `0.9.1`; non-numeric parts after numeric ones."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.+-]", version))


@dataclass
class Cell:
    """One area in one release."""

    checks: int = 0
    differ: int = 0
    broken: int = 0
    not_run: int = 0

    @property
    def ran(self) -> int:
        """Checks judged in this release (neither broken nor not run)."""
        return self.checks - self.broken - self.not_run

    @property
    def share(self) -> float:
        """The share of the judged checks that differ."""
        return self.differ / self.ran if self.ran else 0.0

    @property
    def colours(self) -> tuple[str, str]:
        """(background, text) for the cell's share."""
        if not self.ran:
            return "#eceef1", "#4a4f55"
        for bound, bg, fg in SCALE:
            if self.share <= bound:
                return bg, fg
        return SCALE[-1][1], SCALE[-1][2]

    @property
    def title(self) -> str:
        """The counts in words (the cell's tooltip)."""
        return (f"{self.differ} of {self.ran} judged checks differ; {self.broken} could not be judged; "
                f"{self.not_run} did not run")


@dataclass
class Series:
    """The releases of one kind (pyturso or SQLite) and their cells per area."""

    name: str
    releases: list[str]
    labels: list[str]
    cells: dict[str, list[Cell]] = field(default_factory=dict)


def _points(columns: list[dict[str, Any]], series: str) -> list[tuple[str, str]]:
    """(release, column label) for a series, one column per release (the newest Python's)."""
    def pyver(c: dict[str, Any]) -> tuple[int, ...]:
        return tuple(int(p) for p in str(c.get("python", "0")).split(".") if p.isdigit())

    points: dict[str, str] = {}
    for col in sorted(columns, key=pyver):
        if series == TURSO and col["name"] == TURSO:
            points[col["driver_version"]] = col["label"]
        elif series != TURSO and col["name"] in SQLITE_BACKENDS:
            points[col["engine_version"]] = col["label"]
    return [(r, points[r]) for r in sorted(points, key=version_key)]


def grid(matrix: dict[str, Any]) -> tuple[list[str], list[Series]]:
    """The areas, and a series each for the pyturso and the SQLite releases (empty series left out)."""
    areas = sorted({row.get("area") or "" for row in matrix["checks"]})
    out = []
    for key, name in ((TURSO, "pyturso releases"), ("sqlite", "SQLite releases")):
        points = _points(matrix["columns"], key)
        if not points:
            continue
        series = Series(name, [r for r, _ in points], [label for _, label in points],
                        {a: [Cell() for _ in points] for a in areas})
        for row in matrix["checks"]:
            cells = series.cells[row.get("area") or ""]
            for cell, (_, label) in zip(cells, points, strict=True):
                outcome = row["cells"][label]["outcome"]
                cell.checks += 1
                if outcome in DIFFERS:
                    cell.differ += 1
                elif outcome in BROKEN:
                    cell.broken += 1
                elif outcome in NOT_RUN_CELL:
                    cell.not_run += 1
        out.append(series)
    return areas, out
