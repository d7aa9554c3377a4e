"""What one backend adds to `make report`: the same run with and without it, alternated, wall and CPU.

    python scripts/bench_backend_cost.py [--backend libsql] [--rounds 2] [--workers 2] [--keep DIR]
    make bench-backend-cost                      # the same, for libsql, with `make report`'s settings
    python scripts/bench_backend_cost.py --per-call 3000   # the hard timeout's cost per check run

Each round runs `pytest suites -n WORKERS --max-worker-restart=8` (what `make report` runs, into a
scratch report folder) once with every installed backend and once with `CONFORMANCE_EXCLUDE_BACKENDS`
naming the backend, the order flipping every round (without/with, then with/without, ...) so a change in
the machine's load falls on both sides. Wall clock, CPU (user + system of pytest and its workers) and the
load average before and after each run are printed, then the medians and the increase the backend adds.
The machine may be shared: the CPU figure is the steadier one, and the load average says how busy it was.
A run's own report proves what ran: a "with" run whose report lacks the backend is an error.

`--per-call N` instead times what every check run pays for its hard timeout (`run_on_own_thread` on a
trivial coroutine, N calls, best of 3) against a new thread and event loop per call (how it was done
before `stc_harness.safety.loop_workers`), alone and beside a thread that keeps the interpreter busy
(a driver or search thread in a real run), in wall and CPU microseconds per call.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stc_harness.safety.hard_timeout import run_on_own_thread

ROOT = Path(__file__).resolve().parents[1]
#: `make report`'s increase target for a third backend (issue 20): at most +40 % wall and CPU.
TARGET = 0.40


@dataclass
class Sample:
    """One timed run of the suites."""

    label: str
    wall: float
    cpu: float
    load_before: float
    load_after: float
    status: int
    backends: list[str]
    slowest: list[tuple[float, str]]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(label: str, backend: str, workers: int, folder: Path) -> Sample:
    """Run the suites as `make report` does (into `folder`), with or without `backend`; time it."""
    env = dict(os.environ)
    env.pop("CONFORMANCE_EXCLUDE_BACKENDS", None)
    if label == "without":
        env["CONFORMANCE_EXCLUDE_BACKENDS"] = backend
    cmd = [sys.executable, "-m", "pytest", "suites", "-n", str(workers), "--max-worker-restart=8",
           f"--report-dir={folder}", "-q"]
    load_before, cpu_before, start = os.getloadavg()[0], _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=1800, check=False)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu_before
    report = folder / "compatibility.json"
    if not report.exists():
        raise SystemExit(f"{label} run wrote no report (exit {done.returncode}):\n{done.stdout[-3000:]}")
    doc = json.loads(report.read_text(encoding="utf-8"))
    backends = sorted(entry["id"] for entry in doc.get("backends") or [])
    slowest = sorted(((result.get("duration") or 0.0, f"{check['id']} [{name}]")
                      for check in doc["checks"] for name, result in check["results"].items()
                      if name == backend), reverse=True)[:5]
    return Sample(label, wall, cpu, load_before, os.getloadavg()[0], done.returncode, backends, slowest)


async def _fresh_thread(make: Callable[[], Awaitable[Any]], deadline: float, name: str) -> Any:
    """The former hard timeout, for comparison: a new daemon thread and event loop for every call."""
    fut: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def target() -> None:
        loop = asyncio.new_event_loop()
        try:
            fut.set_result(loop.run_until_complete(make()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                fut.set_exception(exc)
        finally:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

    threading.Thread(target=target, name=f"conformance: {name}", daemon=True).start()
    return await asyncio.wait_for(asyncio.wrap_future(fut), deadline)


async def _trivial() -> int:
    await asyncio.sleep(0)
    return 1


def per_call(calls: int) -> None:
    """Print the per-call wall and CPU cost of each way to run a check's coroutine under a hard timeout."""
    ways: dict[str, Callable[..., Awaitable[Any]]] = {"new thread + loop per call (before)": _fresh_thread,
                                                       "reused worker (loop_workers)": run_on_own_thread}

    async def timed(way: Callable[..., Awaitable[Any]]) -> tuple[float, float]:
        for _ in range(20):  # warm: the pool's first worker, imports
            await way(_trivial, 30, "warm")
        best = (float("inf"), float("inf"))
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(calls):
                await way(_trivial, 30, "bench")
            best = min(best, ((time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls))
        return best

    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    print(f"per-call cost of a check's hard timeout ({calls} calls, best of 3, load average "
          f"{os.getloadavg()[0]:.1f}):")
    for busy in (False, True):
        spinner = threading.Thread(target=spin, daemon=True)
        if busy:
            spinner.start()
        try:
            for label, way in ways.items():
                wall, cpu = asyncio.run(timed(way))
                # beside the busy thread the process's CPU is mostly that thread's own: wall only
                cost = f"{wall * 1e6:>8.0f} us wall" + ("" if busy else f" {cpu * 1e6:>8.0f} us CPU")
                print(f"  {label:<38}{' beside a busy thread' if busy else ' alone':<22}{cost}")
        finally:
            stop.set()
            if busy:
                spinner.join()
            stop.clear()


def _increase(with_: float, without: float) -> str:
    return f"{(with_ / without - 1) * 100:+.0f} %"


def main(argv: list[str] | None = None) -> int:
    """Alternate runs with and without the backend; print each run, the medians and the increase."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="libsql", help="the backend whose cost is measured (libsql)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of one run each way (2)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers, as make report (2)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs' reports in this folder")
    parser.add_argument("--per-call", type=int, default=0, metavar="N",
                        help="instead: time N hard-timeout calls, reused workers against a thread per call")
    args = parser.parse_args(argv)
    if args.per_call < 0:
        parser.error("--per-call must be a positive number of calls")
    if args.per_call:
        per_call(args.per_call)
        return 0
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="bench-backend-cost-"))
    print(f"bench-backend-cost: {args.backend}, {args.rounds} rounds, -n {args.workers}, "
          f"temporary files in {tempfile.gettempdir()}, {os.cpu_count()} CPUs; reports in {scratch}")
    print(f"{'run':<14}{'wall s':>8}{'cpu s':>8}{'load before/after':>20}  exit  backends")
    samples: list[Sample] = []
    for number in range(args.rounds):
        order = ("without", "with") if number % 2 == 0 else ("with", "without")
        for label in order:
            sample = run_once(label, args.backend, args.workers, scratch / f"{number + 1}-{label}")
            samples.append(sample)
            print(f"{f'{number + 1} {label}':<14}{sample.wall:>8.1f}{sample.cpu:>8.1f}"
                  f"{sample.load_before:>11.1f} / {sample.load_after:<6.1f}  {sample.status:>4}  "
                  f"{', '.join(sample.backends)}", flush=True)
            present = args.backend in sample.backends
            if present != (label == "with"):
                raise SystemExit(f"the {label} run's report lists backends {sample.backends}: "
                                 f"is {args.backend} installed? (its run header says why not)")
    by = {label: [s for s in samples if s.label == label] for label in ("without", "with")}
    wall = {label: statistics.median(s.wall for s in runs) for label, runs in by.items()}
    cpu = {label: statistics.median(s.cpu for s in runs) for label, runs in by.items()}
    loads = [s.load_before for s in samples] + [s.load_after for s in samples]
    print(f"median without: {wall['without']:.1f} s wall, {cpu['without']:.1f} s CPU; "
          f"with: {wall['with']:.1f} s wall, {cpu['with']:.1f} s CPU")
    met = all(v["with"] <= v["without"] * (1 + TARGET) for v in (wall, cpu))
    print(f"{args.backend} adds {_increase(wall['with'], wall['without'])} wall, "
          f"{_increase(cpu['with'], cpu['without'])} CPU "
          f"(load average {min(loads):.1f} to {max(loads):.1f}); "
          f"target <= +{TARGET * 100:.0f} % on both: {'met' if met else 'missed'}")
    print(f"slowest {args.backend} checks (last with-run, check seconds): "
          + "; ".join(f"{name} {seconds:.2f}" for seconds, name in by["with"][-1].slowest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
