"""A minimal repro of a divergence, written from the Turso trace: the statements before it, then the call."""

from __future__ import annotations

import re

from stc_harness.dropin.align import Divergence
from stc_harness.dropin.signature import call_group, statement_of
from stc_harness.dropin.sqlshape import statement_kind

#: Statements kept before the divergent one (the most recent ones that change state).
MAX_SETUP = 12
_STATE = (
    "create",
    "insert",
    "update",
    "delete",
    "replace",
    "drop",
    "alter",
    "pragma",
    "begin",
    "commit",
    "rollback",
    "savepoint",
    "release",
    "attach",
    "with",
)
_PLACEHOLDER = re.compile(r"<[^>]*>|…")


def _statement_line(event: list[str]) -> str | None:
    group = call_group(event[0])
    if group != "execute" or not statement_of(event[1]):
        return None
    method = event[0].rsplit(".", 1)[-1]
    method = method if method in ("executemany", "executescript") else "execute"
    return f"conn.{method}({event[1]})"


def repro(events: list[list[str]], d: Divergence) -> str:
    """Python lines showing `d`: run them with `sqlite3`, then with `import turso as sqlite3`."""
    if d.kind == "missing-name":
        owner = "Connection" if ".Connection." in f".{d.call}" else "Cursor" if "Cursor." in d.call else ""
        target = f"sqlite3.{owner}" if owner else "sqlite3"
        return (
            f"import sqlite3  # then: import turso as sqlite3\n"
            f"print(hasattr({target}, {d.missing_name!r}))  # SQLite: True | Turso: False"
        )
    lines = ["import sqlite3  # then: import turso as sqlite3"]
    setup: list[str] = []
    for event in events[: d.position]:
        line = _statement_line(event)
        sql = statement_of(event[1]) if line else ""
        if line and statement_kind(sql).split(" ")[0] in _STATE:
            setup.append(line)
    if any("Decimal(" in ln for ln in setup) or "Decimal(" in d.args:
        lines.append("from decimal import Decimal")
    if any("datetime." in ln for ln in setup) or "datetime." in d.args:
        lines.append("import datetime")
    lines.append("conn = sqlite3.connect(':memory:')")
    lines.extend(setup[-MAX_SETUP:])
    group = call_group(d.call)
    shown = f"SQLite {d.sqlite} | Turso {d.turso}".replace("\n", " ")
    if group == "execute":
        lines.append(f"print(conn.execute({d.args}).fetchall())  # {shown}")
    elif group == "fetch" and statement_of(d.args):
        lines.append(f"print(conn.execute({d.args.removeprefix('of ')}).fetchall())  # {shown}")
    elif d.call.startswith("Cursor.") and statement_of(d.args):
        attr = d.call.rsplit(".", 1)[-1]
        lines.append(f"print(conn.execute({d.args.removeprefix('of ')}).{attr})  # {shown}")
    else:
        lines.append(f"# {d.call}({d.args})  # {shown}")
    text = "\n".join(lines)
    if _PLACEHOLDER.search("\n".join(lines[1:-1]) + d.args):
        text += "\n# approximate: some values were normalised or clipped in the trace (<…>)"
    return text
