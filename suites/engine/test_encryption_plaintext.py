"""At-rest encryption, the other way round: a plaintext database opened with a key (issue 19).

Kept apart from `test_encryption.py` (whose whole file the key-leak test replays with a fixed count of
checks); the area is the same (`encryption`). Stock SQLite has no encryption: `unsupported` there.
"""

from __future__ import annotations

import gc

from test_encryption import ENCRYPTION, PAYLOAD, db_path, failed_open, new_key

from stc_harness import CheckContext, check


@check(title="A plaintext database opened with a key is refused as a wrong key, not read as if decrypted",
       source=ENCRYPTION, area="encryption", requires=("encryption",),
       expect={"error": "ENCRYPTION", "key_in_message": False})
async def test_plaintext_with_key(ctx: CheckContext) -> object:
    url, _ = db_path(ctx, "plain")
    conn = await ctx.backend.connect(url, **ctx.default_options)
    try:
        await conn.execute("CREATE TABLE t (x TEXT)")
        await conn.execute("INSERT INTO t VALUES (?)", (PAYLOAD,))
    finally:
        await conn.close()
    del conn
    gc.collect()
    key = new_key("aes256gcm")
    return await failed_open(ctx, url, key, "raw", encryption=key)
