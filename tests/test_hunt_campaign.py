"""Hunt campaigns without a cluster: cause keys, the corpus (merging, schema, bad folders), the ratchet,
the .sqltest export, and the errors raised before any work starts."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from stc_harness.differences import Registry
from stc_harness.differential import campaign, cli
from stc_harness.differential.campaign import CampaignError, check_workers, connect
from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.causegroups import group
from stc_harness.differential.causes import NOISE_ULPS, cause_key
from stc_harness.differential.corpus import FIXED, OPEN, SCHEMA_VERSION, Corpus, CorpusError
from stc_harness.differential.engines import engine
from stc_harness.differential.findings import Finding, classify
from stc_harness.differential.normalise import Outcome
from stc_harness.differential.seedtask import (
    SeedSpec,
    finding_of,
    finding_record,
    recheck,
    run_seed,
)
from stc_harness.differential.upstream import export_new

VERSIONS = {"sqlean": "sqlean.py 3.50.4", "turso": "pyturso 0.8.3"}


def _real(v: float) -> dict[str, Any]:
    return {"rows": [[["real", v]]]}


def _finding(sig: str, sqls: list[str], ref: dict[str, Any], other: dict[str, Any], kind: str = "value",
             message: str = "", hits: int = 1) -> Finding:
    case = Case(sig.split(".")[0], tuple(Stmt(s, (), "expr") for s in sqls), stateful=True)
    idx = len(sqls) - 1
    pad = [Outcome({"rows": []})] * idx
    outcomes = {"sqlean": [*pad, Outcome(ref)], "turso": [*pad, Outcome(other, message)]}
    return Finding(sig, "turso", "sqlean", kind, case, idx, outcomes, hits=hits)


# --- cause keys ---------------------------------------------------------------------------------------

def test_last_digit_floats_are_one_cause_per_function_and_one_ulp_apart_is_noise() -> None:
    one = 0.1 + 0.2
    a = cause_key("expr.round.real.value", "turso", "value", _real(one), _real(0.3), "", "")
    b = cause_key("expr.round.real_integer.class", "turso", "value", _real(2.0), _real(2.0000000000000004),
                  "", "")
    assert a.id == b.id == "turso:expr.round.ulp"
    assert a.noise
    assert NOISE_ULPS == 1.0
    far = cause_key("expr.exp.real.value", "turso", "value", _real(1.0), _real(1.0 + 2**-40), "", "")
    assert far.id == "turso:expr.exp.ulp"
    assert not far.noise
    value = cause_key("expr.round.real.value", "turso", "value", _real(1.0), _real(2.0), "", "")
    assert value.id == "turso:expr.round.real.value"


def test_one_error_class_is_one_cause_whichever_function_raised_it() -> None:
    ok = {"rows": [[["integer", 1]]]}
    err = {"error": "DRIVER_OPERATION_FAILED"}
    a = cause_key("expr.json_set.text_text.only-other-fails", "turso", "only-other-fails", ok, err, "",
                  "turso.lib.DatabaseError: Parse error: bad JSON path: '$['")
    b = cause_key("expr.json_extract.text_text.only-other-fails", "turso", "only-other-fails", ok, err, "",
                  "turso.lib.DatabaseError: Parse error: bad JSON path: '$.a['")
    assert a.id == b.id == "turso:expr.error-vs-value.driver-operation-failed.parse-error-bad-json-path"
    crash = cause_key("expr.jsonarrow.real_real.crash", "turso", "crash", ok, {"error": "CRASH"}, "",
                      "CRASH: worker killed by SIGABRT: thread 'x' panicked at core/vdbe/execute.rs:12:5:")
    assert crash.id == "turso:expr.jsonarrow.crash.execute-rs"


def test_grouping_keeps_the_smallest_repro_whatever_the_order() -> None:
    big = _finding("expr.substr.text_integer.value", ["SELECT substr('abcdef', 2)"], _real(1.0), _real(2.0))
    small = _finding("expr.substr.text_integer.value", ["SELECT substr('a', 2)"], _real(1.0), _real(3.0))
    for order in ([big, small], [small, big]):
        (g,) = group(order)
        assert g.repro is small
        assert g.hits == 2


# --- the corpus ---------------------------------------------------------------------------------------

def _seed_result(seed: int, findings: list[Finding]) -> dict[str, Any]:
    return {"versions": VERSIONS, "cases": 10, "statements": 12, "truncated": False, "seconds": 0.1,
            "findings": [finding_record(f) for f in findings], "worker": "w"}


def _merge(corpus: Corpus, seed: int, findings: list[Finding]) -> None:
    classify(findings, Registry())
    corpus.merge_seed(seed, "fp", _seed_result(seed, findings), group(findings),
                      {f.signature: False for f in findings})


def _table(folder: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(folder / "corpus.sqlite")
    try:
        return conn.execute("SELECT id, first_seed, last_seed, hits, findings, seeds, signatures, repro "
                            "FROM causes ORDER BY id").fetchall()
    finally:
        conn.close()


def test_merging_is_order_free_and_a_seed_merges_once(tmp_path: Path) -> None:
    s1 = [_finding("expr.abs.text.value", ["SELECT abs('xyz')"], _real(1.0), _real(2.0), hits=3)]
    s2 = [_finding("expr.abs.text.value", ["SELECT abs('x')"], _real(1.0), _real(2.0), hits=2),
          _finding("expr.hex.real.value", ["SELECT hex(1.5)"], _real(1.0), _real(2.0))]
    for name, order in (("a", [(1, s1), (2, s2)]), ("b", [(2, s2), (1, s1)])):
        corpus = Corpus.open(tmp_path / name)
        for seed, fs in order:
            _merge(corpus, seed, [finding_of(finding_record(f)) for f in fs])
        _merge(corpus, 1, s1)  # already merged: nothing changes
        corpus.close()
    assert _table(tmp_path / "a") == _table(tmp_path / "b")
    corpus = Corpus.open(tmp_path / "a")
    row = corpus.causes()["turso:expr.abs.text.value"]
    assert (row.first_seed, row.last_seed, row.hits, row.seeds) == (1, 2, 5, 2)
    assert row.repro["statements"][0]["sql"] == "SELECT abs('x')"
    assert row.status == OPEN
    assert corpus.done_seeds("fp") == {1, 2}


def test_a_corpus_of_a_newer_schema_is_refused_naming_the_fix(tmp_path: Path) -> None:
    Corpus.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "corpus.sqlite")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(CorpusError, match=r"newer than this harness reads.*pip install -U"):
        Corpus.open(tmp_path)


def test_a_folder_that_cannot_hold_the_corpus_is_refused(tmp_path: Path) -> None:
    (tmp_path / "corpus.sqlite").mkdir()
    with pytest.raises(CorpusError, match="choose another --campaign folder"):
        Corpus.open(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(CorpusError, match="writable --campaign folder"):
        Corpus.open(tmp_path / "file" / "sub")


def test_a_campaign_folder_that_cannot_be_made_is_refused_even_for_root(tmp_path: Path) -> None:
    # a parent that is a regular file: no privilege lets mkdir through it (unlike chmod, which root ignores)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CorpusError, match=rf"cannot be created: {blocker} is a file.*writable --campaign"):
        Corpus.open(blocker / "campaign" / "c1")
    with pytest.raises(CorpusError, match=rf"campaign folder {blocker} is a file, not a folder"):
        Corpus.open(blocker)
    assert blocker.read_text() == "x"


def test_the_cli_refuses_an_unwritable_campaign_folder_before_any_work(
        tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr(campaign, "connect", lambda *a, **k: started.append(a))  # a cluster = work begun
    (tmp_path / "file").write_text("x")
    code = cli.main(["hunt", "--campaign", str(tmp_path / "file" / "c1"), "--seeds", "1", "--cases", "10",
                     "--no-stdlib-lane"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'file'} is a file" in err
    assert "choose a writable --campaign folder" in err
    assert not started, "a cluster was started for a campaign whose folder cannot be written"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders: the check cannot fail; "
                    "test_a_campaign_folder_that_cannot_be_made_is_refused_even_for_root covers root")
def test_a_read_only_campaign_folder_is_refused(tmp_path: Path) -> None:
    Corpus.open(tmp_path).close()
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(CorpusError, match="read-only: make it writable"):
            Corpus.open(tmp_path)
    finally:
        tmp_path.chmod(0o755)


def test_the_cli_refuses_a_newer_corpus_before_any_work(tmp_path: Path, capsys: Any) -> None:
    Corpus.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "corpus.sqlite")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    assert cli.main(["hunt", "--campaign", str(tmp_path), "--seeds", "1", "--cases", "10",
                     "--no-stdlib-lane"]) == 2
    err = capsys.readouterr().err
    assert "schema version 99" in err
    assert "upgrade" in err


def test_campaign_options_without_a_campaign_are_usage_errors(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        cli.parse_args(["--seeds", "3"])
    assert "add --campaign DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.parse_args(["--campaign", "x", "--budget", "3"])


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    with pytest.raises(CampaignError, match=r"cannot reach the Dask scheduler.*dask scheduler"), \
            connect(1, "tcp://127.0.0.1:9", 1.0):
        pass


class _FakeClient:
    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers

    def run(self, fn: Any, *args: Any) -> dict[str, dict[str, Any]]:
        return self.answers


def test_workers_that_cannot_run_the_hunt_are_refused_naming_the_fix() -> None:
    spec = SeedSpec(10, ("sqlean", "turso"), "sqlean", ("expr",))
    good = {"daemon": False, "record_version": 1, "versions": VERSIONS}
    with pytest.raises(CampaignError, match="DASK_DISTRIBUTED__WORKER__DAEMON=False"):
        check_workers(_FakeClient({"a": good, "b": {**good, "daemon": True}}), spec)  # type: ignore[arg-type]
    other = {**good, "versions": {**VERSIONS, "turso": "pyturso 0.7.0"}}
    with pytest.raises(CampaignError, match="different engine versions"):
        check_workers(_FakeClient({"a": good, "b": other}), spec)  # type: ignore[arg-type]
    assert check_workers(_FakeClient({"a": good}), spec) == VERSIONS  # type: ignore[arg-type]


# --- ratchet and export (engines in this process) -----------------------------------------------------

def test_a_cause_that_stops_reproducing_is_fixed_and_new_causes_export_once(tmp_path: Path) -> None:
    spec = SeedSpec(0, ("sqlean", "turso"), "sqlean", ("expr",), isolate=False)
    real = _finding("expr.printf.blob.value", ["SELECT format(x'00')"], {"rows": [[["null", "NULL"]]]},
                    {"rows": [[["text", "\x00"]]]})
    gone = _finding("expr.abs.integer.value", ["SELECT abs(-1)"], _real(1.0), _real(2.0))
    corpus = Corpus.open(tmp_path)
    _merge(corpus, 0, [real, gone])
    rows = corpus.causes()
    answers = recheck(spec, {cid: row.repro for cid, row in rows.items()})
    assert answers == {"turso:expr.printf.blob.value": "turso:expr.printf.blob.value",
                       "turso:expr.abs.integer.value": None}
    fixed, moved = corpus.mark_checked(answers, "new versions")
    assert fixed == ["turso:expr.abs.integer.value"]
    assert not moved
    assert corpus.causes()["turso:expr.abs.integer.value"].status == FIXED
    done = export_new(corpus, engines=(engine("sqlean"), engine("turso")))
    assert [cid for cid, _ in done] == ["turso:expr.printf.blob.value"]  # the fixed one is not exported
    path = Path(done[0][1])
    assert path.name == "differential-turso-expr-printf-blob-value.sqltest"
    text = path.read_text()
    assert "test differential-turso-expr-printf-blob-value {\n    SELECT format(x'00');\n}" in text
    assert export_new(corpus) == []  # once
    _merge(corpus, 1, [gone])  # seen again: open again
    assert corpus.causes()["turso:expr.abs.integer.value"].status == OPEN
    corpus.close()


def test_a_seed_gives_the_same_result_in_and_out_of_a_kept_runner() -> None:
    spec = SeedSpec(120, ("sqlean", "turso"), "sqlean", ("expr", "agg"), max_shrinks=5, isolate=False)
    first = run_seed(3, spec)
    run_seed(4, spec)  # the kept runner has run another seed meanwhile
    again = run_seed(3, spec)
    assert json.dumps(first["findings"], sort_keys=True) == json.dumps(again["findings"], sort_keys=True)
    assert first["cases"] == 120
