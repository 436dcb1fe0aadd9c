"""Running Alembic from code, and refusing to serve a database behind the newest migration."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

ALEMBIC_DIR = Path(__file__).resolve().parents[3] / "alembic"


class SchemaNotCurrent(RuntimeError):
    pass


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_status(engine: Engine) -> tuple[str | None, str | None]:
    return current_revision(engine), head_revision()


def ensure_schema_current(engine: Engine) -> None:
    current, head = schema_status(engine)
    if current != head:
        raise SchemaNotCurrent(
            f"The database schema is at {current or 'nothing (empty database)'} but this "
            f"version of meldplicht needs {head}. Run `meldplicht db upgrade` first."
        )
