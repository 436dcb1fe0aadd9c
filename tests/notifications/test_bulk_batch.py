"""The batched bulk path stores exactly what one-by-one intake stores, and falls back safely."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import Session, col, func, select

from meldplicht.accounts.models import Role
from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today
from meldplicht.core.config import Settings
from meldplicht.core.security import Principal
from meldplicht.inspection.models import Flag
from meldplicht.notifications import bulk, csv_format
from meldplicht.notifications.models import (
    Notification,
    NotificationFinding,
    NotificationVersion,
    Worker,
    WorkLocation,
)
from tests.conftest import EmployerWithKey
from tests.factories import notification_body, with_worker


def record(line: int, reference: str | None, **worker: str) -> csv_format.Record:
    late = (today() + timedelta(days=1)).isoformat()
    body = with_worker(notification_body(start_date=late, end_date=None), **worker)
    return csv_format.Record(
        line=line,
        meta={"external_reference": reference} if reference else {},
        result=csv_format.NotificationCreate.model_validate(body),
    )


def actor(employer: EmployerWithKey) -> Principal:
    return Principal(role=Role.EMPLOYER, actor_id="key:test", employer_id=employer.employer.id)


def test_a_batch_stores_everything_intake_stores(
    session: Session, employer: EmployerWithKey, settings: Settings
) -> None:
    rows = [
        record(2, "A-1", bsn="111222333"),
        record(3, "A-2", bsn="123456782"),
        record(4, "A-3", bsn="111222333", surname="Kovalenko-Nova"),  # same person again
    ]
    reports = list(bulk.store_rows(session, employer.employer.id, rows, actor(employer), settings))
    assert [r.status for r in reports] == ["accepted"] * 3
    ids = [r.notification_id for r in reports]
    assert len({r.receipt_number for r in reports}) == 3
    for nid in ids:
        assert nid is not None
        n = session.get(Notification, nid)
        assert n is not None
        assert n.version == 1
        assert n.channel == "bulk"
        versions = session.exec(
            select(NotificationVersion).where(NotificationVersion.notification_id == nid)
        ).all()
        assert len(versions) == 1
        assert versions[0].declaration["worker"]["bsn_masked"].endswith(("333", "782"))
        assert session.exec(select(WorkLocation).where(WorkLocation.notification_id == nid)).all()
        codes = set(
            session.exec(
                select(NotificationFinding.code).where(NotificationFinding.notification_id == nid)
            )
        )
        assert "LATE_NOTICE" in codes
        flag = session.exec(
            select(Flag).where(Flag.notification_id == nid, Flag.rule_code == "LATE_NOTICE")
        ).one()
        assert flag.status == "open"
        assert flag.risk_score > 0
        assert flag.person_hash
        assert flag.province == "Zuid-Holland"
    # Two rows of one person make one worker, described by the newest row.
    workers = session.exec(select(Worker).where(Worker.employer_id == employer.employer.id)).all()
    assert len(workers) == 2
    assert {w.surname for w in workers} == {"Kovalenko", "Kovalenko-Nova"}
    created = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "notification.created",
            col(AuditEvent.subject_id).in_([str(i) for i in ids]),
        )
    ).one()
    assert created == 3


def test_a_reference_twice_in_one_file_falls_back_row_by_row(
    session: Session, employer: EmployerWithKey, settings: Settings
) -> None:
    # Issue 17: the second row is another worker: a conflict, never "already notified".
    rows = [record(2, "DUP", bsn="111222333"), record(3, "DUP", bsn="123456782")]
    reports = list(bulk.store_rows(session, employer.employer.id, rows, actor(employer), settings))
    assert [r.status for r in reports] == ["accepted", "conflict"]
    assert reports[1].receipt_number is None
    assert reports[1].errors[0].code == "reference_conflict"
    assert reports[0].receipt_number in reports[1].errors[0].message
    again = list(bulk.store_rows(session, employer.employer.id, rows, actor(employer), settings))
    assert [r.status for r in again] == ["already_present", "conflict"]
    assert uuid.UUID(str(again[0].notification_id)) == reports[0].notification_id
