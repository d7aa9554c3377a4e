"""Process settings that make a hunt worker cheaper to run without changing what any statement does.

Measured on pyturso 0.8.3 (docs/design.md, "Hunt throughput"):

- every fresh in-memory Turso database maps two 3 MiB buffer arenas with `MADV_HUGEPAGE`, so on a
  kernel with transparent huge pages in `madvise` mode its first write zero-fills a 2 MiB huge page
  (about a quarter of a stateful case's cost); with huge pages off for the worker, it faults in the
  4 KiB pages it touches;
- every statement that needs a sorter or an ephemeral table (ORDER BY, GROUP BY, DISTINCT, IN
  lists, compound selects) creates and removes a temporary directory, which on a disk file system
  costs more than the statement; on a memory file system it does not.

Neither changes the engines' code paths or results: only where memory and temporary files come from.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

#: A memory file system for temporary files, when the machine has one.
MEMORY_TMP = "/dev/shm"
#: `prctl` option (linux/prctl.h) that makes the kernel ignore `MADV_HUGEPAGE` in this process.
PR_SET_THP_DISABLE = 41


def temporary_files_in_memory(folder: str = MEMORY_TMP) -> bool:
    """Point TMPDIR (read by the engines when they create temporary files) at a writable memory file
    system, unless the user chose a TMPDIR; True if it was set."""
    if os.environ.get("TMPDIR") or not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
        return False
    os.environ["TMPDIR"] = folder
    return True


def small_pages_only() -> bool:
    """Turn transparent huge pages off for this process (Linux; a no-op elsewhere); True if done."""
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        return bool(ctypes.CDLL(None, use_errno=True).prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0)
    return False


def tune_worker() -> None:
    """Apply every setting of this module to the current (worker) process."""
    temporary_files_in_memory()
    small_pages_only()
