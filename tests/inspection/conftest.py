"""Inspection fixtures: inspector and supervisor accounts with their own API keys, and flags.

`make_staff` is the CLI-free way to get an inspector (or supervisor) and a key bound to them.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from meldplicht.accounts.models import Role, UserAccount
from meldplicht.accounts.service import issue_key
from meldplicht.core.clock import today, utcnow
from meldplicht.core.security import hash_password
from meldplicht.employers.models import Employer
from meldplicht.flags.models import Flag, FlagSource, SubjectType
from meldplicht.flags.sync import Subject, sync_flags
from meldplicht.inspection.dependencies import stream_sessions
from meldplicht.inspection.export import SessionFactory
from meldplicht.rules.facts import Finding, Severity
from tests.factories import notification_body

NOTIFICATIONS = "/api/v1/notifications"
INSPECTION = "/api/v1/inspection"


@dataclass
class StaffWithKey:
    user: UserAccount
    token: str

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@functools.cache
def _password_hash() -> str:
    # Argon2 is slow on purpose; these accounts sign in with keys, so hash once per run.
    return hash_password("correct horse battery staple")


def make_staff(
    session: Session, username: str, role: Role = Role.INSPECTOR, *, bind_user: bool = True
) -> StaffWithKey:
    """A user account of the role and an API key of the same role bound to it."""
    user = UserAccount(
        username=username,
        display_name=username.replace("_", " ").title(),
        role=role,
        password_hash=_password_hash(),
    )
    session.add(user)
    session.flush()
    issued = issue_key(
        session, role=role, name=f"{username} key", user_id=user.id if bind_user else None
    )
    return StaffWithKey(user=user, token=issued.token)


@pytest.fixture
def inspector(session: Session) -> StaffWithKey:
    return make_staff(session, "inspector_anna")


@pytest.fixture
def inspector2(session: Session) -> StaffWithKey:
    return make_staff(session, "inspector_bram")


@pytest.fixture
def supervisor(session: Session) -> StaffWithKey:
    return make_staff(session, "supervisor_carla", Role.SUPERVISOR)


@pytest.fixture
def api(app: FastAPI, session: Session) -> TestClient:
    """The test client, with the CSV export's own sessions joined to the test transaction."""

    def joined() -> SessionFactory:
        @contextmanager
        def open_session() -> Iterator[Session]:
            with session.begin_nested():
                yield session

        return open_session

    app.dependency_overrides[stream_sessions] = joined
    return TestClient(app, raise_server_exceptions=False)


# --- making flags ------------------------------------------------------------------------------


def late_body(bsn: str = "111222333", **overrides: Any) -> dict[str, Any]:
    body = notification_body(start_date=(today() + timedelta(days=1)).isoformat(), end_date=None)
    body["worker"]["bsn"] = bsn
    body.update(overrides)
    return body


def underpaid_body(bsn: str = "111222333") -> dict[str, Any]:
    body = notification_body()
    body["worker"]["bsn"] = bsn
    body["wage"] = {"amount": "9.00", "period": "hour", "includes_holiday_allowance": False}
    return body


def notify(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = client.post(NOTIFICATIONS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def synthetic_flag(
    session: Session,
    employer: Employer,
    *,
    rule: str = "LATE_NOTICE",
    severity: Severity = Severity.MEDIUM,
    workers: int = 1,
    first_seen: datetime | None = None,
    subject_type: SubjectType = SubjectType.EMPLOYER,
    subject_id: str | None = None,
    person_hash: str | None = None,
    postcode: str | None = "2671 AB",
) -> Flag:
    """One flag through the real sync_flags, about a made-up subject (fast, for volume)."""
    finding = Finding(
        code=rule,
        severity=severity,
        rule_version="1.0.0",
        legal_basis="test basis",
        message_nl="testbevinding",
        message_en="test finding",
        evidence={"made_up": True},
    )
    counts = sync_flags(
        session,
        Subject(
            type=subject_type,
            id=subject_id or uuid.uuid4().hex,
            employer_id=employer.id,
            person_hash=person_hash,
            postcode=postcode,
            workers_affected=workers,
        ),
        [finding],
        scope={rule},
        source=FlagSource.SWEEP,
        as_of=today(),
        now=first_seen or utcnow(),
    )
    flag = session.get(Flag, counts.flag_ids[0])
    assert flag is not None
    return flag
