"""API keys (hashed, prefixed, revocable) and user accounts with roles."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from meldplicht.core.clock import utcnow
from meldplicht.core.types import UTCDateTime


class Role(enum.StrEnum):
    EMPLOYER = "employer"
    DATA_PARTNER = "data_partner"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class UserAccount(SQLModel, table=True):
    """A person who signs in to the pages (employer staff, inspectors, supervisors, admins)."""

    __tablename__ = "user_account"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=100, unique=True, index=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    employer_id: uuid.UUID | None = Field(default=None, foreign_key="employer.id", index=True)
    password_hash: str = Field(max_length=255)
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled: bool = False
    # Raised to end every page session of the account at once (sign-out, a new password,
    # disabling): a session cookie carries the number it was issued under (web/auth.py).
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """A machine credential. Only the SHA-256 of the secret part is stored."""

    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    prefix: str = Field(max_length=16, unique=True, index=True)
    secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)
    employer_id: uuid.UUID | None = Field(default=None, foreign_key="employer.id", index=True)
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
