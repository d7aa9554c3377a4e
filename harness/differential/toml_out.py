"""Writing registry TOML (the stdlib reads TOML but cannot write it); output is verified by reading back."""

from __future__ import annotations

import re
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_string(text: str) -> str:
    """A TOML basic string, escaping quotes, backslashes and control characters."""
    out = []
    for ch in text:
        if ch in _SHORT:
            out.append(_SHORT[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    """A bare key when possible, else a quoted one."""
    return key if _BARE.match(key) else toml_string(key)


def toml_value(value: Any) -> str:
    """An inline TOML value for an observation (str, int, finite float, bool, list, dict)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if text in ("inf", "-inf", "nan"):
            raise ValueError("canonical observations never hold inf/nan floats")
        return text if any(c in text for c in ".e") else text + ".0"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def difference_table(entry: dict[str, Any]) -> str:
    """One `[[difference]]`: id, attribution, impact (if given), check, title, source, reason, expect."""
    lines = ["[[difference]]"]
    for key in ("id", "attribution", "impact", "check", "title"):
        if key in entry:
            lines.append(f"{key} = {toml_value(entry[key])}")
    lines.append(f"source = {toml_value(entry['source'])}")
    lines.append(f"reason = {toml_value(entry['reason'])}")
    lines.append("[difference.expect]")
    for backend, obs in entry["expect"].items():
        lines.append(f"{toml_key(backend)} = {toml_value(obs)}")
    return "\n".join(lines)


def registry_text(header: str, entries: list[dict[str, Any]]) -> str:
    """A whole registry file; raises if it does not read back to exactly the entries given."""
    text = header.rstrip() + "\n" + "".join("\n" + difference_table(e) + "\n" for e in entries)
    back = tomllib.loads(text).get("difference", [])
    if back != entries:
        raise ValueError("registry TOML did not read back to the entries written")
    return text
