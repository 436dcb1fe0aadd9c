"""A notification as the subject of its flags: who, where, and the intake's flag syncs.

The flags package knows subjects only as values; here a notification becomes one (its first
work location's postcode, its worker's BSN hash), and intake keeps its flags current.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from meldplicht.flags.models import FlagSource, SubjectType
from meldplicht.flags.sync import (
    Subject,
    SyncItem,
    notification_scope,
    sync_flags,
    sync_flags_many,
)
from meldplicht.notifications.models import Notification, Worker, WorkLocation
from meldplicht.rules.facts import Evaluation, Finding, Severity


def first_postcodes(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The first work-location postcode of each notification, in one query."""
    return dict(
        session.exec(
            select(WorkLocation.notification_id, WorkLocation.postcode).where(
                col(WorkLocation.notification_id).in_(ids), WorkLocation.position == 0
            )
        ).all()  # a Result has keys(), so dict() must get plain rows
    )


def notification_subject(
    session: Session,
    notification: Notification,
    first_postcode: str | None = None,
    person_hash: str | None = None,
) -> Subject:
    first_location = (
        first_postcode
        or session.exec(
            select(WorkLocation.postcode)
            .where(WorkLocation.notification_id == notification.id)
            .order_by(col(WorkLocation.position))
        ).first()
    )
    return Subject(
        type=SubjectType.NOTIFICATION,
        id=str(notification.id),
        employer_id=notification.employer_id,
        notification_id=notification.id,
        person_hash=person_hash
        or session.exec(select(Worker.bsn_hash).where(Worker.id == notification.worker_id)).one(),
        postcode=first_location,
    )


def raise_new_notifications_flags(
    session: Session,
    employer_id: uuid.UUID,
    rows: Sequence[tuple[uuid.UUID, str | None, str, Sequence[Finding]]],
    as_of: date,
) -> None:
    """Flags of many notifications created in this transaction (bulk intake), in one sync:
    (notification id, first postcode, person hash, findings) each."""
    items = [
        SyncItem(
            Subject(
                type=SubjectType.NOTIFICATION,
                id=str(nid),
                employer_id=employer_id,
                notification_id=nid,
                person_hash=person_hash,
                postcode=postcode,
            ),
            findings,
        )
        for nid, postcode, person_hash, findings in rows
        if any(f.severity != Severity.INFO for f in findings)
    ]
    if items:
        sync_flags_many(
            session,
            items,
            scope=notification_scope(Evaluation.INTAKE),
            source=FlagSource.INTAKE,
            as_of=as_of,
            new_subjects=True,
        )


def raise_flags_at_intake(
    session: Session,
    notification: Notification,
    findings: Sequence[Finding],
    as_of: date,
    evaluation: Evaluation,
    *,
    first_postcode: str | None = None,
    person_hash: str | None = None,
) -> None:
    """Every intake (new notice, change, termination, withdrawal) keeps the flags current."""
    sync_flags(
        session,
        notification_subject(session, notification, first_postcode, person_hash),
        findings,
        scope=notification_scope(evaluation),
        source=FlagSource.INTAKE,
        as_of=as_of,
        new_subject=notification.version == 1,
    )
