"""Builder options every backend validates alike (URL query and keywords), with errors naming the fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stc_harness.errors import UsageError


def coerce_bool(name: str, value: Any) -> bool:
    """Accept a bool or a URL-style string ('1', 'true', 'on', '0', 'false', 'off')."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", ""):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"option {name}={value!r} is not a boolean; use true or false")


def coerce_busy_timeout(value: Any) -> int:
    """A busy timeout in milliseconds, 0 or more."""
    try:
        ms = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"option busy_timeout={value!r} must be a whole number of milliseconds") from None
    if ms < 0:
        raise UsageError(f"option busy_timeout={ms} must be 0 or more milliseconds")
    return ms


def reject_unknown(backend: str, options: Mapping[str, Any], known: tuple[str, ...]) -> None:
    """Raise a usage error naming every unknown option and listing the known ones."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise UsageError(
            f"{backend}: unknown option(s) {', '.join(unknown)}; known options: {', '.join(sorted(known))}"
        )
