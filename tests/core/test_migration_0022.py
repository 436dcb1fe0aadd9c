"""Migration 0022 (the ordinary night's dates and indexes) goes up, down and up again on both
databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import alembic_config, upgrade
from tests.conftest import drop_postgres, fresh_postgres_url, require_backend, unique_pg_name

NEW_COLUMNS = {
    "notification": {"next_cross_date", "next_payroll_date"},
    "sweep_run": {"changes_through"},
}
NEW_INDEXES = {
    "notification": {
        "ix_notification_next_cross_date",
        "ix_notification_next_payroll_date",
        "ix_notification_updated_at",
        "ix_notification_retention_end",
        "ix_notification_retention_withdrawn",
    },
    "payroll_record": {"ix_payroll_record_period_end"},
}


def _schema(url: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    engine = create_db_engine(url)
    try:
        found = inspect(engine)
        columns = {t: {c["name"] for c in found.get_columns(t)} for t in NEW_COLUMNS}
        indexes = {t: {str(i["name"]) for i in found.get_indexes(t)} for t in NEW_INDEXES}
        return columns, indexes
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0022_up_down_up(backend: str, tmp_path: Path) -> None:
    require_backend(backend)
    name = unique_pg_name("meldplicht_m0022")
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else fresh_postgres_url(name)
    try:
        upgrade(url, "0022")
        columns, indexes = _schema(url)
        for table, wanted in NEW_COLUMNS.items():
            assert wanted <= columns[table]
        for table, wanted in NEW_INDEXES.items():
            assert wanted <= indexes[table]
        command.downgrade(alembic_config(url), "0018")
        columns, indexes = _schema(url)
        for table, wanted in NEW_COLUMNS.items():
            assert not wanted & columns[table]
        for table, wanted in NEW_INDEXES.items():
            assert not wanted & indexes[table]
        upgrade(url, "0022")
        assert _schema(url)[1]["notification"] >= NEW_INDEXES["notification"]
    finally:
        if backend == "postgres":
            drop_postgres(name)
