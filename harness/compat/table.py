"""COMPAT.md as rows: parse the Markdown tables, and read/write `suites/compat/turso_compat.toml`."""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stc_harness.differential.toml_out import toml_string
from stc_harness.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Where the project keeps the table (relative to the repository root).
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "suites" / "compat" / "turso_compat.toml"
#: The claims a row can make; "Turso-only" is a row of a table listing Turso's own additions (no status).
CLAIMS = ("Yes", "Partial", "No", "Not Needed", "Turso-only")
_STATUS = (("Not Needed", re.compile(r"not\s*needed", re.I)), ("Partial", re.compile(r"\bpartial\b", re.I)),
           ("Yes", re.compile(r"\byes\b", re.I)), ("No", re.compile(r"\bno\b", re.I)))
_HEADING = re.compile(r"^(#{2,6})\s+(.*?)\s*$")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Row:
    """One row of the vendor's table: where it is, what it names, what it claims, and its comment."""

    key: str
    section: str
    feature: str
    claim: str
    comment: str


@dataclass(frozen=True)
class Source:
    """The revision the rows were taken from."""

    repository: str
    path: str
    commit: str
    commit_date: str
    crate_version: str
    pyturso: str

    def cite(self) -> str:
        """`tursodatabase/turso@<commit> COMPAT.md (crate 0.8.0-pre.7; measured with pyturso 0.8.3)`."""
        return (f"{self.repository}@{self.commit[:12]} {self.path} (crate {self.crate_version}, "
                f"{self.commit_date}; measured with pyturso {self.pyturso})")


def slug(text: str) -> str:
    """Lower-case, alphanumerics and underscores only (a stable key part)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "row"


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [c.strip() for c in inner.split("|")]


def _claim(cell: str) -> str | None:
    for name, pattern in _STATUS:
        if pattern.search(cell):
            return name
    return None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _LINK.sub(r"\1", text)).strip()


def parse(markdown: str) -> list[Row]:
    """Every row of every table in COMPAT.md, with its section (nearest heading, plus a `Label:` line
    introducing the table). Keys are `<section>-<feature>` slugs, made unique with a counter."""
    rows: list[Row] = []
    section, label, header = "", "", None
    seen: dict[str, int] = {}
    for raw in markdown.splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line)
        if heading:
            section, label, header = _clean(heading.group(2)), "", None
            continue
        if not line.strip().startswith("|"):
            header = None
            if line.strip().endswith(":") and len(line.strip()) < 40:
                label = line.strip().rstrip(":").strip()
            continue
        cells = _cells(line)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if all(set(c) <= set("-: ") for c in cells):
            continue
        feature = _clean(cells[0].strip("`"))
        status_at = next((i for i, h in enumerate(header) if h == "status"), None)
        comment_at = next((i for i, h in enumerate(header) if h == "comment"), None)
        if status_at is not None and status_at < len(cells):
            claim = _claim(cells[status_at])
            if claim is None:
                raise UsageError(f"COMPAT.md row {feature!r} in {section!r}: "
                                 f"unknown status {cells[status_at]!r}")
        else:
            claim = "Turso-only"
        comment = _clean(cells[comment_at]) if comment_at is not None and comment_at < len(cells) else ""
        where = f"{section} {label}".strip() if label else section
        base = f"{slug(where)}-{slug(feature)}"
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}-{seen[base]}"
        rows.append(Row(key, where, feature, claim, comment))
    return rows


HEADER = """\
# Turso's compatibility table (COMPAT.md in tursodatabase/turso) as data: one [[row]] per table row,
# with the section, the feature, the claim (Yes / Partial / No / Not Needed; Turso-only for the tables
# of Turso's own additions, which carry no status) and the comment, exactly as the vendor wrote them.
# suites/engine/test_compat.py probes every row. Regenerate, never edit by hand:
#   python -m stc_harness compat-update --from <turso checkout or bare git dir> [--commit REV] [--pyturso VER]
"""


def dump(source: Source, rows: list[Row]) -> str:
    """The TOML text of the table (verified by reading it back)."""
    out = [HEADER, "[source]"]
    out += [f"{k} = {toml_string(v)}" for k, v in asdict(source).items()]
    for row in rows:
        out.append("\n[[row]]")
        out += [f"{k} = {toml_string(v)}" for k, v in asdict(row).items()]
    text = "\n".join(out) + "\n"
    if load_text(text) != (source, rows):
        raise AssertionError("the compat table did not read back as written")
    return text


def load_text(text: str) -> tuple[Source, list[Row]]:
    """Parse the TOML text of a table."""
    data: dict[str, Any] = tomllib.loads(text)
    source = Source(**data["source"])
    rows = [Row(**r) for r in data.get("row", [])]
    bad = [r.key for r in rows if r.claim not in CLAIMS]
    if bad:
        raise UsageError(f"compat table: rows with an unknown claim: {', '.join(bad)}")
    return source, rows


def load(path: Path = DEFAULT_PATH) -> tuple[Source, list[Row]]:
    """The table the project keeps; a missing or broken file names the command that rebuilds it."""
    try:
        return load_text(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, TypeError, KeyError) as exc:
        raise UsageError(f"{path}: cannot read the compat table ({exc}); rebuild it with "
                         "`python -m stc_harness compat-update --from <turso checkout>`") from exc
