"""Backend adapters: `sqlite` (aiosqlite) and `turso` (pyturso)."""
