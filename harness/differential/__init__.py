"""Differential discovery: run generated SQL on every backend, compare, shrink and report differences.

`python -m stc_harness hunt --seed N --budget SECONDS [--save]` is the entry point
(`stc_harness.differential.cli`).
"""
