"""What a finding is about, beyond its signature: whose difference it is, and its cause.

Attribution: a hunt compares with the tracked SQLite (backend `sqlean`) by default, so a Turso
finding is Turso's own; a stdlib-SQLite lane that differs from it shows a SQLite version gap. With
the stdlib SQLite as the reference, a Turso finding the tracked SQLite shares is a version gap too.

Cause: findings with different signatures often share one cause (an alias of a function, one error
message, a last-digit float difference). `cause` names it, so the output lists each cause once, and
`ulps` measures how far two floats are apart in units in the last place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from stc_harness.differential.compare import first_disagreement
from stc_harness.outcomes import SQLITE_BACKENDS, TRACKED_BACKEND, TURSO_OWN, VERSION_GAP

#: A hunt's attribution when nothing measured it (no tracked SQLite ran).
UNKNOWN = "unknown"
#: Float differences up to this many units in the last place are "last-digit" (one `ulp` cause).
ULP_LIMIT = 4096
#: Aliases: one function under two names is one cause.
ALIASES = {"substring": "substr", "ceiling": "ceil", "power": "pow", "format": "printf", "if": "iif",
           "string_agg": "group_concat"}


def default_reference() -> str:
    """The tracked SQLite (`TRACKED_BACKEND`) when sqlean.py is installed, else the stdlib `sqlite`."""
    try:
        import sqlean  # noqa: F401
    except ImportError:
        return "sqlite"
    return TRACKED_BACKEND


def attribution(backend: str, reference: str, outcomes: dict[str, Any]) -> str:
    """Whose difference a finding of `backend` against `reference` is (`outcomes`: every backend's)."""
    if backend in SQLITE_BACKENDS:
        return VERSION_GAP  # one SQLite release against another
    if reference == TRACKED_BACKEND:
        return TURSO_OWN
    tracked = outcomes.get(TRACKED_BACKEND)
    if tracked is None:
        return UNKNOWN
    return VERSION_GAP if first_disagreement(tracked, outcomes[backend]) is None else TURSO_OWN


def _reals(obs: Any) -> list[tuple[Any, Any]]:
    return [tuple(v) for row in obs.get("rows", []) for v in row] if isinstance(obs, dict) else []


def ulps(ref: Any, other: Any) -> float | None:
    """The largest distance in ulps between the two observations' REAL values, when they differ only
    there (same rows, same storage classes, every other value equal); None otherwise."""
    a, b = _reals(ref), _reals(other)
    if not a or len(a) != len(b) or set(ref) != set(other) or ref.get("rowcount") != other.get("rowcount"):
        return None
    worst = 0.0
    for (ca, va), (cb, vb) in zip(a, b, strict=True):
        if ca != cb:
            return None
        if va == vb:
            continue
        if ca != "real" or not isinstance(va, float) or not isinstance(vb, float):
            return None
        worst = max(worst, abs(va - vb) / math.ulp(max(abs(va), abs(vb))))
    return worst if worst else None


_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"|\b\d+(\.\d+)?\b|x'[0-9a-fA-F]*'")


def _message(text: str) -> str:
    text = text.split(": ", 1)[1] if ": " in text else text
    return _LITERAL.sub("_", text).strip()[:80]


_NEG_ZERO = "float:-0.0"


def only_negative_zero(ref: Any, other: Any) -> bool:
    """Whether the two observations differ only in a REAL that is -0.0 on one side and 0.0 on the other."""
    a, b = _reals(ref), _reals(other)
    if not a or len(a) != len(b) or ref.get("rowcount") != other.get("rowcount"):
        return False
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return bool(pairs) and all({x[1], y[1]} == {_NEG_ZERO, 0.0} and x[0] == y[0] == "real" for x, y in pairs)


def cause(signature: str, kind: str, ref: Any, other: Any, ref_message: str, other_message: str) -> str:
    """A short name of what the finding is about; findings with the same one are shown together."""
    if kind in ("value", "class", "rows") and only_negative_zero(ref, other):
        return "negative zero: -0.0 on one side, 0.0 on the other"
    if kind in ("value", "class", "rows") and (u := ulps(ref, other)) is not None and u <= ULP_LIMIT:
        return "ulp: last-digit float differences"
    other_err = isinstance(other, dict) and other.get("error")
    ref_err = isinstance(ref, dict) and ref.get("error")
    if other_err and not ref_err:
        return f"fails with {other_err}: {_message(other_message)}"
    if ref_err and not other_err:
        return f"succeeds where the reference fails with {ref_err}: {_message(ref_message)}"
    if ref_err and other_err:
        return f"error kind {other_err} instead of {ref_err}: {_message(other_message)}"
    parts = signature.split(".")
    head = ALIASES.get(parts[1], parts[1]) if len(parts) > 1 else signature
    return f"{parts[0]}.{head}: {kind}"


# --- Cause keys: what a campaign groups findings by, stable from run to run ---------------------------

#: Float differences up to this many ulps are known noise: two results one unit in the last place apart
#: are both faithful roundings of any exact value between them, so neither is shown to be wrong. Shown
#: only with `--show-noise`; larger last-digit differences stay causes of their own.
NOISE_ULPS = 1.0
#: Discovery kinds whose result is a killed, panicked or silent engine.
_DEATH_KINDS = {"crash": "crash", "panic": "crash", "hang": "hang"}
_SLUG = re.compile(r"[^a-z0-9]+")
_PANIC_AT = re.compile(r"panicked at ([^\s:|]+)")


def _slug(text: str, limit: int = 48) -> str:
    """A lower-case, dash-separated form of `text` for a cause id (literals already blanked)."""
    return _SLUG.sub("-", text.lower()).strip("-")[:limit].strip("-") or "none"


def _crash_detail(message: str) -> str:
    """Where an engine died: the source file of its panic, else how its process ended."""
    found = _PANIC_AT.search(message)
    if found:
        return _slug(found.group(1).rsplit("/", 1)[-1])
    if "killed by" in message:
        return _slug(message.split("killed by", 1)[1].split(":", 1)[0])
    return "no-message" if not message else _slug(_message(message), 24)


@dataclass(frozen=True)
class CauseKey:
    """What a finding's difference is, coarser than its signature, the same in every run (`id`).

    Value differences: per function or operator (aliases merged) and argument types; last-digit floats
    (`ulp`, `noise` when at most `NOISE_ULPS` apart) per function; -0.0 against 0.0 is one cause;
    errors (`error-vs-value`, `value-vs-error`, `error-class`) per case family, error kinds and message
    class (literals blanked), whichever function raised them; `crash`/`hang` per function and crash site.
    """

    backend: str
    what: str
    args: str
    result: str
    detail: str = ""
    noise: bool = False

    @property
    def id(self) -> str:
        """`<backend>:<what>[.<args>].<result>[.<detail>]`, e.g. `turso:expr.round.real.value`."""
        parts = [self.what, *([self.args] if self.args else []), self.result,
                 *([self.detail] if self.detail else [])]
        return f"{self.backend}:" + ".".join(parts)


def cause_key(signature: str, backend: str, kind: str, ref: Any, other: Any, ref_message: str,
              other_message: str) -> CauseKey:
    """The cause of a finding of `backend` (`ref`/`other`: the disagreeing statement's observations)."""
    parts = signature.split(".")
    category = parts[0]
    head = ALIASES.get(parts[1], parts[1]) if len(parts) > 1 else "none"
    args = parts[2] if len(parts) > 2 else "none"
    what = f"{category}.{head}"
    if kind in _DEATH_KINDS:
        return CauseKey(backend, what, "", _DEATH_KINDS[kind], _crash_detail(other_message))
    if kind in ("value", "class", "rows", "rowcount"):
        if only_negative_zero(ref, other):
            return CauseKey(backend, "any", "", "negative-zero")
        u = ulps(ref, other)
        if u is not None and u <= ULP_LIMIT:
            return CauseKey(backend, what, "", "ulp", noise=u <= NOISE_ULPS)
        return CauseKey(backend, what, args, "rowcount" if kind == "rowcount" else "value")
    # An error cause is its error class, whichever function raised it: one path parser, one message.
    ref_err = isinstance(ref, dict) and ref.get("error")
    other_err = isinstance(other, dict) and other.get("error")
    if other_err and not ref_err:
        detail = f"{_slug(str(other_err))}.{_slug(_message(other_message))}"
        return CauseKey(backend, category, "", "error-vs-value", detail)
    if ref_err and not other_err:
        detail = f"{_slug(str(ref_err))}.{_slug(_message(ref_message))}"
        return CauseKey(backend, category, "", "value-vs-error", detail)
    if ref_err and other_err:
        return CauseKey(backend, category, "", "error-class",
                        f"{_slug(str(ref_err))}-to-{_slug(str(other_err))}.{_slug(_message(other_message))}")
    return CauseKey(backend, what, args, _slug(kind))
