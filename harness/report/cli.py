"""`python -m stc_harness render|merge`: render a JSON report, or merge several into one and render it."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from stc_harness.report.build import LABEL_MODES, SCHEMA_VERSION, comparable, merge_reports
from stc_harness.report.schema import ReportError, load_report, refuse_dropin
from stc_harness.report.write import STEM, write_all, write_renderings

#: Exit status for a usage problem (bad arguments, unreadable or foreign report file).
USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stc_harness", description=f"Compatibility reports (schema_version {SCHEMA_VERSION}).")
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="render a JSON report to Markdown and HTML",
                            description="Write <name>.md and <name>.html next to the JSON report "
                                        "(or into --out).")
    render.add_argument("report", type=Path, help="a compatibility.json written by a run")
    render.add_argument("--out", type=Path, default=None, metavar="DIR", help="folder for the rendered files")
    merge = sub.add_parser("merge", help="merge several JSON reports into one",
                           description="Merge reports from different machines, backends or versions into "
                                       f"one; writes {STEM}.json, .md and .html into --out.")
    merge.add_argument("reports", type=Path, nargs="+", help="JSON reports to merge")
    merge.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the merged files")
    merge.add_argument("--label-from", choices=LABEL_MODES[1:], default=None,
                       help="label every backend by its driver version (backend: turso@0.8.3), "
                            "Python version (python: turso/py3.12) or file name (file: turso/<stem>); "
                            "default: keep ids, and label only colliding ones as id@version/pyX.Y")
    settle = sub.add_parser("settle", help="move a new report over the tracked one only if it says more",
                            description="Replace the report files in TRACKED by those in NEW only when the "
                                        "reports differ in more than times and durations (no churn in "
                                        "version control); NEW is removed either way.")
    settle.add_argument("new", type=Path, help="folder of the report a run just wrote")
    settle.add_argument("tracked", type=Path, help="folder of the tracked report (e.g. reports)")
    settle.add_argument("--stem", default=STEM, help=f"file name stem (default {STEM})")
    return parser


def settle(new: Path, tracked: Path, stem: str = STEM) -> list[Path]:
    """Move the report in `new` over the one in `tracked` if they differ beyond volatile fields; returns
    the files moved (none when the tracked report already says the same)."""
    fresh = load_report(new / f"{stem}.json")
    old = tracked / f"{stem}.json"
    same = old.exists() and comparable(load_report(old)) == comparable(fresh)
    moved: list[Path] = []
    if not same:
        details = new / f"{stem}-details"
        target_details = tracked / details.name
        if details.is_dir():
            shutil.rmtree(target_details, ignore_errors=True)
            shutil.move(str(details), str(target_details))
            moved.append(target_details)
        for path in sorted(new.glob(f"{stem}.*")):
            os.replace(path, tracked / path.name)
            moved.append(tracked / path.name)
    shutil.rmtree(new, ignore_errors=True)
    return moved


def render(path: Path, out: Path | None) -> list[Path]:
    """Render one report file; returns the written paths."""
    doc = load_report(path)
    return write_renderings(doc, out or path.parent, path.stem)


def merge(paths: list[Path], out: Path, label_from: str | None) -> list[Path]:
    """Merge report files into one and write it with its renderings; returns the written paths."""
    seen: dict[Path, Path] = {}
    for p in paths:
        first = seen.setdefault(p.resolve(), p)
        if first is not p:
            raise ReportError(f"{p} is given twice (as {first} and {p}): merging it twice would count "
                              "every result twice; name each report once")
    docs = [(str(p), refuse_dropin(load_report(p), str(p), "merge")) for p in paths]
    return write_all(merge_reports(docs, label_from or "auto"), out)


def main(argv: list[str] | None = None) -> int:
    """Run `render` or `merge` (argv[0] is the subcommand); 0 on success, 2 on a usage problem."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "render":
            written = render(args.report, args.out)
        elif args.command == "settle":
            written = settle(args.new, args.tracked, args.stem)
            if not written:
                print(f"{args.tracked}: the report is unchanged (only times and durations differ); kept")
        else:
            written = merge(args.reports, args.out, args.label_from)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    except OSError as exc:
        print(f"error: cannot write {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return USAGE
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
