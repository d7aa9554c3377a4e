"""The decision's chart: differences by impact x layer as an inline SVG, drawn from the report's data.

Horizontal bars, one per impact class, split by layer. Each layer has its own fill pattern as well as its
own colour (solid, hatched, dotted), every bar carries its number, and the page gives the same numbers as
a table: the chart never relies on colour alone. No script, no network, no external font.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from stc_harness.outcomes import ERROR_APPEARS_OR_DISAPPEARS, IMPACT_LABELS

#: Width of the drawing (viewBox units; the page scales it to its column).
WIDTH = 380
#: Where the bars start (the labels are left of it) and the room kept right of them for the total.
LABEL_W, TOTAL_W = 150, 42
ROW_H, BAR_H, TOP = 20, 13, 22
#: Per layer: colour and fill pattern (by position; a fourth layer and on reuse them with outlines).
STYLES = (("#2f62a3", "solid"), ("#c46a12", "hatch"), ("#4b8a2c", "dots"))
#: Short labels of the impact classes, for the chart's left column.
SHORT = {**IMPACT_LABELS, ERROR_APPEARS_OR_DISAPPEARS: "error appears/disappears"}


def _label(impact: str) -> str:
    return SHORT.get(impact, impact.replace("-", " "))


def _pattern(pid: str, colour: str, kind: str) -> str:
    if kind == "solid":
        return ""
    if kind == "hatch":
        mark = f'<path d="M0,6 L6,0" stroke="{colour}" stroke-width="2"/>'
    else:
        mark = f'<circle cx="3" cy="3" r="1.6" fill="{colour}"/>'
    return (f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="#fff"/>{mark}</pattern>')


def chart_svg(rows: list[tuple[str, list[tuple[str, int]], int]], layers: list[str], key: str,
              title: str) -> Markup:
    """The SVG of `rows` (impact, [(layer, count)], total); `key` makes its ids unique in the page."""
    key = "".join(c if c.isalnum() else "-" for c in key)
    height = TOP + ROW_H * len(rows) + 4
    scale = max([total for _, _, total in rows] + [1])
    room = WIDTH - LABEL_W - TOTAL_W
    fills, defs = {}, []
    for n, layer in enumerate(layers):
        colour, kind = STYLES[n % len(STYLES)]
        pid = f"p-{key}-{n}"
        defs.append(_pattern(pid, colour, kind))
        fills[layer] = (colour if kind == "solid" else f"url(#{pid})", colour)
    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="t-{key} d-{key}" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="11">',
           f'<title id="t-{key}">{escape(title)}</title>',
           f'<desc id="d-{key}">One bar per impact class, split by layer ({escape(", ".join(layers))}); each '
           'bar ends with its total. The table after the chart gives every number.</desc>',
           f"<defs>{''.join(defs)}</defs>"]
    x = 0.0
    for layer in layers:  # the legend, on the top line
        fill, colour = fills[layer]
        out.append(f'<rect x="{x:.0f}" y="4" width="12" height="12" fill="{fill}" stroke="{colour}"/>'
                   f'<text x="{x + 16:.0f}" y="14">{escape(layer)}</text>')
        x += 28 + 6.5 * len(layer)
    for n, (impact, parts, total) in enumerate(rows):
        y = TOP + n * ROW_H
        out.append(f'<g class="bar" data-impact="{escape(impact)}">'
                   f'<text x="0" y="{y + 10.5}">{escape(_label(impact))}</text>')
        at = float(LABEL_W)
        for layer, count in parts:
            if not count:
                continue
            w = max(room * count / scale, 2.0)
            fill, colour = fills[layer]
            out.append(f'<rect x="{at:.1f}" y="{y}" width="{w:.1f}" height="{BAR_H}" fill="{fill}" '
                       f'stroke="{colour}" data-layer="{escape(layer)}">'
                       f"<title>{escape(_label(impact))}, {escape(layer)}: {count:,}</title></rect>")
            at += w
        colour, weight = ("#1d1f21", 600) if total else ("#8a8f95", 400)
        out.append(f'<text x="{at + 4:.1f}" y="{y + 10.5}" fill="{colour}" font-weight="{weight}">'
                   f"{total:,}</text></g>")
    out.append(f'<line x1="{LABEL_W - 0.5}" y1="{TOP - 2}" x2="{LABEL_W - 0.5}" y2="{height - 4}" '
               'stroke="#9aa0a6"/></svg>')
    return Markup("".join(out))
