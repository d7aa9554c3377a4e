"""A process-level watchdog for xdist workers: a check stuck while holding the interpreter ends its worker.

The per-check timeout (`stc_harness.safety.hard_timeout`) abandons a blocked thread, but a C call that never
releases the GIL stops every thread of the process, the timeout's included. Under xdist each check is
watched by faulthandler's own C thread, which needs no GIL: past the check's timeout plus `GRACE` it
writes every thread's traceback to a file named after the worker and ends the process. xdist then
replaces the worker and reports the check as crashed; the controller finds the watchdog's file and
records the check as `timeout` instead (as it records a worker that died under a check as `crash`).
"""

from __future__ import annotations

import contextlib
import faulthandler
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: Seconds past a check's own deadline before the watchdog ends the worker.
GRACE = 5.0
#: Key of an xdist worker's `workerinput` naming the folder of watchdog files.
INPUT_KEY = "conformance_watchdog"
#: What faulthandler writes first when its timer fires.
FIRED = "Timeout ("

_file: dict[str, IO[str]] = {}


def fired(folder: str | Path, worker: str) -> str | None:
    """The tracebacks the watchdog wrote if it ended `worker`, else None."""
    path = log_path(folder, worker)
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return text.partition("\n")[2].strip() if FIRED in text else None


def log_path(folder: str | Path, worker: str) -> Path:
    """The watchdog file of one worker."""
    return Path(folder) / f"{worker}.log"


def start(folder: str | Path, worker: str) -> None:
    """On a worker: watch every check from now on, writing into this worker's file in `folder`."""
    _file["fh"] = log_path(folder, worker).open("w+", encoding="utf-8")


@contextlib.contextmanager
def watching(nodeid: str, seconds: float) -> Iterator[None]:
    """End this process if the block takes longer than `seconds` + GRACE (only once `start` was called)."""
    fh = _file.get("fh")
    if fh is None:
        yield
        return
    fh.seek(0)
    fh.truncate()
    fh.write(nodeid + "\n")
    fh.flush()
    faulthandler.dump_traceback_later(seconds + GRACE, exit=True, file=fh)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()

