"""Hunt campaigns on a real local Dask cluster of two workers: the same causes as running the seeds in
this process, a resumed campaign skipping merged seeds, the ratchet run on a worker, an engine abort
costing only its case, and a Dask worker killed mid-seed costing only a retry."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed", reason="the [campaign] extra (Dask's distributed) is not installed")

from distributed import Client

from stc_harness.differences import Registry
from stc_harness.differential.campaign import CampaignConfig, CampaignResult, _merge, connect, run_campaign
from stc_harness.differential.cores import affinities, current, usable
from stc_harness.differential.corpus import Corpus
from stc_harness.differential.engines import Engine
from stc_harness.differential.seedtask import SeedSpec, run_seed

#: Every campaign here must finish within this (its unfinished seeds are then reported left to do).
DEADLINE = 150.0
#: Small seeds, so the module stays within seconds on a loaded 2-core machine.
SPEC = SeedSpec(cases=250, engines=("sqlean", "turso"), reference="sqlean", categories=("expr", "agg", "dml"),
                max_shrinks=8, timeout=20.0)
SEEDS = [0, 1, 2]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with connect(2, None, 30.0) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


def _causes(folder: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(folder / "corpus.sqlite")
    try:
        return conn.execute("SELECT id, first_seed, last_seed, hits, findings, seeds, signatures, repro "
                            "FROM causes ORDER BY id").fetchall()
    finally:
        conn.close()


def _campaign(client: Client, folder: Path, seeds: list[int], spec: SeedSpec = SPEC, **kw: Any) -> Any:
    config = CampaignConfig(folder=folder, seeds=seeds, spec=spec, registry=Registry(), deadline=DEADLINE)
    res = run_campaign(config, client=client, **kw)
    assert not res.timed_out, f"the campaign did not finish within {DEADLINE}s"
    return res


@pytest.fixture(scope="module")
def two_workers(client: Client, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CampaignResult]:
    """SEEDS run once on the module's two workers: the corpus folder and the result (read-only)."""
    folder = tmp_path_factory.mktemp("two-workers") / "dask"
    return folder, _campaign(client, folder, SEEDS)


def test_two_workers_find_what_one_process_finds_and_a_rerun_resumes(
        client: Client, two_workers: tuple[Path, CampaignResult], tmp_path: Path) -> None:
    folder, res = two_workers
    assert res.ran == SEEDS
    assert not res.failed
    assert res.workers == 2
    assert res.range_causes
    # the same seeds, run in this process one after another, merged the same way
    direct = Corpus.open(tmp_path / "direct")
    config = CampaignConfig(folder=tmp_path / "direct", seeds=SEEDS, spec=SPEC, registry=Registry())
    for seed in reversed(SEEDS):  # another order too
        out = run_seed(seed, SPEC)
        out["fingerprint"] = res.fingerprint
        _merge(direct, config, out)
    direct.close()
    assert _causes(folder) == _causes(tmp_path / "direct")
    shutil.copytree(folder, tmp_path / "dask")
    again = _campaign(client, tmp_path / "dask", [*SEEDS, 3])
    assert again.skipped == SEEDS
    assert again.ran == [3]
    assert set(res.range_causes) <= set(again.range_causes)
    assert set(again.new) == set(again.range_causes) - set(res.range_causes)


def test_each_worker_and_its_engines_run_on_cores_of_their_own(
        client: Client, two_workers: tuple[Path, CampaignResult]) -> None:
    _, res = two_workers
    shares = res.cores
    assert sorted(shares) == sorted(client.scheduler_info()["workers"])
    assert all(len(cores) == 1 for cores in shares.values()), shares  # one thread each: one core each
    if len(usable()) >= 2:
        assert len({tuple(c) for c in shares.values()}) == 2, f"two workers share a core: {shares}"
    for address, pids in client.run(affinities).items():
        assert len(pids) > 2, f"no engine processes found under worker {address}: {pids}"
        assert all(cores == shares[address] for cores in pids.values()), (address, shares, pids)


def test_one_worker_on_one_core_finds_what_two_workers_find(two_workers: tuple[Path, CampaignResult],
                                                            tmp_path: Path) -> None:
    folder, res = two_workers
    with connect(1, None, 30.0) as one:
        alone = _campaign(one, tmp_path / "one", SEEDS)
    assert alone.workers == 1
    assert [len(c) for c in alone.cores.values()] == [1]
    assert alone.ran == SEEDS
    assert alone.range_causes == res.range_causes
    assert _causes(tmp_path / "one") == _causes(folder)


def test_the_ratchet_runs_on_a_worker_and_marks_a_gone_cause_fixed(client: Client, tmp_path: Path) -> None:
    corpus = Corpus.open(tmp_path)
    repro = {"signature": "expr.abs.integer.value", "backend": "turso", "reference": "sqlean",
             "kind": "value", "category": "expr", "index": 0,
             "statements": [{"sql": "SELECT abs(-1)", "kind": "expr", "ordered": False}],
             "observed": {"sqlean": [{"rows": [[["integer", 1]]]}], "turso": [{"rows": [[["integer", 2]]]}]},
             "messages": {"sqlean": [""], "turso": [""]}, "hits": 1, "first_case": 0, "stable": True}
    corpus.conn.execute("INSERT INTO causes VALUES ('turso:expr.abs.integer.value', 'turso', 'value', 0, 0, "
                        "0, 0, 'turso=pyturso 0.0.1', 0, 'turso=pyturso 0.0.1', 1, 1, 1, '[]', ?, 'open', "
                        "NULL, NULL, NULL)", (json.dumps(repro),))
    corpus.close()
    res = _campaign(client, tmp_path, [5])
    assert res.fixed == ["turso:expr.abs.integer.value"]
    corpus = Corpus.open(tmp_path)
    row = corpus.causes()["turso:expr.abs.integer.value"]
    corpus.close()
    assert row.status == "fixed"
    assert "pyturso 0.8" in str(row.fixed_version)


# --- an engine abort on a worker, and a worker lost mid-seed ------------------------------------------

def _sqlite_classify(exc: BaseException) -> Any:
    from stc_backends.sqlite import classify

    return classify(exc, "sqlite")


class _Aborts:
    """sqlite3 that aborts its process on about one statement in 60 (chosen by the statement's text)."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)

    def execute(self, sql: str) -> Any:
        if zlib.crc32(sql.encode()) % 60 == 0:
            os.abort()
        return self.conn.execute(sql)

    def close(self) -> None:
        self.conn.close()


def aborting_engine() -> Engine:
    """An engine whose process dies on some statements."""
    return Engine("aborts", "sqlite3", sqlite3.sqlite_version, _Aborts, _sqlite_classify)


def test_an_engine_abort_on_a_worker_costs_its_case_not_the_seed(client: Client, tmp_path: Path) -> None:
    spec = SeedSpec(cases=150, engines=("sqlite", "test_hunt_campaign_dask:aborting_engine"),
                    reference="sqlite", categories=("expr",), max_shrinks=2, timeout=20.0)
    res = _campaign(client, tmp_path, [0], spec)
    assert res.ran == [0]
    assert not res.failed
    assert res.cases == 150
    assert any(c.startswith("aborts:") and ".crash." in c for c in res.range_causes), res.range_causes


def dies_once(seed: int, spec: SeedSpec, marker: str) -> dict[str, Any]:
    """`run_seed`, except that the first worker to run seed 1 dies on it (os._exit, as a lost machine)."""
    if seed == 1:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass
        else:
            os._exit(1)
    return run_seed(seed, spec)


def test_a_worker_lost_mid_seed_costs_a_retry_not_the_campaign(client: Client, tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    res = _campaign(client, tmp_path / "lost", SEEDS,
                    task=lambda seed, spec: dies_once(seed, spec, marker))
    assert os.path.exists(marker)  # a worker did die
    assert res.ran == SEEDS
    assert not res.failed
    _campaign(client, tmp_path / "ref", SEEDS)
    assert _causes(tmp_path / "lost") == _causes(tmp_path / "ref")
    deadline = time.monotonic() + 60
    client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
    # the worker Dask started in place of the dead one runs on the dead one's core, not on all of them
    cores = client.run(current)
    assert all(len(c) == 1 for c in cores.values()), cores
    if len(usable()) >= 2:
        assert len({tuple(c) for c in cores.values()}) == 2, cores
