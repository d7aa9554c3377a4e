"""Run one check body in a child process, so a check that kills its process costs only itself.

A Rust panic that crosses threads ends in SIGABRT and a C driver can segfault: neither is an
exception, and either ends the process that runs the check. Checks declared `@check(isolated=True)`
(or every check, with `--isolate`) run here instead: the child imports the check's module by path,
builds the backend from its target, runs `stc_harness.checks.execute`, and writes the `Run` as JSON.
A child killed by a signal becomes a `crash` run naming the signal; one that outlives its timeout
is killed and becomes a `timeout` run.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stc_harness.adapters.backend_registry import load_target
from stc_harness.checks import Run, execute
from stc_harness.outcomes import CRASH, ERROR, TIMEOUT

#: Seconds a child may take to start (imports) on top of the check's own timeout.
STARTUP_ALLOWANCE = 30.0

#: How much of a dead child's stderr is kept in the run's notes.
STDERR_TAIL = 2000


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _tail(text: str) -> str:
    return text[-STDERR_TAIL:].strip()


def run_isolated(job: dict[str, Any], timeout: float) -> Any:
    """Run `job` (see `child_main`) in a child process and return the `Run` it reports."""
    with tempfile.TemporaryDirectory(prefix="conformance-isolated-") as tmp:
        job_file, out_file = Path(tmp) / "job.json", Path(tmp) / "run.json"
        job_file.write_text(json.dumps({**job, "out": str(out_file)}), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            proc = subprocess.run([sys.executable, "-X", "faulthandler", "-m", "stc_harness.safety.isolation",
                                   str(job_file)], capture_output=True, text=True, env=env,
                                  timeout=timeout + STARTUP_ALLOWANCE, check=False)
        except subprocess.TimeoutExpired as exc:
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            return Run(TIMEOUT, message=f"the isolated check's process did not finish within "
                                        f"{timeout + STARTUP_ALLOWANCE:g}s and was killed",
                       notes={"stderr": _tail(err)} if err.strip() else {})
        if out_file.exists() and proc.returncode == 0:
            data = json.loads(out_file.read_text(encoding="utf-8"))
            return Run(data["status"], data["observation"], data["message"], data["notes"], data["duration"])
        notes = {"stderr": _tail(proc.stderr)} if proc.stderr.strip() else {}
        if proc.returncode < 0:
            return Run(CRASH, message=f"the check's process was killed by {_signal_name(proc.returncode)}",
                       notes=notes)
        return Run(ERROR, message=f"the isolated check's process exited with status {proc.returncode} "
                                  "without a result", notes=notes)


def job_for(body: Any, key: str | None, target: str, options: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The JSON-ready description of one isolated run: where the check is and which backend runs it."""
    module = sys.modules.get(body.__module__)
    path = getattr(module, "__file__", None)
    if not target or not path:
        raise ValueError(f"cannot isolate {body.__qualname__}: no module file or backend target")
    return {"module": body.__module__, "path": path, "function": body.__name__, "key": key,
            "target": target, "options": options, "folder": str(folder)}


def _import_module(name: str, path: str) -> Any:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {name} from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def child_main(job_path: str) -> int:
    """In the child: run the job's check on its backend and write the `Run` as JSON."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    module = _import_module(job["module"], job["path"])
    wrapper = getattr(module, job["function"])
    spec = wrapper.conformance_specs[job["key"]]
    body = wrapper.__wrapped__
    backend = load_target(job["target"])
    run = asyncio.run(execute(spec, body, backend, Path(job["folder"]), job["options"]))
    out = Path(job["out"])
    out.write_text(json.dumps(asdict(run), default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1]))
