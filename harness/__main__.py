"""Command line: `python -m stc_harness <command> ...` (bench, render, merge, matrix, hunt, and more)."""

from __future__ import annotations

import importlib
import sys

#: Subcommand -> module whose `main(argv) -> int` runs it.
COMMANDS = {
    "bench": ("stc_harness.bench", "time the harness against the raw drivers"),
    "bench-report": ("stc_harness.report.bench", "time and peak memory of writing a 50,000-result report"),
    "screenshot": ("stc_harness.report.screenshot", "the HTML report's first screen as a PNG"),
    "render": ("stc_harness.report.cli", "render a JSON report to Markdown and HTML"),
    "merge": ("stc_harness.report.cli", "merge several JSON reports into one"),
    "matrix": ("stc_harness.report.matrix", "render a version matrix from several JSON reports"),
    "hunt": ("stc_harness.differential.cli", "hunt for undocumented differences (differential testing)"),
    "registry-attribution": ("stc_harness.registry_attribution",
                             "propose each registry entry's attribution from a report's measurements"),
    "hunt-bench-campaign": ("stc_harness.differential.campaign_bench",
                            "measure how a hunt campaign scales (direct, 1 and 2 Dask workers)"),
    "hunt-export": ("stc_harness.differential.sqltest", "export saved findings as Turso .sqltest cases"),
    "dropin": ("stc_harness.dropin.command", "run any test command on SQLite and Turso; explain what breaks"),
    "bench-dropin": ("stc_harness.dropin.bench", "time the drop-in: tracing, failing suites, explaining"),
    "dropin-grade": ("stc_harness.dropin.grading", "sample Turso-only failures to grade; re-grade a sample"),
    "evidence": ("stc_harness.dropin.evidence", "trace the suites' driver calls for the drop-in"),
    "compat-update": ("stc_harness.compat.cli", "rebuild the Turso compatibility table from COMPAT.md"),
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand; `--help` lists them."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in COMMANDS and args[0] not in ("-h", "--help"):
        print(f"python -m stc_harness: unknown command {args[0]!r}; choose one of {', '.join(COMMANDS)}",
              file=sys.stderr)
        return 2
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m stc_harness {" + ",".join(COMMANDS) + "} ...")
        for name, (_, doc) in COMMANDS.items():
            print(f"  {name:<21} {doc}")
        return 0 if args and args[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[args[0]][0])
    return int(module.main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
