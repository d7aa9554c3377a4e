"""The decision a report opens with: per backend, how much differs from the reference, how badly, where.

Computed once from the shared view (one pass over the results, so it stays cheap at 50,000 results) and
shown by both renderings: a verdict per layer and per impact class, the counts of differences by impact
x layer (drawn as a chart by `stc_harness.report.chart`), and the worst differences, one line each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stc_harness.outcomes import (
    ATTRIBUTION_LABELS,
    ATTRIBUTION_ORDER,
    BROKEN,
    COSMETIC,
    DATA_IMPACTS,
    DOCUMENTED,
    ENGINE,
    IMPACT_LABELS,
    IMPACT_ORDER,
    IMPACTS,
    LAYERS,
    NOT_RUN_OUTCOMES,
    TURSO_OWN,
    UNDOCUMENTED,
    UNKNOWN_IMPACT,
    VERSION_GAP,
)
from stc_harness.report.view import View

#: What each impact class means, one line (unknown first: nobody has judged how bad it is yet).
IMPACT_MEANING = {
    UNKNOWN_IMPACT: "no registry entry classifies it (an undocumented difference): read it first", **IMPACTS}
#: How many worst differences the decision lists per backend.
WORST = 5
#: Verdict words (never colour alone): the worst kind of difference a layer or backend shows.
STATUS_DATA, STATUS_LOUD, STATUS_COSMETIC, STATUS_SAME, STATUS_NONE = (
    "data at risk", "breaks loudly", "cosmetic only", "same", "not measured")
#: A mark per status, so the verdict reads without colour.
STATUS_MARK = {STATUS_DATA: "\u2716", STATUS_LOUD: "!", STATUS_COSMETIC: "~", STATUS_SAME: "\u2714",
               STATUS_NONE: "\u2013"}


@dataclass
class Worst:
    """One of the worst differences: a registry entry (or an undocumented check) and the checks it hits."""

    key: str
    title: str
    impact: str
    whose: str
    check: str
    area: str
    count: int = 0
    layers: set[str] = field(default_factory=set)

    @property
    def rank(self) -> tuple[int, int, int, str]:
        """Sort key: impact worst first, Turso's own before version gaps, more checks first."""
        return (IMPACT_ORDER.index(self.impact), ATTRIBUTION_ORDER.index(self.whose), -self.count, self.key)

    @property
    def line(self) -> str:
        """The one-line description: impact, whose, title, how many checks in which layers."""
        layers = ", ".join(x for x in LAYERS if x in self.layers) or ENGINE
        checks = f"{self.count} check{'s' if self.count != 1 else ''}"
        whose = ATTRIBUTION_LABELS[self.whose]
        return f"{IMPACT_LABELS[self.impact]} \u00b7 {whose} \u00b7 {checks} ({layers})"


@dataclass
class LayerVerdict:
    """One backend's verdict on one layer."""

    layer: str
    ran: int = 0
    differ: int = 0
    own: int = 0
    gap: int = 0
    broken: int = 0
    by_impact: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The worst kind of difference this layer shows (a verdict word)."""
        return status_of(self.ran, self.by_impact)

    @property
    def worst_impact(self) -> str | None:
        """The worst impact class among this layer's differences."""
        return next((i for i in IMPACT_ORDER if self.by_impact.get(i)), None)

    @property
    def text(self) -> str:
        """The verdict as one line of text."""
        if not self.ran and not self.broken:
            return f"{self.layer.capitalize()}: not measured in this run."
        if not self.differ:
            out = f"{self.layer.capitalize()}: {self.ran:,} checks ran, none differs"
        else:
            worst = self.worst_impact or UNKNOWN_IMPACT
            pairs = ((TURSO_OWN, self.own), (VERSION_GAP, self.gap))
            whose = [f"{n:,} {ATTRIBUTION_LABELS[w]}" for w, n in pairs if n]
            out = (f"{self.layer.capitalize()}: {self.differ:,} of {self.ran:,} checks differ"
                   + (f" ({', '.join(whose)})" if whose else "")
                   + f"; worst: {IMPACT_LABELS[worst]} ({self.by_impact[worst]:,})")
        if self.broken:
            out += f"; {self.broken:,} could not be judged (error, crash or timeout)"
        return out + "."


def status_of(ran: int, by_impact: dict[str, int]) -> str:
    """The verdict word for counts of differences by impact (among `ran` checks)."""
    if any(by_impact.get(i) for i in (UNKNOWN_IMPACT, *DATA_IMPACTS)):
        return STATUS_DATA
    if any(n for i, n in by_impact.items() if i != COSMETIC):
        return STATUS_LOUD
    if by_impact.get(COSMETIC):
        return STATUS_COSMETIC
    return STATUS_SAME if ran else STATUS_NONE


@dataclass
class BackendDecision:
    """Everything the decision says about one backend against the reference."""

    backend: str
    reference: str
    layers: list[LayerVerdict]
    impacts: list[str]
    counts: dict[str, dict[str, int]]
    groups: list[Worst]
    unsupported: int = 0

    @property
    def worst(self) -> list[Worst]:
        """The worst differences (at most WORST), worst first."""
        return self.groups[:WORST]

    @property
    def ran(self) -> int:
        """Checks that ran to a verdict on this backend."""
        return sum(x.ran for x in self.layers)

    @property
    def differ(self) -> int:
        """Checks whose result differs from the reference."""
        return sum(x.differ for x in self.layers)

    @property
    def broken(self) -> int:
        """Checks that could not be judged (error, crash, timeout)."""
        return sum(x.broken for x in self.layers)

    def impact_total(self, impact: str) -> int:
        """Differences of one impact class, all layers."""
        return sum(self.counts.get(impact, {}).values())

    @property
    def status(self) -> str:
        """The verdict word of the whole backend."""
        return status_of(self.ran, {i: self.impact_total(i) for i in self.impacts})

    @property
    def headline(self) -> str:
        """One sentence: how much differs, and how much of it changes or loses data."""
        if not self.ran:
            return f"{self.backend}: no check ran to a verdict."
        if not self.differ:
            return f"{self.backend}: all {self.ran:,} checks behave as on {self.reference}."
        data = [f"{self.impact_total(i):,} {IMPACT_LABELS[i]}" for i in (UNKNOWN_IMPACT, *DATA_IMPACTS)
                if self.impact_total(i)]
        return (f"{self.backend}: {self.differ:,} of {self.ran:,} checks behave differently from "
                f"{self.reference}" + (f"; {', '.join(data)}" if data else "; none changes data") + ".")

    def impact_text(self, impact: str) -> str:
        """The verdict on one impact class: how many, in which layers."""
        n = self.impact_total(impact)
        per = self.counts.get(impact, {})
        where = ", ".join(f"{per[x]:,} {x}" for x in self.layer_names if per.get(x))
        return f"{IMPACT_LABELS[impact]}: {n:,}" + (f" ({where})" if where else "")

    @property
    def layer_names(self) -> list[str]:
        """The layers, in the contract's order."""
        return [x.layer for x in self.layers]


@dataclass
class Decision:
    """The decision for every backend other than the reference, the primary target first."""

    reference: str
    backends: list[BackendDecision]

    @property
    def primary(self) -> BackendDecision | None:
        """The backend the first screen is about (Turso when it is in the report)."""
        return self.backends[0] if self.backends else None


def _primary_order(ids: list[str], reference: str) -> list[str]:
    """Backends other than the reference, those named turso first (the question is moving to Turso)."""
    others = [b for b in ids if b != reference]
    return sorted(others, key=lambda b: (b.split("@")[0].split("/")[0] != "turso", others.index(b)))


def decide(v: View) -> Decision:
    """The decision of a view (made once per view: both renderings share it)."""
    made = v.derived.get("decision")
    if made is None:
        made = v.derived["decision"] = _decide(v)
    return made


def _decide(v: View) -> Decision:
    """The decision of a view: one pass over its rows."""
    reference = v.reference if v.reference in v.backend_ids else (v.backend_ids[0] if v.backend_ids else "")
    order = _primary_order(v.backend_ids, reference)
    layer_names = [*LAYERS, *(x for x in v.layers if x not in LAYERS)]
    verdicts = {b: {x: LayerVerdict(x) for x in layer_names} for b in order}
    counts: dict[str, dict[str, dict[str, int]]] = {b: {} for b in order}
    worst: dict[str, dict[tuple[str, str], Worst]] = {b: {} for b in order}
    unsupported = dict.fromkeys(order, 0)
    at = {b: i for i, b in enumerate(v.backend_ids)}
    wanted = [(b, at[b]) for b in order]
    for row in v.rows:
        layer = row.layer or ENGINE
        entry = row.entry
        impact = (entry or {}).get("impact") or UNKNOWN_IMPACT
        if impact not in IMPACT_ORDER:
            impact = UNKNOWN_IMPACT
        for b, i in wanted:
            outcome = row.outcomes[i]
            if outcome in NOT_RUN_OUTCOMES:
                unsupported[b] += 1
                continue
            verdict = verdicts[b].setdefault(layer, LayerVerdict(layer))
            if outcome in BROKEN:
                verdict.broken += 1
                continue
            verdict.ran += 1
            res = row.results.get(b)
            whose = str(res.get("attribution") or "") if isinstance(res, dict) else ""
            if not whose and outcome not in (DOCUMENTED, UNDOCUMENTED):
                continue
            verdict.differ += 1
            if whose == TURSO_OWN:
                verdict.own += 1
            elif whose == VERSION_GAP:
                verdict.gap += 1
            verdict.by_impact[impact] = verdict.by_impact.get(impact, 0) + 1
            per = counts[b].setdefault(impact, {})
            per[layer] = per.get(layer, 0) + 1
            key = (entry or {}).get("id") or row.id
            whose = whose if whose in ATTRIBUTION_ORDER else ""
            item = worst[b].get((whose, key))
            if item is None:
                title = (entry or {}).get("title") or row.title
                item = worst[b][(whose, key)] = Worst(key, title, impact, whose, row.id, row.area)
            item.count += 1
            item.layers.add(layer)
    unknown = any(UNKNOWN_IMPACT in counts[b] for b in order)
    impacts = [i for i in IMPACT_ORDER if i != UNKNOWN_IMPACT or unknown]
    out = []
    for b in order:
        layers = [verdicts[b][x] for x in verdicts[b] if x in LAYERS or verdicts[b][x].ran
                  or verdicts[b][x].broken]
        ranked = sorted(worst[b].values(), key=lambda w: w.rank)
        out.append(BackendDecision(b, reference, layers, impacts, counts[b], ranked, unsupported[b]))
    return Decision(reference, out)


def chart_rows(d: BackendDecision) -> list[tuple[str, list[tuple[str, int]], int]]:
    """Per impact class: its label, its count per layer, its total (what the chart and its table show)."""
    return [(i, [(x, d.counts.get(i, {}).get(x, 0)) for x in d.layer_names], d.impact_total(i))
            for i in d.impacts]


def as_dict(d: BackendDecision) -> dict[str, Any]:
    """The decision for one backend as plain data (for a test or a script)."""
    return {"backend": d.backend, "status": d.status, "headline": d.headline,
            "layers": [x.text for x in d.layers], "impacts": [d.impact_text(i) for i in d.impacts],
            "worst": [{"title": w.title, "line": w.line, "check": w.check} for w in d.worst]}
