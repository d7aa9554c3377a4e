"""Each engine's own folders for a drop-in run, and the files its tests changed outside them.

A child runs its tests in a working folder of its own: a folder of symbolic links to every entry of the
folder pytest started in, so a test reads the project's files as before, while a file it creates by a
relative name (`sqlite3.connect("app.db")`) lands in its engine's folder, never under the other engine's
run. A SQLite database already in the folder (one an earlier run left) is copied instead, one copy per
engine. A write through a link (into an existing file or a subfolder) still reaches the project: the parent
compares the project's files before and after the run and names those, since the two engines may have
shared them.
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
        """The engine's working folder, made on first use: one link per entry of the project folder."""
        folder = self.root / f"{engine}.cwd"
        if not folder.exists():
            folder.mkdir()
            skipped = {p.resolve() for p in self.exclude}
            for entry in self.project.iterdir():
                # a database's side files belong to a connection of the project's own (a -wal an earlier
                # run left): a database a test creates by that name beside them could not be opened
                # ("unable to open database file", as huey's suite met on SQLite)
                if entry.resolve() in skipped or entry.name.endswith(SIDE_FILES):
                    continue
                if is_database(entry):
                    # each engine writes its own copy: linked, both engines' runs would write one file at
                    # once (a suite's test.db an earlier plain run left)
                    shutil.copyfile(entry, folder / entry.name)
                else:
                    (folder / entry.name).symlink_to(entry)
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
