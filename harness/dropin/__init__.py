"""Drop-in mode: a user's own test suite, unchanged, run on SQLite and on Turso, with a report of what breaks.

`pytest --dropin=turso` (or ini `dropin = turso`) collects the suite once, then runs it twice in child
processes: once as it is (SQLite) and once with `sqlite3`, `aiosqlite` and SQLAlchemy's SQLite URLs
routed to pyturso (`stc_harness.dropin.routing`), and merges the two into one report section.
"""
