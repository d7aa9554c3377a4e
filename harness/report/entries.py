"""Which registry entry covers one backend's result of a check row in a report document."""

from __future__ import annotations

from typing import Any


def entry_of(row: dict[str, Any], backend: str, registry: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The registry entry (as a dict) covering `backend`'s result of a check row: its own, else the row's."""
    own = (row.get("entries") or {}).get(backend)
    return registry.get(own, {"id": own}) if own else (row.get("entry") or {})
