"""Write the report files atomically: a killed run never leaves a truncated file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_all(doc: dict[str, Any], folder: Path) -> list[Path]:
    """Write compatibility.json, .md and .html into `folder`."""
    from harness.report.render import render_html, render_markdown

    out = []
    for name, text in (("compatibility.json", json.dumps(doc, indent=2, sort_keys=False) + "\n"),
                       ("compatibility.md", render_markdown(doc)),
                       ("compatibility.html", render_html(doc))):
        write_atomic(folder / name, text)
        out.append(folder / name)
    return out
