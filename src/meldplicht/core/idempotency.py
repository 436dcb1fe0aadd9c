"""Idempotency-Key support: the same key and body replays the first answer; another body is 409."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from meldplicht.core.clock import utcnow
from meldplicht.core.errors import IdempotencyConflict
from meldplicht.core.types import UTCDateTime


class IdempotencyRecord(SQLModel, table=True):
    """The answer given to a request that carried an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=64)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def request_fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def find(session: Session, owner: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    record = session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
        )
    ).first()
    if record is not None and record.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for a different request. Use a new key "
            "for a new notification."
        )
    return record


def remember(
    session: Session, owner: str, key: str, fingerprint: str, status_code: int, body: Any
) -> None:
    session.add(
        IdempotencyRecord(
            owner=owner,
            key=key,
            request_hash=fingerprint,
            status_code=status_code,
            response=body,
        )
    )
    session.flush()


def complete(session: Session, owner: str, key: str, status_code: int, body: Any) -> None:
    record = session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
        )
    ).one()
    record.status_code = status_code
    record.response = body
    session.add(record)
    session.flush()
