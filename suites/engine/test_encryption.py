"""At-rest encryption (`001_312a5f9792b0f890.txt`, "Encryption"): every accepted cipher round-trips on a
file database; a wrong, missing or wrong-size key gives a clear classified error; the file is not
readable as plain SQLite; and the key never shows up in anything the harness produces.

Keys are generated at run time (`secrets.token_hex`) inside the check bodies: never in a test id, a
param, an observation or a note. Stock SQLite has no encryption: every check is `unsupported` there.
"""

from __future__ import annotations

import gc
import json
import logging
import secrets
from pathlib import Path
from typing import Any

from stc_harness import CheckContext, DatabaseError, EncryptionOpts, check, driver_guide, rows
from stc_harness.adapters.backend_registry import available, load_target

ENCRYPTION = driver_guide("Encryption")

#: Cipher name -> key size in bytes. The document names aes128gcm, aes256gcm "and the AEGIS family";
#: these are the names pyturso 0.8.3 accepts (measured; "aegis", "chacha20" are unknown ciphers).
CIPHERS: dict[str, int] = {
    "aes128gcm": 16, "aes256gcm": 32,
    "aegis128l": 16, "aegis128x2": 16, "aegis128x4": 16,
    "aegis256": 32, "aegis256x2": 32, "aegis256x4": 32,
}
PAYLOAD = "plaintext-marker-7f3a"
SQLITE_MAGIC = b"SQLite format 3\x00"


def new_key(cipher: str, size: int | None = None) -> EncryptionOpts:
    """A fresh random key for `cipher` (of `size` bytes, default the cipher's own size)."""
    return EncryptionOpts(cipher, secrets.token_hex(size if size is not None else CIPHERS[cipher]))


def db_path(ctx: CheckContext, stem: str) -> tuple[str, Path]:
    """A fresh file database URL of this backend and its path."""
    url = ctx.url(stem)
    return url, Path(url.split(":", 1)[1])


async def create_encrypted(ctx: CheckContext, url: str, key: EncryptionOpts) -> None:
    """Create `t` holding PAYLOAD in an encrypted database, and drop every handle on it.

    The connection is not tracked by the context and is released with a garbage collection, so the
    next open reads the file from disk instead of reusing a cached database handle.
    """
    conn = await ctx.backend.connect(url, **{**ctx.default_options, "encryption": key})
    try:
        await conn.execute("CREATE TABLE t (x TEXT)")
        await conn.execute("INSERT INTO t VALUES (?)", (PAYLOAD,))
    finally:
        await conn.close()
    del conn
    gc.collect()


async def read_back(ctx: CheckContext, url: str, **options: Any) -> Any:
    """Open `url` with `options` and read `t`."""
    conn = await ctx.connect(url, **options)
    return rows(await conn.fetch_all("SELECT x FROM t"))


def file_bytes(path: Path) -> bytes:
    """The database file and its WAL, if any."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def key_forms(key: EncryptionOpts) -> tuple[str, ...]:
    """The spellings a leaked key could take in text."""
    return (key.hexkey.lower(), key.hexkey.upper())


def leaks(key: EncryptionOpts, texts: dict[str, str]) -> list[str]:
    """The names of the texts that contain the key."""
    return sorted(name for name, text in texts.items() if any(form in text for form in key_forms(key)))


async def failed_open(ctx: CheckContext, url: str, key: EncryptionOpts, label: str, **options: Any) -> Any:
    """Open and read with the wrong key material: `{"error": KIND, "key_in_message": bool}`."""
    try:
        got = await read_back(ctx, url, **options)
    except DatabaseError as exc:
        ctx.note(**{label: exc.raw.as_dict()})
        found = leaks(key, {"message": str(exc), "raw": json.dumps(exc.raw.as_dict())})
        return {"error": exc.kind.value, "key_in_message": bool(found)}
    return {"read": got}


@check(title="An encrypted file database round-trips with its cipher and key", source=ENCRYPTION,
       requires=("encryption",), params={c: c for c in CIPHERS},
       expect={"rows": [[["text", PAYLOAD]]], "plaintext_in_file": False, "sqlite_header": False})
async def test_round_trip(ctx: CheckContext, cipher: str) -> object:
    url, path = db_path(ctx, "enc")
    key = new_key(cipher)
    await create_encrypted(ctx, url, key)
    got = await read_back(ctx, url, encryption=key)
    data = file_bytes(path)
    return {"rows": got, "plaintext_in_file": PAYLOAD.encode() in data,
            "sqlite_header": data.startswith(SQLITE_MAGIC)}


#: How to get the key wrong when reopening an aes256gcm database (a fresh random key each time).
BAD_KEYS: dict[str, tuple[str, int | None]] = {
    "wrong_key": ("aes256gcm", None),
    "wrong_size_key": ("aes256gcm", 16),
    "other_cipher": ("aes128gcm", None),
    "unknown_cipher": ("no_such_cipher", 32),
}


@check(title="Reopening with the wrong key material is a classified encryption error", source=ENCRYPTION,
       requires=("encryption",), params=BAD_KEYS, expect={"error": "ENCRYPTION", "key_in_message": False})
async def test_bad_key(ctx: CheckContext, bad: tuple[str, int | None]) -> object:
    url, _ = db_path(ctx, "enc")
    right = new_key("aes256gcm")
    await create_encrypted(ctx, url, right)
    cipher, size = bad
    wrong = EncryptionOpts(cipher, secrets.token_hex(size or CIPHERS[cipher]))
    obs = await failed_open(ctx, url, wrong, "raw", encryption=wrong)
    if "key_in_message" in obs:
        obs["key_in_message"] = obs["key_in_message"] or bool(leaks(right, {"notes": json.dumps(ctx.notes)}))
    return obs


@check(title="A non-hex key is a classified encryption error that does not echo the key", source=ENCRYPTION,
       requires=("encryption",), expect={"error": "ENCRYPTION", "key_in_message": False})
async def test_non_hex_key(ctx: CheckContext) -> object:
    url, _ = db_path(ctx, "enc")
    await create_encrypted(ctx, url, new_key("aes256gcm"))
    not_hex = EncryptionOpts("aes256gcm", "".join(secrets.choice("ghijklmnopqrstuvwxyz") for _ in range(64)))
    return await failed_open(ctx, url, not_hex, "raw", encryption=not_hex)


@check(title="Reopening an encrypted database with no key says it is not a database", source=ENCRYPTION,
       requires=("encryption",), expect={"error": "NOT_A_DATABASE", "key_in_message": False})
async def test_no_key(ctx: CheckContext) -> object:
    url, _ = db_path(ctx, "enc")
    key = new_key("aes256gcm")
    await create_encrypted(ctx, url, key)
    return await failed_open(ctx, url, key, "raw")


@check(title="An encrypted database cannot be read as plain SQLite", source=ENCRYPTION,
       requires=("encryption",), expect={"error": "NOT_A_DATABASE", "key_in_message": False})
async def test_unreadable_by_sqlite(ctx: CheckContext) -> object:
    url, path = db_path(ctx, "enc")
    key = new_key("aes256gcm")
    await create_encrypted(ctx, url, key)
    sqlite = load_target(available()["sqlite"])
    try:
        conn = await sqlite.connect(f"sqlite:{path}")
        try:
            got = rows(await conn.fetch_all("SELECT x FROM t"))
        finally:
            await conn.close()
    except DatabaseError as exc:
        ctx.note(raw=exc.raw.as_dict())
        return {"error": exc.kind.value, "key_in_message": bool(leaks(key, {"message": str(exc)}))}
    return {"read": got}


class _Capture(logging.Handler):
    """Keeps every formatted log record emitted while installed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@check(title="The key never appears in a message, note, log line, option or URL the harness produces",
       source=ENCRYPTION, requires=("encryption",), expect={"texts_checked": True, "leaks": []})
async def test_key_never_leaks(ctx: CheckContext) -> object:
    url, _ = db_path(ctx, "enc")
    key = new_key("aes256gcm")
    capture = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    texts: dict[str, str] = {"url": url}
    try:
        await create_encrypted(ctx, url, key)
        texts["rows"] = json.dumps(await read_back(ctx, url, encryption=key))
        for name, options in (("wrong_key", {"encryption": new_key("aes256gcm")}),
                              ("short_key", {"encryption": new_key("aes256gcm", 16)}), ("no_key", {})):
            try:
                await read_back(ctx, url, **options)
            except DatabaseError as exc:
                texts[f"{name}_message"] = str(exc)
                texts[f"{name}_raw"] = repr(exc.raw)
        database = getattr(ctx.backend, "database", None)
        if database is not None:  # the adapter's parsed options and its handle cache key
            handle = database(url, encryption=key)
            texts["options"] = repr(getattr(handle, "options", ""))
            texts["cache_key"] = repr(getattr(getattr(handle, "options", None), "cache_key", lambda: "")())
        texts["secret_repr"] = repr(key)
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    texts["log"] = "\n".join(capture.lines)
    texts["notes"] = json.dumps(ctx.notes, default=str)
    ctx.note(texts_checked=sorted(texts), log_lines=len(capture.lines))
    return {"texts_checked": len(texts) >= 8, "leaks": leaks(key, texts)}
