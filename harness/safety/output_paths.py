"""Output paths checked before a run starts, and a fallback folder when a write still fails at the end."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from stc_harness.errors import UsageError


def _nearest_existing(path: Path) -> Path:
    """`path` or its closest ancestor that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def check_folder(path: Path, what: str) -> None:
    """A folder the run will write into: it is a folder (or can be made one) and is writable."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} {path} is a file, not a folder; name a folder (it is created if missing)")
    base = _nearest_existing(path)
    if not base.is_dir():
        raise UsageError(f"{what} {path}: {base} is a file, so the folder cannot be created; "
                         "name a folder whose parents are folders")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {path}: {base} is not writable; choose a folder you can write to")
    _probe(base, path, what)


def _probe(base: Path, path: Path, what: str) -> None:
    """Make and remove a folder in `base`: a special or read-only file system refuses even root."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".write-check-", dir=base))
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot write into {base} ({exc.strerror or exc}); "
                         "choose a folder you can write to") from None


def check_file(path: Path, what: str) -> None:
    """A file the run will write at the end: its folder exists and is writable, and it is not a folder."""
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder; name a file")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{what} {path}: folder {parent} does not exist; create it or name another file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {path}: folder {parent} is not writable; choose a folder you can write to")


def write_or_fallback(write: Callable[[Path], list[Path]], folder: Path,
                      warn: Callable[[str], None]) -> list[Path]:
    """Call `write(folder)`; on an OSError, write into a fresh temporary folder instead and say where."""
    try:
        return write(folder)
    except OSError as exc:
        fallback = Path(tempfile.mkdtemp(prefix="conformance-results-"))
        written = write(fallback)
        warn(f"could not write into {folder} ({exc.strerror or exc}); the results were saved in {fallback} "
             "instead")
        return written
