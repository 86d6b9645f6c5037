"""Alembic, driven from code: one migration tree for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from rtcompute.store import db

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# any constant: the key of the PostgreSQL advisory lock that serializes schema upgrades
_MIGRATION_LOCK = 0x72746300


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations. On PostgreSQL under an advisory lock: two `rtc up` starting at once
    on an empty database would otherwise both create the tables and one would fail."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            if connection.dialect.name == "sqlite":
                # a batch migration copies a table and drops the old one; with foreign keys
                # on, the drop would first delete (ON DELETE CASCADE) every row of its child
                # tables. Off for the migration (it must be set outside a transaction), and
                # the keys are checked afterwards.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            if postgres:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
                connection.commit()
            try:
                config = alembic_config(url)
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                connection.commit()
                if connection.dialect.name == "sqlite":
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
            finally:
                if postgres:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK}
                    )
                    connection.commit()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


VERSION_TABLE = "alembic_version"


def current_revision(engine: Engine) -> str | None:
    """The schema's revision, read from alembic's table (every /readyz asks: alembic's own
    reader would log two INFO lines each time)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
