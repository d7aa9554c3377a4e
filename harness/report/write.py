"""Write the report files atomically: a killed run never leaves a truncated file."""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from stc_harness.report.encode import printable
from stc_harness.report.jsonout import json_chunks
from stc_harness.report.markdown import details_dir, details_files
from stc_harness.report.render import html_chunks, make_view
from stc_harness.report.summary import summary_lines

#: The file name (without suffix) of the report files a run writes.
STEM = "compatibility"


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write `text` (a string, or its chunks) to a temporary file beside `path`, then rename it there.

    Control characters and surrogates are written as escapes: no string, whatever its bytes, stops a write.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20) as fh:
            if isinstance(text, str):
                fh.write(printable(text))
            else:
                fh.writelines(map(printable, text))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_json(doc: dict[str, Any]) -> str:
    """The report as compact JSON (field order kept: the builder already sorts what needs sorting)."""
    return "".join(json_chunks(doc))


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: rendering makes no cycles, and with a large report in memory
    its full passes cost more than the rendering itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_details(view: Any, folder: Path, stem: str) -> list[Path]:
    """Write the details folder `<stem>-details/` (one file per area, and the rest); remove files of areas
    an earlier report had and this one has not. Nothing is written for a report without checks."""
    target = folder / details_dir(stem)
    if not view.rows:
        return []
    written = []
    for name, lines in details_files(view, stem):
        write_atomic(target / name, (line + "\n" for line in lines))
        written.append(target / name)
    names = {p.name for p in written}
    for old in target.glob("area-*.md"):
        if old.name not in names:
            old.unlink(missing_ok=True)
    return written


def write_renderings(doc: dict[str, Any], folder: Path, stem: str = STEM) -> list[Path]:
    """Write `<stem>.md` (the summary), its details folder and `<stem>.html` into `folder` (each file
    atomically, streamed from one view); returns the summary, the HTML, and the details folder (if any)."""
    md, html = folder / f"{stem}.md", folder / f"{stem}.html"
    with _no_gc():
        view = make_view(doc)
        write_atomic(md, (line + "\n" for line in summary_lines(view, stem)))
        details = write_details(view, folder, stem)
        write_atomic(html, html_chunks(view))
    return [md, html, *([details[0].parent] if details else [])]


def write_all(doc: dict[str, Any], folder: Path, stem: str = STEM) -> list[Path]:
    """Write `<stem>`.json, .md and .html (default compatibility.*) into `folder`, each atomically."""
    path = folder / f"{stem}.json"
    with _no_gc():
        write_atomic(path, json_chunks(doc))
    return [path, *write_renderings(doc, folder, stem)]
