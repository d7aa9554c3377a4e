"""Run the shop app's unittest suite: `python runtests.py [-v] [-k PATTERN]`; non-zero exit on failure."""

from __future__ import annotations

import argparse
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    """Discover tests_unittest/ and run it; 0 when everything passed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per test")
    parser.add_argument("-k", dest="patterns", action="append", help="only tests matching (unittest -k)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in args.patterns]
    suite = loader.discover(str(HERE / "tests_unittest"), top_level_dir=str(HERE))
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1).run(suite)
    return 0 if result.wasSuccessful() and result.testsRun else 1


if __name__ == "__main__":
    sys.exit(main())
