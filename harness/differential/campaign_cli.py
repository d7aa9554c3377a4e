"""`python -m stc_harness hunt --campaign DIR`: run a campaign, print its causes, export the new ones.

Needs the `[campaign]` extra (Dask's `distributed`); `cli` imports this module only for `--campaign`.
"""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path
from types import FrameType
from typing import Any

from stc_harness.differences import Registry
from stc_harness.differential.campaign import CampaignConfig, CampaignResult, run_campaign
from stc_harness.differential.compare import KINDS
from stc_harness.differential.corpus import FIXED, CauseRow, Corpus
from stc_harness.differential.generators import CATEGORIES
from stc_harness.differential.seedtask import SeedSpec
from stc_harness.differential.upstream import SKIPPED, export_new

#: Cases each seed of a campaign runs (its `--cases` default): a task of a few seconds, so Dask's
#: per-task cost is a small share of it (docs/hunt-campaigns.md).
CAMPAIGN_CASES = 2500
#: Seeds of a campaign without --seeds.
CAMPAIGN_SEEDS = 8


def seed_range(args: argparse.Namespace) -> list[int]:
    """The campaign's seeds: `--seeds` of them from `--seed` on."""
    return list(range(args.seed, args.seed + (args.seeds or CAMPAIGN_SEEDS)))


def spec_of(args: argparse.Namespace, names: list[str]) -> SeedSpec:
    """What every seed runs, from the hunt's options."""
    cases = args.cases if args.cases is not None else CAMPAIGN_CASES
    cap = args.time_cap if args.time_cap is not None else 3 * cases / 2500 + 60
    return SeedSpec(cases=cases, engines=tuple(names), reference=args.reference,
                    categories=tuple(args.category or CATEGORIES),
                    max_shrinks=args.max_shrinks if args.max_shrinks is not None else 40,
                    timeout=args.timeout, time_cap=cap, isolate=not args.in_process)


def _short(obs: Any) -> str:
    text = json.dumps(obs, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def print_cause(row: CauseRow, new: bool, out: Any) -> None:
    """One cause: id, status, counts, and its smallest repro with what each backend returned."""
    status = "documented" if row.documented else "UNDOCUMENTED"
    mark = "NEW " if new else ""
    print(f"\n{mark}{status}  {row.id}", file=out)
    print(f"  {row.hits} raw hit(s), {row.findings} signature(s), {row.seeds} seed(s); first seen seed "
          f"{row.first_seed} ({row.first_version}), last seed {row.last_seed}", file=out)
    repro = row.repro
    print(f"  {KINDS.get(repro['kind'], repro['kind'])}; smallest repro ({repro['signature']}):", file=out)
    for i, stmt in enumerate(repro["statements"][: repro["index"] + 1]):
        print(f"  {'>' if i == repro['index'] else ' '} {stmt['sql']};", file=out)
    for backend, observed in repro["observed"].items():
        message = repro["messages"][backend][repro["index"]]
        print(f"    {backend:<8} {_short(observed[repro['index']])}" + (f"   ({message})" if message else ""),
              file=out)
    if row.exported and not row.exported.startswith(SKIPPED):
        print(f"  exported: {row.exported}", file=out)


def report(res: CampaignResult, corpus: Corpus, seeds: list[int], show_noise: bool, out: Any) -> None:
    """The causes of the campaign's seed range, the fixed ones, and the closing counts."""
    rows = corpus.causes()
    in_range = [rows[c] for c in res.range_causes if c in rows]
    new = set(res.new)
    own = [r for r in in_range if not r.version_gap and not r.noise]
    noise = [r for r in in_range if r.noise and not r.version_gap]
    gaps = [r for r in in_range if r.version_gap]
    own.sort(key=lambda r: (r.documented, r.id not in new, r.id))
    print(f"\n=== causes of seeds {seeds[0]}..{seeds[-1]}, Turso's own: {len(own)} "
          f"({sum(1 for r in own if r.id in new)} new, {sum(1 for r in own if not r.documented)} "
          "undocumented) ===", file=out)
    for row in own + (noise if show_noise else []):
        print_cause(row, row.id in new, out)
    if noise and not show_noise:
        print(f"\nnoise: {len(noise)} cause(s) of last-digit float results at most 1 ulp apart, hidden "
              "(--show-noise lists them)", file=out)
    if gaps:
        print(f"\nSQLite version gaps: {len(gaps)} cause(s) (an older SQLite differs from the release Turso "
              "tracks; not Turso's): " + ", ".join(r.id for r in gaps), file=out)
    for title, ids in (("fixed (the repro no longer disagrees on these versions)", res.fixed),
                       ("moved (the repro now disagrees another way)", res.moved)):
        if ids:
            print(f"\n{title}: " + ", ".join(f"{i} (since {rows[i].fixed_version})" for i in ids), file=out)
    failed = "".join(f"\n  seed {s} failed: {why}" for s, why in sorted(res.failed.items()))
    rate = res.cases / res.seconds if res.seconds else 0.0
    print(f"\ncampaign {corpus.folder}: {len(res.ran)} seed(s) run, {len(res.skipped)} already in the "
          f"corpus, {len(res.failed)} failed{failed}", file=out)
    print(f"  {res.cases} cases, {res.statements} statements in {res.seconds:.1f}s on {res.workers} "
          f"worker(s) (cores {', '.join(map(str, sorted(res.cores.values())))}) = {rate:,.0f} cases/s; "
          f"set-up {res.startup_seconds:.1f}s; client merging "
          f"{res.merge_seconds:.2f}s; engines "
          f"{', '.join(f'{k} {v}' for k, v in sorted(res.versions.items()))}", file=out)
    if res.truncated:
        print(f"  time cap reached in seeds {res.truncated}: their streams were cut (raise --time-cap)",
              file=out)
    if res.interrupted:
        print("  interrupted: the seeds merged so far are in the corpus; run the same command to resume",
              file=out)
    fixed_total = sum(1 for r in rows.values() if r.status == FIXED)
    print(f"\n{len(own)} causes ({sum(1 for r in own if r.id in new)} new since the corpus), "
          f"{res.range_findings} findings" + (f"; {fixed_total} fixed cause(s) in the corpus" if fixed_total
                                               else ""), file=out)


def run(args: argparse.Namespace, names: list[str], registry: Registry, tracked_only: frozenset[str],
        out: Any) -> int:
    """Run `hunt --campaign`; 1 when the range has undocumented causes of Turso's own, else 0."""
    seeds = seed_range(args)
    config = CampaignConfig(folder=Path(args.campaign), seeds=seeds, spec=spec_of(args, names),
                            registry=registry, tracked_only=tracked_only, workers=args.workers,
                            scheduler=args.scheduler, recheck=args.recheck,
                            pin=not args.no_pin)
    where = args.scheduler or f"a local cluster of {args.workers} worker(s)"
    print(f"hunt campaign {args.campaign}: seeds {seeds[0]}..{seeds[-1]}, {config.spec.cases} cases each, "
          f"on {where}; reference {args.reference}; others: "
          f"{', '.join(n for n in names if n != args.reference)}", file=out)
    previous = signal.getsignal(signal.SIGTERM)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # a polite kill ends the campaign like Ctrl-C: corpus consistent

    signal.signal(signal.SIGTERM, stop)
    try:
        res = run_campaign(config, progress=lambda line: print(line, file=out, flush=True))
    finally:
        signal.signal(signal.SIGTERM, previous)
    corpus = Corpus.open(config.folder)
    try:
        if not args.no_export and not res.interrupted:
            for cause_id, note in export_new(corpus):
                print(f"exported {cause_id}: {note}", file=out)
        report(res, corpus, seeds, args.show_noise, out)
        rows = corpus.causes()
        undocumented = [c for c in res.range_causes if c in rows and not rows[c].documented
                        and not rows[c].noise and not rows[c].version_gap]
    finally:
        corpus.close()
    if res.interrupted:
        return 130
    return 1 if undocumented or res.failed else 0
