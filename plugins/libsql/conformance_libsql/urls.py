"""`libsql:` URLs and options: local files and `:memory:` only; remote and sync settings are refused."""

from __future__ import annotations

from typing import Any

from stc_harness.backend_api import DatabaseURL, Unsupported, UsageError, parse_url, reject_unknown

SCHEME = "libsql"
#: Options this adapter takes (URL query or keyword).
OPTIONS = ("busy_timeout", "encryption")
#: libsql.connect's remote and embedded-replica settings: they need a server, and this harness uses none.
REMOTE_OPTIONS = ("sync_url", "sync_interval", "auth_token", "offline")
#: What works, said by every refusal.
WORKS = ("use 'libsql::memory:' or 'libsql:<path to a local file>', with option busy_timeout=<ms> "
         "(and encryption=stc_harness.EncryptionOpts('aes256cbc', hexkey) passed to connect())")


def parse(url: str | DatabaseURL) -> DatabaseURL:
    """Parse a `libsql:` URL; a remote one (`libsql://host`) is a usage error naming what works."""
    if isinstance(url, DatabaseURL):
        parsed = url
    else:
        scheme, _, rest = url.partition(":")
        if scheme == SCHEME and rest.startswith("//"):
            host = rest[2:].split("/", 1)[0].split("?", 1)[0]
            raise UsageError(f"libsql backend: {SCHEME}://{host} is a remote database (Turso Cloud or a "
                             f"libSQL server); this harness runs without a network and opens local files "
                             f"only: {WORKS}")
        parsed = parse_url(url, schemes=(SCHEME,))
    if parsed.scheme != SCHEME:
        raise UsageError(f"libsql backend cannot open {parsed}: {WORKS}")
    validate(parsed, {})  # a URL option it does not take fails here, before any connection
    return parsed


def validate(url: DatabaseURL, options: dict[str, Any]) -> dict[str, Any]:
    """URL query and keyword options, merged and validated; absent capabilities raise `Unsupported`."""
    merged = {**dict(url.options), **options}
    remote = sorted(k for k in merged if k in REMOTE_OPTIONS)
    if remote:
        raise UsageError(f"libsql backend: option(s) {', '.join(remote)} configure a remote or "
                         "embedded-replica "
                         f"database, which needs a network this harness does not use: {WORKS}")
    if merged.get("concurrent_writes"):
        raise Unsupported("concurrent_writes",
                          "libSQL has no MVCC journal: BEGIN CONCURRENT is a syntax error")
    if any(k.startswith("experimental") and v for k, v in merged.items()):
        raise Unsupported("experimental_toggles", "libSQL has no experimental-feature toggles")
    merged = {k: v for k, v in merged.items()
              if not (k.startswith("experimental") or k == "concurrent_writes")}
    try:
        reject_unknown(SCHEME, merged, OPTIONS)
    except UsageError as exc:
        raise UsageError(f"{exc}: {WORKS}") from None
    return merged
