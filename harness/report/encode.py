"""Compact JSON text of a value, as every report format writes it."""

from __future__ import annotations

import json
import json.encoder
from typing import Any


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
