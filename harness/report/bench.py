"""`python -m stc_harness bench-report`: time and peak memory of writing a large report in all three formats.

A real report (the checkout's `reports/compatibility.json` by default) is replicated, check by check
under new ids, until it holds at least `--results` results; every copy is a separate object, as in a
report read from disk. The replicated document is built in a child process, whose peak resident memory
(the document included) is what the benchmark reports, beside the seconds that `write_all` took.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue as queue_module
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stc_harness.report.build import summarise
from stc_harness.report.schema import ReportError, load_report
from stc_harness.report.write import write_all

#: The default report to replicate: the one this checkout's last run wrote.
DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "reports" / "compatibility.json"
#: Targets this benchmark is held to (seconds, peak MB) at 50,000 results.
TARGET_SECONDS, TARGET_MB = 2.0, 300.0


def replicate(doc: dict[str, Any], results: int) -> dict[str, Any]:
    """`doc` with its checks copied (ids suffixed `~<n>`) until it has at least `results` results."""
    per_copy = sum(len(c["results"]) for c in doc["checks"])
    if per_copy == 0:
        raise ReportError("the report has no results to replicate; give a report of a run (--source)")
    copies = -(-results // per_copy)
    if copies <= 1:
        return doc  # large enough already: measured as it is
    text = json.dumps(doc["checks"])
    checks = []
    for n in range(copies):
        for row in json.loads(text):  # a fresh object per copy, as a report read from disk has
            row["id"] = f"{row['id']}~{n}"
            checks.append(row)
    return {**doc, "checks": checks}


def _peak_mb() -> float:
    """This process's peak resident memory, in MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _measure(source: str, results: int, out: str, queue: Any) -> None:
    """In the child: build the large document, write it, and report the numbers on `queue`."""
    try:
        doc = summarise(replicate(load_report(source), results))
    except (ReportError, OSError) as exc:
        queue.put({"error": str(exc)})
        return
    before = _peak_mb()
    start, cpu = time.perf_counter(), time.process_time()
    paths = write_all(doc, Path(out))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    queue.put({"results": sum(len(c["results"]) for c in doc["checks"]), "checks": len(doc["checks"]),
               "seconds": seconds, "cpu_seconds": cpu, "peak_mb": _peak_mb(), "document_mb": before,
               "files": {p.name + ("/" if p.is_dir() else ""): _size(p) for p in paths}})


def _size(path: Path) -> int:
    """A file's size, or the total size of a folder's files."""
    return sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size


def measure(source: Path, results: int, out: Path) -> dict[str, Any]:
    """Run one measurement in a fresh process (so that its peak memory is this report's alone)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_measure, args=(str(source), results, str(out), queue))
    child.start()
    try:
        while True:  # bounded: the child answers, or dies (then nothing will come)
            try:
                numbers: dict[str, Any] = queue.get(timeout=1)
                break
            except queue_module.Empty:
                if not child.is_alive():
                    raise RuntimeError("the benchmark's child process died with exit code "
                                       f"{child.exitcode}") from None
    finally:
        child.join(timeout=60)
    if "error" in numbers:
        raise ReportError(numbers["error"])
    return numbers


def main(argv: list[str]) -> int:
    """Replicate a report to N results, write JSON, Markdown and HTML, print seconds and peak MB."""
    parser = argparse.ArgumentParser(prog="python -m stc_harness bench-report", description=__doc__)
    parser.add_argument("--results", type=int, default=50_000, help="results to render (default 50000)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="report to replicate (default: this checkout's reports/compatibility.json)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="keep the written files here (default: a temporary folder, removed)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="measurements, each in a fresh process; the fastest is shown (default 3)")
    args = parser.parse_args(argv[1:])
    if args.results < 1 or args.repeat < 1:
        parser.error("--results and --repeat must be at least 1")
    if not args.source.exists():
        print(f"error: no report at {args.source}; give one to replicate with --source PATH "
              "(any compatibility.json a run wrote)", file=sys.stderr)
        return 2
    try:
        load_report(args.source)
        with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
            runs = [measure(args.source, args.results, args.out or Path(tmp)) for _ in range(args.repeat)]
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n = min(runs, key=lambda r: r["seconds"])
    files = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sorted(n["files"].items()))
    every = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    print(f"{n['results']} results ({n['checks']} checks), replicated from {args.source.name}; "
          f"fastest of {args.repeat} (all: {every} s)")
    print(f"write JSON + Markdown + HTML: {n['seconds']:.2f} s ({n['cpu_seconds']:.2f} s of CPU), "
          f"peak {n['peak_mb']:.0f} MB ({n['document_mb']:.0f} MB of it reached before writing began, "
          "building the document)")
    print(f"files: {files}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine load (1 min): {load:.1f} on {os.cpu_count()} CPUs; wall-clock time grows with it, "
          "CPU time much less")
    if n["results"] >= 50_000:
        memory = n["peak_mb"] <= TARGET_MB
        print(f"targets at 50,000 results: <= {TARGET_SECONDS:.0f} s and <= {TARGET_MB:.0f} MB peak: "
              f"time {'met' if n['seconds'] <= TARGET_SECONDS else 'NOT met'} "
              f"(CPU time {'within' if n['cpu_seconds'] <= TARGET_SECONDS else 'over'} it), "
              f"memory {'met' if memory else 'NOT met'}")
    return 0
