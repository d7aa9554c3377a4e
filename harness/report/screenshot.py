"""`python -m stc_harness screenshot`: the report's first screen as a PNG, from this checkout's report.

The JSON report (this checkout's `reports/compatibility.json` by default) is rendered anew with this
checkout's code into a temporary folder, opened from `file://` in headless Chromium at the given size, and
the visible part saved (by default to `docs/report-first-screen.png`, the picture the README shows). The
page must load with no error and no network request, or nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from stc_harness.report.browser import Browser, BrowserMissing, Page, chromium_binary
from stc_harness.report.schema import ReportError, load_report
from stc_harness.report.write import write_renderings

ROOT = Path(__file__).resolve().parents[2]
#: The report rendered by default, and where its picture goes.
DEFAULT_SOURCE = ROOT / "reports" / "compatibility.json"
DEFAULT_OUT = ROOT / "docs" / "report-first-screen.png"


def shoot(source: Path, out: Path, width: int, height: int, mobile: bool = False) -> Path:
    """Render `source`, open it in Chromium at width x height, save the first screen to `out`."""
    doc = load_report(source)
    with tempfile.TemporaryDirectory(prefix="stc-screenshot-") as tmp:
        folder = Path(tmp)
        write_renderings(doc, folder, "compatibility")
        browser = Browser(chromium_binary(), folder / "profile")
        try:
            page = Page(browser, (folder / "compatibility.html").as_uri(), width=width, height=height,
                        mobile=mobile)
            problems = page.problems()
            if page.js("document.body.dataset.ready") != "1" or problems:
                raise ReportError(f"the page did not load cleanly: {problems or 'its script did not finish'}")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(out)
            page.close()
        finally:
            browser.close()
    return out


def main(argv: list[str]) -> int:
    """Write the screenshot; 0 on success, 2 when the report or the browser is missing."""
    parser = argparse.ArgumentParser(prog="python -m stc_harness screenshot", description=__doc__)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="JSON report to render "
                        "(default: this checkout's reports/compatibility.json)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write "
                        "(default: docs/report-first-screen.png)")
    parser.add_argument("--width", type=int, default=1400, help="viewport width in CSS pixels (default 1400)")
    parser.add_argument("--height", type=int, default=900, help="viewport height in CSS pixels (default 900)")
    parser.add_argument("--mobile", action="store_true", help="emulate a phone (touch, device scale 2)")
    args = parser.parse_args(argv[1:])
    if not args.source.exists():
        print(f"error: no report at {args.source}; run `make report` first, or give --source PATH",
              file=sys.stderr)
        return 2
    try:
        path = shoot(args.source, args.out, args.width, args.height, args.mobile)
    except (ReportError, BrowserMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0
