"""Page tests: each test gets its own freshly migrated SQLite database and a TestClient.

The pages commit for real (the bulk upload even opens its own sessions in a thread), so these
tests do not use the rolled-back outer transaction of tests/conftest.py; copying a database
migrated once per session keeps them fast.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from meldplicht.accounts.models import Role
from meldplicht.accounts.service import create_user, issue_key
from meldplicht.app import create_app
from meldplicht.core.config import Environment, Settings
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import upgrade
from meldplicht.employers.schemas import EmployerCreate
from meldplicht.employers.service import create_employer
from meldplicht.notifications import csv_format
from tests.conftest import PG_ADMIN_URL, drop_postgres, require_backend, unique_pg_name
from tests.factories import day

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("webdb") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def fresh_database(template: Path, directory: Path) -> str:
    target = directory / f"web-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@dataclass
class Accounts:
    employer_id: uuid.UUID
    other_employer_id: uuid.UUID
    api_token: str


def seed_accounts(engine: Engine) -> Accounts:
    """Two employers, an employer user for each, an inspector, and an employer API key."""
    with Session(engine) as session, session.begin():
        ids = []
        for kvk, name, username in (
            ("12345678", "Kwekerij De Tuin B.V.", "tuin"),
            ("87654321", "Schoonmaak Snel B.V.", "snel"),
        ):
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
            create_user(
                session,
                username=username,
                display_name=f"Anna ({name})",
                role=Role.EMPLOYER,
                password=PASSWORD,
                employer_id=employer.id,
            )
            ids.append(employer.id)
        create_user(
            session,
            username="inspecteur",
            display_name="Inge Inspecteur",
            role=Role.INSPECTOR,
            password=PASSWORD,
        )
        token = issue_key(session, role=Role.EMPLOYER, name="bulk", employer_id=ids[0]).token
    return Accounts(employer_id=ids[0], other_employer_id=ids[1], api_token=token)


@dataclass
class Web:
    client: TestClient
    engine: Engine
    accounts: Accounts

    def csrf(self, path: str = "/login") -> str:
        return csrf_from(self.client.get(path).text)

    def login(self, username: str = "tuin", password: str = PASSWORD) -> Any:
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": self.csrf()},
            follow_redirects=False,
        )


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@pytest.fixture
def web(migrated_db: Path, tmp_path: Path) -> Iterator[Web]:
    url = fresh_database(migrated_db, tmp_path)
    engine = create_db_engine(url)
    settings = Settings(
        environment=Environment.TEST,
        database_url=url,
        _env_file=None,  # type: ignore[call-arg]
    )
    accounts = seed_accounts(engine)
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:
        yield Web(client=client, engine=engine, accounts=accounts)
    engine.dispose()


def form_values(**overrides: str) -> dict[str, str]:
    """A complete, valid notification form (the CSV template's example, starting later)."""
    row = next(csv.DictReader(io.StringIO(csv_format.template_csv(for_import=False))))
    values = {k: v for k, v in row.items() if k != "external_reference"}
    values.update(start_date=day(0), end_date=day(120), worker_document_valid_until=day(400))
    values.update(overrides)
    return values


def csv_upload(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=csv_format.EMPLOYER_HEADER, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="session")
def pg_web_template() -> Iterator[str]:
    """A migrated PostgreSQL database to copy (CREATE DATABASE ... TEMPLATE) per test."""
    require_backend("postgres")
    name = unique_pg_name("meldplicht_webtpl")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    upgrade(f"{base}/{name}")
    yield name
    drop_postgres(name)


@pytest.fixture(params=["sqlite", "postgres"])
def web_any_db(request: pytest.FixtureRequest, migrated_db: Path, tmp_path: Path) -> Iterator[Web]:
    """Like `web`, once on a fresh SQLite file and once on a fresh PostgreSQL database."""
    pg_name = None
    if request.param == "sqlite":
        url = fresh_database(migrated_db, tmp_path)
    else:
        template = request.getfixturevalue("pg_web_template")
        pg_name = unique_pg_name("meldplicht_web")
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}" TEMPLATE "{template}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        url = f"{base}/{pg_name}"
    engine = create_db_engine(url)
    settings = Settings(
        environment=Environment.TEST,
        database_url=url,
        _env_file=None,  # type: ignore[call-arg]
    )
    accounts = seed_accounts(engine)
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:
        yield Web(client=client, engine=engine, accounts=accounts)
    engine.dispose()
    if pg_name:
        drop_postgres(pg_name)
