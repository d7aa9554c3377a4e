"""The pytest plugin (entry point `conformance`): the adapter between pytest and the core.

Each module has one job: `options` (command line and ini), `state` (what a run keeps), `configure`
(backends, reference, registry: usage errors before the run), `header`, `collection` (parametrizing and
marking checks), `validation` (registry and shadowing problems), `runner` (a check's ruling as pytest's
outcome), `records` (records of a user's own tests), `progress`, `collector` (records in, the report out)
and `fixtures`. The check model and its execution (`stc_harness.checks`, `stc_harness.core`) never
import this package. pytest registers this module: the hooks and fixtures below are what it finds.
"""

from stc_harness.plugin.collection import pytest_collection_modifyitems, pytest_generate_tests
from stc_harness.plugin.configure import pytest_configure, pytest_sessionfinish
from stc_harness.plugin.fixtures import (
    conformance_backend,
    conformance_run,
    conformance_state,
    connection,
    database_url,
    memory_connection,
    pool,
    selected_backends,
)
from stc_harness.plugin.header import pytest_report_header
from stc_harness.plugin.options import pytest_addoption
from stc_harness.plugin.records import pytest_runtest_makereport

__all__ = [
    "conformance_backend",
    "conformance_run",
    "conformance_state",
    "connection",
    "database_url",
    "memory_connection",
    "pool",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "selected_backends",
]
