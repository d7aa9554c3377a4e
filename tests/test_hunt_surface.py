"""Tests of the wider hunt: the query grammar, attribution against the tracked SQLite, causes and ulps,
and the `.sqltest` export."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from stc_harness.differential.case import Case, Stmt
from stc_harness.differential.causes import TURSO_OWN, VERSION_GAP, attribution, cause, ulps
from stc_harness.differential.engines import engine, run_cases
from stc_harness.differential.expand import Expander
from stc_harness.differential.grammar import FAMILIES, query_cases
from stc_harness.differential.sqltest import export, format_real, render, sqltest_name

pytest.importorskip("sqlean")


def _one(sql: str) -> Case:
    return Case("expr", (Stmt(sql, (), "expr"),))


def _outcomes(sql: str) -> dict[str, Any]:
    return {name: run_cases(engine(name), [_one(sql)])[0] for name in ("sqlite", "sqlean", "turso")}


def test_a_gap_the_tracked_sqlite_shares_is_a_version_gap() -> None:
    # concat() exists since SQLite 3.44: the stdlib 3.40 fails, SQLite 3.50.4 and Turso agree
    outcomes = _outcomes("SELECT concat('a', 1)")
    if outcomes["sqlite"] == outcomes["sqlean"]:
        pytest.skip("the stdlib SQLite has concat(): no version gap to show on this Python")
    assert attribution("turso", "sqlite", outcomes) == VERSION_GAP
    assert attribution("turso", "sqlean", outcomes) == TURSO_OWN  # against the tracked one: Turso's own
    assert attribution("sqlite", "sqlean", outcomes) == VERSION_GAP


def test_a_difference_the_tracked_sqlite_does_not_share_is_turso_own() -> None:
    outcomes = _outcomes("SELECT acosh(1.7976931348623157e+308)")  # Turso: inf; SQLite: 710.47...
    assert outcomes["turso"] != outcomes["sqlean"]
    assert attribution("turso", "sqlite", outcomes) == TURSO_OWN
    assert attribution("turso", "sqlite", {k: v for k, v in outcomes.items() if k != "sqlean"}) == "unknown"


def _real(*values: float) -> dict[str, Any]:
    return {"rows": [[["real", v] for v in values]]}


def test_ulps_measures_only_last_digit_real_differences() -> None:
    a = 0.1 + 0.2
    assert ulps(_real(a, 1.0), _real(0.3, 1.0)) == pytest.approx(1.0)
    assert ulps(_real(1.0), _real(1.0)) is None
    assert ulps(_real(1.0), {"rows": [[["text", "1.0"]]]}) is None
    assert ulps(_real(1.0), {"error": "SYNTAX"}) is None


def test_cause_groups_aliases_ulps_and_messages() -> None:
    assert cause("expr.substr.real_real.value", "value", _real(1.5), _real(2.5), "", "") == \
        cause("expr.substring.text_real.value", "value", _real(1.5), _real(3.5), "", "")
    assert cause("agg.total.real.value", "value", _real(0.30000000000000004), _real(0.3), "", "") \
        .startswith("ulp")
    one = cause("expr.json_set.a.only-other-fails", "only-other-fails", _real(1.0), {"error": "X"}, "",
                "turso.lib.DatabaseError: bad JSON path: '$['")
    two = cause("expr.json_replace.b.only-other-fails", "only-other-fails", _real(2.0), {"error": "X"}, "",
                "turso.lib.DatabaseError: bad JSON path: '$.a['")
    assert one == two


def test_negative_zero_is_one_cause() -> None:
    ref = {"rows": [[["integer", 1], ["real", 0.0]]]}
    other = {"rows": [[["integer", 1], ["real", "float:-0.0"]]]}
    assert cause("query.join_cross_join.none.value", "value", ref, other, "", "") == \
        cause("query.group_min.none.value", "value", ref, other, "", "")
    assert cause("query.x.none.value", "value", ref, other, "", "").startswith("negative zero")


def _query_templates(n: int, seed: int) -> list[Case]:
    out: list[Case] = []

    @hypothesis_seed(seed)
    @settings(max_examples=n, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(query_cases())
    def draw(case: Case) -> None:
        out.append(case)

    draw()
    return out


def test_the_query_grammar_reaches_every_family_and_is_valid_sql() -> None:
    templates = _query_templates(300, 7)
    reached = {fam for t in templates for fam in t.tag.split("+")}
    assert reached == set(FAMILIES)
    expander, rng = Expander(), random.Random(7)
    cases = [c for t in templates[:60] for c in expander.expand(t, rng, [])[:1]]
    outcomes = run_cases(engine("sqlean"), cases)
    syntax = [(c.script(), o) for c, out in zip(cases, outcomes, strict=True) for o in out
              if o.error == "SYNTAX"]
    assert not syntax, syntax[:2]


@pytest.mark.parametrize(("value", "text"), [
    (3.15, "3.15"), (1.0, "1.0"), (-2.5, "-2.5"), (0.0, "0.0"), (1e20, "1.0e+20"), (1.5e-5, "1.5e-5"),
    (float("inf"), "Inf"), (0.1 + 0.2, "0.3"), (123456.789, "123456.789")])
def test_reals_render_as_the_sqltest_runner_does(value: float, text: str) -> None:
    assert format_real(value) == text


def test_values_render_as_cli_list_mode() -> None:
    assert [render(v) for v in (None, 1, "a", b"hi", True)] == ["", "1", "a", "hi", "1"]


_BLOCK = re.compile(r"test (\S+) \{\n(.*?)\n\}\nexpect( unordered| error)? \{\n(.*?)\}\n", re.S)


def parse_sqltest(text: str) -> list[tuple[str, list[str], str, list[str]]]:
    """A minimal reader of the `.sqltest` structure the export writes (a test of the test)."""
    assert text.startswith("@database :memory:\n")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#")) + "\n"
    tests = [(m.group(1), [s.strip() for s in m.group(2).splitlines()], (m.group(3) or "").strip(),
              [r.strip() for r in m.group(4).splitlines()]) for m in _BLOCK.finditer(body)]
    assert len(tests) == body.count("\ntest "), "every test block must parse"
    return tests


def _case(sig: str, sqls: list[str], kind: str = "value", **extra: Any) -> dict[str, Any]:
    return {"signature": sig, "kind": kind, "index": len(sqls) - 1, "backend": "turso", "reference": "sqlean",
            "statements": [{"sql": s, "ordered": False} for s in sqls], "observed": {}, **extra}


def test_export_writes_parseable_tests_with_the_tracked_sqlite_output(tmp_path: Path) -> None:
    cases = {
        "expr.acosh.real.value": _case("expr.acosh.real.value", ["SELECT acosh(1.7976931348623157e+308)"]),
        "dml.x.none.rows": _case("dml.x.none.rows", ["CREATE TABLE t(a)", "INSERT INTO t VALUES (1), (2)",
                                                     "SELECT a FROM t"], "rows"),
        "expr.bad.none.only-reference-fails": _case("expr.bad.none.only-reference-fails",
                                                    ["SELECT no_such_fn()"], "only-reference-fails"),
        "expr.gap.none.value": _case("expr.gap.none.value", ["SELECT 1"], attribution="sqlite-version"),
    }
    files, skipped = export(cases, tmp_path)
    assert list(skipped) == ["expr.gap.none.value"]
    tests = {name: rest for f in files for name, *rest in parse_sqltest(f.read_text(encoding="utf-8"))}
    assert tests[sqltest_name("expr.acosh.real.value")] == [["SELECT acosh(1.7976931348623157e+308);"], "",
                                                         ["710.475860073944"]]
    assert tests[sqltest_name("dml.x.none.rows")][1:] == ["unordered", ["1", "2"]]
    assert tests[sqltest_name("expr.bad.none.only-reference-fails")][1:] == ["error", []]
    assert all(re.match(r"^[A-Za-z][A-Za-z0-9_-]*$", name) for name in tests)


def test_the_saved_cases_export(tmp_path: Path) -> None:
    from stc_harness.differential.replay import load_cases

    cases = load_cases(Path(__file__).resolve().parent.parent / "suites" / "discovery_cases")
    files, skipped = export(cases, tmp_path, with_turso=False)
    parsed = [t for f in files for t in parse_sqltest(f.read_text(encoding="utf-8"))]
    assert len(parsed) + len(skipped) == len(cases)
    assert all(why for why in skipped.values())


def test_budget_means_seconds_and_cases_mean_a_replayable_count() -> None:
    from stc_harness.differential import cli

    cases, cap, _, shrink = cli.sizes(cli.parse_args(["--budget", "60"]))
    assert (cases, cap, shrink) == (cli.UNLIMITED, pytest.approx(36.0), pytest.approx(24.0))
    cases, _, _, shrink = cli.sizes(cli.parse_args([]))
    assert (cases, shrink) == (cli.DEFAULT_CASES, None)
    cases, _, _, shrink = cli.sizes(cli.parse_args(["--budget", "60", "--cases", "500"]))
    assert (cases, shrink) == (500, None)
