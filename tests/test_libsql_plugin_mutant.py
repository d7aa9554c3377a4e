"""A mutant of the libsql plugin (one deviation) for tests/test_libsql_plugin.py: a check must catch it.

Loaded by target (`--backend=test_libsql_plugin_mutant:make_mutant`, with tests/ on PYTHONPATH); it holds
no tests itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from stc_harness.errors import DatabaseError, ErrorKind

backend_module = pytest.importorskip("conformance_libsql.backend")


class _MutantConnection(backend_module.LibsqlConnection):
    """One deviation: a UNIQUE violation is classified as a generic constraint violation."""

    def classify(self, exc: BaseException) -> DatabaseError:
        err = super().classify(exc)
        if err.kind is ErrorKind.UNIQUE_VIOLATION:
            return DatabaseError(ErrorKind.CONSTRAINT_VIOLATION, err.raw, err.backend)
        return err


class _MutantBackend(backend_module.LibsqlBackend):
    async def connect(self, url: Any, **options: Any) -> Any:
        conn = await super().connect(url, **options)
        conn.__class__ = _MutantConnection
        return conn


def make_mutant() -> Any:
    """The libsql backend with one deviation (see `_MutantConnection`), under the same name."""
    return _MutantBackend()
