"""Mutants: wrapper backends, each with one realistic deviation from SQLite, to measure what the suites see.

`catalog.MUTANTS` lists them; `python -m mutants.run` (what `make mutants` calls, with `tests` on the
path) runs the suites against every mutant and the control, and prints the score and the killing checks.
"""
