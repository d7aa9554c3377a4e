"""SQLAlchemy's own pytest plugin, as a third-party dialect's test suite loads it (README.dialects.rst)."""

import glob
import os

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402, F403


def _attach_test_schema(dbapi_connection: object, record: object, proxy: object) -> None:
    """Every connection, on either engine, has the `test_schema` database the suite's schema tests use.

    SQLite's provisioning attaches it on the engines it configures, not on every engine the tests make.
    """
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # the names only: the files' paths name the driver (SQLite's provisioning attaches `<driver>_test_schema`)
    names = [row[0] for row in cursor.execute("SELECT name FROM pragma_database_list").fetchall()]
    if "test_schema" not in names:
        # the drop-in runs each engine in a working folder of its own: one name serves both
        cursor.execute('ATTACH DATABASE "test_schema.db" AS test_schema')
    cursor.close()


# Start from an empty `test_schema` file: one left by an earlier run holds its tables. (At import, not in
# pytest_sessionstart: the star import above brings SQLAlchemy's own hook of that name.)
for _path in glob.glob("test_schema.db*"):
    os.remove(_path)


event.listen(Engine, "checkout", _attach_test_schema)  # after the provisioning's own `connect` listener
