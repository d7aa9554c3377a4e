"""Refresh the README's and the docs' excerpts from the files this checkout produced (report, matrix, bench).

Usage: python scripts/readme_excerpts.py [BENCH_OUTPUT_FILE]

Each excerpt sits between `<!-- name:start -->` and `<!-- name:end -->` in one file (`TARGETS`):
the README shows the decision and the summary; docs/report.md the longer report excerpt; docs/matrix.md
the matrix; docs/performance.md the output of `make bench` (only when its file is given).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: Which file holds which excerpt.
TARGETS = {"report-decision": README, "report-excerpt": DOCS / "report.md",
           "matrix-excerpt": DOCS / "matrix.md", "bench": DOCS / "performance.md"}


def section(md: str, start: str, stop_prefix: str | tuple[str, ...]) -> str:
    """The lines of `md` from the one starting with `start` up to the next one starting with `stop_prefix`."""
    lines = md.splitlines()
    begin = next(i for i, line in enumerate(lines) if line.startswith(start))
    end = next((i for i in range(begin + 1, len(lines)) if lines[i].startswith(stop_prefix)), len(lines))
    return "\n".join(lines[begin:end]).strip()


def what_will_change(md: str, per_group: int = 1) -> str:
    """The head of "What will change for your application": each group's heading and first lines."""
    lines = section(md, "## What will change for your application", "## ").splitlines()
    out: list[str] = []
    shown = total = 0
    for line in lines:
        if line.startswith("### "):
            shown = 0
            out += ["", line, ""]
        elif line.startswith("- "):
            total += 1
            shown += 1
            if shown <= per_group:
                out.append(line)
        elif not out:
            out.append(line)
    out += ["", f"(the first line of each group shown here; the report lists all {total})"]
    return "\n".join(x for i, x in enumerate(out) if x or (i and out[i - 1]))


def report_md() -> str:
    """The checkout's compatibility.md."""
    return (ROOT / "reports" / "compatibility.md").read_text(encoding="utf-8")


def report_decision() -> str:
    """The first backend's decision (verdicts, impact table, worst differences) and the outcome summary."""
    md = report_md()
    decision = section(md, "## The decision", "### ")  # stops at the first other backend, if any
    worst = section(md, "### The 5 worst differences", ("### ", "## "))
    summary = section(md, "## Summary", "### Per area")
    return "\n".join([decision, "", worst, "", summary])


def report_excerpt() -> str:
    """The decision and what will change (heads) from compatibility.md, one difference from the details."""
    md = report_md()
    decision = section(md, "## The decision", "## ")
    parts = [decision, "", what_will_change(md), "", section(md, "## Summary", "### Per area")]
    pooling = ROOT / "reports" / "compatibility-details" / "area-pooling.md"
    if pooling.is_file():
        detail = pooling.read_text(encoding="utf-8")
        one = section(detail, "### `pooling.memory_pool_shares_across_slots`", "### ").splitlines()
        while one and (not one[-1] or one[-1].startswith("<a id=")):
            one.pop()  # the next difference's anchor
        parts += ["", "## One difference in full (from the details folder)", "", *one]
    return "\n".join(parts)


def relink(md: str, target: Path) -> str:
    """The report's links (relative to reports/) made relative to the file the excerpt goes into."""
    up = "../" * len(target.parent.relative_to(ROOT).parts)
    return md.replace("](compatibility-details/", f"]({up}reports/compatibility-details/")


def matrix_excerpt() -> str:
    """The column table and the first 'what changed' section of reports/matrix/matrix.md."""
    path = ROOT / "reports" / "matrix" / "matrix.md"
    if not path.is_file():
        return "(run `make matrix`)"
    md = path.read_text(encoding="utf-8")
    head = section(md, "| column |", "## ")
    changed = section(md, "## What changed in pyturso 0.8.3", "## ")
    return "\n".join([head, "", changed])


def demote(md: str) -> str:
    """Headings two levels down, so an excerpt nests under the README's own sections."""
    return re.sub(r"^(#{2,4}) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", md, flags=re.M)


def replace(name: str, body: str, fence: str = "") -> None:
    """Put `body` between the `<!-- name:start -->` and `<!-- name:end -->` markers of its target file."""
    target = TARGETS[name]
    text = target.read_text(encoding="utf-8")
    block = f"```{fence}\n{body}\n```" if fence else demote(relink(body, target))
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{target.relative_to(ROOT)} has no {name} markers")
    target.write_text(pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(2), text), encoding="utf-8")


def main() -> int:
    """Rewrite the excerpts in place (the bench one only when its output file is given)."""
    replace("report-decision", report_decision())
    replace("report-excerpt", report_excerpt())
    replace("matrix-excerpt", matrix_excerpt())
    if len(sys.argv) > 1:
        replace("bench", Path(sys.argv[1]).read_text(encoding="utf-8").strip(), fence="text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
