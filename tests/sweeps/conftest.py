"""Sweep fixtures: the sweep commits, so every test gets its own committed database.

A migrated template is made once per backend and copied per test (a file copy on SQLite,
CREATE DATABASE ... TEMPLATE on PostgreSQL), which is much faster than migrating each time.
Notifications are made through `notifications.intake` with a receipt instant of our choice,
so the dates are realistic (2024, 2025) and the flags are the ones intake really raises.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from meldplicht.core.clock import LEGAL_TZ
from meldplicht.core.config import Environment, Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import upgrade
from meldplicht.core.security import Principal
from meldplicht.employers.models import Employer
from meldplicht.employers.schemas import EmployerCreate
from meldplicht.employers.service import create_employer
from meldplicht.flags.models import Flag
from meldplicht.notifications import changes, intake
from meldplicht.notifications.context import Context
from meldplicht.notifications.models import Channel, Notification
from meldplicht.notifications.schemas import NotificationChange, NotificationCreate
from tests.conftest import (
    PG_ADMIN_URL,
    drop_postgres,
    fresh_postgres_url,
    require_backend,
    unique_pg_name,
)
from tests.factories import notification_body, with_worker

ACTOR = Principal(role="employer", actor_id="test:sweeps", display_name="test")


def settings_for(url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=url,
        _env_file=None,  # type: ignore[call-arg]
    )


def pg_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}"


def pg_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def clone_database(url: str, tmp_path: Path) -> str:
    """A byte-identical copy (same ids) of a committed database nobody is connected to."""
    if url.startswith("sqlite"):
        source = url.split("///", 1)[-1]
        target = tmp_path / f"clone_{uuid.uuid4().hex[:8]}.db"
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return f"sqlite:///{target}"
    name = unique_pg_name("meldplicht_sweep_clone")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_name(url)}"')
    return pg_url(name)


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        drop_postgres(pg_name(url))


@pytest.fixture(scope="session")
def sweep_template(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sweep_tpl') / 'template.db'}"
        upgrade(url)
        yield url
        return
    name = unique_pg_name("meldplicht_sweep_tpl")
    url = fresh_postgres_url(name)
    upgrade(url)
    yield url
    drop_postgres(name)


@dataclass
class SweepDb:
    url: str
    engine: Engine
    settings: Settings
    backend: str

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


@pytest.fixture
def sweep_db(db_backend: str, sweep_template: str, tmp_path: Path) -> Iterator[SweepDb]:
    require_backend(db_backend)
    url = clone_database(sweep_template, tmp_path)
    engine = create_db_engine(url)
    yield SweepDb(url, engine, settings_for(url), db_backend)
    engine.dispose()
    drop_database(url)


def at(day: date, hour: int = 10) -> datetime:
    """A receipt instant: `hour` o'clock Amsterdam time on `day`, as UTC."""
    return datetime.combine(day, time(hour), tzinfo=LEGAL_TZ).astimezone(UTC)


def context(settings: Settings, received_at: datetime) -> Context:
    return Context(
        actor=ACTOR,
        cipher=cipher_for(settings),
        channel=Channel.API,
        received_at=received_at,
    )


def add_employer(
    session: Session, kvk: str, name: str = "Kwekerij De Tuin B.V.", lhn: str | None = None
) -> Employer:
    return create_employer(
        session,
        EmployerCreate(
            kvk_number=kvk,
            name=name,
            sbi_code="01130",
            postcode="2671 AB",
            loonheffingennummer=lhn,
        ),
    )


def body_for(
    *,
    start: date,
    wage: str = "16.50",
    birth: date = date(1990, 3, 14),
    end: date | None = None,
    hours: str = "38",
    bsn: str = "111222333",
    nationality: str = "UKR",
    document_valid_until: date | None = date(2027, 3, 4),
    **overrides: Any,
) -> dict[str, Any]:
    body = notification_body(
        start_date=start.isoformat(),
        end_date=end.isoformat() if end else None,
        hours_per_week=hours,
        fulltime_hours_per_week="38",
        wage={"amount": wage, "period": "hour", "includes_holiday_allowance": False},
        **overrides,
    )
    return with_worker(
        body,
        birth_date=birth.isoformat(),
        bsn=bsn,
        nationality=nationality,
        document_valid_until=document_valid_until.isoformat() if document_valid_until else None,
    )


def notify(
    db: SweepDb, employer_id: uuid.UUID, body: dict[str, Any], received: date, hour: int = 10
) -> uuid.UUID:
    with db.session() as session, session.begin():
        notification, _ = intake.create(
            session,
            employer_id,
            NotificationCreate.model_validate(body),
            context(db.settings, at(received, hour)),
        )
        return notification.id


def change(
    db: SweepDb,
    notification_id: uuid.UUID,
    received: date,
    hour: int = 10,
    **fields: Any,
) -> None:
    with db.session() as session, session.begin():
        notification = session.get(Notification, notification_id)
        assert notification is not None
        payload = NotificationChange.model_validate(
            {"effective_date": received.isoformat(), **fields}
        )
        changes.change(
            session,
            notification.employer_id,
            notification_id,
            payload,
            context(db.settings, at(received, hour)),
        )


def flags(engine: Engine) -> dict[str, tuple[str, str, bool, str]]:
    """fingerprint -> (rule, status, condition present, severity): what must match."""
    with Session(engine) as session:
        return {
            f.fingerprint: (f.rule_code, f.status, f.condition_present, f.severity)
            for f in session.exec(select(Flag))
        }


def flags_of(engine: Engine, subject_id: object, rule: str | None = None) -> list[Flag]:
    with Session(engine, expire_on_commit=False) as session:
        query = select(Flag).where(Flag.subject_id == str(subject_id))
        if rule is not None:
            query = query.where(Flag.rule_code == rule)
        return list(session.exec(query.order_by(Flag.period_key)))


def valid_bsns(count: int, start: int = 100000000) -> list[str]:
    """Nine-digit numbers passing the 11-test, in order."""
    out: list[str] = []
    n = start
    while len(out) < count:
        digits = [int(c) for c in f"{n:09d}"]
        total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
        if (total - digits[8]) % 11 == 0:
            out.append(f"{n:09d}")
        n += 1
    return out
