"""Triggers of every kind: BEFORE/AFTER/INSTEAD OF on INSERT/UPDATE/DELETE, UPDATE OF, WHEN, RAISE(),
TEMP triggers, recursive triggers; each observed by the rows its body writes to a log table.
"""

from __future__ import annotations

from stc_harness import CheckContext, Source, check, rows

CREATE_TRIGGER = Source("https://sqlite.org/lang_createtrigger.html", "CREATE TRIGGER")

BASE = (
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, w INTEGER)",
    "CREATE TABLE log (what TEXT, old_v INTEGER, new_v INTEGER)",
    "INSERT INTO t VALUES (1, 10, 100)",
)

#: (trigger DDL, the statement that fires it).
TRIGGERS: dict[str, tuple[str, str]] = {
    "before_insert": (
        "CREATE TRIGGER tr BEFORE INSERT ON t BEGIN INSERT INTO log VALUES ('bi', NULL, NEW.v); END",
        "INSERT INTO t VALUES (2, 20, 200)",
    ),
    "after_insert": (
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('ai', NULL, NEW.id); END",
        "INSERT INTO t (v) VALUES (30)",
    ),
    "before_update": (
        "CREATE TRIGGER tr BEFORE UPDATE ON t BEGIN INSERT INTO log VALUES ('bu', OLD.v, NEW.v); END",
        "UPDATE t SET v = 11",
    ),
    "after_update": (
        "CREATE TRIGGER tr AFTER UPDATE ON t BEGIN INSERT INTO log VALUES ('au', OLD.v, NEW.v); END",
        "UPDATE t SET v = 12",
    ),
    "update_of_column_fires": (
        "CREATE TRIGGER tr AFTER UPDATE OF w ON t BEGIN INSERT INTO log VALUES ('uo', OLD.w, NEW.w); END",
        "UPDATE t SET w = 101",
    ),
    "update_of_column_skips": (
        "CREATE TRIGGER tr AFTER UPDATE OF w ON t BEGIN INSERT INTO log VALUES ('uo', OLD.w, NEW.w); END",
        "UPDATE t SET v = 13",
    ),
    "before_delete": (
        "CREATE TRIGGER tr BEFORE DELETE ON t BEGIN INSERT INTO log VALUES ('bd', OLD.v, NULL); END",
        "DELETE FROM t",
    ),
    "after_delete": (
        "CREATE TRIGGER tr AFTER DELETE ON t BEGIN INSERT INTO log VALUES ('ad', OLD.v, NULL); END",
        "DELETE FROM t",
    ),
    "when_true": (
        "CREATE TRIGGER tr AFTER INSERT ON t WHEN NEW.v > 5 BEGIN "
        "INSERT INTO log VALUES ('w', NULL, NEW.v); END",
        "INSERT INTO t (v) VALUES (6)",
    ),
    "when_false": (
        "CREATE TRIGGER tr AFTER INSERT ON t WHEN NEW.v > 5 BEGIN "
        "INSERT INTO log VALUES ('w', NULL, NEW.v); END",
        "INSERT INTO t (v) VALUES (4)",
    ),
    "for_each_row_multi": (
        "CREATE TRIGGER tr AFTER UPDATE ON t FOR EACH ROW BEGIN "
        "INSERT INTO log VALUES ('r', OLD.id, NEW.id); END",
        "UPDATE t SET v = v + 1 WHERE id IN (1, (SELECT max(id) FROM t))",
    ),
    "before_insert_modifies_other_row": (
        "CREATE TRIGGER tr BEFORE INSERT ON t BEGIN UPDATE t SET w = -1 WHERE id = 1; END",
        "INSERT INTO t (v) VALUES (7)",
    ),
    "instead_of_insert_on_view": (
        "CREATE VIEW vt AS SELECT id, v FROM t; CREATE TRIGGER tr INSTEAD OF INSERT ON "
        "vt BEGIN INSERT INTO t (v, w) VALUES (NEW.v, 0); END",
        "INSERT INTO vt (v) VALUES (50)",
    ),
    "instead_of_update_on_view": (
        "CREATE VIEW vt AS SELECT id, v FROM t; CREATE TRIGGER tr INSTEAD OF UPDATE ON "
        "vt BEGIN UPDATE t SET v = NEW.v * 2 WHERE id = OLD.id; END",
        "UPDATE vt SET v = 21 WHERE id = 1",
    ),
    "instead_of_delete_on_view": (
        "CREATE VIEW vt AS SELECT id, v FROM t; CREATE TRIGGER tr INSTEAD OF DELETE ON "
        "vt BEGIN INSERT INTO log VALUES ('id', OLD.v, NULL); END",
        "DELETE FROM vt",
    ),
    "raise_ignore": (
        "CREATE TRIGGER tr BEFORE INSERT ON t WHEN NEW.v < 0 BEGIN SELECT RAISE(IGNORE); END",
        "INSERT INTO t (v) VALUES (-5)",
    ),
    "raise_abort": (
        "CREATE TRIGGER tr BEFORE INSERT ON t WHEN NEW.v < 0 BEGIN SELECT RAISE(ABORT, 'neg'); END",
        "INSERT INTO t (v) VALUES (-5)",
    ),
    "raise_fail": (
        "CREATE TRIGGER tr BEFORE INSERT ON t WHEN NEW.v < 0 BEGIN SELECT RAISE(FAIL, 'neg'); END",
        "INSERT INTO t (v) VALUES (1), (-5)",
    ),
    "temp_trigger": (
        "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('tmp', NULL, NEW.v); END",
        "INSERT INTO t (v) VALUES (8)",
    ),
    "cascade_two_triggers": (
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('one', NULL, NEW.v);"
        " END; CREATE TRIGGER tr2 AFTER INSERT ON log WHEN NEW.what = 'one' BEGIN "
        "INSERT INTO log VALUES ('two', NULL, NEW.new_v); END",
        "INSERT INTO t (v) VALUES (9)",
    ),
    "recursive_off_by_default": (
        "CREATE TRIGGER tr AFTER INSERT ON t WHEN NEW.v < 3 BEGIN INSERT INTO t (v) VALUES (NEW.v + 1); END",
        "INSERT INTO t (v) VALUES (1)",
    ),
    "recursive_on": (
        "PRAGMA recursive_triggers = ON; CREATE TRIGGER tr AFTER INSERT ON t WHEN NEW.v < 3 BEGIN "
        "INSERT INTO t (v) VALUES (NEW.v + 1); END",
        "INSERT INTO t (v) VALUES (1)",
    ),
}


def _statements(script: str) -> list[str]:
    """Split a script on `; ` outside trigger bodies (each body ends with `END`)."""
    parts, current = [], ""
    for piece in script.split("; "):
        current = f"{current}; {piece}" if current else piece
        if "BEGIN" not in current.upper().split("TRIGGER", 1)[-1] or current.rstrip().upper().endswith("END"):
            parts.append(current)
            current = ""
    if current:
        parts.append(current)
    return parts


@check(
    title="A trigger fires (or not) and what its body writes",
    source=CREATE_TRIGGER,
    params={k: k for k in TRIGGERS},
)
async def test_trigger(ctx: CheckContext, key: str) -> object:
    ddl, statement = TRIGGERS[key]
    conn = await ctx.connect(ctx.url(memory=True))
    for sql in BASE:
        await conn.execute(sql)
    created = None
    for sql in _statements(ddl):
        created = await ctx.attempt(conn.execute(sql), "raw_create")
        if "error" in created:
            return {"create": created}
    fired = await ctx.attempt(conn.execute(statement), "raw_fire")
    return {
        "statement": "ok" if "ok" in fired else fired,
        "log": rows(await conn.fetch_all("SELECT what, old_v, new_v FROM log ORDER BY rowid")),
        "t": rows(await conn.fetch_all("SELECT id, v, w FROM t ORDER BY id")),
    }
