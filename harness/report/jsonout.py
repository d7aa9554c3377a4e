"""The report as compact JSON, produced in chunks: a top-level field per line, a check per line.

One line per check keeps a diff of two reports readable; chunks keep a large report from ever being one
string in memory. A check row repeats its registry entry; each distinct entry is encoded once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from stc_harness.report.encode import compact as _ENCODE

#: Top-level lists written one item per line.
LINE_LISTS = ("checks", "registry", "sections")
#: Items encoded per chunk.
CHUNK = 500


class _Rows:
    """Encodes check rows, splicing in the text of an entry already encoded for an earlier row."""

    def __init__(self) -> None:
        self.mark = f"\0entry-{uuid.uuid4().hex}\0"  # cannot occur in a report's own text
        self.mark_json = _ENCODE(self.mark)
        self.entries: dict[Any, tuple[dict[str, Any], str]] = {}

    def __call__(self, row: Any) -> str:
        entry = row.get("entry") if isinstance(row, dict) else None
        if not isinstance(entry, dict):
            return _ENCODE(row)
        key = entry.get("id")
        known = self.entries.get(key)
        if known is None or known[0] != entry:  # an equal entry: its text is the same
            known = self.entries[key] = (entry, _ENCODE(entry))
        return _ENCODE({**row, "entry": self.mark}).replace(self.mark_json, known[1], 1)


def json_chunks(doc: dict[str, Any]) -> Iterator[str]:
    """The report as compact JSON in chunks: a top-level field per line, a check (or entry) per line."""
    yield "{"
    for n, (key, value) in enumerate(doc.items()):
        yield ("\n" if n == 0 else ",\n") + _ENCODE(key) + ":"
        if key in LINE_LISTS and isinstance(value, list) and value:
            dump = _Rows() if key == "checks" else _ENCODE
            for at in range(0, len(value), CHUNK):
                yield ("[\n" if at == 0 else ",\n") + ",\n".join(map(dump, value[at:at + CHUNK]))
            yield "\n]"
        else:
            yield _ENCODE(value)
    yield "\n}\n"
