"""Replay once: the same key and request replays the first answer; another request is 409.

`run_once` is the one implementation, used by the API (the Idempotency-Key header) and by the
pages (the submission id of a confirm page, so pressing Send twice stores one notice).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from meldplicht.core.clock import utcnow
from meldplicht.core.errors import IdempotencyConflict
from meldplicht.core.types import UTCDateTime

T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class Replayed:
    """The answer an earlier request with the same key and the same request got."""

    status_code: int
    body: dict[str, Any]


def run_once(
    session: Session,
    owner: str,
    key: str,
    fingerprint: str,
    produce: Callable[[], tuple[T, int, dict[str, Any]]],
    *,
    busy: str = "A request with this key is still being processed.",
) -> T | Replayed:
    """`produce` once per (owner, key): the one implementation behind the API's
    Idempotency-Key and the pages' Send button (a confirm page's submission id).

    A key already answered for the same request (`fingerprint`) gives that answer back
    (`Replayed`), without calling `produce`; for another request it is refused (409). Else the
    key is claimed and `produce` runs: it does the writes and gives its result, the status
    and the JSON body to replay on a retry. A request racing another with the same key waits
    for the other's commit (the claim is a unique row) and then replays its answer; if the
    other rolled back, it is refused as still being processed (`busy`), and may be retried.
    Everything is written in the caller's transaction: a caller that must leave nothing
    behind when `produce` refuses (a form shown again with its errors) wraps this call in a
    savepoint of its own.
    """
    record = find(session, owner, key, fingerprint)
    if record is None:
        try:
            with session.begin_nested():
                remember(session, owner, key, fingerprint, 0, {})
        except IntegrityError:
            # A concurrent request with the same key won the race and has committed by now.
            record = find(session, owner, key, fingerprint)
            if record is None:  # pragma: no cover - the winner rolled back; let the client retry
                raise IdempotencyConflict(busy) from None
    if record is not None:
        return Replayed(record.status_code, record.response)
    result, status_code, body = produce()
    complete(session, owner, key, status_code, body)
    return result
