"""Hunt campaigns on Dask: a seed range spread over workers, each seed's causes merged into the corpus.

A `LocalCluster` in this process is the default (`workers` processes, one thread each); `scheduler`
connects to a running cluster instead. Every seed is one task (`seedtask.run_seed`); a worker keeps its
engines warm between seeds and runs each in its own process, so an abort or a hang costs its case, as
in a single hunt. Each worker runs on one core per thread (`cores`, applied by the `CoreShares` plugin
whenever a worker starts), engines included, so workers scale by cores. A Dask worker that dies
mid-seed is replaced and the seed runs again elsewhere (Dask retries it up to `ALLOWED_FAILURES` times;
then the seed is reported failed and stays to do). The client
merges each finished seed into the corpus in one transaction, so an interrupted campaign (Ctrl-C, a lost
worker, a killed client) resumes with the same command: seeds already merged under the same spec and
engine versions are skipped. Everything that can be checked is checked before any seed runs: the corpus
folder, the scheduler, the workers (engines, versions, whether they may start processes).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask
from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, as_completed

from stc_harness.differences import Registry
from stc_harness.differential.causegroups import CauseGroup, group
from stc_harness.differential.cores import Seat, confine, current, plan, usable, where
from stc_harness.differential.corpus import OPEN, Corpus, version_text
from stc_harness.differential.findings import classify
from stc_harness.differential.seedtask import RECORD_VERSION, SeedSpec, finding_of, probe, recheck, run_seed
from stc_harness.errors import UsageError
from stc_harness.outcomes import DOCUMENTED

#: Times Dask runs a seed again after the worker running it died, before reporting it failed.
ALLOWED_FAILURES = 2
#: Dask settings of a campaign. Workers must not be daemonic processes: a hunt starts a process per
#: engine, which Python forbids a daemonic process to do.
#: Dask's statistical profiler is off: it samples every thread's stack every 10 ms, and a hunt's worker
#: has a thread per engine lane besides the one running the seed (CPU a one-core worker would lose).
DASK_SETTINGS: dict[str, Any] = {
    "distributed.worker.daemon": False,
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
}
#: How to start workers for `--scheduler` (the same settings as the local cluster's).
WORKER_HINT = ("DASK_DISTRIBUTED__WORKER__DAEMON=False DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False "
               "dask worker --nthreads 1 ADDRESS")


class CampaignError(UsageError):
    """A campaign that cannot start (scheduler, workers); the message names the fix."""


@dataclass
class CampaignConfig:
    """A campaign: which seeds, what each runs (`spec`), where the corpus is, and on what cluster."""

    folder: Path
    seeds: Sequence[int]
    spec: SeedSpec
    registry: Registry
    tracked_only: frozenset[str] = frozenset()
    workers: int = 2
    scheduler: str | None = None
    connect_timeout: float = 20.0
    #: Confine each worker (and the engine processes it starts) to one core per worker thread, so
    #: workers scale by cores (`cores`); False leaves every worker all of its machine's cores.
    pin: bool = True
    recheck: bool = False  # re-run every open cause's repro, even on the versions it was last seen with
    #: Wall-clock seconds for the seeds: then the rest are cancelled and left to do (like Ctrl-C).
    deadline: float | None = None


@dataclass
class CampaignResult:
    """What a campaign did this time, and the causes of its whole seed range (from the corpus)."""

    versions: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    workers: int = 0
    cores: dict[str, list[int]] = field(default_factory=dict)  # by worker address: the cores it runs on
    ran: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    interrupted: bool = False
    timed_out: bool = False  # the deadline passed; the seeds not merged are left to do
    cases: int = 0  # of the seeds run now
    statements: int = 0
    seconds: float = 0.0  # wall time of the seeds run now (from the first submit to the last merge)
    startup_seconds: float = 0.0
    merge_seconds: float = 0.0  # client time classifying and merging seeds into the corpus
    task_seconds: float = 0.0  # worker time inside run_seed, summed
    range_findings: int = 0  # findings of every merged seed of the range
    range_causes: list[str] = field(default_factory=list)  # cause ids of every merged seed of the range
    new: list[str] = field(default_factory=list)  # of range_causes, absent from the corpus before this run
    fixed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    truncated: list[int] = field(default_factory=list)


@contextlib.contextmanager
def connect(workers: int, scheduler: str | None, timeout: float) -> Iterator[Client]:
    """A Dask client: on a new `LocalCluster` of `workers` processes, or on the cluster at `scheduler`
    (an unreachable one, or one without workers, is a `CampaignError` naming the fix)."""
    with dask.config.set(DASK_SETTINGS):
        if scheduler is None:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=50)
            try:
                client = Client(cluster, set_as_default=False)
                try:
                    yield client
                finally:
                    client.close()
            finally:
                cluster.close()
            return
        try:
            client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise CampaignError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g}s "
                                f"({exc}): "
                                "start one with `dask scheduler` and pass the address it prints "
                                "(tcp://HOST:8786), or drop --scheduler to run on a local cluster") from None
        try:
            try:
                client.wait_for_workers(1, timeout=timeout)
            except (TimeoutError, OSError):
                raise CampaignError(f"no Dask worker joined the scheduler at {scheduler} within "
                                    f"{timeout:g}s: "
                                    f"start workers with `{WORKER_HINT}`") from None
            yield client
        finally:
            client.close()


def check_workers(client: Client, spec: SeedSpec) -> dict[str, str]:
    """Ask every worker what it can run; the engine versions they share. Daemonic workers, workers
    without an engine or on other versions are a `CampaignError` naming the fix."""
    answers: dict[str, dict[str, Any]] = client.run(probe, spec.engines)
    if not answers:
        raise CampaignError(f"the cluster has no workers: start some with `{WORKER_HINT}`")
    seen: dict[str, dict[str, str]] = {}
    for address, info in sorted(answers.items()):
        if info.get("record_version") != RECORD_VERSION:
            raise CampaignError(f"worker {address} runs another version of this harness: install the same "
                                "sqlite-turso-conformance on every worker")
        if info.get("daemon"):
            raise CampaignError(f"worker {address} is a daemonic process, which cannot start the engines' "
                                f"processes: start workers with `{WORKER_HINT}`")
        if "error" in info:
            raise CampaignError(f"worker {address} cannot build the engines {list(spec.engines)}: "
                                f"{info['error']}; install them there (pip install "
                                "'sqlite-turso-conformance[campaign]')")
        seen[address] = info["versions"]
    distinct = {version_text(v) for v in seen.values()}
    if len(distinct) > 1:
        listing = "; ".join(f"{a}: {version_text(v)}" for a, v in seen.items())
        raise CampaignError(f"the workers run different engine versions ({listing}): install the same "
                            "pyturso and sqlean.py on every worker")
    return next(iter(seen.values()))


class CoreShares(WorkerPlugin):
    """Confines each worker, by name, to its cores when it starts (and again when Dask restarts it)."""

    name = "stc-harness-core-shares"

    def __init__(self, shares: dict[str, list[int] | None]) -> None:
        self.shares = shares

    def setup(self, worker: Any) -> None:
        """Confine this worker (its threads and processes) to its share; all its cores if it has none."""
        confine(self.shares.get(str(worker.name)) or usable())


def _seats(client: Client) -> list[Seat]:
    """The seats to plan: a local cluster's from its spec (so a worker Dask starts later, in place of a
    dead one, has its share too), else the live workers'."""
    cluster = getattr(client, "cluster", None)
    if isinstance(cluster, LocalCluster):
        here = tuple(usable())  # the workers were started from this process, with its cores
        return [Seat(str(name), "local", int(spec.get("options", {}).get("nthreads", 1)), here)
                for name, spec in cluster.worker_spec.items()]
    info = client.scheduler_info(n_workers=-1)["workers"]
    machines: dict[str, dict[str, Any]] = client.run(where)
    return [Seat(str(w["name"]), f"{w['host']}/{machines[a]['hostname']}", int(w["nthreads"]),
                 tuple(machines[a]["cores"])) for a, w in info.items() if a in machines]


def pin_workers(client: Client, pin: bool = True) -> dict[str, list[int]]:
    """Give every worker of the cluster its cores (`cores.plan`: one per thread, disjoint on a machine
    while there are enough), or all its machine's cores when `pin` is False; the cores each worker
    runs on now, by address."""
    seats = _seats(client)
    shares: dict[str, list[int] | None] = dict(plan(seats)) if pin else {s.name: None for s in seats}
    client.register_plugin(CoreShares(shares), name=CoreShares.name)
    return dict(client.run(current))  # as the workers report it, once the plugin has set them up


def _recheck_open(client: Client, corpus: Corpus, config: CampaignConfig, result: CampaignResult) -> None:
    """The ratchet: open causes last seen (or checked) on other engine versions re-run their repro; one
    that no longer reproduces is marked fixed on these versions."""
    spec, version = config.spec, version_text(result.versions)
    todo = {cid: row.repro for cid, row in corpus.causes().items()
            if row.status == OPEN and row.backend in result.versions
            and row.repro["reference"] == spec.reference
            and (config.recheck or version not in (row.last_version, row.checked_version))}
    if not todo:
        return
    answers = client.submit(recheck, spec, todo, pure=False).result()
    result.fixed, result.moved = corpus.mark_checked(answers, version)


def _merge(corpus: Corpus, config: CampaignConfig, res: dict[str, Any]) -> list[CauseGroup]:
    """Classify one seed's findings against the registry, group them, merge them into the corpus."""
    if res.get("record_version") != RECORD_VERSION:
        raise CampaignError("a worker returned records of another harness version: install the same "
                            "sqlite-turso-conformance on every worker")
    findings = [finding_of(r) for r in res["findings"]]
    classify(findings, config.registry, config.tracked_only)
    groups = group(findings)
    documented = {f.signature: f.status == DOCUMENTED for f in findings}
    corpus.merge_seed(res["seed"], res["fingerprint"], res, groups, documented)
    return groups


def run_campaign(config: CampaignConfig, progress: Callable[[str], None] = lambda _: None,
                 task: Callable[..., dict[str, Any]] = run_seed,
                 client: Client | None = None) -> CampaignResult:
    """Run the campaign's seeds not yet in the corpus, merging each as it finishes (see the module).
    `task` runs one seed on a worker (`run_seed`; tests wrap it to kill a worker); `client`: run on
    that client's cluster instead of connecting as the config says."""
    corpus = Corpus.open(config.folder)  # before the cluster: a bad folder costs nothing
    result = CampaignResult()
    start = time.perf_counter()
    try:
        before = set(corpus.causes())
        session = contextlib.nullcontext(client) if client is not None else \
            connect(config.workers, config.scheduler, config.connect_timeout)
        with session as client:
            result.versions = check_workers(client, config.spec)
            result.cores = pin_workers(client, config.pin)
            result.workers = len(result.cores)
            fp = result.fingerprint = config.spec.fingerprint(result.versions)
            done = corpus.done_seeds(fp)
            result.skipped = [s for s in config.seeds if s in done]
            todo = [s for s in config.seeds if s not in done]
            _recheck_open(client, corpus, config, result)
            result.startup_seconds = time.perf_counter() - start
            _run_seeds(client, corpus, config, todo, fp, result, progress, task)
        rows = [r for r in corpus.seed_rows(fp) if r["seed"] in set(config.seeds)]
        result.range_findings = sum(r["findings"] for r in rows)
        result.range_causes = sorted({c for r in rows for c in r["causes"]})
        result.new = [c for c in result.range_causes if c not in before]
        result.truncated = [r["seed"] for r in rows if r["truncated"] and r["seed"] in set(result.ran)]
    finally:
        corpus.close()
    return result


def _run_seeds(client: Client, corpus: Corpus, config: CampaignConfig, todo: list[int], fp: str,
               result: CampaignResult, progress: Callable[[str], None],
               task: Callable[..., dict[str, Any]]) -> None:
    """Submit every seed to do, merge each as it finishes; Ctrl-C cancels what is left."""
    if not todo:
        return
    begin = time.perf_counter()
    run = uuid.uuid4().hex[:8]  # keys of this run only: a cluster never hands back another run's result
    futures = {client.submit(task, seed, config.spec, key=f"hunt-seed-{seed}-{fp}-{run}"): seed
               for seed in todo}
    try:
        for fut in as_completed(list(futures), loop=client.loop, timeout=config.deadline):
            seed = futures[fut]
            try:
                res = fut.result()
            except KilledWorker:
                result.failed[seed] = (f"the worker running it died {ALLOWED_FAILURES + 1} times; the seed "
                                       "is left to do (rerun the campaign to retry it)")
                progress(f"seed {seed}: FAILED ({result.failed[seed]})")
                continue
            except Exception as exc:  # noqa: BLE001 - one seed's error costs that seed, not the campaign
                result.failed[seed] = f"{type(exc).__name__}: {exc}"
                progress(f"seed {seed}: FAILED ({result.failed[seed]})")
                continue
            res["fingerprint"] = fp
            merge_start = time.perf_counter()
            groups = _merge(corpus, config, res)
            result.merge_seconds += time.perf_counter() - merge_start
            result.task_seconds += res["seconds"]
            result.ran.append(seed)
            result.cases += res["cases"]
            result.statements += res["statements"]
            progress(f"seed {seed}: {res['cases']} cases, {len(res['findings'])} findings, "
                     f"{len(groups)} causes ({res['seconds']:.1f}s on {res['worker']})")
    except KeyboardInterrupt:
        result.interrupted = True
        client.cancel(list(futures))
    except TimeoutError:
        result.timed_out = True
        client.cancel(list(futures))
    finally:
        result.seconds = time.perf_counter() - begin
        result.ran.sort()
