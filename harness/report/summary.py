"""`compatibility.md`: the summary a code forge can show, the decision first, at most MD_SUMMARY_BYTES.

The decision (verdict per layer, differences by impact x layer, the worst items), then what will change
for the application (every registry entry a backend hits, grouped by whose and by impact, worst first,
each linked to its check in the details folder), the counts, the extra sections' first rows and the run's
metadata. The per-check detail is `stc_harness.report.markdown` (a folder of files by area).
"""

from __future__ import annotations

from collections.abc import Iterator

from stc_harness.outcomes import ATTRIBUTION_LABELS, ATTRIBUTION_ORDER, IMPACT_LABELS
from stc_harness.report.decision import (
    IMPACT_MEANING,
    STATUS_MARK,
    BackendDecision,
    Decision,
    Worst,
    chart_rows,
    decide,
)
from stc_harness.report.markdown import (
    about,
    anchor,
    area_file,
    details_dir,
    interrupted_text,
    md_code,
    md_text,
    sections_md,
    shown_in_full,
)
from stc_harness.report.view import View

#: The summary's size limit (bytes): beyond it lists end with a pointer (a forge renders up to ~500 KB).
MD_SUMMARY_BYTES = 280_000
#: Bytes kept for the blank lines and pointers the lists add when they stop (never counted line by line).
MARGIN = 4096
#: Rows of each extra section the summary shows (all of them are in the details folder and the HTML).
MD_SUMMARY_SECTION_ROWS = 10
#: Rows of each section of a drop-in report (those sections are its content).
MD_DROPIN_SECTION_ROWS = 300


def _size(line: str) -> int:
    """Bytes a line takes in the file, its newline included (a surrogate counts as the bytes of one)."""
    return len(line.encode("utf-8", "surrogatepass")) + 1


class Budget:
    """Bytes left for the summary's lists (the metadata at its end is reserved first)."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, lines: Iterator[str]) -> Iterator[str]:
        """`lines`, each counted whatever the budget (the parts the summary always has)."""
        for line in lines:
            self.left -= _size(line)
            yield line

    def take(self, line: str) -> bool:
        """Count `line` if it fits; False when the budget is spent."""
        size = _size(line)
        if size > self.left:
            return False
        self.left -= size
        return True


def _link(item: Worst, folder: str, full: frozenset[str]) -> str:
    """A link to the item's first check: its difference in full, else its area's file."""
    where = f"#{anchor(item.check)}" if item.check in full else ""
    return f"[{md_text(item.title)}]({folder}/{area_file(item.area)}{where})"


def _decision(d: BackendDecision, folder: str, level: str, full: frozenset[str]) -> Iterator[str]:
    yield f"**{STATUS_MARK[d.status]} {d.status}**: {md_text(d.headline)}"
    yield ""
    yield from (f"- {STATUS_MARK[x.status]} {md_text(x.text)}" for x in d.layers)
    yield ""
    yield "| impact | " + " | ".join(d.layer_names) + " | total | what it means |"
    yield "|---|" + "---:|" * (len(d.layer_names) + 1) + "---|"
    for impact, parts, total in chart_rows(d):
        counts = " | ".join(str(n) for _, n in parts)
        yield f"| {IMPACT_LABELS[impact]} | {counts} | **{total}** | {md_text(IMPACT_MEANING[impact])} |"
    yield ""
    if d.worst:
        yield f"{level} The {len(d.worst)} worst differences"
        yield ""
        for n, item in enumerate(d.worst, 1):
            yield f"{n}. {_link(item, folder, full)}: {md_text(item.line)}"
        yield ""


def _stop(folder: str) -> str:
    return (f"(The list stops here to keep this file small: the details folder `{folder}/` and the HTML "
            "report have every difference.)")


def _what_will_change(decision: Decision, folder: str, budget: Budget, full: frozenset[str]) -> Iterator[str]:
    yield "## What will change for your application"
    yield ""
    yield ("Every difference from the reference, one line per registry entry (or per check no entry "
           "describes): Turso's own first, then the SQLite version gaps (the SQLite release Turso tracks "
           "does the same: a newer SQLite brings them too); within each, worst impact first. Each links to "
           "its first check in the details.")
    yield ""
    several = len(decision.backends) > 1
    for d in decision.backends:
        if several:
            yield f"### {md_text(d.backend)}"
            yield ""
        groups: dict[tuple[str, str], list[Worst]] = {}
        for item in sorted(d.groups, key=lambda w: (ATTRIBUTION_ORDER.index(w.whose), w.rank)):
            groups.setdefault((ATTRIBUTION_LABELS[item.whose], item.impact), []).append(item)
        if not groups:
            yield "Nothing: no check differs."
            yield ""
        for (whose, impact), items in groups.items():
            n = sum(i.count for i in items)
            head = (f"{'####' if several else '###'} {whose}: {IMPACT_LABELS[impact]} "
                    f"({n} check{'s' if n != 1 else ''})")
            if not budget.take(head):
                yield _stop(folder)
                return
            yield from (head, "")
            for item in items:
                layers = ", ".join(sorted(item.layers))
                line = (f"- {_link(item, folder, full)} ({md_code(item.key)}, {item.count} "
                        f"check{'s' if item.count != 1 else ''}, {layers})")
                if not budget.take(line):
                    yield from ("", _stop(folder))
                    return
                yield line
            yield ""


def _counts(v: View, folder: str, budget: Budget) -> Iterator[str]:
    yield from ("## Summary", "", "| backend | " + " | ".join(v.outcomes) + " | total |",
                "|---|" + "---:|" * (len(v.outcomes) + 1))
    for b in v.backend_ids:
        counts = v.totals[b]
        cells = " | ".join(str(counts[o]) for o in v.outcomes)
        yield f"| {md_text(b)} | {cells} | {sum(counts.values())} |"
    splits = v.splits
    if any(up or meas for _, up, meas in splits):
        yield ""
        yield ("Where the documented differences are documented: "
               + "; ".join(f"{md_text(b)}: {up} in a source document or upstream reference, {meas} only in "
                           "this project's registry (measured; no document states them)"
                           for b, up, meas in splits if up or meas) + ".")
    yield from ("", "### Per area", "", f"Each area links to its checks in detail (`{folder}/`).", "",
                "| area | backend | " + " | ".join(v.outcomes) + " |",
                "|---|---|" + "---:|" * len(v.outcomes))
    for area, b, counts in v.area_rows:
        line = (f"| [{md_text(area)}]({folder}/{area_file(area)}) | {md_text(b)} | "
                + " | ".join(str(counts[o]) for o in v.outcomes) + " |")
        if not budget.take(line):
            yield ""
            yield f"(More areas in `{folder}/README.md`.)"
            return
        yield line
    yield ""


def _sections(v: View, folder: str, budget: Budget, rows: int) -> Iterator[str]:
    for sec in v.sections:
        if sec.get("lead") and not v.is_dropin:
            continue  # "what will change" is the summary's own list above
        lines = list(sections_md([sec], rows))
        if sum(_size(x) for x in lines) > budget.left:
            yield from ("", f"## {md_text(sec['title'] or sec['id'])}", "",
                        f"In the HTML report and in `{folder}/sections.md` (too large for this summary).")
            continue
        for line in lines:
            budget.take(line)
        if len(sec["rows"]) > rows:
            lines[-1] = (f"{len(sec['rows']) - rows} more rows (of {len(sec['rows'])}) are in "
                         f"`{folder}/sections.md`, the HTML report and the JSON report (`sections`, id "
                         f"{md_code(sec['id'])}).")
        yield from lines
    yield ""


def _title(v: View, decision: Decision, stem: str, folder: str) -> Iterator[str]:
    primary = decision.primary if v.rows else None
    if v.is_dropin:
        yield f"# Drop-in report: your tests on {md_text(' and '.join(v.backend_ids))}"
    elif primary:
        yield f"# Moving from {md_text(decision.reference)} to {md_text(primary.backend)}: what changes"
    else:
        yield "# Compatibility report"
    yield ""
    if v.interrupted:
        yield f"> **{interrupted_text(*v.interrupted)}** (this report is partial)"
        yield ""
    if v.rows:
        yield (f"The decision first. Every check in detail: [`{folder}/`]({folder}/README.md) (one file per "
               f"area); everything, filterable: `{stem}.html`; the data: `{stem}.json`.")
        yield ""


def _decisions(decision: Decision, folder: str, full: frozenset[str]) -> Iterator[str]:
    yield "## The decision"
    yield ""
    for n, d in enumerate(decision.backends):
        if n:
            yield f"### {md_text(d.backend)}"
            yield ""
        yield from _decision(d, folder, "####" if n else "###", full)


def summary_lines(v: View, stem: str = "compatibility") -> Iterator[str]:
    """The summary Markdown, line by line (without line ends)."""
    folder = details_dir(stem)
    decision = decide(v)
    tail = ["## About this run", "", *about(v)]
    budget = Budget(MD_SUMMARY_BYTES - sum(_size(x) for x in tail) - MARGIN)
    primary = decision.primary if v.rows else None
    yield from budget.spend(_title(v, decision, stem, folder))
    if v.is_dropin:
        yield from _sections(v, folder, budget, MD_DROPIN_SECTION_ROWS)
    if primary:
        full = shown_in_full(v)
        yield from budget.spend(_decisions(decision, folder, full))
        yield from _what_will_change(decision, folder, budget, full)
        yield from _counts(v, folder, budget)
    if not v.is_dropin:
        yield from _sections(v, folder, budget, MD_SUMMARY_SECTION_ROWS)
    yield from tail
