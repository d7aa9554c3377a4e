"""Which CPU cores a campaign worker runs on: as many as it has threads, so workers scale by cores.

One seed keeps several processes busy at once (the generating process and one process per engine), so
a Dask worker left free would spread one seed over every core of its machine, and a second worker on
the same machine would only fill the gaps: adding workers would not measure (or buy) anything. So
each worker is confined to a share of its machine's cores, one core per worker thread, and everything
it runs (its threads, the engine processes it starts, their threads) stays inside that share. The
share changes only where the work runs, never what a seed finds.

Linux only (`os.sched_setaffinity`); elsewhere `confine` does nothing and says so.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psutil

#: This process's cores before `confine` first changed them (what its machine gave it).
_ORIGINAL: list[int] | None = None


@dataclass(frozen=True)
class Seat:
    """One worker as the planner sees it: its name, its machine, its threads, the machine's cores."""

    name: str
    host: str
    threads: int
    cores: tuple[int, ...]


def can_pin() -> bool:
    """Whether this platform lets a process choose its cores."""
    return hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")


def usable() -> list[int]:
    """The cores this process may use, as its machine gave them (before any `confine`)."""
    if _ORIGINAL is not None:
        return list(_ORIGINAL)
    if can_pin():
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def current() -> list[int]:
    """The cores this process runs on now."""
    return sorted(os.sched_getaffinity(0)) if can_pin() else usable()


def plan(seats: Iterable[Seat]) -> dict[str, list[int]]:
    """Each worker's cores: on each machine, workers (by name) take `threads` consecutive cores each,
    disjoint while the machine has enough; past that the shares wrap round and overlap."""
    by_host: dict[str, list[Seat]] = {}
    for seat in seats:
        by_host.setdefault(seat.host, []).append(seat)
    out: dict[str, list[int]] = {}
    for group in by_host.values():
        offset = 0
        for seat in sorted(group, key=lambda s: s.name):
            cores = list(seat.cores) or [0]
            take = max(1, min(seat.threads, len(cores)))
            out[seat.name] = sorted({cores[(offset + i) % len(cores)] for i in range(take)})
            offset += take
    return out


def _family() -> list[psutil.Process]:
    """This process and every process it started (their children too)."""
    me = psutil.Process()
    with contextlib.suppress(psutil.Error):
        return [me, *me.children(recursive=True)]
    return [me]


def where() -> dict[str, object]:
    """This machine's name and the cores this process may use (`plan` reads it from each worker)."""
    return {"hostname": socket.gethostname(), "cores": usable()}


def _threads(proc: psutil.Process) -> list[int]:
    with contextlib.suppress(psutil.Error):
        return [t.id for t in proc.threads()]
    return []


def confine(cores: Sequence[int]) -> bool:
    """Run this process, every thread of it, and every process it started (with their threads) on
    `cores` only; threads and processes started later inherit it. False where the platform cannot."""
    global _ORIGINAL
    if not can_pin():
        return False
    if _ORIGINAL is None:
        _ORIGINAL = sorted(os.sched_getaffinity(0))
    wanted = set(cores)
    for proc in _family():
        for tid in _threads(proc):
            with contextlib.suppress(ProcessLookupError, PermissionError):  # a thread that just ended
                os.sched_setaffinity(tid, wanted)
    return True


def affinities() -> dict[int, list[int]]:
    """Cores of this process and of every process it started, by pid (what `confine` set)."""
    out = {}
    for proc in _family():
        with contextlib.suppress(psutil.Error):
            out[proc.pid] = sorted(proc.cpu_affinity())
    return out
