"""Process settings that make a hunt worker cheaper to run without changing what any statement does.

Measured on pyturso 0.8.3 (docs/design.md, "Hunt throughput"): every statement that needs a sorter
or an ephemeral table (ORDER BY, GROUP BY, DISTINCT, IN lists, compound selects) creates and removes
a temporary directory, which on a disk file system costs more than the statement itself. Putting
temporary files on a memory file system leaves the engines' code paths and results as they were.
"""

from __future__ import annotations

import os

#: A memory file system for temporary files, when the machine has one.
MEMORY_TMP = "/dev/shm"


def temporary_files_in_memory(folder: str = MEMORY_TMP) -> bool:
    """Point TMPDIR (read by the engines when they create temporary files) at a writable memory file
    system, unless the user chose a TMPDIR; True if it was set."""
    if os.environ.get("TMPDIR") or not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
        return False
    os.environ["TMPDIR"] = folder
    return True


def tune_worker() -> None:
    """Apply every setting of this module to the current (worker) process."""
    temporary_files_in_memory()
