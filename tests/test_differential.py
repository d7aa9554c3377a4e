"""Tests of the differential hunt: normalisation, comparison, generation, shrinking, isolation, output."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from stc_harness.adapters.protocol import Result
from stc_harness.differences import load_registry, parse_entry
from stc_harness.differential import cli
from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.compare import disagreement, first_disagreement
from stc_harness.differential.engines import Engine, engine
from stc_harness.differential.expand import Expander
from stc_harness.differential.findings import Finding, check_id, match, registry_entry, write_registry
from stc_harness.differential.generators import AGGREGATES, FUNCTIONS, plans
from stc_harness.differential.normalise import Outcome, ok, typed_rows
from stc_harness.differential.replay import load_cases, outcomes_of, replay
from stc_harness.differential.runner import DifferentialRunner
from stc_harness.differential.shrink import shrink
from stc_harness.differential.signature import signature
from stc_harness.differential.sqlast import binary, call, lit
from stc_harness.differential.toml_out import registry_text
from stc_harness.differential.values import BLOBS, INTEGERS, REALS, TEXTS, value_lit
from stc_harness.differential.wire import unpack
from stc_harness.differential.worker import ProcessExecutor
from stc_harness.errors import DatabaseError, ErrorKind, RawError

ROOT = Path(__file__).resolve().parent.parent


# --- engines used only here ---------------------------------------------------------------------------

def _sqlite_classify(exc: BaseException) -> DatabaseError:
    from stc_backends.sqlite import classify

    return classify(exc, "sqlite")


def mutant_engine() -> Engine:
    """SQLite whose upper() lower-cases and whose hex() fails: a backend with known differences."""
    def open_() -> Any:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.create_function("upper", 1, lambda v: v.lower() if isinstance(v, str) else v)

        def broken_hex(v: Any) -> str:
            raise ValueError("no hex today")

        conn.create_function("hex", 1, broken_hex)
        return conn

    return Engine("mutant", "sqlite3", sqlite3.sqlite_version, open_, _sqlite_classify)


class _Trap:
    """A sqlite3 connection that aborts the process or hangs on marked statements."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)

    def execute(self, sql: str) -> Any:
        if "'ABORT_ME'" in sql:
            os.abort()
        if "'HANG_ME'" in sql:
            time.sleep(600)
        return self.conn.execute(sql)

    def close(self) -> None:
        self.conn.close()


def trap_engine() -> Engine:
    """An engine that kills its process on 'ABORT_ME' and hangs on 'HANG_ME'."""
    return Engine("trap", "sqlite3", sqlite3.sqlite_version, _Trap, _sqlite_classify)


def expr_case(sql_expr: Any) -> Case:
    return Case("expr", (Stmt("SELECT {0}", (sql_expr,), "expr"),))


def sql_case(*sqls: str, stateful: bool = True) -> Case:
    return Case("dml", tuple(Stmt(s, (), "stmt") for s in sqls), stateful=stateful)


# --- normalisation and comparison ---------------------------------------------------------------------

def test_rows_compare_as_multisets_unless_ordered() -> None:
    assert typed_rows([(2,), (1,)], ordered=False) == typed_rows([(1,), (2,)], ordered=False)
    assert typed_rows([(2,), (1,)], ordered=True) != typed_rows([(1,), (2,)], ordered=True)


def test_storage_classes_never_compare_equal() -> None:
    values = [ok([(v,)], -1, False, False).obs for v in (1, 1.0, "1", b"1", None)]
    assert len({json.dumps(v) for v in values}) == 5


@pytest.mark.parametrize("value", [
    0, -1, 2**63 - 1, -(2**63), True, False, 0.0, -0.0, 1.5, -2.5e-310, 1e308, float("inf"),
    float("-inf"), float("nan"), "", "é", b"", b"\x00\xff", bytearray(b"ab"), None,
])
def test_typed_values_are_sql_value(value: Any) -> None:
    from stc_harness.observe import sql_value

    assert typed_rows([(value,)], ordered=True) == [[sql_value(value)]]
    assert repr(typed_rows([(value,)], ordered=True)) == repr([[sql_value(value)]])


def _err(kind: ErrorKind) -> Outcome:
    return Outcome({"error": kind.value}, "raw")


@pytest.mark.parametrize(("ref", "other", "kind"), [
    (ok([(1,)], -1, False, False), ok([(1,)], -1, False, False), None),
    (_err(ErrorKind.SYNTAX), Outcome({"error": "SYNTAX"}, "another message"), None),
    (ok([(1,)], -1, False, False), ok([(2,)], -1, False, False), "value"),
    (ok([(1,)], -1, False, False), ok([(1.0,)], -1, False, False), "class"),
    (ok([(1,)], -1, False, False), ok([(1,), (1,)], -1, False, False), "rows"),
    (ok([], 1, False, True), ok([], -1, False, True), "rowcount"),
    (_err(ErrorKind.SYNTAX), ok([(1,)], -1, False, False), "only-reference-fails"),
    (ok([(1,)], -1, False, False), _err(ErrorKind.SYNTAX), "only-other-fails"),
    (_err(ErrorKind.SYNTAX), _err(ErrorKind.UNSUPPORTED), "error-kind"),
    (ok([(1,)], -1, False, False), _err(ErrorKind.PANIC), "panic"),
    (ok([(1,)], -1, False, False), Outcome({"error": "CRASH"}), "crash"),
])
def test_disagreement_kinds(ref: Outcome, other: Outcome, kind: str | None) -> None:
    assert disagreement(ref, other) == kind


def test_first_disagreement_names_the_statement() -> None:
    same = ok([(1,)], -1, False, False)
    assert first_disagreement([same, same], [same, ok([(3,)], -1, False, False)]) == (1, "value")
    assert first_disagreement([same], [same]) is None


# --- the engines' statement paths ---------------------------------------------------------------------

#: Statements run in order on one fresh database: results, row counts, and every kind of failure.
ENGINE_SCRIPT = [
    "", ";", "  ", "-- a comment only", "SELECT 1; SELECT 2", "SELECT 1;", "SELECT 1 -- trailing",
    "SELECT 'é' ; SELECT 2", "SELECT 1 2", "SELEC 1", "SELECT * FROM nope",
    "CREATE TABLE t(a INTEGER PRIMARY KEY, b NOT NULL UNIQUE, c CHECK (c > 0))",
    "INSERT INTO t VALUES (1, 'x', 1)", "INSERT INTO t VALUES (1, 'y', 1)",
    "INSERT INTO t VALUES (2, NULL, 1)", "INSERT INTO t VALUES (4, 'z', -1)",
    "INSERT INTO t VALUES (5, 'w', 2) RETURNING *", "UPDATE t SET c = c + 1 RETURNING a, c",
    "DELETE FROM t WHERE a > 100", "REPLACE INTO t VALUES (1, 'q', 3)",
    "SELECT * FROM t ORDER BY a", "BEGIN", "BEGIN", "COMMIT", "ROLLBACK", "DROP TABLE t", "SELECT * FROM t",
    "SELECT x'ff', 1e999, -0.0, 9223372036854775807, NULL, 'a' || x'80'", "SELECT abs(-9223372036854775808)",
    "SELECT json('[1,')", "VALUES (1), (2), (1)",
]


def _run_script(conn: Any, execute: Any, classify: Any) -> list[Any]:
    out: list[Any] = []
    for sql in ENGINE_SCRIPT:
        try:
            rows, rowcount = execute(conn, sql)
            out.append((list(rows), rowcount))
        except Exception as exc:  # noqa: BLE001 - the failure is the result
            err = classify(exc)
            out.append((type(exc).__module__, type(exc).__qualname__, str(exc), err.raw.variant, err.kind))
    return out


@pytest.mark.parametrize("name", ["sqlite", "turso"])
def test_the_hunt_runs_statements_exactly_as_the_dbapi_does(name: str) -> None:
    from stc_harness.differential import turso_raw
    from stc_harness.differential.engines import dbapi_execute

    eng = engine(name)
    if name == "sqlite" or turso_raw.mirrors(eng.version):  # a faster path than a cursor per statement
        assert eng.execute is not dbapi_execute
    assert not turso_raw.mirrors("0.7.2")
    fast, dbapi = eng.open(), eng.open()
    try:
        assert _run_script(fast, eng.execute, eng.classify) == _run_script(dbapi, dbapi_execute, eng.classify)
    finally:
        fast.close()
        dbapi.close()


# --- literals, templates and expansion ----------------------------------------------------------------

def test_literals_read_back_exactly() -> None:
    conn = sqlite3.connect(":memory:")
    for value in [*INTEGERS, *REALS, *TEXTS, *BLOBS, None]:
        got = conn.execute(f"SELECT {value_lit(value).render()}").fetchone()[0]
        assert type(got) is type(value), value
        assert got == value, value


def test_expressions_render_with_explicit_parentheses() -> None:
    e = binary("+", call("abs", lit("-1", "integer")), lit("2.5", "real"))
    assert e.render() == "(abs(-1) + 2.5)"
    assert e.head() == "add"
    assert e.kids[0].head() == "abs"
    assert e.put((0, 0), lit("3", "integer")).render() == "(abs(3) + 2.5)"


def _concretes(seed: int, examples: int) -> list[Any]:
    out: list[Any] = []
    expander = Expander()

    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(plans(sorted(FUNCTIONS), sorted(AGGREGATES)))
    def gen(plan: Any) -> None:
        out.extend(expander.expand_plan(plan, random.Random(f"{seed}:{len(out)}")))

    gen()
    return out


def test_fast_sql_is_the_materialised_tree_rendered() -> None:
    cases = _concretes(7, 6)
    assert {c.category for c in cases} >= {"expr", "agg"}
    for c in cases[:: max(1, len(cases) // 300)]:
        assert c.script() == c.materialise().script()


class _OtherRandom(random.Random):
    """A Random subclass: the expander falls back to `pick` and `rng.choice` for it."""


def test_inlined_draws_are_the_draws_pick_makes() -> None:
    plans_seen: list[Any] = []

    @hypothesis_seed(3)
    @settings(max_examples=5, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(plans(sorted(FUNCTIONS), sorted(AGGREGATES)))
    def gen(plan: Any) -> None:
        plans_seen.append(plan)

    gen()
    fast, generic = Expander(), Expander()
    for n, plan in enumerate(plans_seen):
        inlined = fast.expand_plan(plan, random.Random(f"3:{n}"))
        picked = generic.expand_plan(plan, _OtherRandom(f"3:{n}"))
        assert [c.script() for c in inlined] == [c.script() for c in picked]
        assert [c.wire for c in inlined] == [c.wire for c in picked]


def test_generation_is_deterministic_per_seed() -> None:
    first = [c.script() for c in _concretes(11, 4)]
    assert first == [c.script() for c in _concretes(11, 4)]
    assert first != [c.script() for c in _concretes(12, 4)]


# --- shrinking ----------------------------------------------------------------------------------------

def test_shrink_keeps_only_what_reproduces() -> None:
    culprit = call("printf", lit("'%.3f'", "text"), lit("1.0005", "real"))
    big = expr_case(binary("||", call("upper", culprit), call("length", lit("'abcdef'", "text"))))

    def reproduces(cases: Any) -> list[bool]:
        return ["printf('%.3f'" in c.script() for c in cases]

    small, rounds = shrink(big, reproduces)
    assert small.script() == "SELECT printf('%.3f');"
    assert rounds > 1


def test_shrink_drops_statements_that_do_not_matter() -> None:
    case = sql_case("CREATE TABLE a(x)", "CREATE TABLE t(x)", "INSERT INTO t VALUES (1)", "SELECT x FROM t")
    small, _ = shrink(case, lambda cases: ["INSERT" in c.script() and "t(x)" in c.script() for c in cases])
    assert small.sqls() == ["CREATE TABLE t(x)", "INSERT INTO t VALUES (1)"]


def test_shrink_drops_values_rows_and_column_constraints() -> None:
    values = (lit("1", "integer"), lit("2", "integer"))
    rows = Stmt("INSERT INTO t(c0) VALUES ({0}), ({1}) RETURNING *", values, "insert")
    table = Stmt("CREATE TABLE t(c0 INTEGER PRIMARY KEY DESC)", (), "create-table")
    case = Case("dml", (table, rows), stateful=True)

    def reproduces(cases: Any) -> list[bool]:
        return ["CREATE" in c.script() and "(2) RETURNING" in c.script() for c in cases]

    small, _ = shrink(case, reproduces)
    assert small.sqls() == ["CREATE TABLE t(c0)", "INSERT INTO t(c0) VALUES (2) RETURNING *"]


# --- the runner ---------------------------------------------------------------------------------------

@pytest.fixture
def mutant_runner() -> Any:
    runner = DifferentialRunner([engine("sqlite"), mutant_engine()], "sqlite", isolate=False)
    yield runner
    runner.close()


def test_runner_finds_the_difference_and_agrees_on_shared_errors(mutant_runner: DifferentialRunner) -> None:
    cases = [expr_case(call("upper", lit("'a'", "text"))), expr_case(call("hex", lit("1", "integer"))),
             sql_case("SELECT * FROM missing"), expr_case(call("lower", lit("'A'", "text")))]
    found = mutant_runner.run_and_compare(cases)
    assert [(d.case, d.kind) for d in found] == [(cases[0], "value"), (cases[1], "only-other-fails")]
    assert mutant_runner.stats.statements == 4


def test_packed_comparison_finds_what_the_full_comparison_finds(mutant_runner: DifferentialRunner) -> None:
    cases = [expr_case(call("upper", lit("'a'", "text"))), expr_case(call("hex", lit("1", "integer"))),
             sql_case("SELECT * FROM missing"), expr_case(call("lower", lit("'A'", "text"))),
             sql_case("CREATE TABLE t(x)", "INSERT INTO t VALUES ('b')", "SELECT upper(x) FROM t")]
    full = mutant_runner.disagreements(cases, mutant_runner.run(cases))
    packed = mutant_runner.disagreements_packed(cases, mutant_runner.wait_packed(mutant_runner.submit(cases)))
    assert [(d.case, d.index, d.kind, d.outcomes) for d in packed] == \
        [(d.case, d.index, d.kind, d.outcomes) for d in full]
    assert [d.kind for d in full] == ["value", "only-other-fails", "value"]


def test_signature_names_the_culprit_classes_and_kind(mutant_runner: DifferentialRunner) -> None:
    inner = call("upper", call("trim", lit("' a '", "text")))
    nested = expr_case(call("replace", inner, lit("'Z'", "text"), lit("'z'", "text")))
    [dis] = mutant_runner.run_and_compare([nested])
    assert signature(mutant_runner, dis) == "expr.replace.text_text_text.value"
    from stc_harness.differential.shrink import shrink_disagreement

    small, _, stable = shrink_disagreement(mutant_runner, dis)
    assert stable
    assert small.case.script() == "SELECT upper('a');"
    assert signature(mutant_runner, small) == "expr.upper.text.value"


@pytest.fixture
def trap_executor() -> Any:
    ex = ProcessExecutor("trap", timeout=2.0, spec="test_differential:trap_engine")
    yield ex
    ex.close()


def test_an_abort_becomes_a_crash_outcome_and_the_batch_goes_on(trap_executor: ProcessExecutor) -> None:
    cases = [expr_case(lit("1", "integer")),
             sql_case("CREATE TABLE t(x)", "SELECT 'ABORT_ME'", "SELECT 3"),
             expr_case(lit("2", "integer"))]
    out = trap_executor.run(cases)
    assert [o.obs for o in out[0]] == [{"rows": [[["integer", 1]]]}]
    assert [o.obs for o in out[1]] == [{"rows": []}, {"error": "CRASH"}, {"error": "NOT_RUN"}]
    assert "SIGABRT" in out[1][1].message
    assert [o.obs for o in out[2]] == [{"rows": [[["integer", 2]]]}]
    assert trap_executor.restarts == 1


def test_batches_queued_behind_a_crash_still_run(trap_executor: ProcessExecutor) -> None:
    from stc_harness.differential.wire import WireBatch

    trap_executor.warm()
    trap_executor.yield_cpu()
    batches = [[expr_case(lit("1", "integer"))],
               [expr_case(lit("'ABORT_ME'", "text")), expr_case(lit("2", "integer"))],
               [expr_case(lit("3", "integer"))], [sql_case("CREATE TABLE t(x)", "SELECT count(*) FROM t")]]
    for batch in batches:
        trap_executor.send(WireBatch(batch))  # all queued on the worker before any answer is read
    out = [[[o.obs for o in unpack(case)] for case in trap_executor.receive()] for _ in batches]
    assert out == [[[{"rows": [[["integer", 1]]]}]],
                   [[{"error": "CRASH"}], [{"rows": [[["integer", 2]]]}]],
                   [[{"rows": [[["integer", 3]]]}]],
                   [[{"rows": []}, {"rows": [[["integer", 0]]]}]]]
    assert trap_executor.restarts == 1
    if hasattr(os, "getpriority"):  # the replacement worker runs at the lowered priority too
        worker = trap_executor._proc.pid
        # the kernel caps niceness at 19: under `nice -n 10 make test` the worker is at 19, not 20
        assert os.getpriority(os.PRIO_PROCESS, worker) == min(os.getpriority(os.PRIO_PROCESS, 0) + 10, 19)


def test_a_hang_becomes_a_hang_outcome(trap_executor: ProcessExecutor) -> None:
    from stc_harness.differential.wire import WireBatch

    trap_executor.send(WireBatch([expr_case(lit("'HANG_ME'", "text")), expr_case(lit("5", "integer"))]))
    trap_executor.send(WireBatch([expr_case(lit("6", "integer"))]))  # queued behind the hang
    out = [unpack(case) for case in trap_executor.receive()]
    assert out[0][0].obs == {"error": "HANG"}
    assert out[1][0].obs == {"rows": [[["integer", 5]]]}
    assert [o.obs for o in unpack(trap_executor.receive()[0])] == [{"rows": [[["integer", 6]]]}]


# --- findings, the registry and regression cases ------------------------------------------------------

def test_toml_reads_back_every_observation_exactly() -> None:
    obs = [{"rows": [[["text", 'q"\\\n\t\x01\x7f é 😀'], ["real", 1e20], ["real", 5e-324],
                      ["integer", -(2**63)], ["real", "float:-0.0"], ["null", "NULL"]]], "rowcount": 3},
           {"error": "SYNTAX"}]
    entry = {"id": "discovery.x", "check": "discovery.replay[x]", "title": "t",
             "source": {"document": "d", "section": "x"}, "reason": "r", "expect": {"turso": obs},
             "impact": "silent-data-change", "attribution": "turso"}
    registry_text("# header", [entry])  # raises unless it reads back to the same entry


def _finding(sig: str) -> Finding:
    case = expr_case(call("upper", lit("'a'", "text")))
    outs = {"sqlite": [ok([("A",)], -1, False, False)], "turso": [ok([("a",)], -1, False, False)]}
    return Finding(sig, "turso", "sqlite", "value", case, 0, outs)


def test_a_saved_case_becomes_a_valid_registry_entry(tmp_path: Path) -> None:
    from stc_harness.differential.findings import case_record, save_case

    f = _finding("expr.upper.text.value")
    observed = {b: [o.obs for o in v] for b, v in f.outcomes.items()}
    save_case(case_record(f, observed, {}, {"document": "pyturso 0.8.3 measured (differential discovery)"}),
              tmp_path / "cases")
    write_registry(load_cases(tmp_path / "cases"), tmp_path / "reg" / "discovery.toml")
    registry = load_registry(tmp_path / "reg")
    entry = registry.for_check(check_id(f.signature))
    assert entry is not None
    assert entry.expect == {"turso": observed["turso"]}
    assert entry.source.section == f.signature
    assert match(registry, f.signature) is entry
    assert match(registry, "expr.lower.text.value") is None
    parse_entry(registry_entry(load_cases(tmp_path / "cases")[f.signature], "doc"), "x.toml")


@pytest.mark.asyncio
async def test_replay_normalises_a_harness_batch() -> None:
    class Conn:
        async def batch(self, statements: list[str]) -> list[Any]:
            raw = RawError("x.Error", "no such table: t")
            return [Result([(2,), (1,)], ("x",), -1), DatabaseError(ErrorKind.NO_SUCH_TABLE, raw, "x"),
                    Result([], (), 2)]

    case = {"statements": [{"sql": "SELECT 1"}, {"sql": "SELECT * FROM t"},
                           {"sql": "DELETE FROM u", "counted": True}]}
    obs, messages = await replay(Conn(), case)
    assert obs == [{"rows": [[["integer", 1]], [["integer", 2]]]}, {"error": "NO_SUCH_TABLE"},
                   {"rows": [], "rowcount": 2}]
    assert messages == {"1": "x.Error: no such table: t"}
    assert outcomes_of([Result([(1,)], (), -1)], [{"ordered": True}])[0].obs == {"rows": [[["integer", 1]]]}


def test_every_saved_case_has_its_registry_entry() -> None:
    cases = load_cases(ROOT / "suites" / "discovery_cases")
    registry = load_registry(ROOT / "suites" / "differences")
    for sig, case in cases.items():
        entry = registry.for_check(check_id(sig))
        if case.get("tracked_only"):  # no replay check can tell Turso from the stdlib SQLite here
            assert entry is None
            continue
        assert entry is not None, f"{sig}: run `python -m stc_harness hunt --cases 0 --save` to register it"
        assert entry.expect == {case["backend"]: case["observed"][case["backend"]]}
        assert entry.attribution == case.get("attribution", "turso")
        assert entry.impact is not None


# --- the command line ---------------------------------------------------------------------------------

def test_hunt_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["hunt", "--backend", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err


def test_same_seed_same_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for n in range(2):
        out = tmp_path / f"run{n}.json"
        cli.main(["hunt", "--seed", "5", "--cases", "1500", "--max-shrinks", "8", "--json", str(out)])
        runs.append(json.loads(out.read_text()))
    text = capsys.readouterr().out
    assert "statements/s compared" in text
    assert "load average" in text
    assert runs[0]["cases"] == 1500
    keys = [[(f["signature"], f["statements"]) for f in r["findings"]] for r in runs]
    assert keys[0]
    assert keys[0] == keys[1]


def test_hunt_draws_ignore_the_literals_of_loaded_modules():
    """A seed names one case stream whatever modules are loaded: hypothesis's local constants are off."""
    from hypothesis.internal.conjecture import providers

    from stc_harness.differential.hunt import _no_local_constants

    original = providers._get_local_constants
    assert len(original()) > 0  # the project's own modules are "local" here
    with _no_local_constants():
        assert len(providers._get_local_constants()) == 0
    assert providers._get_local_constants is original
