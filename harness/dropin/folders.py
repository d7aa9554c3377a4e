"""Each engine's own folders for a drop-in run, and the files its tests changed outside them.

A child runs its tests in a working folder of its own: the folders of the folder pytest started in, made
anew, with a symbolic link to each of their files, so a test reads the project's files as before, while a
file it creates (`sqlite3.connect("app.db")`, `tests/db/x.sqlite`) lands in its engine's own folder, never
under the other engine's run. A SQLite database already in the project (one an earlier run left) is
copied instead, one copy per engine. A write through a link (into an existing file, or into a folder
linked whole: tools' caches and environments, and every folder past 20,000 entries) still reaches the
project: the parent compares the project's files before and after the run and names those, since the two
engines may have shared them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from stc_harness.dropin.trace import SIDE_FILES

#: Folders never looked into when the project's files are compared (tools' caches, environments).
SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox",
             ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"}
#: At most this many files are compared (a larger tree is not checked, and the report says so).
MAX_FILES = 20_000

Snapshot = dict[str, tuple[int, int]]
#: The first bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def snapshot(root: Path, skip: tuple[Path, ...]) -> Snapshot | None:
    """`{relative path: (mtime_ns, size)}` of the files under `root`, or None past MAX_FILES files."""
    out: Snapshot = {}
    skipped = {str(p.resolve()) for p in skip}
    stack = [str(root)]
    while stack:
        top = stack.pop()
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            if entry.name in SKIP_DIRS or entry.name.endswith((".egg-info", ".pyc")):
                continue
            if entry.is_dir(follow_symlinks=False):
                if os.path.realpath(entry.path) not in skipped:
                    stack.append(entry.path)
            elif entry.is_file(follow_symlinks=False):
                stat = entry.stat(follow_symlinks=False)
                out[os.path.relpath(entry.path, root)] = (stat.st_mtime_ns, stat.st_size)
                if len(out) > MAX_FILES:
                    return None
    return out


def changed(before: Snapshot | None, after: Snapshot | None) -> list[str] | None:
    """Files created, changed or removed between two snapshots (None when either was not taken)."""
    if before is None or after is None:
        return None
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def is_database(path: Path) -> bool:
    """A regular file that starts with SQLite's database header."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


@dataclass
class EngineFolders:
    """A temporary folder holding, per engine, a working folder (links to the project) and a basetemp."""

    project: Path
    exclude: tuple[Path, ...] = ()
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="stc-dropin-")))

    def workdir(self, engine: str) -> Path:
        """The engine's working folder, made on first use: the project's folders anew, its files linked."""
        folder = self.root / f"{engine}.cwd"
        if not folder.exists():
            folder.mkdir()
            self._mirror(self.project, folder, {p.resolve() for p in self.exclude}, [MAX_FILES])
        return folder

    def _mirror(self, source: Path, target: Path, skipped: set[Path], budget: list[int]) -> None:
        """Make `source`'s folders in `target` and link its files; tools' folders, and every folder once
        the budget of entries is spent, are linked whole.

        A file a test creates in a folder of the project (sqlitedict's `tests/db-json/`) then lands in its
        engine's own copy of that folder: linked whole, both engines' runs, at once, wrote into one folder
        (Turso's `-wal` made SQLite's tear-down fail with "Directory not empty").
        """
        for entry in sorted(source.iterdir()):
            budget[0] -= 1
            # a database's side files belong to a connection of the project's own (a -wal an earlier run
            # left): a database a test creates by that name beside them could not be opened ("unable to
            # open database file", as huey's suite met on SQLite)
            if entry.resolve() in skipped or entry.name.endswith(SIDE_FILES):
                continue
            if (entry.is_dir() and not entry.is_symlink() and budget[0] > 0 and entry.name not in SKIP_DIRS
                    and not entry.name.endswith(".egg-info")):
                (target / entry.name).mkdir()
                self._mirror(entry, target / entry.name, skipped, budget)
            elif is_database(entry):
                # each engine writes its own copy: linked, both engines' runs would write one file at once
                # (a suite's test.db an earlier plain run left)
                shutil.copyfile(entry, target / entry.name)
            else:
                (target / entry.name).symlink_to(entry)

    def tmpdir(self, engine: str) -> Path:
        """The engine's own temporary folder (its runs' TMPDIR), made on first use."""
        folder = self.root / f"{engine}.tmpdir"
        folder.mkdir(exist_ok=True)
        return folder

    def basetemp(self, engine: str) -> Path:
        """The engine's own pytest basetemp (pytest creates and empties it)."""
        return self.root / f"{engine}.tmp"

    def remove(self) -> None:
        """Delete the folders (links are removed, never followed)."""
        shutil.rmtree(self.root, ignore_errors=True)


def outside_text(outside: list[str] | None, serial: bool) -> str:
    """The headline's sentence on files the tests changed outside their engine's own folders (or none)."""
    if outside is None:
        return " The project has too many files to check which ones the tests changed."
    if not outside:
        return ""
    shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
    text = (f" WARNING: tests changed {len(outside)} files outside their engine's own working and temp "
            f"folders ({shown})")
    if serial:
        return text + "."
    return text + ("; the two engines' runs, running at once, may have shared them: if a verdict looks "
                   "wrong, rerun with --dropin-serial.")
