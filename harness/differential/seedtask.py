"""One seed of a campaign, as a Dask worker (or the client itself) runs it.

The worker keeps its engines warm from seed to seed (one `DifferentialRunner` per configuration and
thread, each engine in its own worker process as in every hunt, so an abort or a hang costs its case
and the seed goes on). What goes back to the client is plain data: counts and one record per finding
(`finding_record`), which `finding_of` turns back into a `Finding` there. The result of a seed depends
only on the seed and the `SeedSpec`, never on which worker ran it or what it ran before.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import multiprocessing
import os
import platform
import socket
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any

from stc_harness.differences import Registry
from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.engines import Engine, engine
from stc_harness.differential.findings import Finding
from stc_harness.differential.hunt import HuntConfig, hunt
from stc_harness.differential.normalise import Outcome
from stc_harness.differential.runner import DifferentialRunner

#: Version of the records a seed returns; the client refuses others (a worker on another harness).
RECORD_VERSION = 1


@dataclass(frozen=True)
class SeedSpec:
    """Everything but the seed that decides what a seed finds (its `fingerprint` names it)."""

    cases: int
    engines: tuple[str, ...]
    reference: str
    categories: tuple[str, ...]
    max_shrinks: int = 40
    shrink_rounds: int = 80
    timeout: float = 10.0
    time_cap: float = 600.0
    isolate: bool = True

    def fingerprint(self, versions: dict[str, str]) -> str:
        """A short hash of the spec and the engine versions: seeds done under it need not run again.
        The timeout and time cap are left out (they only decide what a slow machine reports)."""
        data = {k: v for k, v in asdict(self).items() if k not in ("timeout", "time_cap")}
        text = json.dumps({**data, "versions": versions, "records": RECORD_VERSION}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


_RUNNERS: dict[tuple[Any, ...], tuple[list[Engine], DifferentialRunner]] = {}
_LOCK = threading.Lock()


def _close_all() -> None:
    """Stop every kept runner (at interpreter exit)."""
    with _LOCK:
        for _, runner in _RUNNERS.values():
            runner.close()
        _RUNNERS.clear()


atexit.register(_close_all)


def _runner(spec: SeedSpec) -> tuple[list[Engine], DifferentialRunner]:
    """This thread's runner for the spec's engines, started on first use and kept."""
    key = (threading.get_ident(), spec.engines, spec.reference, spec.isolate, spec.timeout)
    with _LOCK:
        kept = _RUNNERS.get(key)
    if kept is None:
        engines = [engine(name) for name in spec.engines]
        kept = engines, DifferentialRunner(engines, spec.reference, spec.isolate, spec.timeout)
        with _LOCK:
            _RUNNERS[key] = kept
    return kept


def _drop(spec: SeedSpec) -> None:
    """Forget (and stop) this thread's runner for the spec, after it failed."""
    key = (threading.get_ident(), spec.engines, spec.reference, spec.isolate, spec.timeout)
    with _LOCK:
        kept = _RUNNERS.pop(key, None)
    if kept is not None:
        kept[1].close()


def versions(engines: list[Engine]) -> dict[str, str]:
    """Each engine's driver and version (`turso`: `pyturso 0.8.3`)."""
    return {e.name: f"{e.driver} {e.version}" for e in engines}


def finding_record(f: Finding) -> dict[str, Any]:
    """A finding as plain data for the trip back to the client (and for the corpus)."""
    return {
        "signature": f.signature, "backend": f.backend, "reference": f.reference, "kind": f.kind,
        "category": f.case.category, "index": f.index,
        "statements": [{"sql": s.sql(), "kind": s.kind, "ordered": bool(s.ordered)}
                       for s in f.case.statements],
        "observed": {b: [o.obs for o in outs] for b, outs in f.outcomes.items()},
        "messages": {b: [o.message for o in outs] for b, outs in f.outcomes.items()},
        "hits": f.hits, "first_case": f.first_case, "stable": f.stable,
    }


def case_of(record: dict[str, Any]) -> Case:
    """The record's statements as a runnable case on one fresh database."""
    stmts = tuple(Stmt(s["sql"], (), s.get("kind", "select"), bool(s.get("ordered")))
                  for s in record["statements"])
    return Case(record.get("category", "dml"), stmts, stateful=True)


def finding_of(record: dict[str, Any]) -> Finding:
    """The `Finding` a record stands for (status and attribution still to classify)."""
    outcomes = {b: [Outcome(obs, msg) for obs, msg in zip(obs_list, record["messages"][b], strict=True)]
                for b, obs_list in record["observed"].items()}
    return Finding(record["signature"], record["backend"], record["reference"], record["kind"],
                   case_of(record), record["index"], outcomes, hits=record.get("hits", 1),
                   first_case=record.get("first_case", 0), stable=record.get("stable", True))


def run_seed(seed: int, spec: SeedSpec) -> dict[str, Any]:
    """Hunt one seed with the spec; the result as plain data (counts, timings, finding records)."""
    engines, runner = _runner(spec)
    config = HuntConfig(seed=seed, cases=spec.cases, engines=engines, reference=spec.reference,
                        registry=Registry(), categories=spec.categories, time_cap=spec.time_cap,
                        max_shrinks=spec.max_shrinks, shrink_rounds=spec.shrink_rounds,
                        isolate=spec.isolate, timeout=spec.timeout)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # a Dask worker's own threads draw from `random` while hypothesis generates, which hypothesis
            # takes for a strategy using it; the hunt's values come from its own seeded Random objects
            warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
            res = hunt(config, runner)
    except BaseException:
        _drop(spec)  # a runner that failed mid-seed is not trusted with the next one
        raise
    return {
        "record_version": RECORD_VERSION, "seed": seed, "versions": versions(engines),
        "cases": res.cases, "statements": res.statements, "truncated": res.truncated,
        "seconds": time.perf_counter() - start, "stream_seconds": res.stream_seconds,
        "shrink_seconds": res.shrink_seconds, "unshrunk": res.unshrunk,
        "findings": [finding_record(f) for f in res.findings],
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }


def probe(engine_specs: tuple[str, ...]) -> dict[str, Any]:
    """What a worker can do, checked before a campaign starts: engine versions, and whether it may
    start the engines' own processes (a daemonic Dask worker may not)."""
    out: dict[str, Any] = {"daemon": bool(multiprocessing.current_process().daemon),
                           "python": platform.python_version(), "record_version": RECORD_VERSION}
    try:
        out["versions"] = versions([engine(name) for name in engine_specs])
    except Exception as exc:  # noqa: BLE001 - reported to the client, which names the worker and the fix
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


def recheck(spec: SeedSpec, records: dict[str, dict[str, Any]]) -> dict[str, str | None]:
    """Re-run each cause's repro (by cause id) on the spec's engines: the cause id its backend's
    disagreement files under now, or None when the backends agree (the cause is fixed)."""
    _, runner = _runner(spec)
    out: dict[str, str | None] = {}
    for cause_id, record in sorted(records.items()):
        case = case_of(record)
        outcomes = runner.run([case], count=False)[0]
        again = [d for d in runner.compare(case, outcomes) if d.backend == record["backend"]]
        if not again:
            out[cause_id] = None
            continue
        d = again[0]
        f = Finding(record["signature"], d.backend, spec.reference, d.kind, case, d.index, d.outcomes)
        out[cause_id] = f.cause_key.id
    return out
