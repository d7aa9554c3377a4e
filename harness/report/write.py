"""Write the report files atomically: a killed run never leaves a truncated file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

#: The file name (without suffix) of the report files a run writes.
STEM = "compatibility"


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_json(doc: dict[str, Any]) -> str:
    """The report as indented JSON (field order kept: the builder already sorts what needs sorting)."""
    return json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"


def write_renderings(doc: dict[str, Any], folder: Path, stem: str = STEM) -> list[Path]:
    """Write `<stem>.md` and `<stem>.html` into `folder` (each atomically)."""
    from harness.report.render import render_html, render_markdown

    out = [(folder / f"{stem}.md", render_markdown(doc)), (folder / f"{stem}.html", render_html(doc))]
    for path, text in out:
        write_atomic(path, text)
    return [path for path, _ in out]


def write_all(doc: dict[str, Any], folder: Path, stem: str = STEM) -> list[Path]:
    """Write `<stem>`.json, .md and .html (default compatibility.*) into `folder`, each atomically."""
    path = folder / f"{stem}.json"
    write_atomic(path, to_json(doc))
    return [path, *write_renderings(doc, folder, stem)]
