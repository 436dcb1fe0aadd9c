"""Security fixtures: one account and one API key per role, and signed-in page sessions.

Every role gets a user account and a key bound to it (inspection keys must be bound). Page
sessions are made by signing the session cookie with the app's secret, exactly as Starlette's
SessionMiddleware does, so the matrix does not pay for an Argon2 sign-in per role.
"""

from __future__ import annotations

import functools
import json
import uuid
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import itsdangerous
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from meldplicht.accounts.models import Role, UserAccount
from meldplicht.accounts.service import issue_key
from meldplicht.core.clock import utcnow
from meldplicht.core.config import Settings
from meldplicht.core.security import hash_password
from meldplicht.inspection.dependencies import stream_sessions
from meldplicht.inspection.export import SessionFactory
from meldplicht.web import SESSION_COOKIE
from meldplicht.web.csrf import SESSION_KEY as CSRF_KEY
from meldplicht.web.sessions import signed_in_data
from tests.conftest import EmployerWithKey

PASSWORD = "correct horse battery staple"
ROLES = ("anonymous", *(r.value for r in Role))
CSRF_TOKEN = "matrix-csrf-token"


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Actor:
    role: str
    token: str | None
    user: UserAccount | None
    employer_id: uuid.UUID | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def session_cookie(settings: Settings, user: UserAccount | None) -> str:
    """A signed session cookie as SessionMiddleware writes it (signed in if `user`)."""
    data: dict[str, object] = {CSRF_KEY: CSRF_TOKEN}
    if user is not None:
        data.update(signed_in_data(user, utcnow()))
    signer = itsdangerous.TimestampSigner(settings.secret_key.get_secret_value())
    return signer.sign(b64encode(json.dumps(data).encode())).decode()


def make_user(
    session: Session, username: str, role: Role, employer_id: uuid.UUID | None = None
) -> UserAccount:
    user = UserAccount(
        username=username,
        display_name=username.replace("_", " ").title(),
        role=role,
        employer_id=employer_id,
        password_hash=password_hash(),
    )
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def actors(session: Session, employer: EmployerWithKey) -> dict[str, Actor]:
    """anonymous, employer (the `employer` fixture's), data_partner, inspector, supervisor,
    admin."""
    out = {"anonymous": Actor("anonymous", None, None)}
    for role in Role:
        employer_id = employer.employer.id if role is Role.EMPLOYER else None
        user = make_user(session, f"sec_{role.value}", role, employer_id)
        token = (
            employer.token
            if role is Role.EMPLOYER
            else issue_key(session, role=role, name=f"{role} key", user_id=user.id).token
        )
        out[role.value] = Actor(role.value, token, user, employer_id)
    return out


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


def client_as(api: TestClient, settings: Settings, actor: Actor) -> TestClient:
    """The client carrying the actor's key and page session (anonymous: a CSRF-only session)."""
    api.cookies.clear()
    api.cookies.set(SESSION_COOKIE, session_cookie(settings, actor.user))
    api.headers.pop("Authorization", None)
    api.headers.update(actor.headers)
    return api
