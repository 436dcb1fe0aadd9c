"""Reading an employer's own notifications: one, or a keyset-paginated list."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from meldplicht.core import keyset
from meldplicht.core.errors import NotFound
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
    filters = keyset.digest(
        "notifications",
        {"status": status, "from": start_from, "to": start_to, "bsn": worker_bsn_hash,
         "name": worker_name},
    )  # fmt: skip
    if cursor is not None:
        at, ident = keyset.decode(cursor, "received", filters, keyset.instant_key)
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
        next_cursor = keyset.encode("received", filters, last.received_at, last.id)
    return rows, next_cursor
