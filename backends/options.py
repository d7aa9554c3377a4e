"""Builder option helpers, now public in `stc_harness.adapters.options` (kept here for the built-in
adapters)."""

from stc_harness.adapters.options import coerce_bool, coerce_busy_timeout, reject_unknown

__all__ = ["coerce_bool", "coerce_busy_timeout", "reject_unknown"]
