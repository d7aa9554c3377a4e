"""`python -m stc_harness hunt --bench-campaign`: how a campaign scales, measured on this machine.

The same seeds three ways, each after a warm-up seed per worker (engines started, as in a long
campaign): directly in this process (`run_seed` in a loop, no Dask), on a local Dask cluster of one
worker, and of two. Prints cases per second, the speed-up from one to two workers, the time Dask adds
per seed (one worker against the direct loop), Dask's round trip for an empty task, the client's merge
time per seed, and the 100-worker estimate docs/hunt-campaigns.md explains.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from distributed import Client

from stc_harness.differences import Registry
from stc_harness.differential.campaign import CampaignConfig, connect, run_campaign
from stc_harness.differential.campaign_cli import CAMPAIGN_CASES, spec_of
from stc_harness.differential.seedtask import SeedSpec, run_seed

#: Seeds timed in each configuration (from --seed on; the warm-up seeds come before them).
BENCH_SEEDS = 6


def _noop(x: int) -> int:
    return x


def _round_trip(client: Client, n: int = 200) -> float:
    """Seconds Dask takes per empty task, submitted one after another (scheduler round trip)."""
    client.submit(_noop, -1, pure=False).result()
    start = time.perf_counter()
    for i in range(n):
        client.submit(_noop, i, pure=False).result()
    return (time.perf_counter() - start) / n


def _direct(seeds: list[int], spec: SeedSpec, warm: int) -> tuple[float, int, float]:
    """Seconds, cases and CPU seconds (this process and its children) of the seeds run in a loop."""
    run_seed(warm, spec)
    cpu0 = _cpu()
    start = time.perf_counter()
    cases = sum(run_seed(s, spec)["cases"] for s in seeds)
    return time.perf_counter() - start, cases, _cpu() - cpu0


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _on_dask(seeds: list[int], spec: SeedSpec, workers: int, warm: int) -> dict[str, Any]:
    """One campaign on a fresh local cluster of `workers` (warmed up first): its result, and Dask's
    empty-task round trip on that cluster."""
    with tempfile.TemporaryDirectory(prefix="bench-campaign-") as tmp, connect(workers, None, 30) as client:
        addresses = sorted(client.scheduler_info()["workers"])
        warmups = [client.submit(run_seed, warm + i, spec, workers=[a], pure=False)
                   for i, a in enumerate(addresses)]
        client.gather(warmups)
        trip = _round_trip(client)
        config = CampaignConfig(folder=Path(tmp), seeds=seeds, spec=spec, registry=Registry(),
                                workers=workers)
        res = run_campaign(config, client=client)
    return {"seconds": res.seconds, "cases": res.cases, "merge": res.merge_seconds, "task": res.task_seconds,
            "trip": trip, "causes": len(res.range_causes), "findings": res.range_findings,
            "failed": len(res.failed)}


def run(args: argparse.Namespace, names: list[str], out: Any) -> int:
    """Measure and print (see the module)."""
    spec = spec_of(args, names)
    n = args.seeds or BENCH_SEEDS
    seeds = list(range(args.seed, args.seed + n))
    warm = args.seed + 1000
    print(f"hunt-bench-campaign: seeds {seeds[0]}..{seeds[-1]}, {spec.cases} cases each "
          f"(default {CAMPAIGN_CASES}); engines {', '.join(names)}; {os.cpu_count()} CPU(s); "
          f"load {os.getloadavg()[0]:.2f}", file=out, flush=True)
    direct_s, direct_cases, direct_cpu = _direct(seeds, spec, warm)
    print(f"direct (no Dask): {direct_s:.2f}s, {direct_cases / direct_s:,.0f} cases/s, "
          f"{direct_cpu / direct_cases * 1000:.2f} ms CPU per case (all processes)", file=out, flush=True)
    one = _on_dask(seeds, spec, 1, warm)
    two = _on_dask(seeds, spec, 2, warm)
    for label, r in (("1 worker", one), ("2 workers", two)):
        print(f"dask, {label}: {r['seconds']:.2f}s, {r['cases'] / r['seconds']:,.0f} cases/s; "
              f"empty-task round trip {r['trip'] * 1000:.1f} ms; client merge {r['merge'] / n * 1000:.1f} ms "
              f"per seed; {r['causes']} causes, {r['findings']} findings, {r['failed']} failed",
              file=out, flush=True)
    per_seed = direct_s / n
    overhead = one["seconds"] / direct_s - 1
    print(f"\nspeed-up 1 -> 2 workers: {one['seconds'] / two['seconds']:.2f}x; Dask overhead at "
          f"{spec.cases} cases per seed: {overhead * 100:+.1f}% of a {per_seed:.2f}s seed "
          f"({(one['seconds'] - direct_s) / n * 1000:+.0f} ms per seed; an empty task "
          f"{one['trip'] * 1000:.1f} ms)", file=out)
    merge = max(one["merge"], two["merge"]) / n
    rate = direct_cases / direct_s
    print(f"estimate, 100 workers like this machine's one-worker rate: {rate * 100 * 3600:,.0f} cases/hour, "
          f"{100 / per_seed:,.0f} seeds/s into a client that merges {1 / merge if merge else 0:,.0f} seeds/s",
          file=out)
    return 0
