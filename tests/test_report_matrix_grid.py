"""The version matrix as a picture: areas x releases (pyturso, SQLite), and the first release of each gap."""

from __future__ import annotations

from pathlib import Path

from test_matrix import report, result, sqlite_point
from test_report_browser import PHONE, Browser, Page, chromium_binary

import stc_harness.report.matrix as mx
from stc_harness.report.matrix_grid import grid


def docs() -> list[tuple[str, dict]]:
    """Two SQLite releases, two pyturso releases; area a has a version gap and Turso's own difference."""
    return [
        ("sqlite", sqlite_point("sqlite", "0.22.1", "3.40.1", {
            "a.gap": result("same", 1), "a.own": result("same", 1), "b.x": result("same", 1)})),
        ("q349", sqlite_point("sqlean", "3.49.1", "3.49.1", {
            "a.gap": result("documented-difference", 2), "a.own": result("same", 1),
            "b.x": result("same", 1)})),
        ("t083", report("turso", "0.8.3", {
            "a.gap": result("documented-difference", 2), "a.own": result("same", 1),
            "b.x": result("same", 1)})),
        ("t072", report("turso", "0.7.2", {
            "a.gap": result("documented-difference", 2), "a.own": result("documented-difference", 3),
            "b.x": result("error")})),
    ]


def test_the_grid_counts_differences_per_area_and_release() -> None:
    areas, series = grid(mx.build_matrix(docs()))
    assert areas == ["a", "b"]
    assert [(s.name, s.releases) for s in series] == [("pyturso releases", ["0.7.2", "0.8.3"]),
                                                      ("SQLite releases", ["3.40.1", "3.49.1"])]
    turso, sqlite = series
    assert [(c.differ, c.ran) for c in turso.cells["a"]] == [(2, 2), (1, 2)]  # 0.8.3 fixed a.own
    assert [(c.differ, c.ran, c.broken) for c in turso.cells["b"]] == [(0, 0, 1), (0, 1, 0)]
    assert [c.differ for c in sqlite.cells["a"]] == [0, 1]  # the gap appears in SQLite 3.49.1
    assert turso.cells["b"][0].colours == ("#eceef1", "#4a4f55")  # nothing judged: grey, not green
    assert turso.cells["a"][0].colours != turso.cells["a"][1].colours


def test_the_matrix_page_shows_the_grid_and_the_first_release_of_each_gap(tmp_path: Path) -> None:
    m = mx.build_matrix(docs())
    page = mx.render_html(m)
    assert page.index('id="grid"') < page.index('id="columns"') < page.index('id="gaps"')
    assert 'data-area="a"><th>a</th><td class="g"' in page
    assert "<script" not in page  # a picture made of a table: no script, no network
    gaps = page.split('id="gaps"')[1].split("</table>")[0]
    assert "<code>a.gap</code>" in gaps
    assert "<strong>3.49.1</strong>" in gaps
    path = tmp_path / "matrix.html"
    path.write_text(page, encoding="utf-8")
    browser = Browser(chromium_binary(), tmp_path / "profile")
    try:
        tab = Page(browser, path.as_uri(), **PHONE)
        assert tab.js("document.documentElement.scrollWidth") <= 390  # the wide tables scroll in their boxes
        cells = tab.js("Array.from(document.querySelectorAll('table.grid tr[data-area=a] td'))"
                       ".map(td => [td.textContent, getComputedStyle(td).backgroundColor])")
        assert [text for text, _ in cells] == ["2/2", "1/2", "0/2", "1/2"]
        assert cells[2][1] == "rgb(227, 244, 230)"  # none differs
        assert tab.problems() == []
        tab.close()
    finally:
        browser.close()
