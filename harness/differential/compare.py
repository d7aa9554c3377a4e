"""Comparing two backends' outcomes of one case, and naming the kind of disagreement."""

from __future__ import annotations

from collections.abc import Sequence

from stc_harness.differential.normalise import Outcome, is_panic

#: Kinds of disagreement, as they appear at the end of a signature.
KINDS = {
    "value": "same storage classes, different values",
    "class": "different storage classes",
    "rows": "different number or shape of rows",
    "rowcount": "same rows, different row count",
    "only-reference-fails": "the reference fails, the other backend succeeds",
    "only-other-fails": "the other backend fails, the reference succeeds",
    "error-kind": "both fail, with different error kinds",
    "panic": "the other backend panicked",
    "crash": "the other backend killed its process (an abort no exception can catch)",
    "hang": "the other backend did not answer in time",
}
_DEATHS = {"CRASH": "crash", "HANG": "hang"}


def _row_kind(ref: list[list[object]], other: list[list[object]]) -> str:
    if len(ref) != len(other) or any(len(a) != len(b) for a, b in zip(ref, other, strict=True)):
        return "rows"
    for row_a, row_b in zip(ref, other, strict=True):
        for a, b in zip(row_a, row_b, strict=True):
            if a[0] != b[0]:  # type: ignore[index]
                return "class"
    return "value"


def disagreement(ref: Outcome, other: Outcome) -> str | None:
    """The kind of disagreement between two outcomes of the same statement, or None when they agree."""
    if ref.obs == other.obs:
        return None
    if is_panic(other):
        return "panic"
    if other.error in _DEATHS:
        return _DEATHS[other.error]
    if ref.error and other.error:
        return "error-kind"
    if ref.error:
        return "only-reference-fails"
    if other.error:
        return "only-other-fails"
    if ref.obs["rows"] != other.obs["rows"]:
        return _row_kind(ref.obs["rows"], other.obs["rows"])
    return "rowcount"


def first_disagreement(ref: Sequence[Outcome], other: Sequence[Outcome]) -> tuple[int, str] | None:
    """The index of the first statement the two backends disagree on, and the kind; None if none."""
    for i, (a, b) in enumerate(zip(ref, other, strict=False)):
        kind = disagreement(a, b)
        if kind is not None:
            return i, kind
    if len(ref) != len(other):
        return min(len(ref), len(other)), "rows"
    return None
