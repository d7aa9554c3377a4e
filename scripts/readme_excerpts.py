"""Refresh the README's excerpts from the files this checkout produced (report, matrix, bench output).

Usage: python scripts/readme_excerpts.py [BENCH_OUTPUT_FILE]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def section(md: str, start: str, stop_prefix: str) -> str:
    """The lines of `md` from the one starting with `start` up to the next one starting with `stop_prefix`."""
    lines = md.splitlines()
    begin = next(i for i, line in enumerate(lines) if line.startswith(start))
    end = next((i for i in range(begin + 1, len(lines)) if lines[i].startswith(stop_prefix)), len(lines))
    return "\n".join(lines[begin:end]).strip()


def what_will_change(md: str) -> str:
    """The head of "What will change for your application": its table with the first row of each group."""
    lines = section(md, "## What will change for your application", "## ").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| whose |"))
    seen: set[tuple[str, str]] = set()
    rows = []
    for line in lines[header + 2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 2 and (cells[0], cells[1]) not in seen:
            seen.add((cells[0], cells[1]))
            rows.append(line)
    total = len(lines) - header - 2
    return "\n".join([*lines[:header], lines[header], lines[header + 1], *rows, "",
                      f"(the first row of each group shown here; the report lists all {total})"])


def report_excerpt() -> str:
    """What will change, the summary, a few check rows, and one difference section of compatibility.md."""
    md = (ROOT / "reports" / "compatibility.md").read_text(encoding="utf-8")
    summary = what_will_change(md) + "\n\n" + section(md, "## Summary", "### Per area")
    table = md.splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("| check | title |"))
    wanted = ("`pooling.memory_pool_shares_across_slots`", "`mvcc.conflict_surfaces_at[update_interleaved]`",
              "`mvcc.state_after_conflict[at_write]`", "`errors.dbapi_class[syntax_error]`",
              "`types.roundtrip[uuid_v4]`", "`transactions.second_immediate_fails_at_begin`")
    rows = [line for line in table if any(line.startswith(f"| {w} ") for w in wanted)]
    diff = section(md, "### `pooling.memory_pool_shares_across_slots`", "### ")
    return "\n".join([summary, "", "## Checks (a few rows)", "", table[header], table[header + 1], *rows,
                      "", "## Differences (one of them)", "", diff])


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


def replace(text: str, name: str, body: str, fence: str = "") -> str:
    """Put `body` between the `<!-- name:start -->` and `<!-- name:end -->` markers."""
    block = f"```{fence}\n{body}\n```" if fence else demote(body)
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README has no {name} markers")
    return pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(2), text)


def main() -> int:
    """Rewrite the three excerpts in place."""
    text = README.read_text(encoding="utf-8")
    text = replace(text, "report-excerpt", report_excerpt())
    text = replace(text, "matrix-excerpt", matrix_excerpt())
    if len(sys.argv) > 1:
        text = replace(text, "bench", Path(sys.argv[1]).read_text(encoding="utf-8").strip(), fence="text")
    README.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
