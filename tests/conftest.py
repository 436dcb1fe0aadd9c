"""Shared fixtures: every database test runs on SQLite and on the local PostgreSQL.

The schema is built by the Alembic migrations (never create_all); each test runs inside an
outer transaction that is rolled back, with the app's session joined to it by savepoints.
Locally a missing PostgreSQL skips its half loudly; under CI=true it fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from meldplicht.accounts.models import Role
from meldplicht.accounts.service import issue_key
from meldplicht.app import create_app
from meldplicht.core.config import Environment, Settings
from meldplicht.core.db import create_db_engine, session_from_request
from meldplicht.core.migrations import upgrade
from meldplicht.employers.models import Employer
from meldplicht.employers.schemas import EmployerCreate
from meldplicht.employers.service import create_employer

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get("MELDPLICHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_skipped_backends: set[str] = set()


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _worker_suffix() -> str:
    # The pid keeps two test runs on one machine (two terminals, two xdist workers) apart.
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


def fresh_postgres_url(name: str) -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}"


def drop_postgres(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def unique_pg_name(stem: str) -> str:
    return f"{stem}_{_worker_suffix()}_{uuid.uuid4().hex[:6]}"


def require_backend(backend: str) -> None:
    if backend == "postgres" and not pg_available():
        if IN_CI:
            pytest.fail(
                "PostgreSQL is not reachable and CI=true: the PostgreSQL half is mandatory in CI."
            )
        _skipped_backends.add("postgres")
        pytest.skip("PostgreSQL not reachable: PostgreSQL tests SKIPPED (mandatory under CI)")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_backends:
        terminalreporter.write_sep(
            "!", "WARNING: PostgreSQL tests were SKIPPED: no server on 127.0.0.1:5432", red=True
        )


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def db_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    require_backend(backend)
    return backend


@pytest.fixture(scope="session")
def database_url(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if db_backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    name = f"meldplicht_test_{_worker_suffix()}"
    url = fresh_postgres_url(name)
    upgrade(url)
    yield url
    drop_postgres(name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_db_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with engine.connect() as conn:
        outer = conn.begin()
        with Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as s:
            yield s
        outer.rollback()


@pytest.fixture
def app(settings: Settings, engine: Engine, session: Session) -> FastAPI:
    application = create_app(settings, engine)

    def joined_session() -> Iterator[Session]:
        # Like session_from_request, but inside the test's outer transaction.
        with session.begin_nested():
            yield session

    application.dependency_overrides[session_from_request] = joined_session
    return application


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@dataclass
class EmployerWithKey:
    employer: Employer
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_employer(
    session: Session, kvk: str, name: str = "Kwekerij De Tuin B.V."
) -> EmployerWithKey:
    employer = create_employer(
        session,
        EmployerCreate(
            kvk_number=kvk,
            name=name,
            loonheffingennummer="123456782L01",
            sbi_code="01130",
            sector="Glastuinbouw",
            postcode="2671 AB",
            city="Naaldwijk",
        ),
    )
    issued = issue_key(session, role=Role.EMPLOYER, name="test", employer_id=employer.id)
    return EmployerWithKey(employer=employer, token=issued.token)


@pytest.fixture
def employer(session: Session) -> EmployerWithKey:
    return make_employer(session, "12345678")


@pytest.fixture
def other_employer(session: Session) -> EmployerWithKey:
    return make_employer(session, "87654321", "Schoonmaak Snel B.V.")


def unique_key() -> str:
    return uuid.uuid4().hex
