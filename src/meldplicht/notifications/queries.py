"""Reading an employer's own notifications: one, or a keyset-paginated list."""

from __future__ import annotations

import base64
import uuid
from datetime import date, datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from meldplicht.core.errors import FieldError, InvalidRequest, NotFound
from meldplicht.notifications.models import (
    Notification,
    NotificationStatus,
    Worker,
)


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    title = "Notification not found"


def get_owned(session: Session, employer_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    notification = session.exec(
        select(Notification).where(
            Notification.id == notification_id, Notification.employer_id == employer_id
        )
    ).first()
    if notification is None:
        # Another employer's notification answers exactly like a missing one.
        raise NotificationNotFound()
    return notification


def encode_cursor(received_at: datetime, notification_id: uuid.UUID) -> str:
    raw = f"{received_at.isoformat()}|{notification_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"
    title = "The cursor is not one this API gave out"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, ident = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor(
            errors=[
                FieldError(
                    field="cursor", code="invalid_cursor", message="Not a cursor from this API."
                )
            ]
        ) from exc


def list_owned(
    session: Session,
    employer_id: uuid.UUID,
    *,
    status: NotificationStatus | None = None,
    start_from: date | None = None,
    start_to: date | None = None,
    worker_bsn_hash: str | None = None,
    worker_name: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Notification], str | None]:
    """Newest first, keyset-paginated on (received_at, id)."""
    query = select(Notification).where(Notification.employer_id == employer_id)
    if status is not None:
        query = query.where(Notification.status == status)
    if start_from is not None:
        query = query.where(Notification.start_date >= start_from)
    if start_to is not None:
        query = query.where(Notification.start_date <= start_to)
    if worker_bsn_hash is not None or worker_name is not None:
        query = query.join(Worker, col(Worker.id) == col(Notification.worker_id))
        if worker_bsn_hash is not None:
            query = query.where(Worker.bsn_hash == worker_bsn_hash)
        if worker_name is not None:
            # A name is text, not a pattern: % and _ in it match only themselves.
            escaped = worker_name.lower().replace("\\", "\\\\").replace("%", "\\%")
            pattern = "%" + escaped.replace("_", "\\_") + "%"
            query = query.where(
                or_(
                    col(Worker.surname).ilike(pattern, escape="\\"),
                    col(Worker.given_names).ilike(pattern, escape="\\"),
                    col(Worker.surname_original).ilike(pattern, escape="\\"),
                )
            )
    if cursor is not None:
        at, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                col(Notification.received_at) < at,
                and_(col(Notification.received_at) == at, col(Notification.id) < ident),
            )
        )
    query = query.order_by(col(Notification.received_at).desc(), col(Notification.id).desc())
    rows = list(session.exec(query.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last.received_at, last.id)
    return rows, next_cursor
