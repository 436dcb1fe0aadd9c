"""What an employer should act on now, before an inspector asks: the open findings the
employer can put right, and protection documents that expire within the warning window.

Read live from the flags the sweep (and intake) keep and from the declared documents, so the
dashboard and `GET /api/v1/actions` always agree with the queue.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import or_
from sqlmodel import Session, col, select

from meldplicht.flags.models import ACTIVE_STATUSES, Flag
from meldplicht.notifications.models import Notification, NotificationStatus, Worker
from meldplicht.rules.checks.base import date_en, date_nl
from meldplicht.rules.checks.status import BUWAV_BASIS
from meldplicht.rules.sql import counted

# The findings an employer can act on: pay the new minimum (a half-yearly indexation above the
# declared wage), renew or show the extension of a document, notify the end or extension.
ACTIONABLE_RULES = frozenset({"BELOW_MINIMUM_WAGE", "DOCUMENT_EXPIRED", "PAST_DECLARED_END"})
# A product choice, not law: four weeks and a bit leave time to ask the IND for an extension.
DOCUMENT_WARNING_DAYS = 30
DOCUMENT_EXPIRING = "DOCUMENT_EXPIRING"


class ActionOut(BaseModel):
    """One thing the employer should do, with the law it follows from."""

    code: str = Field(description="The finding's rule code, or DOCUMENT_EXPIRING.")
    severity: str
    notification_id: uuid.UUID
    receipt_number: str
    worker_name: str
    message: str = Field(description="In the language the request asked for.")
    message_nl: str
    message_en: str
    legal_basis: str
    due_date: date | None = Field(None, description="When it must be done, where known.")


class ActionList(BaseModel):
    as_of: date
    items: list[ActionOut]


def _name(worker: Worker) -> str:
    return f"{worker.given_names} {worker.surname}"


def list_actions(
    session: Session, employer_id: uuid.UUID, as_of: date, lang: str = "en"
) -> ActionList:
    """Every action needed by `employer_id` as of `as_of`, most urgent first."""
    items: list[ActionOut] = []
    flagged = session.exec(
        select(Flag, Notification, Worker)
        .join(Notification, col(Notification.id) == col(Flag.notification_id))
        .join(Worker, col(Worker.id) == col(Notification.worker_id))
        .where(
            col(Flag.employer_id) == employer_id,
            col(Flag.rule_code).in_(ACTIONABLE_RULES),
            col(Flag.status).in_(ACTIVE_STATUSES),
            col(Flag.condition_present).is_(True),
            counted(col(Notification.status)),
        )
    ).all()
    for flag, notification, worker in flagged:
        items.append(
            ActionOut(
                code=flag.rule_code,
                severity=flag.severity,
                notification_id=notification.id,
                receipt_number=notification.receipt_number,
                worker_name=_name(worker),
                message=flag.message_nl if lang == "nl" else flag.message_en,
                message_nl=flag.message_nl,
                message_en=flag.message_en,
                legal_basis=flag.legal_basis,
            )
        )
    horizon = as_of + timedelta(days=DOCUMENT_WARNING_DAYS)
    expiring = session.exec(
        select(Notification, Worker)
        .join(Worker, col(Worker.id) == col(Notification.worker_id))
        .where(
            col(Notification.employer_id) == employer_id,
            col(Notification.status) == NotificationStatus.ACTIVE,
            or_(col(Notification.end_date).is_(None), col(Notification.end_date) >= as_of),
            col(Worker.document_valid_until) >= as_of,
            col(Worker.document_valid_until) <= horizon,
        )
    ).all()
    for notification, worker in expiring:
        until = worker.document_valid_until
        assert until is not None
        if notification.end_date is not None and notification.end_date <= until:
            continue  # the work ends before the document does
        en = (
            f"The document of {_name(worker)} is valid until {date_en(until)}, while the "
            f"work goes on. The exemption covers only a person who holds temporary protection: "
            f"ask the worker for the new document or the IND's extension letter before then."
        )
        nl = (
            f"Het document van {_name(worker)} is geldig tot {date_nl(until)}, terwijl het "
            f"werk doorloopt. De vrijstelling geldt alleen voor wie tijdelijke bescherming "
            f"heeft: vraag de werknemer vóór die datum om het nieuwe document of de "
            f"verlengingsbrief van de IND."
        )
        items.append(
            ActionOut(
                code=DOCUMENT_EXPIRING,
                severity="low",
                notification_id=notification.id,
                receipt_number=notification.receipt_number,
                worker_name=_name(worker),
                message=nl if lang == "nl" else en,
                message_nl=nl,
                message_en=en,
                legal_basis=BUWAV_BASIS,
                due_date=until,
            )
        )
    order = {"high": 0, "medium": 1, "low": 2, "info": 3}
    items.sort(key=lambda a: (order.get(a.severity, 9), a.due_date or date.max, a.receipt_number))
    return ActionList(as_of=as_of, items=items)
