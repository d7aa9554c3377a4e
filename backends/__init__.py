"""Backend adapters: `sqlite` (aiosqlite), `turso` (pyturso) and `sqlean` (sqlean.py: the tracked SQLite)."""
