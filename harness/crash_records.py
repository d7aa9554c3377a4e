"""Crash records: a check whose process died is rebuilt from its node id and a sibling's record."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from stc_harness.core.records import check_record
from stc_harness.differences import Registry
from stc_harness.outcomes import CRASH

_CRASH_ID = re.compile(r"::(?P<func>test_\w+)\[(?P<target>.+)\]$")


def split_target(target: str, backend_ids: Iterable[str]) -> tuple[str, str | None]:
    """Split a test id's `<backend>[-<key>]` part, preferring the longest known backend id."""
    for sel_id in sorted(backend_ids, key=len, reverse=True):
        if target == sel_id:
            return sel_id, None
        if target.startswith(sel_id + "-"):
            return sel_id, target[len(sel_id) + 1:]
    sel_id, _, key = target.partition("-")
    return sel_id, key or None


def crash_record(nodeid: str, message: str, backend_ids: Iterable[str] = ()) -> dict[str, Any] | None:
    """The record of a check whose worker died under it, rebuilt from its node id.

    The check id assumes the module's area (`test_<area>.py`); `complete_crash_records` corrects it,
    and fills title and source, from another backend's record of the same check when there is one.
    """
    match = _CRASH_ID.search(nodeid)
    if not match:
        return None
    module = nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py").removeprefix("test_")
    target, key = split_target(match["target"], backend_ids)
    cid = f"{module}.{match['func'].removeprefix('test_')}" + (f"[{key}]" if key else "")
    return check_record(cid, module, target, CRASH, message=message, nodeid=nodeid)


def _sibling_key(nodeid: str, backend_ids: Iterable[str]) -> tuple[str, str | None] | None:
    match = _CRASH_ID.search(nodeid)
    if not match:
        return None
    _, key = split_target(match["target"], backend_ids)
    return nodeid[:match.start("target") - 1], key


def complete_crash_records(records: dict[tuple[str, str], dict[str, Any]], backend_ids: Iterable[str],
                           registry: Registry | None = None) -> None:
    """Give each crash record the check id, area, layer, title, source and entry of a sibling record,
    and the tracked SQLite's observation of that check (a crash has no attribution: nothing differed).

    A sibling is the record of the same test function and param key on another backend.
    """
    ids = list(backend_ids)
    siblings: dict[tuple[str, str | None], dict[str, Any]] = {}
    for rec in records.values():
        skey = _sibling_key(rec["nodeid"], ids)
        if skey and not (rec["outcome"] == CRASH and not rec["title"]):
            siblings.setdefault(skey, rec)
    for old_key, rec in list(records.items()):
        if rec["outcome"] != CRASH or rec["title"]:
            continue
        skey = _sibling_key(rec["nodeid"], ids)
        sib = siblings.get(skey) if skey else None
        if sib is not None:
            rec.update({k: sib.get(k) for k in ("check", "area", "layer", "title", "source", "entry",
                                                "tracked_observed")})
        elif registry is not None and (entry := registry.for_check(rec["check"])) is not None:
            rec["entry"] = entry.as_dict()
        new_key = (rec["check"], rec["backend"])
        if new_key != old_key:
            del records[old_key]
            records[new_key] = rec
