"""SQLAlchemy's dialect compliance suite, unchanged: every test of `sqlalchemy.testing.suite`."""

from sqlalchemy.testing.suite import *  # noqa: F403
