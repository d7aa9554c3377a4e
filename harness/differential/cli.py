"""`python -m stc_harness hunt`: hunt for undocumented differences, print minimal reproductions, save them."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from stc_harness.adapters.backend_registry import REFERENCE, available, load_target
from stc_harness.differences import RegistryError, builtin_folder, load_registries
from stc_harness.differential.causegroups import group
from stc_harness.differential.causes import default_reference
from stc_harness.differential.compare import KINDS
from stc_harness.differential.engines import Engine, lineup
from stc_harness.differential.findings import (
    Finding,
    case_record,
    save_case,
    write_registry,
)
from stc_harness.differential.generators import CATEGORIES
from stc_harness.differential.grammar import FAMILIES
from stc_harness.differential.hunt import HuntConfig, HuntResult, hunt, known_cases
from stc_harness.differential.normalise import observation
from stc_harness.differential.replay import (
    CASES_DIR,
    load_cases,
    needs_isolation,
    replay,
    replay_isolated,
    saved_cases,
)
from stc_harness.differential.triage import retriage
from stc_harness.errors import UsageError
from stc_harness.outcomes import (
    DOCUMENTED,
    TRACKED_BACKEND,
    TRACKED_LABEL,
    TURSO_OWN,
    UNDOCUMENTED,
    VERSION_GAP,
)
from stc_harness.safety.output_paths import check_file, write_or_fallback

#: Cases of the default hunt (no --cases, no --budget): fixed, so a seed always names the same findings.
DEFAULT_CASES = 12_500
#: Cases per second assumed only to size the shrinking budget of a time-budgeted hunt.
CASES_PER_SECOND = 2500


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
    p = argparse.ArgumentParser(prog="python -m stc_harness hunt",
                                description="Differential discovery: run generated SQL on every backend, "
                                            "compare with the reference, shrink and report differences.")
    p.add_argument("--seed", type=int, default=0, help="seed of the case stream (default 0)")
    p.add_argument("--budget", type=_number(float, 0, False), default=None, metavar="SECONDS",
                   help="hunt for about this many seconds of wall-clock time: 60%% generating and comparing "
                        "cases, the rest shrinking what was found (Turso's disagreements first); the output "
                        "names the case count that replays the stream exactly")
    p.add_argument("--cases", type=_number(int, 0, True), default=None, metavar="N",
                   help=f"run exactly N cases (default {DEFAULT_CASES}; overrides --budget; 0 runs none)")
    p.add_argument("--time-cap", type=_number(float, 0, False), default=None, metavar="SECONDS",
                   help="hard wall-clock stop for the case stream (default: 3x budget + 20s); "
                        "hitting it truncates the stream and is reported")
    p.add_argument("--backend", action="append", default=[], metavar="NAME",
                   help="backend to hunt on (repeatable; default: sqlite and turso)")
    p.add_argument("--reference", default=None,
                   help=f"backend whose results are the baseline (default: the {TRACKED_LABEL}, the release "
                        f"Turso tracks: backend {TRACKED_BACKEND}, when sqlean.py is installed; else sqlite)")
    p.add_argument("--no-stdlib-lane", action="store_true",
                   help="do not also run the stdlib SQLite (which shows SQLite version gaps)")
    p.add_argument("--retriage", action="store_true",
                   help="measure the attribution of every saved case on the tracked SQLite, record it in "
                        "the case files and regenerate the registry (runs no hunt)")
    p.add_argument("--category", action="append", default=[], choices=CATEGORIES,
                   help="case families to generate (repeatable; default: all)")
    p.add_argument("--registry", default=None, metavar="DIR",
                   help="your own documented-differences folder, added to the registry that ships with "
                        "the package (--save writes discovery.toml there; default: the built-in one)")
    p.add_argument("--cases-dir", default=CASES_DIR, metavar="DIR",
                   help=f"where --save writes regression cases (default {CASES_DIR}); the hunt also knows "
                        "the saved cases that ship with the package")
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
    p.add_argument("--show-noise", action="store_true",
                   help="also list noise causes (last-digit float results at most 1 ulp apart)")
    c = p.add_argument_group("campaigns (the [campaign] extra: "
                             "pip install 'sqlite-turso-conformance[campaign]')")
    c.add_argument("--campaign", default=None, metavar="DIR",
                   help="run a campaign: --seeds seeds from --seed on, --cases each (default 2500), on Dask "
                        "workers; causes are added to the corpus in DIR, new ones exported as .sqltest cases "
                        "to DIR/sqltest; rerunning resumes (seeds already merged are skipped)")
    c.add_argument("--seeds", type=_number(int, 1, True), default=None, metavar="N",
                   help="seeds in the campaign (default 8)")
    c.add_argument("--workers", type=_number(int, 1, True), default=2, metavar="N",
                   help="worker processes of the local Dask cluster, one core each (default 2)")
    c.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on the Dask cluster at ADDRESS (tcp://HOST:8786) instead of a local one")
    c.add_argument("--no-pin", action="store_true",
                   help="let every worker use all its machine's cores (default: one core per worker thread, "
                        "so workers scale by cores)")
    c.add_argument("--recheck", action="store_true",
                   help="re-run every open cause's repro first, even on the versions it was last seen with")
    c.add_argument("--no-export", action="store_true", help="do not export new causes as .sqltest cases")
    c.add_argument("--bench-campaign", action="store_true",
                   help="the same as `python -m stc_harness hunt-bench-campaign` (its --help lists its "
                        "options): measure campaign scaling (direct, 1 and 2 local Dask workers) and exit")
    args = p.parse_args(argv)
    if args.campaign is None and not args.bench_campaign:
        extra = [o for o, v in (("--seeds", args.seeds is not None), ("--scheduler", args.scheduler),
                                ("--recheck", args.recheck), ("--no-export", args.no_export),
                                ("--no-pin", args.no_pin)) if v]
        if extra:
            p.error(f"{', '.join(extra)} only apply to a campaign: add --campaign DIR")
    elif args.budget is not None or args.save:
        p.error("a campaign runs a fixed case count per seed (--cases) and keeps its causes in its corpus: "
                "drop --budget and --save")
    return args


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


def print_findings(findings: list[Finding], out: Any, show_noise: bool = False) -> None:
    """Turso's own findings grouped by cause (undocumented first), each cause with its smallest repro;
    noise causes only with `show_noise`; then SQLite version gaps, one line each."""
    own = [f for f in findings if f.attribution != VERSION_GAP]
    for status, title in ((UNDOCUMENTED, "UNDOCUMENTED"), (DOCUMENTED, "documented")):
        members = [f for f in own if f.status == status]
        groups = group(members)
        shown = [g for g in groups if show_noise or not g.key.noise]
        if not groups:
            continue
        print(f"\n=== {title}: {len(members)} finding(s), {len(shown)} cause(s) ===", file=out)
        for g in shown:
            worst = max(g.findings, key=lambda f: f.ulps or 0.0)
            extra = f"; worst {worst.ulps:,.0f} ulp ({worst.signature})" if g.key.result == "ulp" else ""
            print(f"\n--- cause: {g.id} ({len(g.findings)} signature(s){extra})", file=out)
            print_finding(g.repro, out)
            for f in g.findings:
                if f is not g.repro:
                    print(f"  also {f.signature}: {f.case.sqls()[f.index]}", file=out)
        hidden = len(groups) - len(shown)
        if hidden:
            print(f"\n({hidden} noise cause(s) hidden: last-digit float results at most 1 ulp apart; "
                  "--show-noise lists them)", file=out)
    gaps = [f for f in findings if f.attribution == VERSION_GAP]
    if gaps:
        print(f"\n=== SQLite version gaps: {len(gaps)} (an older SQLite differs from the release Turso "
              "tracks; not Turso's) ===", file=out)
        for f in gaps:
            print(f"  {f.backend} vs {f.reference}  {f.signature}: {f.case.sqls()[f.index]}", file=out)


def cause_line(findings: list[Finding]) -> str:
    """`N causes, K findings` of Turso's own (noise causes not counted)."""
    own = [f for f in findings if f.attribution != VERSION_GAP]
    causes = [g for g in group(own) if not g.key.noise]
    return f"{len(causes)} causes, {len(own)} findings (Turso's own; `--campaign DIR` keeps them in a corpus)"


def print_summary(res: HuntResult, engines: list[Engine], seed: int, out: Any) -> None:
    """Counts, throughput, the grammar families reached and machine load."""
    own = [f for f in res.findings if f.attribution != VERSION_GAP]
    undoc = sum(1 for f in own if f.status == UNDOCUMENTED)
    doc = sum(1 for f in own if f.status == DOCUMENTED)
    gaps = len(res.findings) - len(own)
    print(f"\nfindings: {undoc} undocumented and {doc} documented of Turso's own, "
          f"{gaps} SQLite version gap(s) "
          f"({res.disagreements} disagreeing cases, {res.distinct_raw} distinct before shrinking"
          + (f", {res.unshrunk} not shrunk: raise --budget or --max-shrinks" if res.unshrunk else "") + ")",
          file=out)
    if res.truncated:
        print(f"time budget reached: the stream stopped after {res.cases} cases; "
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
    if res.per_family:
        reached = ", ".join(f"{k} {res.per_family.get(k, 0)}" for k in FAMILIES)
        missing = [k for k in FAMILIES if not res.per_family.get(k)]
        print(f"  query grammar families reached: {reached}"
              + (f"; NOT reached: {', '.join(missing)}" if missing else " (all)"), file=out)
    print(f"shrinking: {res.shrink_seconds:.2f}s; set-up before the stream (worker start-up): "
          f"{res.startup_seconds:.2f}s; load average {res.load[0]:.2f} -> {res.load[1]:.2f} "
          f"on {_cpus()} CPU(s)", file=out)


def closing_line(res: HuntResult, saved: bool) -> str:
    """What to do next, and the rate the hunt compared at."""
    unsaved = [f for f in res.findings if f.status == UNDOCUMENTED and f.attribution != VERSION_GAP
               and not f.saved]
    rate = f"{res.compared_per_second:,.0f} statements/s compared"
    if not unsaved:
        return (f"\nnext: nothing to do: every finding of Turso's own is documented ({rate}). "
                "`python -m stc_harness hunt-export --sqltest DIR` writes the saved cases as Turso .sqltest "
                "tests.")
    how = "they could not be saved (see the notes)" if saved else (
        "rerun with --save to keep them as regression cases (suites/discovery_cases/) with registry entries "
        "(suites/differences/discovery.toml), or document their cause in suites/differences/<area>.toml")
    return (f"\nnext: {len(unsaved)} undocumented finding(s) of Turso's own: {how}; then "
            "`python -m stc_harness hunt-export --sqltest DIR` turns saved cases into Turso .sqltest tests "
            f"({rate}).")


def _cpus() -> int:
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
    saved = load_cases(folder)
    for f in res.findings:
        remember_raw(f, saved.get(f.signature), args.seed, folder)
        if f.status != UNDOCUMENTED or f.attribution == VERSION_GAP:
            continue
        if not f.stable:
            f.notes.append("not saved: the backends answered differently from run to run")
            continue
        if (folder / f"{f.signature}.json").exists():
            f.notes.append(f"a case file for {f.signature} exists already; not overwritten")
            continue
        draft = case_record(f, {}, {}, {})
        names = [n for n in dict.fromkeys([REFERENCE, args.reference, f.backend]) if n in available()]
        observed, messages = asyncio.run(replay_through_harness(draft, names))
        if args.reference not in observed:  # no harness backend for it: what the hunt's driver observed
            observed[args.reference] = observation(f.outcomes[args.reference])
        if observed[args.reference] == observed[f.backend]:
            f.notes.append("not saved: replayed through the harness adapters, the backends agree")
            continue
        tracked_only = REFERENCE in observed and observed[REFERENCE] == observed[f.backend]
        found_with = {"seed": args.seed, "case": f.first_case, "versions": versions, "document": document,
                      "raw": [[pos, *key] for pos, key in f.raw]}
        record = {**case_record(f, observed, messages, found_with), "attribution": f.attribution,
                  **({"tracked_only": True} if tracked_only else {})}
        f.saved = str(save_case(record, folder))
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


#: The case count of a time-budgeted hunt: no limit but the clock.
UNLIMITED = 10**9


def sizes(args: argparse.Namespace) -> tuple[int, float, int, float | None]:
    """Cases, stream time cap, shrinks and shrinking seconds: an exact count (`--cases`, or the default)
    shrinks everything it finds; `--budget` gives 60% of its seconds to the stream, 40% to shrinking."""
    if args.cases is not None or args.budget is None:
        cases = args.cases if args.cases is not None else DEFAULT_CASES
        cap = args.time_cap if args.time_cap is not None else 3 * cases / CASES_PER_SECOND + 20
        shrinks = args.max_shrinks if args.max_shrinks is not None else max(40, cases // 250)
        return cases, cap, shrinks, None
    stream = 0.6 * args.budget
    cap = stream if args.time_cap is None else min(stream, args.time_cap)
    sized = math.ceil(args.budget * CASES_PER_SECOND)
    shrinks = args.max_shrinks if args.max_shrinks is not None else max(40, sized // 250)
    return UNLIMITED, cap, shrinks, 0.4 * args.budget


def remember_raw(f: Finding, record: dict[str, Any] | None, seed: int, folder: Path) -> None:
    """Add the raw disagreements this hunt shrank to `f` to its saved case, when the case was found with
    this seed, so the next hunt with the seed re-runs the case instead of shrinking them again."""
    if record is None or record.get("found_with", {}).get("seed") != seed:
        return
    raw = [list(r) for r in record["found_with"].get("raw", [])]
    new = [[pos, *key] for pos, key in f.raw if [pos, *key] not in raw]
    if not new:
        return
    record["found_with"]["raw"] = raw + new
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in record.items()]
    (folder / f"{record['signature']}.json").write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def tracked_only_cases(folder: Path) -> frozenset[str]:
    """Signatures of saved cases only the tracked SQLite tells apart (documented without a replay check):
    those that ship with the package and those in `folder`."""
    return frozenset(sig for sig, case in saved_cases(folder).items() if case.get("tracked_only"))


def retriage_cases(args: argparse.Namespace, out: Any) -> int:
    """`--retriage`: label every saved case Turso's own or a version gap (measured); rewrite the registry."""
    folder = Path(args.cases_dir)
    labels = retriage(folder)
    path = write_registry(load_cases(folder), Path(args.registry or builtin_folder()) / "discovery.toml")
    counts = Counter(labels.values())
    print(f"retriage: {len(labels)} saved cases: {counts.get(TURSO_OWN, 0)} Turso's own, "
          f"{counts.get(VERSION_GAP, 0)} SQLite version gaps (SQLite 3.50.4 observes the same); "
          f"registry {path} regenerated", file=out)
    return 0


def _needs_dask(exc: ImportError) -> UsageError:
    return UsageError(f"campaigns need Dask's distributed ({exc}): "
                      "pip install 'sqlite-turso-conformance[campaign]'")


def _campaign(args: argparse.Namespace, names: list[str], registry: Any, out: Any) -> int:
    """`--campaign`, which needs the optional `[campaign]` extra."""
    try:
        from stc_harness.differential import campaign_cli
    except ImportError as exc:  # the optional dependency, not an import circle
        raise _needs_dask(exc) from None
    return campaign_cli.run(args, names, registry, tracked_only_cases(Path(args.cases_dir)), out)


def _bench_campaign(argv: list[str]) -> int:
    """`hunt --bench-campaign ...`: the `hunt-bench-campaign` command with the same options."""
    try:
        from stc_harness.differential import campaign_bench
    except ImportError as exc:  # the optional dependency, not an import circle
        print(f"hunt: {_needs_dask(exc)}", file=sys.stderr)
        return 2
    return campaign_bench.main(["hunt-bench-campaign", *(a for a in argv[1:] if a != "--bench-campaign")])


def main(argv: list[str]) -> int:
    """Entry point: `argv[0]` is "hunt"."""
    out = sys.stdout
    if "--bench-campaign" in argv[1:]:
        return _bench_campaign(argv)
    try:
        args = parse_args(argv[1:])
        if args.retriage:
            return retriage_cases(args, out)
        args.reference = args.reference or default_reference()
        engines = lineup(args.reference, args.backend, not args.no_stdlib_lane)
        registry, _ = load_registries(Path(args.registry) if args.registry else None)
        if args.json:
            check_file(Path(args.json), "--json")
        if args.campaign:
            return _campaign(args, [e.spec or e.name for e in engines], registry, out)
    except (UsageError, RegistryError) as exc:
        print(f"hunt: {exc}", file=sys.stderr)
        return 2
    cases, cap, shrinks, shrink_seconds = sizes(args)
    config = HuntConfig(seed=args.seed, cases=cases, engines=engines, reference=args.reference,
                        registry=registry, categories=args.category or CATEGORIES, time_cap=cap,
                        max_shrinks=shrinks, isolate=not args.in_process, timeout=args.timeout,
                        shrink_seconds=shrink_seconds,
                        tracked_only=tracked_only_cases(Path(args.cases_dir)),
                        known=known_cases(saved_cases(Path(args.cases_dir)), args.seed))
    budget = f"a {args.budget:g}s budget" if cases == UNLIMITED else f"{cases} cases"
    ref = next(e for e in engines if e.name == args.reference)
    others = ", ".join(e.describe() for e in engines if e.name != args.reference)
    print(f"hunt: seed {args.seed}, {budget}; reference {ref.describe()}; others: {others}", file=out)
    if ref.name != TRACKED_BACKEND:
        print(f"note: the reference is not the {TRACKED_LABEL}: a Turso finding the {TRACKED_LABEL} "
              f"shares is labelled a version gap only when it runs too (--backend {TRACKED_BACKEND}; "
              "else: attribution unavailable)", file=out)
    res = hunt(config)
    if res.skipped_functions:
        print(f"not generated (the reference lacks them): {', '.join(res.skipped_functions)}", file=out)
    if args.save:
        save_findings(res, args, engines, out)
    print_findings(res.findings, out, args.show_noise)
    print_summary(res, engines, args.seed, out)
    print(closing_line(res, args.save), file=out)
    print(cause_line(res.findings), file=out)
    if args.json:
        write_json(Path(args.json), {"seed": args.seed, "cases": res.cases,
                                     "findings": [f.as_dict() for f in res.findings]})
    unsaved = [f for f in res.findings if f.status == UNDOCUMENTED and not f.saved
               and f.attribution != VERSION_GAP]
    return 1 if unsaved else 0
