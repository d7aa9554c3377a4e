"""Registry entries that name a function: what the drop-in's missing-feature errors cite.

Explaining a failure is not done here: divergences are explained by structure (stc_harness.dropin.causes).
"""

from __future__ import annotations

import json
import re
from typing import Any

from stc_harness.differences import Entry, Registry


def _entry_text(entry: Entry) -> str:
    return " ".join([entry.id, *entry.checks, entry.title, entry.reason,
                     json.dumps(entry.expect, default=str)]).lower()


def entry_lookup(registry: Registry) -> Any:
    """A function name -> ids of the entries that name it (for the drop-in's missing-name errors)."""

    def lookup(name: str) -> list[str]:
        pattern = re.compile(rf"\b{re.escape(name.lower())}\b")
        return [e.id for e in registry.entries.values() if pattern.search(_entry_text(e))][:3]

    return lookup
