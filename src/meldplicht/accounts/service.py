"""Issuing, revoking and checking API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session, select

from meldplicht.accounts.models import ApiKey, Role, UserAccount
from meldplicht.core.clock import utcnow
from meldplicht.core.errors import NotFound, Unauthorized
from meldplicht.core.security import (
    Principal,
    generate_api_key,
    hash_password,
    secret_matches,
    split_api_key,
)


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    title = "API key not found"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    token: str


def issue_key(
    session: Session,
    *,
    role: Role,
    name: str,
    employer_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> IssuedKey:
    if role is Role.EMPLOYER and employer_id is None:
        raise ValueError("an employer key must be bound to an employer")
    new = generate_api_key()
    key = ApiKey(
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        name=name,
        role=role,
        employer_id=employer_id,
        user_id=user_id,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, token=new.token)


def revoke_key(session: Session, prefix: str) -> ApiKey:
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None:
        raise ApiKeyNotFound(f"No key with prefix {prefix}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.flush()
    return key


def authenticate_token(session: Session, token: str) -> Principal:
    parts = split_api_key(token)
    invalid = Unauthorized(
        "The API key is missing, malformed, unknown or revoked.",
        headers={"WWW-Authenticate": 'Bearer realm="meldplicht"'},
    )
    if parts is None:
        raise invalid
    prefix, secret = parts
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None or key.revoked_at is not None or not secret_matches(secret, key.secret_hash):
        raise invalid
    now = utcnow()
    # Write last-used at most once a minute so reads don't all become writes.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        key.last_used_at = now
        session.add(key)
    return Principal(
        role=key.role,
        actor_id=f"key:{key.prefix}",
        employer_id=key.employer_id,
        display_name=key.name,
        user_id=key.user_id,
    )


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    employer_id: uuid.UUID | None = None,
) -> UserAccount:
    user = UserAccount(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        employer_id=employer_id,
    )
    session.add(user)
    session.flush()
    return user
