"""A notice sent again under an external reference already stored: a replay or a conflict.

One definition for every channel that takes external references (the bulk upload and the
admin import): the same reference with the same content is an idempotent replay (nothing is
stored twice); with other content (another worker, other terms) it is a conflict, never
"already notified".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, select

from meldplicht.core.errors import FieldError
from meldplicht.notifications import intake
from meldplicht.notifications.models import Notification, NotificationVersion, Worker
from meldplicht.notifications.schemas import NotificationCreate


@dataclass(frozen=True, slots=True)
class Stored:
    """A notification already stored under an external reference, and what it declared."""

    notification_id: uuid.UUID
    receipt_number: str
    bsn_hash: str
    declaration: dict[str, Any]


def stored_under(
    session: Session, employer_id: uuid.UUID, references: set[str]
) -> dict[str, Stored]:
    """The employer's notifications stored under any of `references`, by reference."""
    if not references:
        return {}
    rows = session.exec(
        select(Notification, Worker.bsn_hash, NotificationVersion.declaration)
        .join(Worker, col(Worker.id) == col(Notification.worker_id))
        .join(
            NotificationVersion,
            and_(
                col(NotificationVersion.notification_id) == col(Notification.id),
                col(NotificationVersion.version) == 1,
            ),
        )
        .where(
            Notification.employer_id == employer_id,
            col(Notification.external_reference).in_(references),
        )
    )
    return {
        n.external_reference: Stored(n.id, n.receipt_number, bsn_hash, dict(declaration))
        for n, bsn_hash, declaration in rows
        if n.external_reference is not None
    }


def unsaved(payload: NotificationCreate, bsn_hash: str) -> Stored:
    """A notice met earlier in the same file, compared with later rows as if it were stored."""
    return Stored(uuid.UUID(int=0), "", bsn_hash, intake.declaration_of(payload))


def is_replay(known: Stored, payload: NotificationCreate, bsn_hash: str) -> bool:
    """The notice declares exactly what was stored under its reference: the same worker (BSN
    hash) and the same first declaration."""
    return known.bsn_hash == bsn_hash and known.declaration == intake.declaration_of(payload)


def conflict_error(known: Stored) -> FieldError:
    """Why a notice reusing a stored reference with other content is refused."""
    return FieldError(
        field="external_reference",
        code="reference_conflict",
        message=f"This reference was used before for receipt {known.receipt_number}, "
        "with other content (another worker or other terms). Nothing was stored: give "
        "this row a reference of its own, or send a change notice for that receipt.",
        message_nl=f"Dit kenmerk is eerder gebruikt voor ontvangstnummer "
        f"{known.receipt_number}, met een andere inhoud (een andere werknemer of andere "
        "voorwaarden). Er is niets opgeslagen: geef deze regel een eigen kenmerk, of "
        "stuur een wijziging voor dat ontvangstnummer.",
    )
