"""A tiny inventory and orders app on sqlite3 (sync) and aiosqlite (async).

Importing the package registers its sqlite3 adapters and converters (see `shopapp.types`), as many
applications do at import time.
"""

from shopapp import types as _types  # noqa: F401  (registers adapters and converters)
from shopapp.db import connect, init_schema
from shopapp.errors import DuplicateSku, OutOfStock, ShopError, StoreBusy
from shopapp.types import Money

__all__ = ["DuplicateSku", "Money", "OutOfStock", "ShopError", "StoreBusy", "connect", "init_schema"]
