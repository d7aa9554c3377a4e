"""A headless Chromium driven over the DevTools protocol on a pipe, for the browser tests and screenshots.

`--remote-debugging-pipe` makes Chromium read JSON messages ended by NUL on descriptor 3 and answer on
descriptor 4: no extra dependency and no network port. Install the browser with
`apt-get install -y chromium` (Debian's package), or point CHROMIUM at a binary.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

INSTALL = "apt-get update && apt-get install -y chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars")
# A launcher that puts the two pipe ends on descriptors 3 and 4, where Chromium expects them.
LAUNCH = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
          "os.execv(sys.argv[3], sys.argv[3:])")
TIMEOUT = 30.0


class BrowserMissing(RuntimeError):
    """No Chromium binary was found; the message tells how to install one."""


def chromium_binary() -> str:
    """The Chromium executable ($CHROMIUM if set); `BrowserMissing` telling how to install it otherwise."""
    chosen = os.environ.get("CHROMIUM")
    candidates = [chosen] if chosen else ["/usr/bin/chromium", shutil.which("chromium"),
                                          shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BrowserMissing(f"Chromium is not installed ({chosen or '/usr/bin/chromium'} not found): install it "
                         f"with `{INSTALL}` (Debian package `chromium`), or point CHROMIUM at the binary")


def _high(fd: int) -> int:
    """Move a descriptor above 10, so the launcher's dup2 onto 3 and 4 cannot clobber it."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class Browser:
    """A headless Chromium and a minimal DevTools-protocol client over its pipe."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = (_high(fd) for fd in os.pipe())
        self._from_chrome, from_chrome_w = (_high(fd) for fd in os.pipe())
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, str(to_chrome_r), str(from_chrome_w), binary, *FLAGS,
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(to_chrome_r, from_chrome_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe: "
                                       + (self.proc.stderr.read().decode(errors="replace")[-2000:]
                                          if self.proc.poll() is not None and self.proc.stderr else ""))
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events arriving meanwhile are kept)."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        """Wait for an event of this page (one already received counts)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for ev in self.events:
                if ev.get("method") == method and ev.get("sessionId") == session:
                    self.events.remove(ev)
                    return ev
            self.events.append(self._read_message(deadline))

    def close(self) -> None:
        """End the browser (ours, by its process handle) and the pipe."""
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._to_chrome, self._from_chrome):
            os.close(fd)
        if self.proc.stderr:
            self.proc.stderr.close()


class Page:
    """One tab, with the events that say whether the page misbehaved."""

    def __init__(self, browser: Browser, url: str, width: int = 1400, height: int = 1000,
                 mobile: bool = False) -> None:
        self.browser = browser
        self.target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = browser.send("Target.attachToTarget", targetId=self.target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=2 if mobile else 1, mobile=mobile)
        self.goto(url)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to this page."""
        return self.browser.send(method, self.session, **params)

    def goto(self, url: str) -> None:
        """Load a document and wait for its load event (not for a change of the fragment only)."""
        self.send("Page.navigate", url=url)
        self.browser.wait_for("Page.loadEventFired", self.session)

    def js(self, expression: str) -> Any:
        """Evaluate in the page; an exception there fails the test."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        """Close the tab and forget its events."""
        self.browser.send("Target.closeTarget", targetId=self.target)
        self.browser.events = [e for e in self.browser.events if e.get("sessionId") != self.session]

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, log errors, dialogs, and any network request."""
        found = []
        for ev in self.browser.events:
            if ev.get("sessionId") != self.session:
                continue
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                found.append(f"log: {params['entry']}")
            elif method == "Page.javascriptDialogOpening":
                found.append(f"dialog: {params}")
            elif method == "Network.requestWillBeSent" and not params["request"]["url"].startswith("file://"):
                found.append(f"network request: {params['request']['url']}")
        return found

    def visible(self, selector: str) -> list[str]:
        """The data-check of each matching element that is displayed."""
        return self.js(f"Array.from(document.querySelectorAll({json.dumps(selector)}))"
                       ".filter(e => e.offsetParent !== null).map(e => e.dataset.check)")

    def click(self, name: str, value: str) -> None:
        """Click a filter checkbox as a user would (a trusted mouse click at its position)."""
        box = self.js(f"(() => {{ const i = Array.from(document.querySelectorAll('#filters input'))"
                      f".find(i => i.name === {json.dumps(name)} && i.value === {json.dumps(value)});"
                      f" i.scrollIntoView({{block: 'center'}}); const r = i.getBoundingClientRect();"
                      f" return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def checked(self, name: str) -> list[str]:
        """The checked values of one filter group."""
        return self.js(f"Array.from(document.querySelectorAll('#filters input'))"
                       f".filter(i => i.name === {json.dumps(name)} && i.checked).map(i => i.value)")

    def screenshot(self, path: Path) -> Path:
        """Save the visible part of the page (the first screen) as a PNG."""
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path
