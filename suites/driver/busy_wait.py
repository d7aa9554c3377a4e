"""The default busy wait, observed in a child process started ahead of its check.

Observed in the worker, a driver whose busy wait holds the GIL (libsql) stalls every other check of that
process for sqlite3's whole default timeout (5 s). So the observation runs in a child interpreter of its
own, started when the worker first runs a driver check of a backend (`start`, from `conftest.py`), and
`test_driver_transactions.busy_wait_default` takes its result (`observed`). The child imports the
backend's blocking module by name with the worker's `sys.path`; one it cannot import (a module made up at
run time and never registered on import) is observed in the worker as before.

    python busy_wait.py MODULE      # prints the observation as JSON (the child's side)
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from driver_support import STEP_BOUND, make_table, outcome

#: How long B runs before A commits; only a driver that fails at once returns inside it (the reference
#: waits for seconds).
SETTLE = 0.5
#: sqlite3's default busy timeout (seconds): a driver whose wait blocks every thread stalls this long.
DEFAULT_TIMEOUT = 5.0
#: The child's whole run: past the default timeout and both bounded steps, plus an interpreter's start.
BOUND = DEFAULT_TIMEOUT + 2 * STEP_BOUND + 3
#: Exit status of a child that could not import the module (the worker then observes it itself).
NO_MODULE = 3

_children: dict[str, subprocess.Popen[bytes]] = {}
_lock = threading.Lock()


def observe(module: Any, path: str) -> dict[str, Any]:
    """A holds the write lock, B (default arguments, own thread) inserts, A commits: what B did."""
    make_table(module, path)
    a = module.connect(path, isolation_level=None)
    try:
        a.execute("BEGIN IMMEDIATE")
        a.execute("INSERT INTO t VALUES (1)")
        held = a.in_transaction
        started, done = threading.Event(), threading.Event()
        result: dict[str, Any] = {}

        def second_writer() -> None:
            # Opened in its own thread: sqlite3 objects may only be used in the thread that made them.
            b = module.connect(path)
            try:
                started.set()
                result.update(outcome(lambda: b.execute("INSERT INTO t VALUES (2)").rowcount))
                if "ok" in result:
                    b.commit()
            finally:
                b.close()
                done.set()

        worker = threading.Thread(target=second_writer, daemon=True)
        worker.start()
        if not started.wait(STEP_BOUND):
            raise TimeoutError("the second writer's thread did not start")
        done.wait(SETTLE)
        a.execute("COMMIT")
        finished = done.wait(STEP_BOUND)
        return {
            "first_holds_lock": held,
            "second_returned_before_release": finished and "ok" not in result,
            "second_finished_after_release": finished,
            "second": result,
            "rows": [list(row) for row in a.execute("SELECT count(*) FROM t").fetchall()],
        }
    finally:
        a.close()


def start(module_name: str) -> None:
    """Start the observation of `module_name` in a child process, once per process and module."""
    with _lock:
        if module_name in _children:
            return
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        _children[module_name] = subprocess.Popen(
            [sys.executable, __file__, module_name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env)


def take(module_name: str) -> dict[str, Any] | None:
    """The child's observation of `module_name` (waits for it), or None when no child observed it."""
    with _lock:
        child = _children.pop(module_name, None)
    if child is None:
        return None
    try:
        out, _ = child.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        raise TimeoutError(f"the busy-wait child for {module_name} ran past {BOUND:g}s") from None
    if child.returncode == NO_MODULE:
        return None
    if child.returncode != 0:
        raise RuntimeError(f"the busy-wait child for {module_name} exited with status {child.returncode}")
    observed: dict[str, Any] = json.loads(out)
    return observed


@atexit.register
def _reap() -> None:
    """Children no check took (the other xdist worker ran the check): stopped, never left behind."""
    for child in _children.values():
        if child.poll() is None:
            child.kill()
        child.wait()


def main(argv: list[str]) -> int:
    """The child: observe `argv[1]` on a database of its own and print the observation as JSON."""
    try:
        module = importlib.import_module(argv[1])
    except ImportError:
        return NO_MODULE
    folder = tempfile.mkdtemp(prefix="busy-wait-")
    try:
        print(json.dumps(observe(module, str(Path(folder) / "busy.db"))))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
