"""Compact JSON text of a value, as every report format writes it."""

from __future__ import annotations

import json
import json.encoder
import re
from typing import Any

#: What a text file or a terminal cannot take as it is: control characters other than tab and newlines,
#: and surrogates (a lone one comes from `os.fsdecode` of bytes that are not UTF-8).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _compact_encoder() -> Any:
    """`value -> compact JSON text`, made once (json.dumps builds an encoder on every call).

    CPython's C encoder is called directly when present: for the tens of thousands of small values a
    large report formats, building the encoder object per call costs a third of the time. The output
    is exactly `json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)`.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str,
                                check_circular=False).encode
    encode = make(None, str, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda value: "".join(encode(value, 0))


_ENCODE = _compact_encoder()


def compact(value: Any) -> str:
    """A value as compact one-line JSON (non-ASCII kept readable)."""
    return _ENCODE(value)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with control characters and surrogates written as escapes (`\\x00`, `\\udcff`).

    Whatever its bytes, a string then encodes as UTF-8 and shows in a terminal. Inside JSON text a
    surrogate's escape is JSON's own (`\\udcff` reads back as the same string); JSON text has no raw
    control characters to escape.
    """
    return _UNPRINTABLE.sub(_escape, text) if _UNPRINTABLE.search(text) else text
