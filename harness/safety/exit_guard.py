"""A process that abandoned a blocked check must still exit: stuck non-daemon threads are not waited for.

A driver thread that never returns (aiosqlite's worker is not a daemon) would make the interpreter wait
for it at exit, for ever, after the report was written. At interpreter shutdown, before those threads
are joined, this waits a bounded moment for them and then ends the process with the run's exit status.
"""

from __future__ import annotations

import os
import sys
import threading
import time

#: Seconds the non-daemon threads get, all together, to finish at exit before the process ends anyway.
GRACE = 2.0

_status = {"code": 0, "armed": False}


def _stuck_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and t.is_alive()]


def _at_shutdown() -> None:
    end = time.monotonic() + GRACE
    for thread in _stuck_threads():
        thread.join(max(0.0, end - time.monotonic()))
    stuck = _stuck_threads()
    if stuck:
        names = ", ".join(sorted({t.name for t in stuck}))
        sys.stderr.write(f"conformance: {len(stuck)} thread(s) still blocked at exit ({names}); "
                         "exiting without waiting for them\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_status["code"])


def arm(exit_status: int) -> None:
    """Remember the run's exit status; at shutdown, end the process if blocked threads would hang it."""
    _status["code"] = int(exit_status)
    if not _status["armed"]:
        _status["armed"] = True
        register = getattr(threading, "_register_atexit", None)
        if register is not None:  # CPython 3.9+: runs before non-daemon threads are joined
            register(_at_shutdown)
