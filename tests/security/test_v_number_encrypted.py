"""The V-number is personal data: stored only encrypted (like the document number), never in
the version history or an ordinary answer, and migration 0012 encrypts the rows stored before
it (both databases)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlmodel import Session

from meldplicht.app import create_app
from meldplicht.core.config import Environment, Settings, get_settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import alembic_config, upgrade
from tests.conftest import (
    EmployerWithKey,
    drop_postgres,
    fresh_postgres_url,
    make_employer,
    require_backend,
    unique_pg_name,
)
from tests.factories import notification_body

V_NUMBER = "1234567890"  # the factories' worker
SECRET = "migration-test-secret-0123456789abcdef"


def all_text(db: Engine | Session) -> str:
    """Every worker and version row as text, to look for the V-number in clear."""
    queries = ("SELECT * FROM worker", "SELECT declaration, changes FROM notification_version")
    if isinstance(db, Session):
        return "".join(repr(db.execute(text(q)).all()) for q in queries)
    with db.connect() as conn:
        return "".join(repr(conn.execute(text(q)).all()) for q in queries)


def test_stored_encrypted_and_never_answered(
    client: TestClient, session: Session, settings: Settings, employer: EmployerWithKey
) -> None:
    created = client.post(
        "/api/v1/notifications", json=notification_body(), headers=employer.headers
    )
    assert created.status_code == 201, created.text
    assert V_NUMBER not in created.text
    detail = client.get(f"/api/v1/notifications/{created.json()['id']}", headers=employer.headers)
    assert V_NUMBER not in detail.text
    row = session.execute(text("SELECT v_number_encrypted FROM worker")).one()
    assert cipher_for(settings).decrypt(row[0]) == V_NUMBER
    assert V_NUMBER not in all_text(session)


@pytest.fixture(params=["sqlite", "postgres"])
def fresh(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Settings]]:
    backend: str = request.param
    require_backend(backend)
    name = unique_pg_name("meldplicht_v_number")
    url = f"sqlite:///{tmp_path / 'v.db'}" if backend == "sqlite" else fresh_postgres_url(name)
    # The migration takes its keys from the environment, as `meldplicht db upgrade` does.
    monkeypatch.setenv("MELDPLICHT_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    settings = Settings(
        environment=Environment.TEST,
        database_url=url,
        secret_key=SecretStr(SECRET),
        _env_file=None,  # type: ignore[call-arg]
    )
    try:
        yield url, settings
    finally:
        get_settings.cache_clear()
        if backend == "postgres":
            drop_postgres(name)


def test_migration_0012_encrypts_the_rows_stored_before_it(fresh: tuple[str, Settings]) -> None:
    url, settings = fresh
    upgrade(url)
    engine = create_db_engine(url)
    try:
        with Session(engine) as session, session.begin():
            employer = make_employer(session, "12345678")
        with TestClient(create_app(settings, engine)) as client:
            created = client.post(
                "/api/v1/notifications", json=notification_body(), headers=employer.headers
            )
            assert created.status_code == 201, created.text

        # Back to 0011: the V-number in clear on the worker, as it was stored then, and in the
        # declaration of the version history.
        command.downgrade(alembic_config(url), "0011")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT v_number FROM worker")).scalar_one() == V_NUMBER
            version_id, declaration = conn.execute(
                text("SELECT id, declaration FROM notification_version")
            ).one()
            declaration = json.loads(declaration) if isinstance(declaration, str) else declaration
            declaration["worker"]["v_number"] = V_NUMBER
            conn.execute(
                text("UPDATE notification_version SET declaration = :d WHERE id = :i"),
                {"d": json.dumps(declaration), "i": version_id},
            )
        assert V_NUMBER in all_text(engine)

        upgrade(url)
        assert V_NUMBER not in all_text(engine)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT v_number_encrypted FROM worker")).scalar_one()
        assert cipher_for(settings).decrypt(stored) == V_NUMBER
    finally:
        engine.dispose()
