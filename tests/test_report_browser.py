"""The HTML report in a real headless Chromium: loads clean and offline, filters work, screenshot taken.

Chromium is driven over the DevTools protocol on a pipe (`stc_harness.report.browser`), so no extra
dependency and no network port. Install the browser with `apt-get install -y chromium`; without it these
tests fail (they never skip).
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_report_render import EVIL, rich_doc, sample_doc

from stc_harness.report import browser as browser_module
from stc_harness.report.bench import replicate
from stc_harness.report.browser import FLAGS, Browser, Page
from stc_harness.report.write import write_all


def chromium_binary() -> str:
    """The Chromium executable, or a failure telling how to install it (these tests never skip)."""
    try:
        return browser_module.chromium_binary()
    except browser_module.BrowserMissing as exc:
        pytest.fail(f"{exc}; the HTML report must be checked in a real browser", pytrace=False)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One Chromium for this module."""
    binary = chromium_binary()
    b = Browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        b.send("Browser.getVersion")
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of a sample document with every outcome and text that needs escaping."""
    folder = tmp_path_factory.mktemp("report")
    write_all(sample_doc(), folder)
    return folder / "compatibility.html"


@pytest.fixture
def page(browser: Browser, report: Path) -> Iterator[Page]:
    """The report opened in a fresh tab."""
    tab = Page(browser, report.as_uri())
    yield tab
    tab.close()


ALL_CHECKS = sorted(c["id"] for c in sample_doc()["checks"])
TYPES_DIFFERING = ["types.documented", "types.drifting", "types.evil[a|b]"]


def test_loads_with_no_errors_and_no_network(page: Page) -> None:
    assert page.js("document.body.dataset.ready") == "1"
    assert page.js("document.body.dataset.errors") == "0"
    assert page.js("window.reportErrors") == []
    assert page.problems() == []
    # the error catcher, the data (never run: type application/json) and the page's script; nothing injected
    assert page.js("Array.from(document.querySelectorAll('script')).map(s => s.type)") == [
        "", "application/json", ""]
    assert EVIL in page.js("document.body.innerText")  # the payload is shown as text
    assert sorted(page.visible("#checks tr.filterable")) == ALL_CHECKS
    n = len(ALL_CHECKS)
    assert page.js("document.getElementById('shown').textContent") == f"{n} of {n} checks shown"


def test_the_error_catcher_would_see_a_broken_script(page: Page) -> None:
    page.js("setTimeout(() => { undefinedFunction(); }, 0); new Promise(r => setTimeout(r, 50))")
    assert page.js("document.body.dataset.errors") == "1"
    assert "undefinedFunction" in page.js("document.getElementById('js-errors').textContent")
    assert any("undefinedFunction" in p for p in page.problems())


def test_outcome_area_and_backend_filters(page: Page) -> None:
    page.click("outcome", "same")
    shown = page.visible("#checks tr.filterable")
    # sqlite is `same` everywhere; with `same` off only checks where turso differs (or was skipped) stay
    assert sorted(shown) == ["errors.boom", "errors.crashes", "errors.hang", "errors.undocumented",
                             "limits.needs_ext", "types.documented", "types.drifting", "types.evil[a|b]"]
    assert page.js("location.hash") == ("#outcome=documented-difference,drift,undocumented-difference,"
                                        "unsupported,error,crash,timeout")
    page.click("area", "errors")
    page.click("area", "limits")
    assert sorted(page.visible("#checks tr.filterable")) == TYPES_DIFFERING
    assert sorted(page.visible("#differences article")) == TYPES_DIFFERING
    # the claims list follows, and only the sections of the checks shown remain
    assert sorted(set(page.visible("#claims tr.filterable"))) == TYPES_DIFFERING
    assert sorted(set(page.js("Array.from(document.querySelectorAll('#claims tr.filterable'))"
                              ".map(r => r.dataset.section)"))) == [
        "Concurrent writes", "Connection URLs", "Differences from SQLite Backend", "Error handling"]
    # turso off: its column goes, and nothing is left that is not `same` on sqlite
    page.click("backend", "turso")
    assert page.visible("#checks tr.filterable") == []
    assert page.js("document.querySelector('#checks p.empty').textContent") == "No check matches the filters."
    assert page.js("document.getElementById('shown').textContent") == f"0 of {len(ALL_CHECKS)} checks shown"
    page.click("outcome", "same")  # sqlite's `same` checks come back, in a table without turso's column
    assert page.js("Array.from(document.querySelectorAll('#checks th[data-backend]'))"
                   ".filter(e => e.offsetParent !== null).map(e => e.textContent)") == ["sqlite"]
    assert page.js("Array.from(document.querySelector('#summary .scroll')"
                   ".querySelectorAll('tr[data-backend]'))"
                   ".filter(e => e.offsetParent !== null).map(e => e.dataset.backend)") == ["sqlite"]
    # "all" buttons bring everything back
    for key in ("area", "outcome", "backend"):
        page.js(f"document.querySelector('[data-all={key}]').click()")
    assert sorted(page.visible("#checks tr.filterable")) == ALL_CHECKS
    assert page.js("location.hash") == ""
    assert page.problems() == []


def test_filters_from_the_address(browser: Browser, report: Path) -> None:
    page = Page(browser, report.as_uri() + "#area=types&outcome=drift,documented-difference&backend=turso")
    assert page.checked("area") == ["types"]
    assert page.checked("outcome") == ["documented-difference", "drift"]
    assert page.checked("backend") == ["turso"]
    assert sorted(page.visible("#checks tr.filterable")) == TYPES_DIFFERING
    page.js("location.hash = '#outcome=crash,%E0%A4%A'")  # a malformed escape is ignored, not an error
    page.js("new Promise(r => setTimeout(r, 50))")
    assert page.visible("#checks tr.filterable") == ["errors.crashes"]
    page.js("location.hash = '#registry'")  # a plain anchor moves the page and keeps the filters
    page.js("new Promise(r => setTimeout(r, 50))")
    assert page.visible("#checks tr.filterable") == ["errors.crashes"]
    assert page.checked("outcome") == ["crash"]
    # a check with no difference: its row in Checks, shown though the filters hid it, and outlined
    page.js("location.hash = '#types.same_value'")
    page.js("new Promise(r => setTimeout(r, 50))")
    assert "types.same_value" in page.visible("#checks tr.filterable")
    assert page.js("document.querySelector('tr.shown-target').dataset.check") == "types.same_value"
    assert 0 <= page.js("document.querySelector('tr.shown-target').getBoundingClientRect().top") < 300
    assert page.problems() == []
    page.close()


def test_screenshot(page: Page, tmp_path: Path) -> None:
    shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
    path = tmp_path / "compatibility.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20_000  # a rendered page, not a blank one
    print(f"screenshot: {path}")


def test_dump_dom_applies_a_filter_from_the_hash(report: Path, tmp_path: Path) -> None:
    """The simplest possible driver: `--dump-dom` of the page after its script ran on a filtered URL."""
    proc = subprocess.run(
        [chromium_binary(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         report.as_uri() + "#outcome=timeout"],
        capture_output=True, text=True, timeout=60)
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'data-ready="1"' in dom
    assert 'data-errors="0"' in dom
    assert 'data-shown="1"' in dom
    assert f"1 of {len(ALL_CHECKS)} checks shown" in dom


# --- phones, pagination, the newer filters and sections ------------------------------------------------

PHONE = {"width": 390, "height": 844, "mobile": True}
DESKTOP = {"width": 1400, "height": 1000, "mobile": False}
#: Layout facts of the page as the browser laid it out (CSS pixels).
LAYOUT = """(() => {
  const vw = window.innerWidth, form = document.getElementById('filters').getBoundingClientRect();
  const scrollers = Array.from(document.querySelectorAll('.scroll'));
  const inScroller = e => scrollers.some(s => s !== e && s.contains(e));
  const wide = Array.from(document.body.querySelectorAll('*')).filter(e => !inScroller(e))
    .map(e => [e.tagName + (e.id ? '#' + e.id : ''), e.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5)).map(([n]) => n);
  const box = s => { const e = document.querySelector(s);
    return {client: e.clientWidth, scroll: e.scrollWidth, overflow: getComputedStyle(e).overflowX,
            right: e.getBoundingClientRect().right}; };
  return {vw: vw, vh: window.innerHeight, pageWidth: document.documentElement.scrollWidth,
          formHeight: form.height, formShare: form.height / window.innerHeight, wide: wide,
          panelOpen: document.getElementById('filter-panel').open,
          summary: box('#summary .scroll'), checks: box('#checks .scroll'),
          scrollers: scrollers.map(s => s.getBoundingClientRect().right)};
})()"""


@pytest.fixture(scope="module")
def rich_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report with layers, attributions, impacts, two extra sections and an interrupted run's mark."""
    folder = tmp_path_factory.mktemp("rich")
    write_all(rich_doc(), folder)
    return folder / "compatibility.html"


@pytest.fixture(scope="module")
def big_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rich report replicated to 3,000 results: every table has several pages."""
    folder = tmp_path_factory.mktemp("big")
    write_all(replicate(rich_doc(), 3000), folder)
    return folder / "compatibility.html"


def _shot(page: Page, path: Path) -> None:
    shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_at_390_px_nothing_is_wider_than_the_phone_and_tables_scroll_in_their_own_boxes(
        browser: Browser, rich_report: Path, tmp_path: Path) -> None:
    page = Page(browser, rich_report.as_uri(), **PHONE)
    assert page.js("document.body.dataset.errors") == "0"
    lay = page.js(LAYOUT)
    print(f"390 px layout: {lay}")
    assert lay["vw"] == 390
    assert lay["pageWidth"] <= lay["vw"]  # the page itself never scrolls sideways
    assert lay["wide"] == []  # no element outside a scroll box reaches past the screen's edge
    assert all(right <= lay["vw"] + 0.5 for right in lay["scrollers"])
    # the wide tables scroll inside their boxes: the summary's last (loud) columns are reachable there
    for name in ("summary", "checks"):
        assert lay[name]["overflow"] == "auto"
        assert lay[name]["scroll"] > lay[name]["client"], name
    reach = page.js("""(() => { const s = document.querySelector('#summary .scroll');
        s.scrollLeft = s.scrollWidth;
        const th = Array.from(s.querySelectorAll('th')).find(t => t.textContent.trim() === 'timeout');
        const r = th.getBoundingClientRect(), b = s.getBoundingClientRect();
        return r.left >= b.left - 0.5 && r.right <= b.right + 0.5; })()""")
    assert reach is True
    # each backend's outcome column comes right after the check, on the first screen
    heads = page.js("Array.from(document.querySelectorAll('#checks th')).map(th => [th.textContent, "
                    "th.getBoundingClientRect().right])")
    print(f"390 px checks table header right edges: {heads}")
    assert [name for name, _ in heads][:3] == ["check", "sqlite", "turso"]
    assert heads[2][1] <= lay["vw"]
    # and, without swiping, a line per backend gives its counts, the loud outcomes first
    glance = page.js("Array.from(document.querySelectorAll('ul.glance li')).map(li => [li.textContent, "
                     "li.getBoundingClientRect().right])")
    assert [text for text, _ in glance] == [
        "sqlite: same 9",
        "turso: drift 1 undocumented-difference 1 error 1 crash 1 timeout 1 same 1 documented-difference 2 "
        "unsupported 1"]
    assert all(right <= lay["vw"] for _, right in glance)
    # the filter bar starts collapsed to one line, and stays on top (sticky) while scrolling
    assert lay["panelOpen"] is False
    assert lay["formShare"] <= 0.08, lay["formHeight"]
    page.js("document.getElementById('checks').scrollIntoView()")
    assert abs(page.js("document.getElementById('filters').getBoundingClientRect().top")) <= 1
    # the interrupted banner is on the first screen
    assert page.js("document.getElementById('interrupted').getBoundingClientRect().bottom") <= lay["vh"]
    _shot(page, tmp_path / "phone-collapsed.png")
    # opened, the filters take at most two thirds of the screen and still fit its width
    page.js("document.querySelector('#filters summary').click()")
    opened = page.js(LAYOUT)
    assert opened["panelOpen"] is True
    assert opened["formShare"] <= 0.67
    assert opened["pageWidth"] <= opened["vw"]
    assert opened["wide"] == []
    page.click("area", "errors")
    assert "errors.boom" not in page.visible("#checks tr.filterable")
    _shot(page, tmp_path / "phone-filters.png")
    assert page.problems() == []
    page.close()


def test_at_desktop_width_the_filters_are_open_and_the_tables_need_no_scrolling(
        browser: Browser, rich_report: Path, tmp_path: Path) -> None:
    page = Page(browser, rich_report.as_uri(), **DESKTOP)
    lay = page.js(LAYOUT)
    print(f"1400 px layout: {lay}")
    assert lay["panelOpen"] is True
    assert lay["pageWidth"] <= lay["vw"]
    assert lay["wide"] == []
    assert lay["summary"]["scroll"] <= lay["summary"]["client"]
    assert page.js("getComputedStyle(document.querySelector('ul.glance')).display") == "none"  # a wide table
    assert lay["formShare"] <= 0.25
    _shot(page, tmp_path / "desktop.png")
    page.close()


def test_layer_attribution_and_impact_filters_and_their_state_in_the_address(
        browser: Browser, rich_report: Path) -> None:
    page = Page(browser, rich_report.as_uri() + "#layer=driver")
    assert page.checked("layer") == ["driver"]
    assert sorted(page.visible("#checks tr.filterable")) == ["errors.boom", "errors.crashes", "errors.hang",
                                                               "errors.undocumented"]
    page.js("location.hash = '#attribution=sqlite-version'")
    assert page.visible("#checks tr.filterable") == ["types.documented"]
    assert page.visible("#differences article") == ["types.documented"]
    page.js("location.hash = '#impact=cosmetic'")
    assert page.visible("#checks tr.filterable") == ["errors.crashes"]
    page.js("document.querySelector('[data-all=impact]').click()")
    page.click("attribution", "none")  # results without an attribution (all of sqlite's) go
    assert page.js("location.hash") == "#attribution=turso,sqlite-version"
    assert sorted(page.visible("#checks tr.filterable")) == [
        "errors.boom", "errors.crashes", "errors.hang", "errors.undocumented", "limits.needs_ext",
        "types.documented", "types.drifting", "types.evil[a|b]"]
    assert page.problems() == []
    page.close()


def test_extra_sections_render_with_working_links_and_the_interrupted_banner(
        browser: Browser, rich_report: Path) -> None:
    page = Page(browser, rich_report.as_uri())
    assert page.js("document.getElementById('interrupted').textContent").startswith(
        "interrupted: 7 of 9 checks ran")
    titles = page.js("Array.from(document.querySelectorAll('section.extra h2')).map(h => h.textContent)")
    assert titles == ["Turso's compatibility claims, measured", "Nothing here"]
    empty = page.js("document.querySelector('#section-empty p.empty').textContent")
    assert empty == "This section has no rows."
    section = "#section-claims"
    assert page.js(f"document.querySelectorAll('{section} tbody tr').length") == 50  # a page of 232
    assert page.js(f"document.querySelector('{section} nav.pager .pos').textContent") == "page 1 of 5 (232)"
    page.js(f"document.querySelector('{section} nav.pager button:nth-of-type(4)').click()")  # the last page
    cells = page.js(f"Array.from(document.querySelectorAll('{section} tbody tr:last-child td'))"
                    ".map(td => [td.textContent, td.querySelector('a') && "
                    "td.querySelector('a').getAttribute('href')])")
    assert cells == [["linked", None], [EVIL, None], ["see the drift", "#types.drifting"]]
    unsafe = page.js(f"Array.from(document.querySelectorAll('{section} tbody tr'))"
                     ".find(r => r.textContent.startsWith('unsafe')).innerHTML")
    assert unsafe == "<td>unsafe</td><td></td><td>not a link</td>"  # only a #fragment becomes a link
    page.js(f"document.querySelector('{section} tbody tr:last-child a').click()")
    page.js("new Promise(r => setTimeout(r, 50))")
    top = page.js("document.getElementById('types.drifting').getBoundingClientRect().top")
    assert 0 <= top < 300  # the difference it links to is on screen, below the filter bar
    assert page.js("document.querySelectorAll('script').length") == 3  # the payload stayed text
    assert page.problems() == []
    page.close()


def test_large_tables_are_paginated_and_a_link_finds_its_page(browser: Browser, big_report: Path) -> None:
    page = Page(browser, big_report.as_uri())
    assert page.js("document.body.dataset.errors") == "0"
    total = page.js("Number(document.body.dataset.shown)")
    assert total == 1503  # 167 copies of 9 checks
    assert len(page.visible("#checks tr.filterable")) == 100  # only one page is in the document
    assert page.js("document.querySelectorAll('#checks tr.filterable').length") == 100
    assert len(page.visible("#differences article")) == 20
    assert page.js("document.querySelector('#checks nav.pager .pos').textContent") == "page 1 of 16 (1503)"
    first = page.visible("#checks tr.filterable")[0]
    page.js("document.querySelector('#checks nav.pager button:nth-of-type(3)').click()")  # next
    assert page.js("document.querySelector('#checks nav.pager .pos').textContent") == "page 2 of 16 (1503)"
    assert page.visible("#checks tr.filterable")[0] != first
    page.click("outcome", "same")  # a filter change starts again at page 1
    assert page.js("document.querySelector('#checks nav.pager .pos').textContent").startswith("page 1 of ")
    # a link to a difference on a later page, even one the filters hide, turns to that page and shows it
    target = "types.drifting~150"
    page.js(f"location.hash = {json.dumps('#' + target)}")
    page.js("new Promise(r => setTimeout(r, 50))")
    assert target in page.visible("#differences article")
    assert page.js(f"document.getElementById({json.dumps(target)}).getBoundingClientRect().top") >= 0
    # paged away, a link to the check in the address (no hashchange then) still turns back to it
    page.js("document.querySelector('#differences nav.pager button').click()")  # the first page
    assert target not in page.visible("#differences article")
    page.js(f"(() => {{ const a = document.createElement('a'); a.href = {json.dumps('#' + target)};"
            " a.textContent = 'again'; document.getElementById('checks').appendChild(a); a.click(); })()")
    assert target in page.visible("#differences article")
    assert page.problems() == []
    page.close()


DIFF_CASES: list[tuple[Any, Any]] = [
    ({"rows": [[["integer", 1], ["text", "a"]]], "extra": 1, "same": [1, 2]},
     {"rows": [[["real", 1.0], ["text", "a"]]], "same": [1, 2], "gone": True}),
    ([2**63 - 1, 1.0, "a\"b\\\\c", None], [2**63 - 2, 1, "a\"b\\\\d", None]),  # beyond 2**53; 1.0 vs 1
    ({"b": 1, "a": 2}, {"a": 2, "b": 1}),  # same keys, other order: nothing to point at
    (list(range(20)), list(range(1, 21))),  # at most 8
    ([1, 2], [1, 2, 3]),  # a whole-value difference
    ({"k": {"x": [1, {"y": "</script>"}]}}, {"k": {"x": [1, {"y": "<b>"}]}}),
]


def test_the_page_points_at_the_same_paths_as_the_python_value_diff(
        browser: Browser, tmp_path: Path) -> None:
    from stc_harness.report.render import value_diff

    doc = {"schema_version": 1, "backends": [{"id": "sqlite"}, {"id": "turso"}], "checks": [
        {"id": f"types.case{n}", "area": "types",
         "results": {"sqlite": {"outcome": "same", "observed": base, "baseline": base},
                     "turso": {"outcome": "undocumented-difference", "observed": obs, "baseline": base}}}
        for n, (obs, base) in enumerate(DIFF_CASES)]}
    write_all(doc, tmp_path)
    page = Page(browser, (tmp_path / "compatibility.html").as_uri())
    shown = page.js("Array.from(document.querySelectorAll('#differences article')).map(a => "
                    "Array.from(a.querySelectorAll('tr[data-backend=turso] ul.diff-at li')).map(li => "
                    "Array.from(li.querySelectorAll('code')).map(c => c.textContent)))")
    assert shown == [[list(p) for p in value_diff(obs, base)] for obs, base in DIFF_CASES]
    assert shown[1] == [["[0]", "9223372036854775807", "9223372036854775806"], ["[1]", "1.0", "1"],
                        ["[2]", '"a\\"b\\\\\\\\c"', '"a\\"b\\\\\\\\d"']]
    assert page.problems() == []
    page.close()


# --- the first screen: the decision -----------------------------------------------------------------------

#: Where the decision's three parts are, and whether the page scrolls sideways (CSS pixels).
FIRST_SCREEN = """(() => {
  const box = s => { const e = document.querySelector(s); if (!e) { return null; }
    const r = e.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  return {vw: innerWidth, vh: innerHeight, pageWidth: document.documentElement.scrollWidth,
          verdict: box('#decision .decide .verdict'), chart: box('#decision .decide svg.chart'),
          worst: box('#decision .decide .worst ol'), about: box('#about')};
})()"""


def _inside(lay: dict[str, Any], part: str) -> bool:
    box = lay[part]
    return box is not None and box["top"] >= 0 and box["bottom"] <= lay["vh"] and box["left"] >= 0 \
        and box["right"] <= lay["vw"] + 0.5


LONG = ("a difference whose registry title is as long as the real ones, naming the statement, the driver "
        "call and what each engine returns")


def decision_doc(backends: tuple[str, ...] = ("sqlite", "turso")) -> dict[str, Any]:
    """The rich document with long titles (five worst, each two or three lines on a phone) and more
    differences of every impact; with a third backend when asked."""
    doc = rich_doc()
    impacts = ["silent-data-change", "lost-or-extra-writes", "error-appears-or-disappears", "different-error",
               "missing-api", "cosmetic"]
    for n in range(12):
        res = {b: {"outcome": "same", "observed": 1, "baseline": 1} for b in backends}
        for b in backends[1:]:
            res[b] = {"outcome": "documented-difference", "observed": 2, "baseline": 1,
                      "attribution": "turso"}
        doc["checks"].append({
            "id": f"pragmas.long_{n:02d}", "area": "pragmas", "layer": ("engine", "driver", "client")[n % 3],
            "title": f"{LONG} ({n})", "source": None, "results": res,
            "entry": {"id": f"pragmas.long-{n:02d}", "title": f"{LONG} ({n})", "impact": impacts[n % 6],
                      "source": {"document": "x", "section": "y"}, "reason": "r", "checks": [],
                      "expect": {}}})
    if len(backends) > 2:
        doc["backends"].append({"id": backends[1], "name": backends[1], "driver": "libsql",
                                "driver_version": "0.1", "engine_version": "3.45.1"})
        for row in doc["checks"]:
            row["results"].setdefault(backends[1], {"outcome": "same", "observed": 1, "baseline": 1})
    return doc


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["390px", "1400px"])
def test_the_first_screen_holds_the_verdict_the_chart_and_the_worst_items(
        browser: Browser, tmp_path: Path, size: dict[str, Any]) -> None:
    write_all(decision_doc(), tmp_path)
    page = Page(browser, (tmp_path / "compatibility.html").as_uri(), **size)
    assert page.js("document.body.dataset.errors") == "0"
    lay = page.js(FIRST_SCREEN)
    print(f"first screen at {size['width']} px: {lay}")
    assert lay["pageWidth"] <= lay["vw"]  # no sideways scroll
    for part in ("verdict", "chart", "worst"):
        assert _inside(lay, part), part
    assert lay["about"]["top"] > lay["vh"]  # the run's metadata waits in the footer
    worst = page.js("Array.from(document.querySelectorAll('#decision .decide .worst li a'))"
                    ".map(a => a.getAttribute('href'))")
    assert len(worst) == 5
    assert worst[0] == "#errors.undocumented"  # impact unknown comes first: nobody judged it yet
    # the verdict says it in words and marks, never by colour alone
    layers = page.js("Array.from(document.querySelectorAll('#decision .decide ul.layers li'))"
                     ".map(li => li.textContent.trim())")
    assert [x.split(":")[0][2:] for x in layers] == ["Engine", "Driver", "Client"]
    assert layers[0].startswith("\u2716 Engine: ")
    # the chart: one bar per impact class, each with its number; the same numbers as a table
    bars = page.js("Array.from(document.querySelectorAll('#decision .decide svg.chart g.bar'))"
                   ".map(g => [g.dataset.impact, g.lastElementChild.textContent])")
    table = page.js("Array.from(document.querySelectorAll("
                    "'#decision .decide table[data-chart-table] tbody tr'))"
                    ".map(tr => [tr.dataset.impact, tr.children[4].textContent])")
    assert bars == table
    assert bars[:2] == [["unknown", "1"], ["silent-data-change", "5"]]
    assert page.js("document.querySelector('#decision svg.chart').getAttribute('role')") == "img"
    assert page.js("document.querySelector('#decision svg.chart title').textContent").startswith(
        "Differences of turso from sqlite")
    _shot(page, tmp_path / f"first-screen-{size['width']}.png")
    # a worst item's link opens its difference in full
    page.js("document.querySelector('#decision .worst li:nth-child(2) a').click()")
    page.js("new Promise(r => setTimeout(r, 50))")
    target = worst[1][1:]
    assert target in page.visible("#differences article")
    assert 0 <= page.js(f"document.getElementById({json.dumps(target)}).getBoundingClientRect().top") < 300
    assert page.problems() == []
    # the assertion above can fail: a tall heading pushes the worst items below the first screen
    page.js("window.scrollTo(0, 0); document.querySelector('header.top').style.height = '700px'")
    assert not _inside(page.js(FIRST_SCREEN), "worst")
    page.close()


def test_three_backends_each_get_a_decision_the_target_first(browser: Browser, tmp_path: Path) -> None:
    write_all(decision_doc(("sqlite", "libsql", "turso")), tmp_path)
    page = Page(browser, (tmp_path / "compatibility.html").as_uri(), **PHONE)
    order = page.js("Array.from(document.querySelectorAll('[data-decision]')).map(e => e.dataset.decision)")
    assert order == ["turso", "libsql"]
    assert page.js("document.querySelector('details.decide-other').open") is False
    assert page.js("document.querySelectorAll('svg.chart').length") == 2
    ids = page.js("Array.from(document.querySelectorAll('svg.chart [id]')).map(e => e.id)")
    assert len(ids) == len(set(ids))  # each chart's patterns and title have ids of their own
    lay = page.js(FIRST_SCREEN)
    assert lay["pageWidth"] <= lay["vw"]
    for part in ("verdict", "chart", "worst"):
        assert _inside(lay, part), part
    page.js("document.querySelector('details.decide-other').open = true")
    assert page.js("document.documentElement.scrollWidth") <= lay["vw"]
    assert page.problems() == []
    page.close()


def test_a_dropin_report_shows_the_users_tests_first_and_no_empty_engine_tables(
        browser: Browser, tmp_path: Path) -> None:
    doc = {"schema_version": 2, "generated_at": "2026-01-01T00:00:00+00:00", "reference": "sqlite",
           "backends": [{"id": "sqlite"}, {"id": "turso"}], "registry": [], "checks": [],
           "dropin": {"adaptations": True, "tests": []},
           "sections": [{"id": "dropin-summary", "title": "Your tests on SQLite and Turso",
                         "intro": "3 tests", "columns": ["engine", "passed", "failed"],
                         "rows": [["sqlite", 3, 0], ["turso", 1, 2]]},
                        {"id": "dropin-turso-only", "title": "Pass on SQLite, fail on Turso", "intro": "",
                         "columns": ["test", "cause"], "rows": [["t::a", {"text": "x", "href": "#nowhere"}],
                                                                 ["t::b", EVIL]]}]}
    write_all(doc, tmp_path, "dropin")
    assert not (tmp_path / "dropin-details").exists()
    md = (tmp_path / "dropin.md").read_text()
    assert md.startswith("# Drop-in report: your tests on sqlite and turso\n")
    assert md.index("## Your tests on SQLite and Turso") < md.index("## About this run")
    assert "## Summary" not in md
    assert "## The decision" not in md
    page = Page(browser, (tmp_path / "dropin.html").as_uri(), **PHONE)
    assert page.js("document.body.dataset.errors") == "0"
    shown = page.js("Array.from(document.querySelectorAll('body > section, body > form, body > footer'))"
                    ".filter(e => e.offsetParent !== null).map(e => e.id)")
    assert shown == ["section-dropin-summary", "section-dropin-turso-only", "about"]
    assert page.js("document.querySelector('#section-dropin-summary').getBoundingClientRect().top") < 200
    assert page.js("document.querySelector('#section-dropin-turso-only tbody').textContent").endswith(EVIL)
    assert page.js("document.documentElement.scrollWidth") <= 390
    assert page.problems() == []
    page.close()
