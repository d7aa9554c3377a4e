"""pyturso's SQLAlchemy dialects as the drop-in reaches them: as shipped (raw) or with ATTACH enabled."""

from __future__ import annotations

from typing import Any


def _with_attach(args: Any) -> Any:
    """Add `attach` to the experimental features of `(cargs, cparams)` from create_connect_args."""
    cargs, cparams = args
    features = [f for f in str(cparams.get("experimental_features") or "").split(",") if f]
    if "attach" not in features:
        features.append("attach")
    cparams["experimental_features"] = ",".join(features)
    return cargs, cparams


#: sqlite3.connect() keywords an application passes through SQLAlchemy's connect_args that turso.connect()
#: refuses (TypeError) and that change nothing on Turso, whose connections make no same-thread check.
IGNORED_CONNECT_ARGS = ("check_same_thread", "cached_statements")


def _without_ignored(cparams: dict[str, Any]) -> dict[str, Any]:
    """`cparams` less the keywords of IGNORED_CONNECT_ARGS."""
    return {k: v for k, v in cparams.items() if k not in IGNORED_CONNECT_ARGS}


def _load_sqlite_provisioning(cls: type) -> None:
    """SQLAlchemy's test provisioning for SQLite (pyturso ships none for its dialects)."""
    import sqlalchemy.dialects.sqlite.provision  # noqa: F401


def dialect_classes(adapt: bool) -> tuple[type, type]:
    """(sync, async) dialect classes the drop-in routes SQLite URLs to."""
    from turso.sqlalchemy import AioTursoDialect, TursoDialect

    if not adapt:
        return TursoDialect, AioTursoDialect

    class DropinTursoDialect(TursoDialect):
        """pyturso's sync dialect with the `sqlalchemy.attach` and `sqlalchemy.provisioning` adaptations."""

        supports_statement_cache = True
        load_provisioning = classmethod(_load_sqlite_provisioning)

        def create_connect_args(self, url: Any) -> Any:
            return _with_attach(super().create_connect_args(url))

        def connect(self, *cargs: Any, **cparams: Any) -> Any:
            return super().connect(*cargs, **_without_ignored(cparams))

    class DropinAioTursoDialect(AioTursoDialect):
        """pyturso's async dialect with the `sqlalchemy.attach` and `sqlalchemy.provisioning` adaptations."""

        supports_statement_cache = True
        load_provisioning = classmethod(_load_sqlite_provisioning)

        def create_connect_args(self, url: Any) -> Any:
            return _with_attach(super().create_connect_args(url))

        def connect(self, *cargs: Any, **cparams: Any) -> Any:
            return super().connect(*cargs, **_without_ignored(cparams))

    return DropinTursoDialect, DropinAioTursoDialect
