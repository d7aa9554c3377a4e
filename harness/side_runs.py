"""Runs a check makes beside its own (the reference's, the tracked SQLite's, the variants'): a tracer of
driver calls (the drop-in's evidence) leaves them out, so a check's trace is its own run alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_DEPTH = [0]


@contextmanager
def side_run() -> Iterator[None]:
    """Mark the calls made inside as another run's (a process runs one check at a time)."""
    _DEPTH[0] += 1
    try:
        yield
    finally:
        _DEPTH[0] -= 1


def active() -> bool:
    """True while a side run is going on."""
    return _DEPTH[0] > 0
