"""A tiny third-party backend for the harness's own tests: SQLite (aiosqlite) under another name.

`fake_backend.backend:make_fake` is a well-behaved backend called `fake`; `make_panicky` makes one
called `panicky` whose connection raises a `PanicException` (a `BaseException`, like pyo3's) on any
statement containing `PANIC`, once from the driver's thread and once (`PANIC_RAW`) straight from
the connection object.
"""

from fake_backend.backend import FakeBackend, PanicException, make_fake, make_panicky

__all__ = ["FakeBackend", "PanicException", "make_fake", "make_panicky"]
