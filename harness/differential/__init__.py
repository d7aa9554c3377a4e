"""Differential discovery: run generated SQL on every backend, compare, shrink and report differences.

`python -m harness hunt --seed N --budget SECONDS [--save]` is the entry point (`harness.differential.cli`).
"""
