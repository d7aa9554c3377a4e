"""Findings grouped into causes (`causes.CauseKey`), each with its smallest reproduction.

Used by the hunt's output and by campaigns, so a run lists a few distinct causes instead of every
signature. The smallest repro is chosen by a total order (statements, script length, script text), so
the same findings always give the same repro, in whatever order they arrive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from stc_harness.differential.causes import CauseKey
from stc_harness.differential.findings import Finding
from stc_harness.outcomes import DOCUMENTED, VERSION_GAP


def repro_size(statements: Sequence[str]) -> tuple[int, int, str]:
    """The order on reproductions: fewer statements, then a shorter script, then the script text."""
    script = ";\n".join(statements)
    return len(statements), len(script), script


def finding_size(f: Finding) -> tuple[int, int, str]:
    """`repro_size` of a finding's minimal case, up to its disagreeing statement."""
    return repro_size(f.case.sqls()[: f.index + 1])


@dataclass
class CauseGroup:
    """One cause: its key, every finding filed under it, and the smallest of them (`repro`)."""

    key: CauseKey
    findings: list[Finding] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The cause id (`CauseKey.id`)."""
        return self.key.id

    @property
    def repro(self) -> Finding:
        """The finding with the smallest reproduction."""
        return min(self.findings, key=lambda f: (finding_size(f), f.signature))

    @property
    def hits(self) -> int:
        """Raw disagreements behind the cause's findings."""
        return sum(f.hits for f in self.findings)

    @property
    def documented(self) -> bool:
        """Whether the registry (or a saved tracked-only case) documents every finding of the cause."""
        return all(f.status == DOCUMENTED for f in self.findings)

    @property
    def version_gap(self) -> bool:
        """Whether the cause is a SQLite version gap (an older SQLite differs), not Turso's own."""
        return all(f.attribution == VERSION_GAP for f in self.findings)

    @property
    def signatures(self) -> list[str]:
        """The signatures of its findings, sorted."""
        return sorted({f.signature for f in self.findings})


def group(findings: Iterable[Finding]) -> list[CauseGroup]:
    """Findings by cause, sorted by cause id."""
    groups: dict[str, CauseGroup] = {}
    for f in findings:
        key = f.cause_key
        groups.setdefault(key.id, CauseGroup(key)).findings.append(f)
    return [groups[k] for k in sorted(groups)]
