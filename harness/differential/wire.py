"""The compact forms a batch travels in between the hunt and the backends' workers.

Cases go out as plain tuples (`WireCase`), pickled once per batch however many workers get it.
Outcomes come back packed per case (`Packed`): the observations pickled into one bytes object, plus
the raw messages (None when there are none). Equal bytes mean equal observations, so the hunt
compares most cases without unpickling them; bytes that differ are unpacked and compared exactly
(`compare.first_disagreement`), so the verdict is always the one the full outcomes give.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

from stc_harness.differential.case import Runnable
from stc_harness.differential.normalise import Outcome

#: A statement on the wire: SQL text, whether its rows compare in order, whether its row count counts.
WireStmt = tuple[str, bool, bool]
#: A case on the wire: whether it needs its own fresh database, and its statements.
WireCase = tuple[bool, tuple[WireStmt, ...]]
#: A case's outcomes on the wire: the pickled observations and the messages (None: all empty).
Packed = tuple[bytes, tuple[str, ...] | None]

PROTOCOL = pickle.HIGHEST_PROTOCOL


def to_wire(case: Runnable) -> WireCase:
    """The wire form of a case (a fast `expand.Concrete` carries it ready-made)."""
    try:
        return case.wire  # type: ignore[attr-defined, no-any-return]
    except AttributeError:
        pass
    return (bool(case.stateful), tuple((s.sql(), bool(s.ordered), bool(s.counted)) for s in case.statements))


def dumps(obj: Any) -> bytes:
    """Pickle for the wire."""
    return pickle.dumps(obj, PROTOCOL)


class WireBatch:
    """A batch in wire form; `payload` is its pickle, made once and sent to every worker."""

    def __init__(self, cases: Sequence[Runnable], pickled: bool = True) -> None:
        self.cases: list[WireCase] = [to_wire(c) for c in cases]
        self.statements = sum(len(w[1]) for w in self.cases)
        self.payload: bytes = dumps(self.cases) if pickled else b""


def pack(observations: list[dict[str, Any]], messages: Sequence[str] | None) -> Packed:
    """Pack one case's observations and messages."""
    kept = tuple(messages) if messages is not None and any(messages) else None
    return dumps(observations), kept


def pack_outcomes(outcomes: Sequence[Outcome]) -> Packed:
    """Pack one case's outcomes."""
    return pack([o.obs for o in outcomes], [o.message for o in outcomes])


def unpack(packed: Packed) -> list[Outcome]:
    """The outcomes of one packed case."""
    blob, messages = packed
    observations = pickle.loads(blob)
    if messages is None:
        return [Outcome(obs) for obs in observations]
    return [Outcome(obs, msg) for obs, msg in zip(observations, messages, strict=True)]
