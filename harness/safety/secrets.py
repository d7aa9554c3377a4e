"""Secrets never reach an id, a message, a log or a report: known keys are redacted, key-shaped URLs refused.

A secret becomes known when an `EncryptionOpts` is made, when an environment variable with a secret-like
name holds one, or when a URL option carries one (that URL is then refused before anything is named
after it). `redact` replaces every known secret in a string or in nested data with `<redacted>`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "<redacted>"

#: Option and variable names that hold secrets.
SECRET_NAME = re.compile(r"key|secret|token|passw|credential|cipher_?key", re.IGNORECASE)
#: Values that look like keys whatever their name: long runs of hex or base64 characters.
KEY_SHAPED = re.compile(r"[0-9A-Fa-f]{32,}|[A-Za-z0-9+/_-]{40,}={0,2}")
#: Shorter values are not treated as secrets (redacting "1" or "true" everywhere would garble reports).
MIN_LENGTH = 8

_known: set[str] = set()


def remember(value: object) -> None:
    """Treat `value` (and its upper- and lower-case forms) as a secret from now on."""
    text = str(value)
    if len(text) >= MIN_LENGTH:
        _known.update({text, text.lower(), text.upper()})


def remember_environment(environ: Mapping[str, str] | None = None) -> None:
    """Remember the values of environment variables whose names say they hold a secret."""
    for name, value in (os.environ if environ is None else environ).items():
        if SECRET_NAME.search(name) and len(value) >= MIN_LENGTH and os.sep not in value:
            remember(value)


def is_secret_option(name: str, value: str) -> bool:
    """Whether a URL option carries a secret: by its name, or because its value is shaped like a key."""
    return bool(value) and (bool(SECRET_NAME.search(name)) or bool(KEY_SHAPED.search(value)))


def mask(text: str) -> str:
    """`text` with every key-shaped run replaced (for echoing user input that may hold a key)."""
    return KEY_SHAPED.sub(REDACTED, redact(text))


def redact(value: Any) -> Any:
    """`value` with every known secret replaced by `<redacted>`, in strings, dict keys and nested data."""
    if not _known:
        return value
    if isinstance(value, str):
        for secret in sorted(_known, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {redact(k): redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value
