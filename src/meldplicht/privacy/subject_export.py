"""Everything held about one person (by BSN), for an inspector to hand over (AVG art. 15).

The person is found by the keyed hash of the BSN, never by decrypting every row: the workers
declared under that BSN at every employer, each notification with its full history and
findings, the payroll records and the flags about the person or those notifications (with their
notes). The export is the one place besides the audited personal-data view that shows the BSN
in full; the router records an audit event with the reason before answering.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError
from sqlmodel import Session, col, or_, select

from meldplicht.core.crypto import PersonalDataCipher
from meldplicht.employers.models import Employer
from meldplicht.flags.models import Flag, FlagNote
from meldplicht.notifications.models import (
    Notification,
    NotificationFinding,
    NotificationVersion,
    Worker,
    WorkLocation,
)
from meldplicht.payroll.models import PayrollRecord
from meldplicht.rules import identifiers


def _bsn(value: str) -> str:
    compact = identifiers.compact_bsn(value)
    if not identifiers.is_valid_bsn(compact):
        raise PydanticCustomError(
            "invalid_bsn", "is not a valid BSN (9 digits passing the 11-test)"
        )
    return compact


class SubjectRequest(BaseModel):
    """The BSN travels in the body, never in a URL (URLs end up in logs and browser history)."""

    model_config = ConfigDict(extra="forbid")

    bsn: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=20),
        AfterValidator(_bsn),
        Field(
            description="Burgerservicenummer: 9 digits, 11-test.",
            json_schema_extra={"pattern": r"^[0-9]{9}$", "examples": ["111222333"]},
        ),
    ]
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=3, max_length=500),
        Field(description="Why the export is made (a case or request number); audited."),
    ]


class FindingExport(BaseModel):
    version: int
    code: str
    severity: str
    legal_basis: str
    message_en: str
    message_nl: str
    evidence: dict[str, Any]
    as_of: date


class VersionExport(BaseModel):
    version: int
    kind: str
    channel: str
    received_at: datetime
    effective_date: date | None
    declaration: dict[str, Any]
    changes: dict[str, Any]
    reason: str | None


class LocationExport(BaseModel):
    street: str
    house_number: str
    postcode: str
    city: str


class NotificationExport(BaseModel):
    id: uuid.UUID
    receipt_number: str
    status: str
    channel: str
    received_at: datetime
    notice_date: date
    contract_type: str
    start_date: date
    end_date: date | None
    job_title: str
    job_description: str | None
    hours_per_week: Decimal | None
    wage_amount: Decimal
    wage_period: str
    housing_provided: bool
    housing_address: str | None
    housing_deduction_monthly: Decimal | None
    signatory_name: str
    termination_reason: str | None
    work_locations: list[LocationExport]
    history: list[VersionExport]
    findings: list[FindingExport]


class WorkerExport(BaseModel):
    """The person as declared by one employer."""

    worker_id: uuid.UUID
    employer_id: uuid.UUID
    employer_name: str
    employer_kvk_number: str
    given_names: str
    surname: str
    given_names_original: str | None
    surname_original: str | None
    birth_date: date
    sex: str
    nationality: str
    v_number: str | None
    document_type: str | None
    document_number: str | None
    document_valid_until: date | None
    declared_at: datetime
    notifications: list[NotificationExport]


class PayrollExport(BaseModel):
    id: uuid.UUID
    employer_lhn: str
    employer_id: uuid.UUID | None
    period_start: date
    period_end: date
    hours_paid: Decimal
    gross_wage: Decimal
    includes_holiday_allowance: bool
    nationality: str | None
    document_type: str | None
    birth_date: date | None
    imported_at: datetime


class NoteExport(BaseModel):
    author_name: str
    body: str
    created_at: datetime


class FlagExport(BaseModel):
    id: uuid.UUID
    rule_code: str
    severity: str
    status: str
    outcome: str | None
    subject_type: str
    notification_id: uuid.UUID | None
    message_en: str
    message_nl: str
    evidence: dict[str, Any]
    first_seen_at: datetime
    resolved_at: datetime | None
    resolution_note: str | None
    notes: list[NoteExport]


class SubjectExport(BaseModel):
    """All data held about one BSN, as of `generated_at`."""

    bsn: str
    generated_at: datetime
    workers: list[WorkerExport]
    payroll_records: list[PayrollExport]
    flags: list[FlagExport]


def _decrypt(cipher: PersonalDataCipher, token: str | None) -> str | None:
    return cipher.decrypt(token) if token else None


def export_subject(
    session: Session, bsn: str, cipher: PersonalDataCipher, now: datetime
) -> SubjectExport:
    """Everything stored under `bsn` (empty lists when nothing is held)."""
    bsn_hash = cipher.keyed_hash(bsn)
    workers = list(
        session.exec(select(Worker).where(Worker.bsn_hash == bsn_hash).order_by(col(Worker.id)))
    )
    worker_ids = [w.id for w in workers]
    employers = {
        e.id: e
        for e in session.exec(
            select(Employer).where(col(Employer.id).in_({w.employer_id for w in workers}))
        )
    }
    notifications = list(
        session.exec(
            select(Notification)
            .where(col(Notification.worker_id).in_(worker_ids))
            .order_by(col(Notification.received_at), col(Notification.id))
        )
    )
    notification_ids = [n.id for n in notifications]
    versions: dict[uuid.UUID, list[VersionExport]] = {}
    for v in session.exec(
        select(NotificationVersion)
        .where(col(NotificationVersion.notification_id).in_(notification_ids))
        .order_by(col(NotificationVersion.version))
    ):
        versions.setdefault(v.notification_id, []).append(
            VersionExport.model_validate(v, from_attributes=True)
        )
    findings: dict[uuid.UUID, list[FindingExport]] = {}
    for f in session.exec(
        select(NotificationFinding)
        .where(col(NotificationFinding.notification_id).in_(notification_ids))
        .order_by(col(NotificationFinding.version), col(NotificationFinding.code))
    ):
        findings.setdefault(f.notification_id, []).append(
            FindingExport.model_validate(f, from_attributes=True)
        )
    locations: dict[uuid.UUID, list[LocationExport]] = {}
    for loc in session.exec(
        select(WorkLocation)
        .where(col(WorkLocation.notification_id).in_(notification_ids))
        .order_by(col(WorkLocation.position))
    ):
        locations.setdefault(loc.notification_id, []).append(
            LocationExport.model_validate(loc, from_attributes=True)
        )
    by_worker: dict[uuid.UUID, list[NotificationExport]] = {}
    for n in notifications:
        by_worker.setdefault(n.worker_id, []).append(
            NotificationExport.model_validate(
                {
                    **n.model_dump(),
                    "work_locations": locations.get(n.id, []),
                    "history": versions.get(n.id, []),
                    "findings": findings.get(n.id, []),
                }
            )
        )
    payroll = [
        PayrollExport.model_validate(r, from_attributes=True)
        for r in session.exec(
            select(PayrollRecord)
            .where(PayrollRecord.bsn_hash == bsn_hash)
            .order_by(col(PayrollRecord.period_start), col(PayrollRecord.id))
        )
    ]
    flag_rows = list(
        session.exec(
            select(Flag)
            .where(
                or_(
                    col(Flag.person_hash) == bsn_hash,
                    col(Flag.notification_id).in_(notification_ids),
                )
            )
            .order_by(col(Flag.first_seen_at), col(Flag.id))
        )
    )
    notes: dict[uuid.UUID, list[NoteExport]] = {}
    for note in session.exec(
        select(FlagNote)
        .where(col(FlagNote.flag_id).in_([f.id for f in flag_rows]))
        .order_by(col(FlagNote.created_at))
    ):
        notes.setdefault(note.flag_id, []).append(
            NoteExport.model_validate(note, from_attributes=True)
        )
    return SubjectExport(
        bsn=bsn,
        generated_at=now,
        workers=[
            WorkerExport(
                worker_id=w.id,
                employer_id=w.employer_id,
                employer_name=employers[w.employer_id].name,
                employer_kvk_number=employers[w.employer_id].kvk_number,
                given_names=w.given_names,
                surname=w.surname,
                given_names_original=w.given_names_original,
                surname_original=w.surname_original,
                birth_date=w.birth_date,
                sex=w.sex,
                nationality=w.nationality,
                v_number=_decrypt(cipher, w.v_number_encrypted),
                document_type=w.document_type,
                document_number=_decrypt(cipher, w.document_number_encrypted),
                document_valid_until=w.document_valid_until,
                declared_at=w.created_at,
                notifications=by_worker.get(w.id, []),
            )
            for w in workers
        ],
        payroll_records=payroll,
        flags=[
            FlagExport.model_validate(
                {**f.model_dump(), "notes": notes.get(f.id, [])},
            )
            for f in flag_rows
        ],
    )
