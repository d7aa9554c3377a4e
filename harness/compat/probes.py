"""A small probe per row of Turso's compatibility table: the SQL that exercises the row's feature.

A probe is a few statements run in one batch on a fresh database; what each statement did (rows by
storage class, or the error kind) is the observation, compared with the reference SQLite. `shape`
probes compare only whether the last statement worked and whether it returned rows (for PRAGMAs whose
value depends on the build, such as compile options, and EXPLAIN): a PRAGMA accepted and ignored
returns no rows, so it never passes for one that works. Rows of Turso's own additions
(extensions, Turso-only PRAGMAs) are `turso_only`: SQLite has no such feature, so the probe asks only
whether it works. Rows of the C API and VDBE opcodes have no SQL probe: `not_probed` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stc_harness.compat.observe import shaped, shaped_where
from stc_harness.compat.pragmas import PRAGMAS, SHAPE
from stc_harness.compat.table import Row

#: A table most statement probes start from.
T = ("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL)",
     "INSERT INTO t VALUES (1, 'x', 1.5), (2, 'y', NULL), (3, 'x', 3.0)")
U = ("CREATE TABLE u(a INTEGER, d TEXT)", "INSERT INTO u VALUES (1, 'one'), (3, 'three'), (4, 'four')")


@dataclass(frozen=True)
class Probe:
    """The statements of one row's probe and how to compare them."""

    sql: tuple[str, ...]
    shape: bool = False  # compare only "worked, and returned rows or not" of the last statement
    file: bool = False  # needs a database file (journal modes, VACUUM, ATTACH)
    turso_only: bool = False
    since: str = ""  # the SQLite release that added the feature, when newer than 3.40
    shape_sql: frozenset[str] = frozenset()  # statements compared by shape only, wherever they are

    def observe(self, obs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What is compared of the statements' outcomes (shape-only statements reduced)."""
        return shaped(shaped_where(obs, self.sql, self.shape_sql), self.shape)


def _q(*sql: str) -> tuple[str, ...]:
    return tuple(sql)


STATEMENTS: dict[str, tuple[str, ...]] = {
    "alter_table": _q(*T, "ALTER TABLE t ADD COLUMN e TEXT DEFAULT 'z'", "ALTER TABLE t RENAME COLUMN b TO bb",
                      "ALTER TABLE t RENAME TO t2", "SELECT * FROM t2 ORDER BY a"),
    "analyze": _q(*T, "CREATE INDEX tb ON t(b)", "ANALYZE", "SELECT tbl, idx FROM sqlite_stat1 ORDER BY idx"),
    "attach_database": _q("ATTACH DATABASE ':memory:' AS aux", "CREATE TABLE aux.x(v)",
                          "INSERT INTO aux.x VALUES (7)", "SELECT v FROM aux.x"),
    "begin_transaction": _q(*T, "BEGIN TRANSACTION", "INSERT INTO t(b) VALUES ('tx')", "ROLLBACK",
                            "SELECT count(*) FROM t"),
    "commit_transaction": _q(*T, "BEGIN", "INSERT INTO t(b) VALUES ('tx')", "COMMIT TRANSACTION",
                             "SELECT count(*) FROM t"),
    "check": _q("CREATE TABLE k(v INTEGER CHECK (v > 0))", "INSERT INTO k VALUES (1)", "INSERT INTO k VALUES (-1)",
                "SELECT v FROM k"),
    "create_index": _q(*T, "CREATE INDEX tb ON t(b, c DESC)", "CREATE UNIQUE INDEX tc ON t(c) WHERE c > 2",
                       "SELECT a FROM t WHERE b = 'x' ORDER BY a"),
    "create_table": _q("CREATE TABLE n(a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT 'd', c UNIQUE)",
                       "INSERT INTO n(c) VALUES (1)", "SELECT * FROM n"),
    "create_table_strict": _q("CREATE TABLE s(a INTEGER, b TEXT) STRICT", "INSERT INTO s VALUES (1, 'x')",
                              "INSERT INTO s VALUES ('abc', 'x')", "SELECT * FROM s"),
    "create_trigger": _q(*T, "CREATE TABLE log(m TEXT)",
                         "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.b); END",
                         "INSERT INTO t(b) VALUES ('fired')", "SELECT m FROM log"),
    "create_view": _q(*T, "CREATE VIEW v AS SELECT b, count(*) AS n FROM t GROUP BY b", "SELECT * FROM v"),
    "create_virtual_table": _q("CREATE VIRTUAL TABLE vt USING fts4(body)",
                               "INSERT INTO vt VALUES ('hello world')", "SELECT body FROM vt"),
    "delete": _q(*T, "DELETE FROM t WHERE b = 'x'", "SELECT a FROM t"),
    "detach_database": _q("ATTACH ':memory:' AS aux", "DETACH DATABASE aux", "SELECT name FROM pragma_database_list"),
    "drop_index": _q(*T, "CREATE INDEX tb ON t(b)", "DROP INDEX tb",
                     "SELECT count(*) FROM sqlite_schema WHERE type = 'index'"),
    "drop_table": _q(*T, "DROP TABLE t", "SELECT count(*) FROM sqlite_schema"),
    "drop_trigger": _q(*T, "CREATE TRIGGER tr AFTER DELETE ON t BEGIN SELECT 1; END", "DROP TRIGGER tr",
                       "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"),
    "drop_view": _q(*T, "CREATE VIEW v AS SELECT a FROM t", "DROP VIEW v", "SELECT count(*) FROM sqlite_schema"),
    "end_transaction": _q(*T, "BEGIN", "DELETE FROM t", "END TRANSACTION", "SELECT count(*) FROM t"),
    "explain": _q(*T, "SELECT count(*) > 0 FROM (SELECT 1)", "EXPLAIN SELECT a FROM t"),
    "indexed_by": _q(*T, "CREATE INDEX tb ON t(b)", "SELECT a FROM t INDEXED BY tb WHERE b = 'x'"),
    "insert": _q(*T, "INSERT INTO t(b, c) VALUES ('n', 2), ('m', 4)", "INSERT INTO t SELECT a + 10, b, c FROM t",
                 "SELECT count(*) FROM t"),
    "insert_on_conflict_upsert": _q(*T, "INSERT INTO t VALUES (1, 'new', 9) ON CONFLICT(a) DO UPDATE SET "
                                        "b = excluded.b || t.b", "SELECT * FROM t WHERE a = 1"),
    "on_conflict_clause": _q(*T, "INSERT OR IGNORE INTO t VALUES (1, 'dup', 0)",
                             "INSERT OR REPLACE INTO t VALUES (2, 'rep', 0)", "SELECT * FROM t"),
    "reindex": _q(*T, "CREATE INDEX tb ON t(b)", "REINDEX tb", "REINDEX", "SELECT a FROM t WHERE b = 'y'"),
    "release_savepoint": _q(*T, "SAVEPOINT s1", "DELETE FROM t", "RELEASE SAVEPOINT s1", "SELECT count(*) FROM t"),
    "replace": _q(*T, "REPLACE INTO t VALUES (1, 'r', 0)", "SELECT * FROM t WHERE a = 1"),
    "returning_clause": _q(*T, "INSERT INTO t(b) VALUES ('ret') RETURNING a, upper(b)",
                           "UPDATE t SET c = 0 WHERE a = 1 RETURNING *"),
    "rollback_transaction": _q(*T, "BEGIN", "DELETE FROM t", "ROLLBACK TRANSACTION", "SELECT count(*) FROM t"),
    "savepoint": _q(*T, "BEGIN", "SAVEPOINT s1", "DELETE FROM t", "ROLLBACK TO s1", "COMMIT",
                    "SELECT count(*) FROM t"),
    "select": _q("SELECT 1, 'a', 2.5, NULL, x'01'"),
    "select_where": _q(*T, "SELECT a FROM t WHERE c > 1 AND b <> 'y'"),
    "select_where_like": _q(*T, "SELECT a FROM t WHERE b LIKE 'X%'"),
    "select_limit": _q(*T, "SELECT a FROM t ORDER BY a LIMIT 2 OFFSET 1"),
    "select_order_by": _q(*T, "SELECT a, c FROM t ORDER BY c DESC NULLS LAST, a"),
    "select_group_by": _q(*T, "SELECT b, count(*), sum(c) FROM t GROUP BY b"),
    "select_having": _q(*T, "SELECT b, count(*) FROM t GROUP BY b HAVING count(*) > 1"),
    "select_join": _q(*T, *U, "SELECT t.a, u.d FROM t JOIN u ON t.a = u.a"),
    "select_cross_join": _q(*T, *U, "SELECT count(*) FROM t CROSS JOIN u"),
    "select_inner_join": _q(*T, *U, "SELECT t.b, u.d FROM t INNER JOIN u USING (a)"),
    "select_outer_join": _q(*T, *U, "SELECT t.a, u.d FROM t LEFT OUTER JOIN u ON t.a = u.a",
                            "SELECT t.a, u.d FROM t RIGHT JOIN u ON t.a = u.a",
                            "SELECT t.a, u.a FROM t FULL OUTER JOIN u ON t.a = u.a"),
    "select_join_using": _q(*T, *U, "SELECT a, b, d FROM t JOIN u USING (a)"),
    "select_natural_join": _q(*T, *U, "SELECT * FROM t NATURAL JOIN u"),
    "update": _q(*T, "UPDATE t SET c = coalesce(c, 0) + 1 WHERE b = 'x'", "SELECT a, c FROM t"),
    "vacuum": _q(*T, "DELETE FROM t", "VACUUM", "SELECT count(*) FROM t"),
    "with_clause": _q("WITH x(v) AS (SELECT 1 UNION ALL SELECT 2) SELECT sum(v) FROM x",
                      "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) "
                      "SELECT group_concat(n) FROM c"),
    "window_functions": _q(*T, "SELECT a, row_number() OVER w, rank() OVER w, sum(a) OVER w FROM t "
                               "WINDOW w AS (ORDER BY a)",
                           "SELECT a, lag(a) OVER (ORDER BY a), lead(a) OVER (ORDER BY a), "
                           "ntile(2) OVER (ORDER BY a), percent_rank() OVER (ORDER BY a), "
                           "cume_dist() OVER (ORDER BY a) FROM t",
                           "SELECT a, sum(a) OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t"),
    "generated": _q("CREATE TABLE g(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL)",
                    "INSERT INTO g(a) VALUES (3)", "SELECT a, b FROM g"),
    "without_rowid": _q("CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID", "INSERT INTO w VALUES ('a', 1)",
                        "UPDATE w SET v = 2 WHERE k = 'a'", "SELECT * FROM w"),
    "create_trigger_instead_of": _q(*T, "CREATE VIEW v AS SELECT a, b FROM t",
                                    "CREATE TRIGGER tv INSTEAD OF INSERT ON v BEGIN "
                                    "INSERT INTO t(a, b) VALUES (new.a, new.b); END",
                                    "INSERT INTO v VALUES (9, 'via view')", "SELECT b FROM t WHERE a = 9"),
    "create_view_if_not_exists": _q(*T, "CREATE VIEW IF NOT EXISTS v AS SELECT a FROM t",
                                    "CREATE VIEW IF NOT EXISTS v AS SELECT a FROM t", "SELECT count(*) FROM v"),
}

EXPRESSIONS: dict[str, tuple[str, ...]] = {
    "literals": _q("SELECT 1, -2, 3.5, 1e3, 'txt', x'ab', NULL, TRUE, FALSE, 0x10"),
    "schema_table_column": _q(*T, "SELECT main.t.a FROM main.t WHERE main.t.a = 1"),
    "unary_operator": _q("SELECT -(3), +'4', ~5, NOT 0, - NULL"),
    "binary_operator": _q("SELECT 7 % 3, 7 / 2, 1 << 3, 12 >> 2, 6 & 3, 6 | 1, 'a' || 'b', 1 <> 2, 2 >= 2"),
    "agg_filter_where": _q(*T, "SELECT count(*) FILTER (WHERE c > 1), sum(a) FILTER (WHERE b = 'x') FROM t"),
    "over": _q(*T, "SELECT a, avg(c) OVER (), row_number() OVER (ORDER BY a DESC) FROM t"),
    "expr": _q("SELECT (1 + 2) * 3, ((4))"),
    "cast_expr_as_type": _q("SELECT CAST('12abc' AS INTEGER), CAST(3.9 AS INT), CAST(5 AS TEXT), "
                            "CAST('1e2' AS REAL), CAST('x' AS BLOB), CAST('7.0' AS NUMERIC)"),
    "collate": _q("SELECT 'a' = 'A' COLLATE NOCASE, 'a ' = 'a' COLLATE RTRIM",
                  "SELECT 'a' = 'A' COLLATE no_such_collation"),
    "not_like": _q("SELECT 'abc' LIKE 'A_C', 'abc' NOT LIKE '%d', '10%' LIKE '10!%' ESCAPE '!'"),
    "not_glob": _q("SELECT 'abc' GLOB 'a*', 'abc' NOT GLOB 'A*', 'a1' GLOB 'a[0-9]'"),
    "not_regexp": _q("SELECT 'abc' REGEXP 'b', 'abc' NOT REGEXP '^z'"),
    "not_match": _q("CREATE VIRTUAL TABLE m USING fts4(body)", "INSERT INTO m VALUES ('hello world')",
                    "SELECT body FROM m WHERE body MATCH 'hello'"),
    "is_not": _q("SELECT NULL IS NULL, 1 IS NOT NULL, 1 IS 1, NULL IS NOT 1"),
    "is_not_distinct_from": _q("SELECT NULL IS DISTINCT FROM 1, NULL IS NOT DISTINCT FROM NULL"),
    "not_between_and": _q("SELECT 2 BETWEEN 1 AND 3, 5 NOT BETWEEN 1 AND 3, NULL BETWEEN 1 AND 2"),
    "not_in_select": _q(*T, "SELECT 1 IN (SELECT a FROM t), 9 NOT IN (SELECT a FROM t), 1 IN (2, NULL)"),
    "not_exists_select": _q(*T, "SELECT EXISTS (SELECT 1 FROM t WHERE b = 'y'), NOT EXISTS (SELECT 1 FROM t)"),
    "x_operator_select": _q(*T, "SELECT 2 = (SELECT min(a) + 1 FROM t)",
                            "SELECT (1, 'x') = (SELECT a, b FROM t WHERE a = 1)"),
    "case_when_then_else_end": _q("SELECT CASE 2 WHEN 1 THEN 'a' WHEN 2 THEN 'b' END, "
                                  "CASE WHEN NULL THEN 1 ELSE 0 END"),
    "raise": _q(*T, "CREATE TRIGGER tr BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'no deletes'); END",
                "DELETE FROM t", "SELECT count(*) FROM t"),
}

#: Scalar, math, aggregate, date/time and JSON rows: the expression probed (key suffix -> expression).
FUNCTIONS: dict[str, str] = {
    "abs_x": "abs(-3.5), abs(-7), abs(NULL)", "changes": "changes()", "char_x1_x2_xn": "char(72, 105, 233)",
    "coalesce_x_y": "coalesce(NULL, 2, 3)", "concat_x": "concat('a', 1, NULL, 2.5)",
    "concat_ws_sep_x": "concat_ws('-', 'a', NULL, 'b')", "format_format": "format('%d|%5.2f|%s', 3, 2.5, 'x')",
    "glob_x_y": "glob('a*', 'abc')", "hex_x": "hex('Az'), hex(10)", "ifnull_x_y": "ifnull(NULL, 'd')",
    "if_x_y_z": "if(1, 'y', 'n')", "iif_x_y_z": "iif(0, 'y', 'n')", "instr_x_y": "instr('hello', 'll')",
    "last_insert_rowid": "last_insert_rowid()", "length_x": "length('héllo'), length(x'0102'), length(12.5)",
    "like_x_y": "like('a%', 'ABC')", "like_x_y_z": "like('a!%', 'a%', '!')", "likelihood_x_y": "likelihood(5, 0.5)",
    "likely_x": "likely(5)", "load_extension_x": "load_extension('no_such_extension_file')",
    "load_extension_x_y": "load_extension('no_such_extension_file', 'entry')", "lower_x": "lower('ÀBC')",
    "ltrim_x": "ltrim('  a ')", "ltrim_x_y": "ltrim('xxa', 'x')", "max_x_y": "max(1, 'a', 2.5)",
    "min_x_y": "min(1, 'a', 2.5)", "nullif_x_y": "nullif(1, 1), nullif(1, 2)",
    "octet_length_x": "octet_length('héllo')", "printf_format": "printf('%05.1f %x %q', 3.14159, 255, 'it''s')",
    "quote_x": "quote('it''s'), quote(x'ab'), quote(1.5)", "random": "typeof(random())",
    "randomblob_n": "typeof(randomblob(4)), length(randomblob(4))", "replace_x_y_z": "replace('aaa', 'a', 'bc')",
    "round_x": "round(2.5), round(-2.5)", "round_x_y": "round(2.345, 2)", "rtrim_x": "rtrim(' a  ')",
    "rtrim_x_y": "rtrim('axx', 'x')", "sign_x": "sign(-2), sign(0), sign('x')", "soundex_x": "soundex('Robert')",
    "sqlite_compileoption_get_n": "typeof(sqlite_compileoption_get(0))",
    "sqlite_compileoption_used_x": "sqlite_compileoption_used('NO_SUCH_OPTION')",
    "sqlite_offset_x": "sqlite_offset(1)", "sqlite_source_id": "typeof(sqlite_source_id())",
    "sqlite_version": "typeof(sqlite_version())", "substr_x_y_z": "substr('hello', 2, 3)",
    "substr_x_y": "substr('hello', -3)", "substring_x_y_z": "substring('hello', 0, 2)",
    "substring_x_y": "substring('hello', 3)", "total_changes": "total_changes()", "trim_x": "trim('  a  ')",
    "trim_x_y": "trim('xax', 'x')", "typeof_x": "typeof(1), typeof(1.0), typeof('a'), typeof(x''), typeof(NULL)",
    "unhex_x": "unhex('4142')", "unhex_x_y": "unhex('41-42', '-')", "unicode_x": "unicode('é')",
    "unlikely_x": "unlikely(0)", "upper_x": "upper('àbc')", "unistr_x": "unistr('\\u00e9')",
    "unistr_quote_x": "unistr_quote('é')", "zeroblob_n": "hex(zeroblob(3))",
    # math
    "acos_x": "acos(0.5)", "acosh_x": "acosh(2)", "asin_x": "asin(0.5)", "asinh_x": "asinh(1)", "atan_x": "atan(1)",
    "atan2_y_x": "atan2(1, 2)", "atanh_x": "atanh(0.5)", "ceil_x": "ceil(1.2), ceil(-1.2), ceil(3)",
    "ceiling_x": "ceiling(1.5)", "cos_x": "cos(1)", "cosh_x": "cosh(1)", "degrees_x": "degrees(pi())",
    "exp_x": "exp(1)", "floor_x": "floor(-1.5), floor(2)", "ln_x": "ln(10)", "log_b_x": "log(2, 8)",
    "log_x": "log(100)", "log10_x": "log10(1000)", "log2_x": "log2(8)", "mod_x_y": "mod(7, 3), mod(7.5, 2)",
    "pi": "pi()", "pow_x_y": "pow(2, 10)", "power_x_y": "power(2, 0.5)", "radians_x": "radians(180)",
    "sin_x": "sin(1)", "sinh_x": "sinh(1)", "sqrt_x": "sqrt(2), sqrt(-1)", "tan_x": "tan(1)", "tanh_x": "tanh(1)",
    "trunc_x": "trunc(-2.7), trunc(2.7)",
    # date and time
    "date": "date('2024-01-31 10:20:30')", "time": "time('2024-01-31 10:20:30')",
    "datetime": "datetime(1700000000, 'unixepoch')", "julianday": "julianday('2024-01-31')",
    "unixepoch": "unixepoch('2024-01-31 00:00:00')", "strftime": "strftime('%Y/%m/%d %H:%M %j %w', '2024-02-29 13:05')",
    "timediff": "timediff('2024-03-01', '2024-01-01')",
    # json
    "json_json": "json(' { \"a\" : [1, 2] } ')", "jsonb_json": "hex(jsonb('{\"a\":1}'))",
    "json_array_value1_value2": "json_array(1, 'a', NULL, 2.5)", "jsonb_array_value1_value2": "hex(jsonb_array(1, 'a'))",
    "json_array_length_json": "json_array_length('[1,2,3]')",
    "json_array_length_json_path": "json_array_length('{\"a\":[1,2]}', '$.a')",
    "json_error_position_json": "json_error_position('{\"a\":}')",
    "json_extract_json_path": "json_extract('{\"a\":{\"b\":[5,6]}}', '$.a.b[1]', '$.a')",
    "jsonb_extract_json_path": "json(jsonb_extract('{\"a\":{\"b\":1}}', '$.a'))",
    "json_path": "'{\"a\":[1,2]}' -> '$.a'", "json_path-2": "'{\"a\":[1,2]}' ->> '$.a[0]'",
    "json_insert_json_path_value": "json_insert('{\"a\":1}', '$.b', 2, '$.a', 9)",
    "jsonb_insert_json_path_value": "json(jsonb_insert('{\"a\":1}', '$.b', 2))",
    "json_object_label1_value1": "json_object('a', 1, 'b', 'x')",
    "jsonb_object_label1_value1": "json(jsonb_object('a', 1))",
    "json_patch_json1_json2": "json_patch('{\"a\":1,\"b\":2}', '{\"b\":null,\"c\":3}')",
    "jsonb_patch_json1_json2": "json(jsonb_patch('{\"a\":1}', '{\"c\":3}'))",
    "json_pretty_json": "json_pretty('{\"a\":[1,2]}')", "json_remove_json_path": "json_remove('[1,2,3]', '$[1]')",
    "jsonb_remove_json_path": "json(jsonb_remove('[1,2,3]', '$[0]'))",
    "json_replace_json_path_value": "json_replace('{\"a\":1}', '$.a', 'x', '$.b', 2)",
    "jsonb_replace_json_path_value": "json(jsonb_replace('{\"a\":1}', '$.a', 5))",
    "json_set_json_path_value": "json_set('{\"a\":1}', '$.a', 2, '$.b', json('[1]'))",
    "jsonb_set_json_path_value": "json(jsonb_set('{\"a\":1}', '$.b', 3))",
    "json_type_json": "json_type('[1]'), json_type('1.5')", "json_type_json_path": "json_type('{\"a\":null}', '$.a')",
    "json_valid_json": "json_valid('{\"a\":1}'), json_valid('{a:1}')",
    "json_valid_json_flags": "json_valid('{a:1}', 2), json_valid('{\"a\":1}', 8)",
    "json_quote_value": "json_quote('a\"b'), json_quote(1.5)",
}

#: Aggregates and table-valued JSON functions: a whole query.
QUERIES: dict[str, str] = {
    "avg_x": "SELECT avg(v) FROM (VALUES (1), (2), (4)) AS x(v)",
    "count_x": "SELECT count(v) FROM (VALUES (1), (NULL), (3)) AS x(v)",
    "count": "SELECT count(*) FROM (VALUES (1), (NULL)) AS x(v)",
    "group_concat_x": "SELECT group_concat(v) FROM (SELECT 'a' AS v UNION ALL SELECT 'b')",
    "group_concat_x_y": "SELECT group_concat(v, ';') FROM (SELECT 'a' AS v UNION ALL SELECT 'b')",
    "string_agg_x_y": "SELECT string_agg(v, ';') FROM (SELECT 'a' AS v UNION ALL SELECT 'b')",
    "max_x": "SELECT max(v) FROM (SELECT 3 AS v UNION ALL SELECT 'a' UNION ALL SELECT NULL)",
    "min_x": "SELECT min(v) FROM (SELECT 3 AS v UNION ALL SELECT 'a' UNION ALL SELECT NULL)",
    "sum_x": "SELECT sum(v) FROM (SELECT 1 AS v UNION ALL SELECT 2.5)",
    "total_x": "SELECT total(v) FROM (SELECT 1 AS v UNION ALL SELECT NULL)",
    "json_group_array_value": "SELECT json_group_array(v) FROM (SELECT 1 AS v UNION ALL SELECT 'a')",
    "jsonb_group_array_value": "SELECT json(jsonb_group_array(v)) FROM (SELECT 1 AS v UNION ALL SELECT 'a')",
    "json_group_object_label_value": "SELECT json_group_object(k, v) FROM (SELECT 'a' AS k, 1 AS v)",
    "jsonb_group_object_name_value": "SELECT json(jsonb_group_object(k, v)) FROM (SELECT 'a' AS k, 1 AS v)",
    "json_each_json": "SELECT key, value, type FROM json_each('[1,\"a\",null]')",
    "json_each_json_path": "SELECT key, value FROM json_each('{\"a\":{\"x\":1,\"y\":2}}', '$.a')",
    "json_tree_json": "SELECT key, type, fullkey, path FROM json_tree('{\"a\":[1,{\"b\":2}]}')",
    "json_tree_json_path": "SELECT key, fullkey FROM json_tree('{\"a\":[1,2]}', '$.a')",
}

#: Date and time modifiers: the modifier probed on a fixed date.
MODIFIERS: dict[str, str] = {
    "days": "datetime('2024-01-31 10:00', '+2 days')", "hours": "datetime('2024-01-31 10:00', '-25 hours')",
    "minutes": "datetime('2024-01-31 10:00', '+90 minutes')",
    "seconds": "datetime('2024-01-31 10:00', '+3.5 seconds')",
    "months": "date('2024-01-31', '+1 month')", "years": "date('2024-02-29', '+1 year')",
    "timeoffset": "datetime('2024-01-31 10:00', '+01:30')",
    "dateoffset": "datetime('2024-01-31 10:00', '+0001-02-03')",
    "datetimeoffset": "datetime('2024-01-31 10:00', '+0001-02-03 04:05:06')",
    "ceiling": "date('2024-01-31', '+1 month', 'ceiling')", "floor": "date('2024-01-31', '+1 month', 'floor')",
    "startofmonth": "date('2024-01-31', 'start of month')", "startofyear": "date('2024-05-31', 'start of year')",
    "startofday": "datetime('2024-01-31 10:20', 'start of day')", "weekday_n": "date('2024-01-31', 'weekday 0')",
    "auto": "datetime(1700000000, 'auto'), datetime(2460000.5, 'auto')",
    "unixepoch": "datetime(1700000000, 'unixepoch')", "julianday": "datetime(2460000.5, 'julianday')",
    "localtime": "typeof(datetime('2024-01-31 10:00', 'localtime'))",
    "utc": "typeof(datetime('2024-01-31 10:00', 'utc'))", "subsec": "datetime(1700000000.25, 'unixepoch', 'subsec')",
}

#: "Partial" rows whose probe exercises exactly the limitation the comment states (WITH RECURSIVE,
#: lag/lead/ntile and frames, an idempotent CREATE VIEW IF NOT EXISTS, unknown collations, `%`, row
#: values against a subquery, schema-qualified columns): behaving as SQLite there contradicts the claim.
LIMITATION_PROBED = frozenset({
    "statements-with_clause", "statements-window_functions", "statements-create_view_if_not_exists",
    "expressions-collate", "expressions-binary_operator", "expressions-x_operator_select",
    "expressions-schema_table_column"})

#: Rows whose feature SQLite added after 3.40: the release, so a gap to an older SQLite reads as one.
SINCE = {"scalar_functions-unhex_x": "3.41", "scalar_functions-unhex_x_y": "3.41",
         "scalar_functions-octet_length_x": "3.43", "date_and_time_functions-timediff": "3.43",
         "scalar_functions-concat_x": "3.44", "scalar_functions-concat_ws_sep_x": "3.44",
         "aggregate_functions-string_agg_x_y": "3.44", "scalar_functions-if_x_y_z": "3.48",
         "scalar_functions-unistr_x": "3.50", "scalar_functions-unistr_quote_x": "3.50",
         "date_and_time_functions_modifiers-subsec": "3.42", "json_functions-json_pretty_json": "3.46",
         "statements-select_outer_join": "3.39", "expressions-is_not_distinct_from": "3.39",
         "aggregate_functions-group_concat_x_y": "", "json_functions-json_error_position_json": "3.42"}
for _k in ("jsonb_json", "jsonb_array_value1_value2", "jsonb_extract_json_path", "jsonb_insert_json_path_value",
           "jsonb_object_label1_value1", "jsonb_patch_json1_json2", "jsonb_remove_json_path",
           "jsonb_replace_json_path_value", "jsonb_set_json_path_value", "jsonb_group_array_value",
           "jsonb_group_object_name_value", "json_valid_json_flags"):
    SINCE[f"json_functions-{_k}"] = "3.45"

#: PRAGMA rows: a value to set (then read back); pragmas absent here are only read.
PRAGMA_SET = {"application_id": "77", "auto_vacuum": "1", "automatic_index": "0", "busy_timeout": "1234",
              "cache_size": "-500", "cache_spill": "0", "cell_size_check": "1", "checkpoint_fullfsync": "1",
              "defer_foreign_keys": "1", "foreign_keys": "1", "fullfsync": "1", "hard_heap_limit": "0",
              "ignore_check_constraints": "1", "journal_size_limit": "4096", "legacy_alter_table": "1",
              "locking_mode": "EXCLUSIVE", "max_page_count": "5000", "query_only": "1", "read_uncommitted": "1",
              "recursive_triggers": "1", "reverse_unordered_selects": "1", "secure_delete": "1",
              "soft_heap_limit": "0", "synchronous": "NORMAL", "temp_store": "2", "threads": "2",
              "trusted_schema": "0", "user_version": "42", "wal_autocheckpoint": "500", "writable_schema": "0",
              "analysis_limit": "100", "case_sensitive_like": "1", "count_changes": "1",
              "full_column_names": "1", "short_column_names": "0", "empty_result_callbacks": "1",
              "default_cache_size": "100", "schema_version": None, "mmap_size": "0", "page_size": "8192",
              "encoding": "'UTF-16le'", "journal_mode": "MEMORY", "legacy_file_format": "1"}
#: PRAGMAs whose answer depends on the build or the environment: compare whether they work, not values.
PRAGMA_SHAPE = ("compile_options", "function_list", "pragma_list", "collation_list", "module_list", "stats",
                "database_list", "data_version", "freelist_count", "page_count", "mmap_size", "shrink_memory",
                "optimize", "temp_store_directory", "data_store_directory", "vdbe_listing", "vdbe_trace",
                "vdbe_debug", "vdbe_addoptrace", "parser_trace", "soft_heap_limit", "hard_heap_limit", "threads",
                "wal_checkpoint", "analysis_limit")
#: PRAGMAs that take an argument (a table or index name) to say anything.
PRAGMA_ARG = {"foreign_key_list": "k", "index_info": "ki", "index_list": "k", "index_xinfo": "ki",
              "table_info": "k", "table_xinfo": "k", "foreign_key_check": "k", "incremental_vacuum": "1",
              "integrity_check": "k", "quick_check": "k", "table_list": "k"}
_PRAGMA_SETUP = ("CREATE TABLE p(id INTEGER PRIMARY KEY)",
                 "CREATE TABLE k(a INTEGER PRIMARY KEY, b TEXT UNIQUE, c REFERENCES p(id))",
                 "CREATE INDEX ki ON k(b, c)", "INSERT INTO k VALUES (1, 'x', 5)")

#: Turso's own additions: a probe that works on Turso if the feature exists.
TURSO_ONLY: dict[str, tuple[str, ...]] = {
    "uuid-uuid4": _q("SELECT length(uuid4())"), "uuid-uuid4_str": _q("SELECT length(uuid4_str())"),
    "uuid-uuid7_x": _q("SELECT length(uuid7()), length(uuid7(1700000000))"),
    "uuid-uuid7_timestamp_ms_x": _q("SELECT uuid7_timestamp_ms(uuid7(1700000000))"),
    "uuid-uuid_str_x": _q("SELECT uuid_str(uuid_blob('0190a5b4-0c6e-7c9b-9d21-3b9f7c0e1a2b'))"),
    "uuid-uuid_blob_x": _q("SELECT hex(uuid_blob('0190a5b4-0c6e-7c9b-9d21-3b9f7c0e1a2b'))"),
    "regexp-regexp_pattern_source": _q("SELECT regexp('b+', 'abbc')"),
    "regexp-regexp_like_source_pattern": _q("SELECT regexp_like('abbc', 'b+')"),
    "regexp-regexp_substr_source_pattern": _q("SELECT regexp_substr('abbc', 'b+')"),
    "regexp-regexp_capture_source_pattern_n": _q("SELECT regexp_capture('ab12', '([a-z]+)([0-9]+)', 2)"),
    "regexp-regexp_replace_source_pattern_replacement": _q("SELECT regexp_replace('abbc', 'b+', 'X')"),
    "vector-vector_x": _q("SELECT length(vector('[1,2,3]'))"), "vector-vector32_x": _q("SELECT length(vector32('[1,2]'))"),
    "vector-vector64_x": _q("SELECT length(vector64('[1,2]'))"),
    "vector-vector_extract_x": _q("SELECT vector_extract(vector('[1,2]'))"),
    "vector-vector_distance_cos_x_y": _q("SELECT vector_distance_cos(vector('[1,0]'), vector('[0,1]'))"),
    "vector-vector_distance_l2_x_y": _q("SELECT vector_distance_l2(vector('[0,0]'), vector('[3,4]'))"),
    "vector-vector_concat_x_y": _q("SELECT vector_extract(vector_concat(vector('[1]'), vector('[2]')))"),
    "vector-vector_slice_x_start_index_end_index": _q("SELECT vector_extract(vector_slice(vector('[1,2,3]'), 1, 2))"),
    "full_text_search_fts-create_index_using_fts": _q("CREATE TABLE d(id INTEGER PRIMARY KEY, body TEXT)",
                                                      "CREATE INDEX df ON d USING fts (body)"),
    "full_text_search_fts-fts_match": _q("CREATE TABLE d(id INTEGER PRIMARY KEY, body TEXT)",
                                         "CREATE INDEX df ON d USING fts (body)",
                                         "INSERT INTO d VALUES (1, 'hello world')",
                                         "SELECT id FROM d WHERE fts_match(body, 'hello')"),
    "full_text_search_fts-fts_score": _q("CREATE TABLE d(id INTEGER PRIMARY KEY, body TEXT)",
                                         "CREATE INDEX df ON d USING fts (body)",
                                         "INSERT INTO d VALUES (1, 'hello world')",
                                         "SELECT typeof(fts_score(body, 'hello')) FROM d "
                                         "WHERE fts_match(body, 'hello')"),
    "full_text_search_fts-fts_highlight": _q("CREATE TABLE d(id INTEGER PRIMARY KEY, body TEXT)",
                                             "CREATE INDEX df ON d USING fts (body)",
                                             "INSERT INTO d VALUES (1, 'hello world')",
                                             "SELECT fts_highlight(body, 'hello', '<b>', '</b>') FROM d"),
    "full_text_search_fts-match_operator": _q("CREATE TABLE d(id INTEGER PRIMARY KEY, body TEXT)",
                                              "CREATE INDEX df ON d USING fts (body)",
                                              "INSERT INTO d VALUES (1, 'hello world')",
                                              "SELECT id FROM d WHERE body MATCH 'hello'"),
    "csv-csv_virtual_table": _q("CREATE VIRTUAL TABLE c USING csv(data='a,b\n1,2', header=yes)",
                                "SELECT * FROM c"),
    "percentile-median_x": _q("SELECT median(v) FROM (SELECT 1 AS v UNION ALL SELECT 3)"),
    "percentile-percentile_y_p": _q("SELECT percentile(v, 50) FROM (SELECT 1 AS v UNION ALL SELECT 3)"),
    "percentile-percentile_cont_y_p": _q("SELECT percentile_cont(v, 0.5) FROM (SELECT 1 AS v UNION ALL SELECT 3)"),
    "percentile-percentile_disc_y_p": _q("SELECT percentile_disc(v, 0.5) FROM (SELECT 1 AS v UNION ALL SELECT 3)"),
    "aggregate_functions-median_x": _q("SELECT median(v) FROM (SELECT 1 AS v UNION ALL SELECT 3)"),
    "aggregate_functions-percentile_y_p": _q("SELECT percentile(v, 50) FROM (SELECT 1 AS v UNION ALL SELECT 3)"),
    "aggregate_functions-percentile_cont_y_p": _q("SELECT percentile_cont(v, 0.5) FROM (SELECT 1 AS v "
                                                  "UNION ALL SELECT 3)"),
    "aggregate_functions-percentile_disc_y_p": _q("SELECT percentile_disc(v, 0.5) FROM (SELECT 1 AS v "
                                                  "UNION ALL SELECT 3)"),
    "aggregate_functions-stddev_x": _q("SELECT stddev(v) FROM (SELECT 1 AS v UNION ALL SELECT 3)"),
    "table_valued_functions-generate_series_start_stop_step": _q("SELECT group_concat(value) FROM "
                                                                  "generate_series(1, 9, 3)"),
    "internal_virtual_tables-sqlite_dbpage": _q("SELECT count(*) FROM sqlite_dbpage"),
}
_T = "time_date(2024, 1, 31, 10, 20, 30)"
_U = "time_date(2024, 3, 1)"
_TIME = {
    "time_now": "time_now()", "time_date_year_month_day_hour_min_sec_nsec_offset_sec": _T,
    "time_get_t_field": f"time_get({_T}, 'year')", "time_unix_sec_nsec": "time_unix(1700000000, 5)",
    "time_milli_msec": "time_milli(1700000000000)", "time_micro_usec": "time_micro(1700000000000000)",
    "time_nano_nsec": "time_nano(1700000000000000000)", "time_after_t_u": f"time_after({_T}, {_U})",
    "time_before_t_u": f"time_before({_T}, {_U})", "time_compare_t_u": f"time_compare({_T}, {_U})",
    "time_equal_t_u": f"time_equal({_T}, {_T})", "time_add_t_d": f"time_add({_T}, dur_h())",
    "time_add_date_t_years_months_days": f"time_add_date({_T}, 1, 2, 3)", "time_sub_t_u": f"time_sub({_U}, {_T})",
    "time_since_t": f"time_since({_T})", "time_until_t": f"time_until({_T})",
    "time_trunc_t_field": f"time_trunc({_T}, 'month')", "time_trunc_t_d": f"time_trunc({_T}, dur_h())",
    "time_round_t_d": f"time_round({_T}, dur_h())", "time_parse_s": "time_parse('2024-01-31T10:20:30Z')",
}
for _name in ("year", "month", "day", "hour", "minute", "second", "nano", "weekday", "yearday", "isoyear",
              "isoweek"):
    _TIME[f"time_get_{_name}_t"] = f"time_get_{_name}({_T})"
for _name in ("unix", "milli", "micro", "nano"):
    _TIME[f"time_to_{_name}_t"] = f"time_to_{_name}({_T})"
for _name in ("iso", "datetime", "date", "time"):
    _TIME[f"time_fmt_{_name}_t_offset_sec"] = f"time_fmt_{_name}({_T}, 3600)"
for _name in ("ns", "us", "ms", "s", "m", "h"):
    _TIME[f"dur_{_name}"] = f"dur_{_name}()"
TURSO_ONLY.update({f"time-{k}": _q(f"SELECT typeof({v})") for k, v in _TIME.items()})
TURSO_PRAGMAS = {"capture_data_changes_conn", "unstable_capture_data_changes_conn", "cipher", "hexkey",
                 "data_sync_retry", "list_types", "mvcc_checkpoint_threshold", "require_where", "i_am_a_dummy"}

C_API_SECTIONS = ("Database Connection", "Prepared Statements", "Binding Parameters", "Result Columns",
                  "Result Values (sqlite3_value)", "Error Handling", "Changes and Row IDs", "Memory Management",
                  "Callback Functions", "User-Defined Functions", "Collation Functions", "Backup API", "BLOB I/O",
                  "WAL Functions", "Utility Functions", "Table Metadata", "Virtual Tables", "Loadable Extensions",
                  "Serialization", "Miscellaneous", "Turso-specific Extensions")
TURSO_SECTIONS = ("UUID", "regexp", "Vector", "Time", "Percentile", "Table-Valued Functions",
                  "Internal Virtual Tables", "Turso-specific PRAGMAs", "CSV")


def not_probed(row: Row) -> str:
    """Why a row has no SQL probe ("" when it has one)."""
    if row.section in C_API_SECTIONS:
        return ("a C API interface of Turso's libsqlite3-compatible library: Python programs do not call it "
                "(pyturso exposes its own DB-API, compared by the driver-layer checks), and no SQL probe "
                "reaches it")
    if row.section == "SQLite VDBE opcodes":
        return ("a VDBE opcode: internal to the engine; which opcodes a statement compiles to is not "
                "something SQL can choose, so the row is not probed on its own")
    return ""


def _pragma(name: str) -> Probe:
    if name in PRAGMAS:  # the in-depth spec: read, set, read back, effect (as suites/engine/test_pragmas.py)
        return Probe(PRAGMAS[name].statements(name), file=True, shape_sql=SHAPE)
    if name in PRAGMA_ARG:
        return Probe((*_PRAGMA_SETUP, f"PRAGMA {name}({PRAGMA_ARG[name]})"), shape=name in PRAGMA_SHAPE,
                     file=True)
    value = PRAGMA_SET.get(name)
    sql: tuple[str, ...] = (f"PRAGMA {name}",)
    if value is not None:
        sql = (f"PRAGMA {name}", f"PRAGMA {name} = {value}", f"PRAGMA {name}")
    return Probe(sql, shape=name in PRAGMA_SHAPE, file=True)


def probe(row: Row) -> Probe | None:
    """The probe of a row, or None when it has none (see `not_probed`)."""
    if not_probed(row):
        return None
    section, suffix = row.key.split("-", 1)
    since = SINCE.get(row.key, "")
    if row.key in TURSO_ONLY:
        return Probe(TURSO_ONLY[row.key], turso_only=True)
    if row.section == "Turso-specific PRAGMAs":
        return Probe((f"PRAGMA {row.feature.split()[-1]}",), turso_only=True)
    if section == "statements":
        return Probe(STATEMENTS[suffix], file=suffix in ("vacuum",), since=since, shape=suffix == "explain")
    if section == "expressions":
        return Probe(EXPRESSIONS[suffix], since=since)
    if section == "pragma":
        return _pragma(row.feature.split()[-1])
    if section == "sqlite_journaling_modes":
        return Probe((f"PRAGMA journal_mode = {row.feature}", "PRAGMA journal_mode"), file=True)
    if section == "date_and_time_functions_modifiers":
        return Probe((f"SELECT {MODIFIERS[suffix]}",), since=since)
    if suffix in QUERIES:
        return Probe((QUERIES[suffix],), since=since)
    if suffix in FUNCTIONS:
        return Probe((f"SELECT {FUNCTIONS[suffix]}",), since=since)
    if row.key == "full_text_search_fts-sqlite_fts3_fts4_fts5":
        return Probe(("CREATE VIRTUAL TABLE f USING fts5(body)", "INSERT INTO f VALUES ('hello world')",
                      "SELECT body FROM f WHERE f MATCH 'hello'"))
    if row.key == "full_text_search_fts-snippet":
        return Probe(("CREATE VIRTUAL TABLE f USING fts4(body)", "INSERT INTO f VALUES ('hello world')",
                      "SELECT snippet(f) FROM f WHERE f MATCH 'hello'"))
    if row.key == "table_valued_functions-carray":
        return Probe(("SELECT * FROM carray(0, 0)",))
    if section == "sqlite_vdbe_opcodes":
        return None
    raise KeyError(f"compat row {row.key!r} ({row.section}: {row.feature}) has no probe: add one to "
                   "harness/compat/probes.py or give a reason in not_probed()")
