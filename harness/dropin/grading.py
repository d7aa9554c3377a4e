"""`python -m stc_harness dropin-grade`: a hand-graded sample of Turso-only failures, kept as data.

    dropin-grade sample OUT --report NAME=dropin.json ... [--n 120] [--seed 0]
        draw a random sample of Turso-only failures from drop-in reports, ready to grade by hand
    dropin-grade refresh FILE --report NAME=dropin.json ...
        take the current explanation into lines whose explanation changed, and clear their grade
    dropin-grade check FILE --report NAME=dropin.json ...
        re-grade: each graded line against the current reports (a changed explanation is `stale`),
        then the shares of right and wrong first causes; exit 1 below 90 % right or above 1 % wrong

A line is one failure: `suite`, `nodeid`, what the drop-in said (`first`: the first divergent call,
`cause`, `confidence`), and the grader's `grade` (`right`, `wrong`, `unsure`) with a `note` saying why.
A "no known cause" is right when its divergent call is the real first difference.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stc_harness.dropin.align import divergence_text
from stc_harness.dropin.section import TURSO_ONLY, cause_text

GRADES = ("right", "wrong", "unsure")
#: The targets the sample must meet.
MIN_RIGHT, MAX_WRONG = 0.90, 0.01


def _reports(values: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for value in values:
        name, _, path = value.partition("=")
        if not path:
            raise SystemExit(
                f"dropin-grade: --report {value!r}: write NAME=PATH, e.g. sqlite-utils=dropin.json"
            )
        out[name] = {
            r["nodeid"]: r
            for r in json.loads(Path(path).read_text(encoding="utf-8"))["dropin"]["tests"]
            if r["category"] == TURSO_ONLY
        }
    return out


def failure_text(row: dict[str, Any]) -> str:
    """The Turso failure of a report row, as a graded line shows it."""
    return f"{row['turso'].get('exc_type', '')}: {str(row['turso'].get('message', ''))[:300]}"


def said(row: dict[str, Any]) -> dict[str, str]:
    """What the drop-in said about one failure: its first divergent call, its cause and confidence."""
    ev = row.get("evidence") or {}
    index = ev.get("cause")
    first = divergence_text(ev["divergences"][index]) if index is not None else ""
    return {"first": first, "cause": cause_text(row), "confidence": str(row.get("confidence", ""))}


_CAUSE_REF = re.compile(r"^([a-z ]+: [^ (]+)")
_CALL_HEAD = re.compile(r"^(.*?\)) at (?:\S*/)?(\S+)")
_KIND_TAIL = re.compile(r"(\[[\w-]+\])$")
#: What a cause says the run met behind a wall (a name made inert): graded too, so part of the substance.
_BEHIND = re.compile(r"Behind that wall .*? at (\S+) (\[[\w-]+\]): ([a-z ]+: [^ (]+)")


def substance(line: dict[str, str]) -> tuple[str, ...]:
    """What a grade judged: the confidence, the cause's entry or check, the call with its place and kind.

    The wording around them (a title cut at another length, a value's escapes) can change without the
    explanation changing; a grade then still holds."""
    cause, first = line.get("cause", ""), line.get("first", "")
    ref, head, kind = _CAUSE_REF.match(cause), _CALL_HEAD.match(first), _KIND_TAIL.search(first)
    where = f"{head.group(1)} at {head.group(2)}" if head else first  # the file's name: runs' folders differ
    behind = _BEHIND.search(cause)
    return (line.get("confidence", ""), ref.group(1) if ref else cause, where, kind.group(1) if kind else "",
            " ".join(behind.groups()) if behind else "")


def sample(out: Path, reports: dict[str, dict[str, Any]], n: int, seed: int,
           exclude: Iterable[Path] = ()) -> int:
    """Write `n` failures drawn at random (seeded) across the reports, with what the drop-in said; failures
    already in an `exclude` sample (one the explanations were tuned on) are not drawn again."""
    taken = {(line["suite"], line["nodeid"]) for path in exclude
             for line in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if line}
    pool = sorted((suite, nodeid) for suite, rows in reports.items() for nodeid in rows
                  if (suite, nodeid) not in taken)
    chosen = random.Random(seed).sample(pool, min(n, len(pool)))
    with out.open("w", encoding="utf-8") as fh:
        for suite, nodeid in chosen:
            row = reports[suite][nodeid]
            fh.write(
                json.dumps(
                    {
                        "suite": suite,
                        "nodeid": nodeid,
                        **said(row),
                        "exception": failure_text(row),
                        "grade": None,
                        "note": "",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    print(f"dropin-grade: {len(chosen)} of {len(pool)} Turso-only failures -> {out}")
    return 0


def check(path: Path, reports: dict[str, dict[str, Any]]) -> int:
    """Re-grade a graded sample against the current reports; print the shares; 1 if a target is missed."""
    lines = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    counts: Counter[str] = Counter()
    for line in lines:
        row = reports.get(line["suite"], {}).get(line["nodeid"])
        if row is None:
            counts["gone"] += 1
        elif {k: line[k] for k in ("first", "cause", "confidence")} != said(row):
            counts["stale"] += 1
        elif line.get("grade") in GRADES:
            counts[line["grade"]] += 1
            counts["no known cause with its call shown"] += line["confidence"] == "no known cause" and bool(
                line["first"]
            )
            counts["no known cause"] += line["confidence"] == "no known cause"
        else:
            counts["ungraded"] += 1
    graded = sum(counts[g] for g in GRADES)
    right, wrong = counts["right"] / max(graded, 1), counts["wrong"] / max(graded, 1)
    print(
        f"dropin-grade: {len(lines)} lines, {graded} graded and current: right {counts['right']} "
        f"({right:.1%}), wrong {counts['wrong']} ({wrong:.1%}), unsure {counts['unsure']}; "
        f"stale {counts['stale']}, gone {counts['gone']}, ungraded {counts['ungraded']}; "
        f"no known cause {counts['no known cause']}, of them with the divergent call shown "
        f"{counts['no known cause with its call shown']}"
    )
    ok = graded > 0 and right >= MIN_RIGHT and wrong <= MAX_WRONG and not counts["stale"]
    if not ok:
        print(
            f"dropin-grade: below target (right >= {MIN_RIGHT:.0%}, wrong <= {MAX_WRONG:.0%}, nothing stale)",
            file=sys.stderr,
        )
    return 0 if ok else 1


def refresh(path: Path, reports: dict[str, dict[str, Any]]) -> int:
    """Take the current explanation into every stale line and clear its grade (it must be graded again)."""
    lines = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    stale = reworded = 0
    for line in lines:
        row = reports.get(line["suite"], {}).get(line["nodeid"])
        if row is not None and {k: line[k] for k in ("first", "cause", "confidence")} != said(row):
            if substance(line) == substance(said(row)) and line.get("grade") is not None:
                line.update(said(row))  # re-worded only: the same call, place, kind and cause
                reworded += 1
                continue
            # the failure too: a test whose failure varies between runs is graded on the run explained
            line.update(said(row), exception=failure_text(row), grade=None,
                        note=f"(was {line.get('grade')}: {line.get('note', '')})")
            stale += 1
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    print(f"dropin-grade: {stale} stale lines refreshed (grade cleared), {reworded} re-worded lines kept "
          f"their grade, in {path}")
    return 0


def main(argv: Iterable[str]) -> int:
    """Dispatch `sample` or `check`."""
    parser = argparse.ArgumentParser(
        prog="python -m stc_harness dropin-grade", description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", choices=("sample", "check", "refresh"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--report", action="append", default=[], metavar="NAME=PATH", required=True)
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exclude", action="append", type=Path, default=[], metavar="SAMPLE",
                        help="sample: do not draw failures already in this graded sample")
    args = parser.parse_args(list(argv)[1:])
    reports = _reports(args.report)
    if args.action == "sample":
        return sample(args.file, reports, args.n, args.seed, args.exclude)
    if args.action == "refresh":
        return refresh(args.file, reports)
    return check(args.file, reports)
