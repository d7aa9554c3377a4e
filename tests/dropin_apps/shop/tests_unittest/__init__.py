"""The shop app's unittest-style tests (run by runtests.py)."""
