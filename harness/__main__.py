"""Command line: `python -m harness {bench,render,merge,matrix,hunt} ...`."""

from __future__ import annotations

import importlib
import sys

#: Subcommand -> module whose `main(argv) -> int` runs it.
COMMANDS = {
    "bench": ("harness.bench", "time the harness against the raw drivers"),
    "bench-report": ("harness.report.bench", "time and peak memory of writing a 50,000-result report"),
    "render": ("harness.report.cli", "render a JSON report to Markdown and HTML"),
    "merge": ("harness.report.cli", "merge several JSON reports into one"),
    "matrix": ("harness.report.matrix", "render a version matrix from several JSON reports"),
    "hunt": ("harness.differential.cli", "hunt for undocumented differences (differential testing)"),
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand; `--help` lists them."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help") or args[0] not in COMMANDS:
        print("usage: python -m harness {" + ",".join(COMMANDS) + "} ...")
        for name, (_, doc) in COMMANDS.items():
            print(f"  {name:<8} {doc}")
        return 0 if args and args[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[args[0]][0])
    return int(module.main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
