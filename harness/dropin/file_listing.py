"""Whether a failed assertion is about which files exist: the code that made its value lists a folder.

Turso keeps a `-wal` file beside every database it opened (SQLite removes its own at the last close, and has
none with `journal_mode=off`): a test that counts the files a library wrote (`glob(".coverage.*")`, an
`os.listdir` compared with a list) fails on Turso for that alone. The evidence is the code on the failing
path: the failing line of each of the test's own frames, and the few lines before it, call a listing.
"""

from __future__ import annotations

import linecache
import re
from typing import Any

from stc_harness.dropin.trace import LIBRARY_MARKERS

#: A call that lists a folder's files.
_LISTING = re.compile(r"\b(?:glob|iglob|listdir|scandir|iterdir|walk|rglob)\s*\(")
#: A frame of a native traceback: its file, line and function.
_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)', re.MULTILINE)
#: Lines before a frame's failing line that may have made the value it asserts on.
BEFORE = 4


def asserted(failure: dict[str, Any]) -> bool:
    """The test failed on an assertion (its failing line is an `assert`, or it raised AssertionError)."""
    return str(failure.get("source") or "").startswith("assert") or \
        str(failure.get("exc_type") or "").endswith("AssertionError")


def lists_files(failure: dict[str, Any]) -> bool:
    """A failed assertion whose value came from listing files, by the source of the failing frames."""
    if not asserted(failure):
        return False
    for path, number, _ in _FRAME.findall(str(failure.get("longrepr") or "")):
        if any(part in path for part in LIBRARY_MARKERS):
            continue
        line = int(number)
        window = "".join(linecache.getline(path, n) for n in range(max(1, line - BEFORE), line + 1))
        if _LISTING.search(window):
            return True
    return False
