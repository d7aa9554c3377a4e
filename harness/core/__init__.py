"""The core: running a check on a backend, the reference and the tracked SQLite, and its record.

Nothing here imports pytest, pytest-asyncio or the plugin (`tests/test_import_graph.py` proves it, as
SQLAlchemy keeps `plugin_base` apart from `pytestplugin`): the check model is `stc_harness.checks`, this
package runs it (`session`: what a process keeps between checks; `run`: one check on one backend, ruled;
`records`: the one shape of a record). The pytest plugin (`stc_harness.plugin`) is the adapter that
calls into it and turns a ruling into pytest's outcomes.
"""
