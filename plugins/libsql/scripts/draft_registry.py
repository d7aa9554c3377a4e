"""Draft registry entries for libSQL's undocumented differences from a report (one entry per check).

    python plugins/libsql/scripts/draft_registry.py reports/compatibility.json suites/differences

A run with `--backend sqlite --backend turso --backend libsql --allow-undocumented` gives the report. Each
drafted entry expects exactly what libsql observed, is attributed as measured (engine layer: by the
tracked SQLite; driver and client layers: the driver's), and gets an impact by `impact_of` (Turso's own
entry's impact where Turso observes the same; else from the shape of the difference). Entries go to
`libsql_<layer>.toml`, appended after those already there; review them before committing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BACKEND = "libsql"
DIFFERING = ("undocumented-difference", "crash", "timeout")
ERROR_KEYS = ("raises", "error", "uncaught_error", "crash")


def _errors(value: Any) -> set[str]:
    """The error observations anywhere in `value` (`raises`/`error` values)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ERROR_KEYS:
                found.add(f"{key}:{json.dumps(inner, sort_keys=True)}")
            else:
                found |= _errors(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _errors(inner)
    return found


def _same(a: Any, b: Any) -> bool:
    """Exact equality of two JSON observations."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _has_none(value: Any) -> bool:
    """Whether a JSON value holds a null anywhere (TOML cannot say it)."""
    if isinstance(value, dict):
        return any(_has_none(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_none(v) for v in value)
    return value is None


def impact_of(row: dict[str, Any], libsql: dict[str, Any]) -> str:
    """Turso's impact where Turso observes the same; else by the difference's shape."""
    turso = row["results"].get("turso") or {}
    entry = row.get("entry") or {}
    if entry.get("impact") and "turso" in entry.get("expect", {}) and \
            _same(turso.get("observed"), libsql.get("observed")):
        return str(entry["impact"])
    if libsql["outcome"] in ("crash", "timeout"):
        return "error-appears-or-disappears"
    seen, base = _errors(libsql.get("observed")), _errors(libsql.get("baseline"))
    text = json.dumps(libsql.get("observed"))
    if "AttributeError" in text or "absent" in text or "missing" in text or row["area"] == "driver_surface":
        return "missing-api"
    if seen and base and seen != base:
        return "different-error"
    if bool(seen) != bool(base) or seen != base:
        return "error-appears-or-disappears"
    return "silent-data-change"


def _toml(value: Any) -> str:
    """A TOML value (JSON's scalars and arrays are TOML; tables become inline tables)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return json.dumps(value)


def draft(doc: dict[str, Any]) -> dict[str, list[str]]:
    """TOML entries by file name, for every libsql result that differs and is not documented."""
    info = next(b for b in doc["backends"] if b["id"] == BACKEND)
    out: dict[str, list[str]] = {}
    for row in doc["checks"]:
        res = row["results"].get(BACKEND)
        if not res or res["outcome"] not in DIFFERING:
            continue
        if res["outcome"] in ("crash", "timeout"):
            observed: Any = {res["outcome"]: res["message"]}
        else:
            observed = res["observed"]
        if _has_none(observed):
            continue  # TOML has no null: left for a person to write
        layer = row.get("layer", "engine")
        attribution = res.get("attribution") if layer == "engine" else "turso"
        if attribution not in ("turso", "sqlite-version"):
            attribution = "turso"
        name = row["id"].split(".", 1)[1]
        source = row.get("source") or {"document": "measured", "section": row["area"]}
        what = "the same as SQLite 3.50.4 (a SQLite version gap)" if attribution == "sqlite-version" \
            else "libSQL's own (SQLite 3.50.4 observes otherwise)" if layer == "engine" \
            else "the libsql module's own (driver and client layers are the driver's)"
        reason = (f"Measured on libsql {info['driver_version']} (SQLite {info['engine_version']}) against "
                  "the "
                  f"stdlib sqlite3: {res['message'][:400]}. Whose: {what}.")
        out.setdefault(f"libsql_{layer}.toml", []).append("\n".join([
            "[[difference]]",
            f"id = {json.dumps(row['area'] + '.libsql-' + name)}",
            f"area = {json.dumps(row['area'])}",
            f"check = {json.dumps(row['id'])}",
            f"title = {json.dumps('libSQL: ' + row['title'])}",
            f"source = {{ document = {json.dumps(source['document'])}, "
            f"section = {json.dumps(source['section'])} }}",
            f"reason = {json.dumps(reason)}",
            f"impact = {json.dumps(impact_of(row, res))}",
            f"attribution = {json.dumps(attribution)}",
            f"expect = {{ libsql = {_toml(observed)} }}",
        ]))
    return out


def main(argv: list[str]) -> int:
    """Read the report, append the drafted entries to `libsql_<layer>.toml` files in the folder."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    doc = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    folder = Path(argv[1])
    for name, entries in sorted(draft(doc).items()):
        path = folder / name
        head = "" if path.exists() else (f"# libSQL's own differences ({name.removesuffix('.toml')}), "
                                         "drafted by plugins/libsql/scripts/draft_registry.py "
                                         "from a measured run.\n\n")
        with path.open("a", encoding="utf-8") as fh:
            fh.write(head + "\n\n".join(entries) + "\n\n")
        print(f"{path}: {len(entries)} entries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
