"""`python -m harness hunt`: hunt for undocumented differences, print minimal reproductions, save cases."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from pathlib import Path
from typing import Any

from harness.backend_registry import available, load_target
from harness.differences import RegistryError, builtin_folder, load_registries
from harness.differential.compare import KINDS
from harness.differential.engines import Engine, engine
from harness.differential.findings import (
    DOCUMENTED,
    UNDOCUMENTED,
    Finding,
    case_record,
    save_case,
    write_registry,
)
from harness.differential.generators import CATEGORIES
from harness.differential.hunt import HuntConfig, HuntResult, hunt
from harness.differential.replay import load_cases, needs_isolation, replay, replay_isolated
from harness.errors import UsageError
from harness.output_paths import check_file, write_or_fallback

#: A budget of one second means this many cases (about what this 2-core machine runs per second,
#: shrinking included). Fixed, so a seed and a budget always mean the same cases on any machine.
CASES_PER_SECOND = 2500
DEFAULT_BUDGET = 5.0


def _number(kind: type, low: float, inclusive: bool) -> Any:
    """An argparse type: a `kind` number above `low` (or at least `low`), with an error naming the bound."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not (value >= low if inclusive else value > low) or (kind is float and not math.isfinite(value)):
            bound = f"at least {low:g}" if inclusive else f"greater than {low:g}"
            raise argparse.ArgumentTypeError(f"{text} must be {bound}")
        return value

    parse.__name__ = kind.__name__
    return parse


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the options after `hunt`."""
    p = argparse.ArgumentParser(prog="python -m harness hunt",
                                description="Differential discovery: run generated SQL on every backend, "
                                            "compare with the reference, shrink and report differences.")
    p.add_argument("--seed", type=int, default=0, help="seed of the case stream (default 0)")
    p.add_argument("--budget", type=_number(float, 0, False), default=DEFAULT_BUDGET, metavar="SECONDS",
                   help=f"about how long to hunt: {CASES_PER_SECOND} cases per second of budget "
                        f"(default {DEFAULT_BUDGET:g})")
    p.add_argument("--cases", type=_number(int, 0, True), default=None, metavar="N",
                   help="run exactly N cases instead (overrides --budget; 0 runs none)")
    p.add_argument("--time-cap", type=_number(float, 0, False), default=None, metavar="SECONDS",
                   help="hard wall-clock stop for the case stream (default: 3x budget + 20s); "
                        "hitting it truncates the stream and is reported")
    p.add_argument("--backend", action="append", default=[], metavar="NAME",
                   help="backend to hunt on (repeatable; default: sqlite and turso)")
    p.add_argument("--reference", default="sqlite", help="backend whose results are the baseline")
    p.add_argument("--category", action="append", default=[], choices=CATEGORIES,
                   help="case families to generate (repeatable; default: all)")
    p.add_argument("--registry", default=None, metavar="DIR",
                   help="your own documented-differences folder, added to the registry that ships with "
                        "the package (--save writes discovery.toml there; default: the built-in one)")
    p.add_argument("--cases-dir", default="suites/discovery_cases", metavar="DIR",
                   help="where --save writes regression cases (default suites/discovery_cases)")
    p.add_argument("--save", action="store_true",
                   help="save each undocumented finding as a regression case and regenerate "
                        "<registry>/discovery.toml from all saved cases")
    p.add_argument("--max-shrinks", type=_number(int, 0, True), default=None, metavar="N",
                   help="shrink at most N distinct raw disagreements (default: 40, or one per 250 cases "
                        "for longer hunts)")
    p.add_argument("--in-process", action="store_true",
                   help="run the drivers in threads of this process instead of worker processes "
                        "(faster to start, but a driver abort ends the hunt)")
    p.add_argument("--timeout", type=_number(float, 0, False), default=10.0, metavar="SECONDS",
                   help="a batch not answered within this is a hang: the worker is killed (default 10)")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the findings as JSON")
    return p.parse_args(argv)


def _obs(obs: Any) -> str:
    text = json.dumps(obs, ensure_ascii=False)
    return text if len(text) <= 300 else text[:297] + "..."


def print_finding(f: Finding, out: Any) -> None:
    """A finding: status, signature, the reproducing SQL, and what each backend returned."""
    tag = f"{f.status:<24} {f.signature}"
    extra = f" (entry {f.entry.id})" if f.entry else ""
    print(f"\n{tag}{extra}  [{f.hits} raw hit(s), first at case {f.first_case}]", file=out)
    print(f"  {KINDS.get(f.kind, f.kind)}; reproduce on a fresh database:", file=out)
    for i, sql in enumerate(f.case.sqls()):
        marker = ">" if i == f.index else " "
        print(f"  {marker} {sql};", file=out)
    for backend in f.outcomes:
        msg = f"   ({f.message(backend)})" if f.message(backend) else ""
        print(f"    {backend:<8} {_obs(f.returned(backend))}{msg}", file=out)
    if not f.stable:
        print("  unstable: re-running the minimal case gave different results (e.g. it reads the clock)",
              file=out)
    if f.saved:
        print(f"  saved: {f.saved}", file=out)
    for note in f.notes:
        print(f"  note: {note}", file=out)


def print_summary(res: HuntResult, engines: list[Engine], seed: int, out: Any) -> None:
    """Counts, throughput and machine load."""
    undoc = sum(1 for f in res.findings if f.status == UNDOCUMENTED)
    doc = sum(1 for f in res.findings if f.status == DOCUMENTED)
    print(f"\nfindings: {undoc} undocumented, {doc} documented "
          f"({res.disagreements} disagreeing cases, {res.distinct_raw} distinct before shrinking"
          + (f", {res.unshrunk} not shrunk: raise --max-shrinks" if res.unshrunk else "") + ")", file=out)
    if res.truncated:
        print(f"time cap reached: the stream stopped after {res.cases} cases; "
              f"replay exactly with --seed {seed} --cases {res.cases}", file=out)
    n = len(engines)
    rate = res.compared_per_second
    print(f"throughput: {res.cases} cases, {res.statements} statements compared in "
          f"{res.stream_seconds:.2f}s = {rate:,.0f} statements/s compared on every backend "
          f"= {rate * n:,.0f} statement executions/s across {n} backends", file=out)
    cpu = ", ".join(f"{name} {sec:.2f}s" for name, sec in res.backend_cpu.items())
    mix = ", ".join(f"{k} {v}" for k, v in sorted(res.per_category.items()))
    print(f"  CPU time: generating and comparing {res.stream_cpu:.2f}s, running {cpu} "
          f"(in parallel: the slowest bounds the rate when CPUs are free); "
          f"{res.examples} hypothesis examples, {res.duplicates} duplicates skipped; cases by family: {mix}",
          file=out)
    print(f"shrinking: {res.shrink_seconds:.2f}s; set-up before the stream (worker start-up): "
          f"{res.startup_seconds:.2f}s; load average {res.load[0]:.2f} -> {res.load[1]:.2f} "
          f"on {_cpus()} CPU(s)", file=out)


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


async def replay_through_harness(case: dict[str, Any],
                                 backends: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Replay a case on each backend's harness adapter (what the regression check will do)."""
    observed, messages = {}, {}
    for name in backends:
        if needs_isolation(case):
            observed[name], messages[name] = await replay_isolated(name, case)
            continue
        backend = load_target(available()[name])
        conn = await backend.connect(f"{name}::memory:")
        try:
            observed[name], messages[name] = await asyncio.wait_for(replay(conn, case), 30)
        finally:
            await conn.close()
    return observed, messages


def save_findings(res: HuntResult, args: argparse.Namespace, engines: list[Engine], out: Any) -> None:
    """Save undocumented findings as regression cases (replayed through the harness); rewrite the registry."""
    folder = Path(args.cases_dir)
    versions = {e.name: e.version for e in engines}
    other = next((e for e in engines if e.name != args.reference), engines[0])
    document = f"{other.driver} {other.version} measured (differential discovery)"
    for f in res.findings:
        if f.status != UNDOCUMENTED:
            continue
        if not f.stable:
            f.notes.append("not saved: the backends answered differently from run to run")
            continue
        if (folder / f"{f.signature}.json").exists():
            f.notes.append(f"a case file for {f.signature} exists already; not overwritten")
            continue
        draft = case_record(f, {}, {}, {})
        observed, messages = asyncio.run(replay_through_harness(draft, [args.reference, f.backend]))
        if observed[args.reference] == observed[f.backend]:
            f.notes.append("not saved: replayed through the harness adapters, the backends agree")
            continue
        found_with = {"seed": args.seed, "case": f.first_case, "versions": versions, "document": document}
        f.saved = str(save_case(case_record(f, observed, messages, found_with), folder))
    path = write_registry(load_cases(folder), Path(args.registry or builtin_folder()) / "discovery.toml")
    print(f"\nregistry: {path} regenerated from {folder}", file=out)


def write_json(path: Path, data: dict[str, Any]) -> Path:
    """Write the findings to `path`; if that fails, to the same name in a temporary folder, saying where."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def write(folder: Path) -> list[Path]:
        target = folder / path.name
        target.write_text(text, encoding="utf-8")
        return [target]

    return write_or_fallback(write, path.parent, lambda m: print(f"hunt: {m}", file=sys.stderr))[0]


def main(argv: list[str]) -> int:
    """Entry point: `argv[0]` is "hunt"."""
    out = sys.stdout
    try:
        args = parse_args(argv[1:])
        names = args.backend or ["sqlite", "turso"]
        if args.reference not in names:
            names = [args.reference, *names]
        engines = [engine(n) for n in dict.fromkeys(names)]
        if len(engines) < 2:
            raise UsageError("the hunt needs the reference and at least one other backend")
        registry, _ = load_registries(Path(args.registry) if args.registry else None)
        if args.json:
            check_file(Path(args.json), "--json")
    except (UsageError, RegistryError) as exc:
        print(f"hunt: {exc}", file=sys.stderr)
        return 2
    cases = args.cases if args.cases is not None else max(1, math.ceil(args.budget * CASES_PER_SECOND))
    cap = args.time_cap if args.time_cap is not None else 3 * max(args.budget, cases / CASES_PER_SECOND) + 20
    shrinks = args.max_shrinks if args.max_shrinks is not None else max(40, cases // 250)
    config = HuntConfig(seed=args.seed, cases=cases, engines=engines, reference=args.reference,
                        registry=registry, categories=args.category or CATEGORIES, time_cap=cap,
                        max_shrinks=shrinks, isolate=not args.in_process, timeout=args.timeout)
    budget = "" if args.cases is not None else f" (budget {args.budget:g}s)"
    ref = next(e for e in engines if e.name == args.reference)
    others = ", ".join(e.describe() for e in engines if e.name != args.reference)
    print(f"hunt: seed {args.seed}, {cases} cases{budget}; reference {ref.describe()}; others: {others}",
          file=out)
    res = hunt(config)
    if res.skipped_functions:
        print(f"not generated (the reference lacks them): {', '.join(res.skipped_functions)}", file=out)
    if args.save:
        save_findings(res, args, engines, out)
    for status in (UNDOCUMENTED, DOCUMENTED):
        for f in res.findings:
            if f.status == status:
                print_finding(f, out)
    print_summary(res, engines, args.seed, out)
    if args.json:
        write_json(Path(args.json), {"seed": args.seed, "cases": res.cases,
                                     "findings": [f.as_dict() for f in res.findings]})
    unsaved = [f for f in res.findings if f.status == UNDOCUMENTED and not f.saved]
    return 1 if unsaved else 0
