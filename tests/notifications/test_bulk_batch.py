"""The batched bulk path stores exactly what one-by-one intake stores, and falls back safely."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from meldplicht.accounts.models import Role
from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today, utcnow
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.security import Principal
from meldplicht.flags.models import Flag
from meldplicht.notifications import bulk, csv_format, intake
from meldplicht.notifications.context import Context
from meldplicht.notifications.models import (
    Channel,
    Notification,
    NotificationFinding,
    NotificationVersion,
    Worker,
    WorkLocation,
)
from meldplicht.notifications.schemas import NotificationCreate
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


def _ctx(employer: EmployerWithKey, settings: Settings, received_at: datetime) -> Context:
    return Context(
        actor=actor(employer),
        cipher=cipher_for(settings),
        channel=Channel.BULK,
        received_at=received_at,
    )


def _columns(row: Any, *skip: str) -> dict[str, Any]:
    return {k: v for k, v in row.model_dump().items() if k not in skip}


def test_create_and_create_batch_store_the_same_rows(
    session: Session, employer: EmployerWithKey, settings: Settings
) -> None:
    """One row builder: a notice stored alone and the same notice in a batch differ only in
    their ids, receipt, verification code and reference (and the BSN of the worker)."""
    employer_id = employer.employer.id
    ctx = _ctx(employer, settings, utcnow())
    one = record(2, "ONE", bsn="111222333").result
    two = record(3, "TWO", bsn="123456782").result
    assert isinstance(one, NotificationCreate)
    assert isinstance(two, NotificationCreate)
    alone, _ = intake.create(session, employer_id, one, ctx, external_reference="ONE")
    [batched] = intake.create_batch(session, employer_id, [(two, "TWO")], ctx)
    session.flush()
    a = session.get(Notification, alone.id)
    b = session.get(Notification, batched.notification_id)
    assert a is not None
    assert b is not None
    ids = ("id", "receipt_number", "verification_code", "external_reference", "worker_id")
    assert _columns(a, *ids) == _columns(b, *ids)
    assert (a.external_reference, b.external_reference) == ("ONE", "TWO")

    def rows(model: Any, nid: uuid.UUID, *skip: str) -> list[dict[str, Any]]:
        found = session.exec(select(model).where(model.notification_id == nid)).all()
        return sorted((_columns(r, "id", "notification_id", *skip) for r in found), key=repr)

    assert rows(WorkLocation, a.id) == rows(WorkLocation, b.id)
    assert rows(NotificationFinding, a.id) == rows(NotificationFinding, b.id)
    [va] = rows(NotificationVersion, a.id)
    [vb] = rows(NotificationVersion, b.id)
    assert va["declaration"]["worker"].pop("bsn_masked").endswith("333")
    assert vb["declaration"]["worker"].pop("bsn_masked").endswith("782")
    assert va == vb
    wa = session.get(Worker, a.worker_id)
    wb = session.get(Worker, b.worker_id)
    assert wa is not None
    assert wb is not None
    secret = ("v_number_encrypted", "document_number_encrypted")
    person = ("id", "bsn_hash", "bsn_encrypted", "bsn_last3", "created_at", *secret)
    assert _columns(wa, *person) == _columns(wb, *person)
    cipher = cipher_for(settings)
    for name in secret:  # encrypted with a fresh nonce each: the same plain text
        assert cipher.decrypt(getattr(wa, name)) == cipher.decrypt(getattr(wb, name))
    audits = {
        e.subject_id: e.details
        for e in session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "notification.created",
                col(AuditEvent.subject_id).in_([str(a.id), str(b.id)]),
            )
        )
    }
    assert audits[str(a.id)].pop("receipt_number") == a.receipt_number
    assert audits[str(b.id)].pop("receipt_number") == b.receipt_number
    assert audits[str(a.id)] == audits[str(b.id)]


def test_a_new_worker_of_a_batch_is_created_at_the_write_instant_as_with_create(
    session: Session, employer: EmployerWithKey, settings: Settings
) -> None:
    """Drift fixed by the shared builder: `create_batch` stamped a new worker with the notice's
    receipt instant, `create` with the instant the row is written."""
    received_at = utcnow() - timedelta(days=3)
    ctx = _ctx(employer, settings, received_at)
    payload = record(2, None, bsn="111222333").result
    assert isinstance(payload, NotificationCreate)
    before = utcnow()
    [created] = intake.create_batch(session, employer.employer.id, [(payload, None)], ctx)
    stored = session.get(Notification, created.notification_id)
    assert stored is not None
    worker = session.get(Worker, stored.worker_id)
    assert worker is not None
    assert worker.created_at >= before
    assert stored.received_at == received_at
