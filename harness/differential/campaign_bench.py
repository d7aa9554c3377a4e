"""`python -m stc_harness hunt-bench-campaign`: how a campaign scales, measured on this machine.

The same seeds run directly (`run_seed` in a loop in one process, no Dask, on the cores one worker
gets), then on fresh local Dask clusters of one worker and of two, alternated `--runs` times; each
after a warm-up seed per worker (engines started, as in a long campaign). Workers are confined to one
core per thread (`cores`, as every campaign does unless `--no-pin`), so one worker is one core and two
workers are two: the speed-up measures the distribution, not how much of the machine one seed grabs.
Prints cases per second with the load average of each run, the speed-up from one to two workers (the
median runs), the time Dask adds per seed (one worker against the direct loop), Dask's round trip for
an empty task, the client's merge time per seed, and the 100-worker estimate docs/hunt-campaigns.md
explains. `hunt --bench-campaign` is the same command.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psutil
from distributed import Client

from stc_harness.differences import Registry
from stc_harness.differential.campaign import CampaignConfig, connect, pin_workers, run_campaign
from stc_harness.differential.campaign_cli import CAMPAIGN_CASES, spec_of
from stc_harness.differential.causes import default_reference
from stc_harness.differential.cores import Seat, confine, plan, usable
from stc_harness.differential.engines import lineup
from stc_harness.differential.generators import CATEGORIES
from stc_harness.differential.seedtask import SeedSpec, run_seed
from stc_harness.errors import UsageError

#: Seeds timed in each configuration (from --seed on; the warm-up seeds come after them).
BENCH_SEEDS = 6
#: Workers of the estimate printed last (docs/hunt-campaigns.md explains it).
WORKERS_ESTIMATED = 100


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the options after `hunt-bench-campaign`."""
    p = argparse.ArgumentParser(prog="python -m stc_harness hunt-bench-campaign",
                                description="Measure how a hunt campaign scales: the same seeds directly, "
                                            "on one local Dask worker and on two (one core each).")
    p.add_argument("--seed", type=int, default=0, help="first seed timed (default 0)")
    p.add_argument("--seeds", type=int, default=BENCH_SEEDS, metavar="N",
                   help=f"seeds timed per configuration (default {BENCH_SEEDS})")
    p.add_argument("--cases", type=int, default=None, metavar="N",
                   help=f"cases per seed (default {CAMPAIGN_CASES}, as a campaign)")
    p.add_argument("--runs", type=int, default=1, metavar="N",
                   help="alternate 1-worker and 2-worker runs N times (default 1); the median is compared")
    p.add_argument("--no-pin", action="store_true",
                   help="leave each worker every core of the machine (measures how much one seed grabs)")
    p.add_argument("--backend", action="append", default=[], metavar="NAME",
                   help="backend to hunt on (repeatable; default: turso and the stdlib sqlite)")
    p.add_argument("--reference", default=None, help="reference backend (default: as `hunt`)")
    p.add_argument("--no-stdlib-lane", action="store_true", help="do not also run the stdlib SQLite")
    p.add_argument("--category", action="append", default=[], choices=CATEGORIES,
                   help="case families (repeatable; default: all)")
    p.add_argument("--max-shrinks", type=int, default=None, metavar="N", help="shrinks per seed (default 40)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="hang timeout (default 10)")
    p.add_argument("--time-cap", type=float, default=None, metavar="SECONDS", help="stream cap per seed")
    p.add_argument("--in-process", action="store_true", help="drivers in threads, not worker processes")
    args = p.parse_args(list(argv))
    for name in ("seeds", "runs"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.cases is not None and args.cases < 1:
        p.error("--cases must be at least 1")
    return args


def _noop(x: int) -> int:
    return x


def _round_trip(client: Client, n: int = 200) -> float:
    """Seconds Dask takes per empty task, submitted one after another (scheduler round trip)."""
    client.submit(_noop, -1, pure=False).result()
    start = time.perf_counter()
    for i in range(n):
        client.submit(_noop, i, pure=False).result()
    return (time.perf_counter() - start) / n


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and every process it started that is still running."""
    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def direct(seeds: list[int], spec: SeedSpec, warm: int, cores: list[int]) -> tuple[float, int, float]:
    """Seconds, cases and CPU seconds (this process and its engines) of the seeds run in a loop, after
    a warm-up seed, on `cores` (run in a fresh process, `direct_apart`)."""
    confine(cores)
    run_seed(warm, spec)
    cpu0 = cpu_seconds()
    start = time.perf_counter()
    cases = sum(run_seed(s, spec)["cases"] for s in seeds)
    return time.perf_counter() - start, cases, cpu_seconds() - cpu0


def direct_apart(seeds: list[int], spec: SeedSpec, warm: int, cores: list[int]) -> tuple[float, int, float]:
    """`direct` in a fresh process, so this one (the Dask client to come) keeps all its cores."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(direct, seeds, spec, warm, cores).result()


def on_dask(seeds: list[int], spec: SeedSpec, workers: int, warm: int, pin: bool) -> dict[str, Any]:
    """One campaign on a fresh local cluster of `workers` (pinned, then warmed up): its figures, and
    Dask's empty-task round trip on that cluster."""
    with tempfile.TemporaryDirectory(prefix="bench-campaign-") as tmp, connect(workers, None, 30) as client:
        client.wait_for_workers(workers, timeout=60)
        cores = pin_workers(client, pin)
        warmups = [client.submit(run_seed, warm + i, spec, workers=[a], pure=False)
                   for i, a in enumerate(sorted(cores))]
        client.gather(warmups)
        trip = _round_trip(client)
        load = os.getloadavg()[0]
        cpu0 = sum(client.run(cpu_seconds).values())
        config = CampaignConfig(folder=Path(tmp), seeds=seeds, spec=spec, registry=Registry(),
                                workers=workers, pin=pin)
        res = run_campaign(config, client=client)
        cpu = sum(client.run(cpu_seconds).values()) - cpu0
    return {"seconds": res.seconds, "cpu": cpu, "cases": res.cases, "merge": res.merge_seconds, "trip": trip,
            "causes": len(res.range_causes), "findings": res.range_findings, "failed": len(res.failed),
            "cores": sorted(res.cores.values()), "load": (load, os.getloadavg()[0])}


def _rate(r: dict[str, Any]) -> float:
    return float(r["cases"] / r["seconds"]) if r["seconds"] else 0.0


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate (the lower middle one of an even count)."""
    return sorted(runs, key=_rate)[(len(runs) - 1) // 2]


def measure(args: argparse.Namespace, names: list[str], out: Any) -> int:
    """Measure and print (see the module)."""
    spec = spec_of(args, names)
    n = args.seeds
    seeds = list(range(args.seed, args.seed + n))
    warm = args.seed + 1000
    pin = not args.no_pin
    one_core = plan([Seat("0", "here", 1, tuple(usable()))])["0"] if pin else usable()
    print(f"hunt-bench-campaign: seeds {seeds[0]}..{seeds[-1]}, {spec.cases} cases each; engines "
          f"{', '.join(names)}; {len(usable())} core(s); workers "
          f"{'pinned to one core per thread' if pin else 'unpinned (every core)'}; "
          f"load {os.getloadavg()[0]:.2f}", file=out, flush=True)
    load0 = os.getloadavg()[0]
    direct_s, direct_cases, direct_cpu = direct_apart(seeds, spec, warm, one_core)
    print(f"direct (no Dask) on cores {one_core}: {direct_s:.2f}s, {direct_cases / direct_s:,.0f} cases/s, "
          f"{direct_cpu / direct_cases * 1000:.2f} ms CPU per case (all processes); load "
          f"{load0:.2f} -> {os.getloadavg()[0]:.2f}", file=out, flush=True)
    results: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for run in range(1, args.runs + 1):
        for workers in (1, 2):
            r = on_dask(seeds, spec, workers, warm, pin)
            results[workers].append(r)
            print(f"run {run}, dask {workers} worker(s) on cores {r['cores']}: {r['seconds']:.2f}s, "
                  f"{_rate(r):,.0f} cases/s, {r['cpu'] / r['cases'] * 1000:.2f} ms CPU per case; "
                  f"load {r['load'][0]:.2f} -> {r['load'][1]:.2f}; empty-task round "
                  f"trip {r['trip'] * 1000:.1f} ms; client merge {r['merge'] / n * 1000:.1f} ms per seed; "
                  f"{r['causes']} causes, {r['findings']} findings, {r['failed']} failed",
                  file=out, flush=True)
    one, two = _median_run(results[1]), _median_run(results[2])
    same = len({(r["causes"], r["findings"]) for r in results[1] + results[2]}) == 1
    per_seed = direct_s / n
    print(f"\nspeed-up 1 -> 2 workers (median of {args.runs} run(s) each): {_rate(two) / _rate(one):.2f}x "
          f"({_rate(one):,.0f} -> {_rate(two):,.0f} cases/s); every run found "
          f"{'the same' if same else 'DIFFERENT'} causes and findings", file=out)
    print(f"CPU per case (workers and their engines; the same on 1 and 2 workers means the work splits "
          f"without loss, so on free cores the speed-up is the worker count): "
          f"{one['cpu'] / one['cases'] * 1000:.2f} ms on 1 worker, {two['cpu'] / two['cases'] * 1000:.2f} ms "
          f"on 2, {direct_cpu / direct_cases * 1000:.2f} ms directly", file=out)
    print(f"Dask overhead at {spec.cases} cases per seed: {(one['seconds'] / direct_s - 1) * 100:+.1f}% "
          f"of a {per_seed:.2f}s seed ({(one['seconds'] - direct_s) / n * 1000:+.0f} ms per seed; an empty "
          f"task {one['trip'] * 1000:.1f} ms)", file=out)
    merge = max(r["merge"] for r in results[1] + results[2]) / n
    rate = _rate(one)
    print(f"estimate, {WORKERS_ESTIMATED} one-core workers at this machine's one-worker rate: "
          f"{rate * WORKERS_ESTIMATED * 3600:,.0f} cases/hour, {WORKERS_ESTIMATED * rate / spec.cases:,.1f} "
          f"seeds/s into a client that merges {1 / merge if merge else 0:,.0f} seeds/s", file=out)
    return 0 if same else 1


def main(argv: list[str]) -> int:
    """Entry point: `argv[0]` is "hunt-bench-campaign"."""
    try:
        args = parse_args(argv[1:])
        args.reference = args.reference or default_reference()
        engines = lineup(args.reference, args.backend, not args.no_stdlib_lane)
    except UsageError as exc:
        print(f"hunt-bench-campaign: {exc}", file=sys.stderr)
        return 2
    return measure(args, [e.spec or e.name for e in engines], sys.stdout)
