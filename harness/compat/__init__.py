"""Turso's own compatibility table (COMPAT.md) kept as data, probed row by row, and judged claim by claim."""
