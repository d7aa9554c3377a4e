"""`python -m stc_harness hunt-export --sqltest DIR`: saved findings as Turso `.sqltest` regression tests.

The format is that of Turso's own conformance corpus (`testing/sqltest/docs/dsl-spec.md` in
tursodatabase/turso): `@database :memory:`, then per finding `test <name> { <sql>; ... }` and
`expect [unordered|error] { <rows> }`, rows as `|`-separated values the way the sqltest runner renders
them (NULL empty, reals as SQLite's `%!.15g`, blobs as lossy UTF-8). The expected output is what the
SQLite release Turso tracks (sqlean.py 3.50.4) returns, so each test fails on Turso until it behaves
like that SQLite. Cases labelled SQLite version gaps are skipped (Turso already behaves like it).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stc_harness.differential.engines import Engine, engine, tracked_engine
from stc_harness.differential.replay import default_cases_dir, load_cases
from stc_harness.errors import UsageError
from stc_harness.outcomes import VERSION_GAP
from stc_harness.safety.output_paths import check_folder

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def format_real(f: float) -> str:
    """A REAL as the sqltest runner prints it (SQLite's `%!.15g`, `x.0` for whole numbers)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Inf" if f > 0 else "-Inf"
    if f != 0.0 and not 1e-4 <= abs(f) < 1e15:
        mantissa, exponent = f"{f:.14e}".split("e")
        mantissa = mantissa.rstrip("0")
        mantissa = mantissa + "0" if mantissa.endswith(".") else mantissa
        return f"{mantissa}e{int(exponent):+d}"
    if f == int(f):
        return f"{int(f)}.0"
    digits = max(0, 15 - (math.floor(math.log10(abs(f))) + 1 if abs(f) >= 1 else 0))
    text = f"{f:.{digits}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def render(value: Any) -> str:
    """One value as the sqltest runner renders it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return format_real(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def run_sql(eng: Engine, sqls: Sequence[str]) -> tuple[list[str], str | None, int]:
    """Run the statements on a fresh database: the rendered rows, the first error (if any) and where."""
    conn = eng.open()
    lines: list[str] = []
    try:
        for i, sql in enumerate(sqls):
            try:
                cur = conn.execute(sql)
                rows = cur.fetchall() if cur.description else []
            except Exception as exc:  # noqa: BLE001 - any driver error is the expected outcome
                return lines, f"{type(exc).__name__}: {exc}", i
            lines += ["|".join(render(v) for v in row) for row in rows]
    finally:
        conn.close()
    return lines, None, -1


def sqltest_name(signature: str) -> str:
    """A valid sqltest name for a signature (`expr.substr.real_real.value` -> `differential-expr-...`)."""
    return "differential-" + re.sub(r"[^A-Za-z0-9_-]+", "-", signature).strip("-")


def export_case(case: dict[str, Any], tracked: Engine, turso: Engine | None) -> tuple[str, str]:
    """One case as a `test ... expect ...` block, or ("", why) when it cannot be exported."""
    if case.get("attribution") == VERSION_GAP:
        return "", "a SQLite version gap: Turso already behaves like the SQLite it tracks"
    sqls = [s["sql"] for s in case["statements"][: case["index"] + 1]]
    lines, error, at = run_sql(tracked, sqls)
    if error is not None and at != len(sqls) - 1:
        return "", f"the tracked SQLite fails on set-up statement {at + 1} ({error})"
    ordered = bool(case["statements"][case["index"]].get("ordered"))
    means = case.get("kind_means", case["kind"])
    head = [f"# found by differential discovery: {case['signature']} ({means})",
            f"# expected output: SQLite {tracked.version} (the release Turso tracks)"]
    if turso is not None and case["kind"] not in ("crash", "hang"):
        theirs, their_error, _ = run_sql(turso, sqls)
        if (their_error is None) == (error is None) and theirs == lines:
            head.append("# note: this format cannot show the difference (a storage class, the last digits, "
                        "a row count or an error kind)")
    body = "\n".join(f"    {sql};" for sql in sqls)
    if error is not None:
        expect = "expect error {\n}"
    else:
        modifier = " unordered" if not ordered and len(lines) > 1 else ""
        expect = f"expect{modifier} {{\n" + "".join(f"    {line}\n" for line in lines) + "}"
    return "\n".join(head) + f"\ntest {sqltest_name(case['signature'])} {{\n{body}\n}}\n{expect}\n", ""


def export(cases: dict[str, dict[str, Any]], folder: Path,
           with_turso: bool = True) -> tuple[list[Path], dict[str, str]]:
    """Write one `differential-<family>.sqltest` per case family; the files, and the cases skipped (why)."""
    tracked = tracked_engine()
    turso = engine("turso") if with_turso else None
    blocks: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    for sig, case in sorted(cases.items()):
        block, why = export_case(case, tracked, turso)
        if why:
            skipped[sig] = why
        else:
            blocks.setdefault(sig.split(".")[0], []).append(block)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for family, tests in sorted(blocks.items()):
        path = folder / f"differential-{family}.sqltest"
        path.write_text("@database :memory:\n\n" + "\n".join(tests), encoding="utf-8")
        written.append(path)
    return written, skipped


def main(argv: list[str]) -> int:
    """Entry point: `argv[0]` is "hunt-export"."""
    p = argparse.ArgumentParser(prog="python -m stc_harness hunt-export",
                                description="Export saved differential findings as Turso .sqltest tests.")
    p.add_argument("--sqltest", required=True, metavar="DIR", help="folder to write the .sqltest files to")
    p.add_argument("--cases-dir", default=None, metavar="DIR",
                   help="saved regression cases (default suites/discovery_cases, or outside the repository "
                        "the ones that ship with the package)")
    args = p.parse_args(argv[1:])
    args.cases_dir = args.cases_dir or str(default_cases_dir())
    try:
        cases = load_cases(Path(args.cases_dir))
        if not cases:
            raise UsageError(f"no saved cases in {args.cases_dir}: "
                             "run `python -m stc_harness hunt --save` first")
        check_folder(Path(args.sqltest), "--sqltest")
        written, skipped = export(cases, Path(args.sqltest))
    except OSError as exc:  # the folder went away or filled up while writing
        print(f"hunt-export: cannot write into {args.sqltest} ({exc.strerror or exc}); "
              "choose a folder you can write to", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"hunt-export: {exc}", file=sys.stderr)
        return 2
    for sig, why in skipped.items():
        print(f"skipped {sig}: {why}")
    tests = len(cases) - len(skipped)
    print(f"hunt-export: {tests} tests in {len(written)} files under {args.sqltest} ({len(skipped)} skipped)")
    return 0
