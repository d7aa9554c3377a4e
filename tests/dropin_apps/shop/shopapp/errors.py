"""The app's own exceptions."""


class ShopError(Exception):
    """Base class of the app's errors."""


class DuplicateSku(ShopError):
    """A product with this SKU already exists."""


class OutOfStock(ShopError):
    """An order asks for more units than the stock holds."""


class StoreBusy(ShopError):
    """Another writer holds the database's write lock."""
