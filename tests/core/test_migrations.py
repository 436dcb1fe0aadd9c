"""Migrations build an empty database of either kind; the server refuses a stale one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import (
    SchemaNotCurrent,
    ensure_schema_current,
    head_revision,
    upgrade,
)
from tests.conftest import drop_postgres, fresh_postgres_url, require_backend, unique_pg_name

TABLES = {
    "employer",
    "notification",
    "notification_version",
    "notification_finding",
    "worker",
    "work_location",
    "api_key",
    "user_account",
    "audit_event",
    "idempotency_record",
}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_empty_database(backend: str, tmp_path: Path) -> None:
    require_backend(backend)
    name = unique_pg_name("meldplicht_migrations")
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else fresh_postgres_url(name)
    engine = create_db_engine(url)
    try:
        with pytest.raises(SchemaNotCurrent, match="meldplicht db upgrade"):
            ensure_schema_current(engine)
        upgrade(url)
        ensure_schema_current(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        upgrade(url)  # a second upgrade is a no-op
        assert head_revision() is not None
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres(name)
