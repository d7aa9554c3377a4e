"""Experimental toggles: each gated statement fails without its toggle and works with it (Turso), and
what SQLite does with the same statement; unknown toggle names, in pyturso and in the harness.

`features.toggle[<name>]` states the claim of `001_312a5f9792b0f890.txt` ("Experimental features") as
`expect` (SQLite has no toggles: unsupported there); `features.plain[<name>]` runs the same statements
with no toggle on every backend, SQLite being the baseline.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import Any

from stc_harness import CheckContext, DatabaseError, UsageError, check, driver_guide, rows
from stc_harness.adapters.backend_registry import child_environment, target_of

TOGGLES = driver_guide("Experimental features")
ENCRYPTION = driver_guide("Encryption")


@dataclass(frozen=True)
class Gated:
    """Statements toggle `name` gates, run in order; `works`: what the last returns when the feature works."""

    name: str
    statements: tuple[str, ...]
    works: Any


ONE = [[["integer", 1]]]

#: The seven toggles that gate SQL statements (builder name -> statements). materialized_views is
#: pyturso's "views" feature; custom types and index methods use Turso's own syntax.
GATED: dict[str, Gated] = {g.name: g for g in (
    Gated("attach", ("ATTACH DATABASE ':memory:' AS other", "CREATE TABLE other.t (x INTEGER)",
                     "INSERT INTO other.t VALUES (1)", "SELECT x FROM other.t"), ONE),
    Gated("custom_types", ("CREATE TYPE cents BASE integer ENCODE value * 100 DECODE value / 100",
                           "CREATE TABLE t (x cents) STRICT", "INSERT INTO t VALUES (5)", "SELECT x FROM t"),
          [[["integer", 5]]]),
    Gated("generated_columns", ("CREATE TABLE t (x INTEGER, y INTEGER AS (x + 1))",
                                "INSERT INTO t (x) VALUES (1)", "SELECT x, y FROM t"),
          [[["integer", 1], ["integer", 2]]]),
    Gated("index_method", ("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)",
                           "INSERT INTO t (body) VALUES ('hello world')",
                           "CREATE INDEX t_fts ON t USING fts (body)",
                           "SELECT id FROM t WHERE fts_match(body, 'hello')"), ONE),
    Gated("materialized_views", ("CREATE TABLE t (x INTEGER)",
                                 "CREATE MATERIALIZED VIEW v AS SELECT x FROM t",
                                 "INSERT INTO t VALUES (1)", "SELECT x FROM v"), ONE),
    Gated("vacuum", ("CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)", "VACUUM", "SELECT x FROM t"),
          ONE),
    Gated("without_rowid", ("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID",
                            "INSERT INTO t VALUES ('a', 1)", "SELECT k, v FROM t"),
          [[["text", "a"], ["integer", 1]]]),
)}

#: Plain statements, run on an encrypted database.
ON_ENCRYPTED = Gated("encryption", ("CREATE TABLE t (x TEXT)", "INSERT INTO t VALUES ('kept')",
                                    "SELECT x FROM t"), [[["text", "kept"]]])

#: What a second process runs: open the same database through the harness and read `t`.
CHILD = """
import asyncio, json, sys
from stc_harness.adapters.backend_registry import load_target
from stc_harness.errors import DatabaseError

async def main(target, url, options):
    backend = load_target(target)
    try:
        conn = await backend.connect(url, **options)
        try:
            print(json.dumps({"ok": [list(r) for r in await conn.fetch_all("SELECT x FROM t")]}))
        finally:
            await conn.close()
    except DatabaseError as exc:
        print(json.dumps({"error": exc.kind.value, "raw": exc.raw.as_dict()}))

asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))
"""


async def run_gated(ctx: CheckContext, gated: Gated, label: str, **options: Any) -> Any:
    """`"works"`, `{"ok": rows}` when the result differs, or `{"error": KIND}` of the first failing one."""
    try:
        conn = await ctx.connect(ctx.url(), **options)
        result: Any = None
        for index, sql in enumerate(gated.statements):
            ctx.note(**{f"{label}_step": index})
            result = rows(await conn.fetch_all(sql))
    except DatabaseError as exc:
        ctx.note(**{label: exc.raw.as_dict()})
        return {"error": exc.kind.value}
    return "works" if result == gated.works else {"ok": result}


def toggle(name: str) -> dict[str, bool]:
    """The builder option turning toggle `name` on."""
    return {f"experimental_{name}": True}


@check(title="An experimental statement fails without its toggle and works with it", source=TOGGLES,
       requires=("experimental_toggles",), params=GATED,
       expect={"without": {"error": "UNSUPPORTED"}, "with": "works"})
async def test_toggle(ctx: CheckContext, gated: Gated) -> object:
    return {"without": await run_gated(ctx, gated, "without"),
            "with": await run_gated(ctx, gated, "with", **toggle(gated.name))}


@check(title="The statements an experimental toggle gates, with no toggle", source=TOGGLES, params=GATED)
async def test_plain(ctx: CheckContext, gated: Gated) -> object:
    return await run_gated(ctx, gated, "raw")


# --- multiprocess WAL: the gated thing is a second process opening the file ---------------------------


async def second_process_reads(ctx: CheckContext, label: str, options: dict[str, bool]) -> Any:
    """Hold a connection open, then let another process open the same file and read: "works" or the error."""
    url = ctx.url()
    conn = await ctx.connect(url, **options)
    await conn.execute("CREATE TABLE t (x INTEGER)")
    await conn.execute("INSERT INTO t VALUES (1)")
    merged = {**ctx.default_options, **options}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, target_of(ctx.backend), url, json.dumps(merged),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=child_environment())
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"the second process failed ({proc.returncode}): {err.decode()[-500:]}")
    got = json.loads(out.decode().strip().splitlines()[-1])
    if "error" in got:
        ctx.note(**{label: got["raw"]})
        return {"error": got["error"]}
    return "works" if got["ok"] == [[1]] else {"ok": got["ok"]}


@check(title="experimental_multiprocess_wal: a second process can open the database only with the toggle",
       source=TOGGLES, requires=("experimental_toggles",), timeout=90,
       expect={"without": {"error": "CANT_OPEN"}, "with": "works"})
async def test_toggle_multiprocess_wal(ctx: CheckContext) -> object:
    return {"without": await second_process_reads(ctx, "without", {}),
            "with": await second_process_reads(ctx, "with", toggle("multiprocess_wal"))}


@check(title="A second process opens a database another process holds open, with no toggle", source=TOGGLES,
       timeout=60)
async def test_plain_multiprocess_wal(ctx: CheckContext) -> object:
    return await second_process_reads(ctx, "raw", {})


# --- encryption: the toggle that needs a key ----------------------------------------------------------


def _open_encrypted_without_feature(path: str) -> str:
    """pyturso directly: an encryption config with no "encryption" experimental feature."""
    import secrets

    import turso

    try:
        conn = turso.connect(path, encryption=turso.EncryptionOpts("aes256gcm", secrets.token_hex(32)),
                             isolation_level=None)
    except Exception as exc:  # noqa: BLE001 - the refusal is the observation
        return "refused: experimental feature" if "experimental" in str(exc) else "refused: other"
    conn.close()
    return "opened"


@check(title="experimental_encryption: refused without the toggle; EncryptionOpts turns it on with its key",
       source=ENCRYPTION, requires=("experimental_toggles", "encryption"),
       expect={"driver_without_toggle": "refused: experimental feature", "with_opts": "works",
               "toggle_without_key": "UsageError"})
async def test_toggle_encryption(ctx: CheckContext) -> object:
    import secrets

    ctx.folder.mkdir(parents=True, exist_ok=True)
    without = await asyncio.to_thread(_open_encrypted_without_feature, str(ctx.folder / "nofeature.db"))
    key = {"cipher": "aes256gcm", "hexkey": secrets.token_hex(32)}
    with_opts = await run_gated(ctx, ON_ENCRYPTED, "with", encryption=key)
    try:
        await ctx.connect(ctx.url(memory=True), experimental_encryption=True)
        alone = "accepted"
    except UsageError as exc:
        alone = "UsageError"
        ctx.note(toggle_without_key=str(exc))
    return {"driver_without_toggle": without, "with_opts": with_opts, "toggle_without_key": alone}


# --- unknown toggle names ------------------------------------------------------------------------------


def _pyturso_accepts(features: str) -> tuple[str, str]:
    """Open pyturso directly with `features`: ("accepted"|"rejected", whether a materialized view works)."""
    import turso

    try:
        conn = turso.connect(":memory:", experimental_features=features, isolation_level=None)
    except Exception:  # noqa: BLE001 - a refusal is the observation
        return "rejected", "n/a"
    try:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("CREATE MATERIALIZED VIEW v AS SELECT x FROM t")
        return "accepted", "on"
    except Exception:  # noqa: BLE001
        return "accepted", "off"
    finally:
        conn.close()


@check(title="pyturso's experimental_features rejects unknown or misspelt names", source=TOGGLES,
       requires=("experimental_toggles",), expect={"unknown_name": "rejected", "misspelt_name": "rejected"})
async def test_unknown_toggle_in_driver(ctx: CheckContext) -> object:
    unknown, _ = await asyncio.to_thread(_pyturso_accepts, "no_such_feature")
    misspelt, views = await asyncio.to_thread(_pyturso_accepts, "view")
    ctx.note(materialized_views_after_misspelling=views, tried=["no_such_feature", "view (for views)"])
    return {"unknown_name": unknown, "misspelt_name": misspelt}


@check(title="The harness rejects an unknown toggle with a UsageError naming it and listing the known ones",
       source=TOGGLES, requires=("experimental_toggles",),
       expect={"raises": "UsageError", "names_the_option": True, "lists_every_known_toggle": True})
async def test_unknown_toggle_in_harness(ctx: CheckContext) -> object:
    try:
        await ctx.connect(ctx.url(memory=True), experimental_no_such_feature=True)
    except UsageError as exc:
        message = str(exc)
        ctx.note(message=message)
        known = [*GATED, "multiprocess_wal"]
        return {"raises": "UsageError", "names_the_option": "experimental_no_such_feature" in message,
                "lists_every_known_toggle": all(f"experimental_{n}" in message for n in known)}
    return {"raises": "nothing"}
