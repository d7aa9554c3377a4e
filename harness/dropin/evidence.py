"""The checks' own divergent calls: traced once from the harness's suites, shipped with the package.

`python -m stc_harness evidence` runs the suites with every driver call traced on both backends
(`--dropin-evidence=DIR`), aligns each check's SQLite and Turso traces, and writes, per check whose Turso
result differs, the signature of each divergent call, plus the slim check records the drop-in matches
against, to `stc_harness/dropin/data/evidence.json`. A drop-in run (also from a non-editable install)
reads that file: a user's divergence with the same signature as a check's is *proven* by that check.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Generator, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from stc_harness.dropin.align import FILES_LEFT_KIND, MAJOR, align
from stc_harness.dropin.causes import Evidence
from stc_harness.dropin.signature import Signature, call_group, context_of
from stc_harness.dropin.trace import SIDE_FILES, TRACER, TraceWriter, read_traces
from stc_harness.outcomes import DIFFERS  # a check's results whose divergences are evidence
from stc_harness.report.build import now_iso

DATA = Path(__file__).resolve().parent / "data" / "evidence.json"
SCHEMA = 2
#: Calls compared only where both backends ran the same code (the driver layer): the engine layer's two
#: adapters read cursor attributes at different moments, so their reads say nothing about the engines.
SAME_CODE_ONLY = ("rowcount", "lastrowid", "description", "cursor", "close", "commit", "rollback")
#: Divergences of a check looked at: its first ones (later ones tend to be consequences of those).
EVIDENCE_WINDOW = 25
#: Divergences kept per check (the first ones: later ones tend to be consequences).
PER_CHECK = 6
#: Share of differing checks allowed to have an empty SQLite trace (one in ten makes no driver call on
#: SQLite: module constants, Turso-only features); above it the run traced the wrong process (the
#: reference's test reused another test's baseline) and its evidence would be silently thin.
MAX_UNTRACED = 0.25


class EvidenceRecorder:
    """Pytest hooks of an evidence run: one trace per test, written per process."""

    def __init__(self, config: pytest.Config, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        worker = getattr(config, "workerinput", {}).get("workerid", "main")
        self.writer = TraceWriter(folder / f"trace.{worker}.jsonl")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
        """Record the calls of one test."""
        TRACER.take()
        try:
            return (yield)
        finally:
            events, dropped = TRACER.take()
            self.writer.write(item.nodeid, events, dropped)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Close the trace file."""
        self.writer.close()


def _canon(events: list[list[str]]) -> list[list[str]]:
    """Events by kind of call (the two backends' adapters call differently named methods).

    A reading statement that has no result columns (Turso's `PRAGMA defer_foreign_keys`) is not fetched
    by the engine layer's adapters; code that fetches it gets no row, so that is what the trace says.
    """
    out: list[list[str]] = []
    for e in events:
        out.append([call_group(e[0]), e[1], e[2], e[3].removeprefix("await→"), *e[4:]])
        if out[-1][0] == "description" and e[2] == "ok" and out[-1][3] == "None" and _READING.match(e[1]):
            out.append(["fetch", e[1], "ok", "[]", *e[4:]])
    return out


#: A statement that returns rows when it succeeds: a query, or a PRAGMA read (not an assignment).
_READING = re.compile(r"^of ['\"]\s*(?:select\b|with\b|values\b|pragma\s+[\w.]+\s*(?:\(|;|['\"]))",
                      re.IGNORECASE)


def divergences_of(sqlite: list[list[str]], turso: list[list[str]], files: bool = False) -> list[Any]:
    """The divergences of a check's two traces that can serve as evidence (matched calls, missing names).

    With `files` (the check observed the side files of a database), also the close() after which Turso
    left them: a minor divergence for code that never looks at the folder, the very observation here.
    """
    return [d for d in align(_canon(sqlite), _canon(turso))[:EVIDENCE_WINDOW]
            if d.kind not in ("sqlite-only-call", "turso-only-call")
            and (d.severity == MAJOR or (files and d.kind == FILES_LEFT_KIND))]


#: A check's observation that names a database's side files: its files-left divergences are evidence.
_SIDE_FILES_OBSERVED = re.compile(r"[\"'](?:" + "|".join(map(re.escape, SIDE_FILES)) + r")[\"']")


def build(traces_dir: Path, report: dict[str, Any]) -> dict[str, Any]:
    """The evidence document: per differing check, the signatures of its divergent calls; slim checks."""
    rows = [
        r for r in report["checks"] if ((r.get("results") or {}).get("turso") or {}).get("outcome") in DIFFERS
    ]
    wanted = {
        str(r["results"][b].get("nodeid"))
        for r in rows
        for b in ("sqlite", "turso")
        if (r.get("results") or {}).get(b)
    }
    traces = read_traces(sorted(traces_dir.glob("trace.*.jsonl")), wanted)
    items: list[dict[str, Any]] = []
    untraced: list[str] = []
    for row in rows:
        s = traces.get(str((row["results"].get("sqlite") or {}).get("nodeid")))
        t = traces.get(str(row["results"]["turso"].get("nodeid")))
        if s is None or t is None:
            continue
        if not s["events"] and t["events"]:
            # a module constant looked up, a Turso-only feature: or the reference's calls made elsewhere
            untraced.append(row["id"])
        seen: set[str] = set()
        same_code = str(row.get("area", row["id"])).startswith("driver_")
        turso_events = _canon(t["events"])
        observed = json.dumps(row["results"]["turso"].get("observed"))
        for d in divergences_of(s["events"], t["events"], bool(_SIDE_FILES_OBSERVED.search(observed))):
            if len(seen) >= PER_CHECK:
                break
            sig = Signature.of(d)
            if sig.group in SAME_CODE_ONLY and not same_code:
                continue
            key = json.dumps(sig.as_list())
            if key in seen:
                continue
            seen.add(key)
            items.append(
                {
                    "check": row["id"],
                    "entry": (row.get("entry") or {}).get("id") or "",
                    "signature": sig.as_list(),
                    "call": d.call,
                    "args": d.args[:200],
                    "sqlite": d.sqlite[:200],
                    "turso": d.turso[:200],
                    "context": sorted(context_of(turso_events, d.position)),
                }
            )
    slim = [
        {
            "id": r["id"],
            "title": r.get("title") or "",
            "results": {"turso": {"outcome": r["results"]["turso"]["outcome"]}},
            "entry": {"id": (r.get("entry") or {}).get("id")},
        }
        for r in rows
    ]
    return {
        "schema": SCHEMA,
        "untraced_reference": sorted(untraced),
        "generated_at": now_iso(),
        "pyturso": _version("pyturso"),
        "checks": slim,
        "evidence": items,
    }


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _load(path: Path = DATA) -> dict[str, Any]:
    if not path.is_file():
        return {"checks": [], "evidence": []}
    return json.loads(path.read_text(encoding="utf-8"))


def load_evidence(path: Path = DATA) -> list[Evidence]:
    """The traced check divergences that ship with the package (none if the file is absent)."""
    return [
        Evidence(
            e["check"], e["entry"], Signature.from_list(e["signature"]), e["call"], e["sqlite"], e["turso"],
            frozenset(e.get("context", ())),
        )
        for e in _load(path)["evidence"]
    ]


def shipped_checks(path: Path = DATA) -> list[dict[str, Any]]:
    """The slim check records that ship with the package (the checks whose Turso result differs)."""
    return list(_load(path)["checks"])


def main(argv: Iterable[str]) -> int:
    """`evidence [--out FILE] [-n N]`: run the suites traced and write the evidence file."""
    parser = argparse.ArgumentParser(
        prog="python -m stc_harness evidence", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DATA, help=f"where to write (default {DATA})")
    parser.add_argument("-n", default="2", help="pytest-xdist workers (default 2)")
    parser.add_argument("--suites", default="suites", help="the suites folder (default: suites)")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="keep the traces and report in this folder; with --reuse, build from them",
    )
    parser.add_argument("--reuse", action="store_true", help="do not run the suites: reuse --work's traces")
    args = parser.parse_args(list(argv)[1:])
    if args.reuse and args.work is None:
        parser.error("--reuse needs --work DIR (the folder of an earlier run)")
    with tempfile.TemporaryDirectory(prefix="stc-evidence-") as tmp:
        folder = args.work or Path(tmp)
        report_file = folder / "report" / "compatibility.json"
        if not args.reuse:
            shutil.rmtree(folder / "traces", ignore_errors=True)
            cmd = [
                sys.executable,
                "-m",
                "pytest",
                args.suites,
                "-q",
                "-p",
                "no:cacheprovider",
                "-n",
                args.n,
                "--max-worker-restart=8",
                f"--report-dir={folder / 'report'}",
                "--allow-undocumented",
                # Turso's divergences from the reference only: a third backend (libSQL, sorted first) would
                # run the reference's baseline as its side run, and the reference's own test reuse it untraced
                "--backend=sqlite",
                "--backend=turso",
                f"--dropin-evidence={folder / 'traces'}",
                "--no-header",
            ]
            code = subprocess.run(cmd, check=False).returncode
            if code not in (0, 1) or not report_file.exists():
                print(f"evidence: the suites run failed (exit {code}); nothing written", file=sys.stderr)
                return 2
        doc = build(folder / "traces", json.loads(report_file.read_text(encoding="utf-8")))
    if len(doc["untraced_reference"]) > MAX_UNTRACED * len(doc["checks"]):
        print(f"evidence: {len(doc['untraced_reference'])} of {len(doc['checks'])} differing checks have no "
              "traced SQLite calls (was the reference's run reused from another test?); nothing written",
              file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(doc, sort_keys=True, separators=(",", ":")).replace('},{"', '},\n{"') + "\n",
        encoding="utf-8",
    )
    print(
        f"evidence: {len(doc['evidence'])} divergent calls of {len(doc['checks'])} differing checks "
        f"-> {args.out}"
    )
    return 0
