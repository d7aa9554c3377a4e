"""Threads and processes: one connection used from a second thread, two processes on one file, and
read-only files. A connection shared across threads may abort a driver, so those checks run in a child
process (`isolated=True`): an abort is a `crash` for that check, never a dead run. Every child process
and thread join is bounded (2 s).
"""

from __future__ import annotations

import gc
import json
import os
import stat
import subprocess
import sys
import threading
from typing import Any

from driver_support import STEP_BOUND, blocking, db_path, outcome, pydoc

from stc_harness import CheckContext, Unsupported, check

THREADS = pydoc("Module functions")


def _other_thread(module: Any, path: str) -> Any:
    conn = module.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    seen: dict[str, Any] = {}
    actions = {"execute": lambda: conn.execute("INSERT INTO t VALUES (1)").rowcount,
               "commit": conn.commit,
               "close": conn.close}
    for name, action in actions.items():
        worker = threading.Thread(target=lambda a=action, n=name: seen.update({n: outcome(a)}), daemon=True)
        worker.start()
        worker.join(STEP_BOUND)
        if worker.is_alive():
            seen[name] = "still running"
            break
    try:
        conn.close()
    except Exception as exc:  # noqa: BLE001
        seen["close_in_creating_thread"] = type(exc).__name__
    return seen


@check(title="A connection made in one thread, used from another (execute, commit, close; default "
             "check_same_thread)", source=THREADS, isolated=True, layer="driver")
async def test_other_thread(ctx: CheckContext) -> object:
    return await blocking(_other_thread, ctx.sync_module(), db_path(ctx), bound=3 * STEP_BOUND + 1)


def _cursor_other_thread(module: Any, path: str) -> Any:
    conn = module.connect(path)
    cur = conn.execute("SELECT 1 UNION ALL SELECT 2")
    seen: dict[str, Any] = {}
    actions = {"fetch_cursor": cur.fetchall, "new_cursor": lambda: conn.cursor() and "made",
               "in_transaction": lambda: conn.in_transaction}
    for name, action in actions.items():
        worker = threading.Thread(target=lambda a=action, n=name: seen.update({n: outcome(a)}), daemon=True)
        worker.start()
        worker.join(STEP_BOUND)
        if worker.is_alive():
            seen[name] = "still running"
            break
    seen["fetch_in_creating_thread"] = outcome(cur.fetchall)
    conn.close()
    return seen


@check(title="A cursor made in one thread, fetched from another; a new cursor and in_transaction from "
             "another thread (default check_same_thread)", source=THREADS, isolated=True, layer="driver")
async def test_cursor_other_thread(ctx: CheckContext) -> object:
    return await blocking(_cursor_other_thread, ctx.sync_module(), db_path(ctx), bound=3 * STEP_BOUND + 1)


CHILD = """
import json, sys
import importlib
mod = importlib.import_module(sys.argv[1])
out = {}
try:
    conn = mod.connect(sys.argv[2])
    out["open"] = "ok"
    try:
        out["read"] = conn.execute("SELECT count(*) FROM t").fetchall()[0][0]
    except Exception as exc:
        out["read"] = type(exc).__name__
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("INSERT INTO t VALUES (2)")
        conn.commit()
        out["write"] = "ok"
    except Exception as exc:
        out["write"] = type(exc).__name__
    conn.close()
except Exception as exc:
    out["open"] = type(exc).__name__
print(json.dumps(out))
"""


def _child(module_name: str, path: str) -> Any:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, module_name, path],
            capture_output=True,
            text=True,
            timeout=STEP_BOUND + 3,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "child did not finish"
    if proc.returncode != 0:
        return f"child exited with {proc.returncode}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _two_processes(module: Any, path: str) -> Any:
    conn = module.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    name = module.__name__
    seen = {"while_open_idle": _child(name, path)}
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t VALUES (3)")
    seen["while_writing"] = _child(name, path)
    conn.execute("COMMIT")
    conn.close()
    seen["after_close"] = _child(name, path)
    del conn
    gc.collect()
    seen["after_garbage_collection"] = _child(name, path)
    return seen


@check(
    title="Two processes on one file: a second process opens, reads, writes while the first is idle, "
    "writing, after it closed, and after garbage collection",
    source=pydoc("Module functions"),
    timeout=30,
    layer="driver",
)
async def test_two_processes(ctx: CheckContext) -> object:
    return await blocking(_two_processes, ctx.sync_module(), db_path(ctx), bound=4 * (STEP_BOUND + 4))


#: A process that opens the file, reads it, says "ready" and holds the connection until told to go.
HOLDER = """
import importlib, sys
mod = importlib.import_module(sys.argv[1])
conn = mod.connect(sys.argv[2])
conn.execute("SELECT count(*) FROM t").fetchall()
print("ready", flush=True)
sys.stdin.readline()
conn.close()
"""


def _open_while_held(module: Any, path: str) -> Any:
    setup = module.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE t (x)")
    setup.execute("INSERT INTO t VALUES (1)")
    setup.close()
    del setup
    gc.collect()  # this process lets go of the file (Turso only does at collection)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, module.__name__, path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ready = holder.stdout.readline().strip() if holder.stdout else ""
        if ready != "ready":
            return {"holder": f"did not start ({holder.poll()})"}
        try:
            conn = module.connect(path)
        except Exception as exc:  # noqa: BLE001 - what the driver raises is the observation
            return {"open": {"raises": type(exc).__name__}}
        try:
            read = outcome(lambda: conn.execute("SELECT count(*) FROM t").fetchall()[0][0])
            return {"open": "ok", "read": read}
        finally:
            conn.close()
    finally:
        holder.communicate("go\n", timeout=STEP_BOUND + 3)


@check(
    title="This process opens and reads a file another process holds open (idle)",
    source=pydoc("Module functions"),
    timeout=30,
    layer="driver",
)
async def test_open_while_another_process_holds(ctx: CheckContext) -> object:
    """A web app's tests start a CLI or worker process on the database and then open it themselves."""
    return await blocking(_open_while_held, ctx.sync_module(), db_path(ctx), bound=2 * (STEP_BOUND + 4))


def _one_row_database(module: Any, path: str) -> None:
    setup = module.connect(path)
    setup.execute("CREATE TABLE t (x)")
    setup.execute("INSERT INTO t VALUES (1)")
    setup.commit()
    setup.close()


def _read_then_write(module: Any, path: str, commit: bool) -> Any:
    """Open `path`, read, write (and commit): each step's outcome."""

    def use() -> Any:
        conn = module.connect(path)
        try:
            seen = {"read": outcome(lambda: conn.execute("SELECT x FROM t").fetchall())}
            seen["write"] = outcome(lambda: conn.execute("INSERT INTO t VALUES (2)").rowcount)
            if commit:
                seen["commit"] = outcome(conn.commit)
            return seen
        finally:
            conn.close()

    return outcome(use)


def _read_only_file(module: Any, path: str) -> Any:
    _one_row_database(module, path)
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
    try:
        return _read_then_write(module, path, commit=False)
    finally:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


@check(
    title="A read-only database file: opens, reads, and a write raises",
    source=pydoc("Module functions"),
    layer="driver",
)
async def test_read_only_file(ctx: CheckContext) -> object:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        raise Unsupported("file_permissions", "running as root: file permissions are not enforced")
    return await blocking(_read_only_file, ctx.sync_module(), db_path(ctx))


def _read_only_directory(module: Any, path: str) -> Any:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    _one_row_database(module, path)
    os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR)
    try:
        # A journal (or WAL) cannot be created next to the file: reads may work, writes should fail.
        return _read_then_write(module, path, commit=True)
    finally:
        os.chmod(folder, stat.S_IRWXU)


@check(title="A database file in a read-only directory: opens, reads, and what a write does",
       source=pydoc("Module functions"), layer="driver")
async def test_read_only_directory(ctx: CheckContext) -> object:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        raise Unsupported("file_permissions", "running as root: file permissions are not enforced")
    return await blocking(_read_only_directory, ctx.sync_module(), db_path(ctx, "ro_dir/db"))
