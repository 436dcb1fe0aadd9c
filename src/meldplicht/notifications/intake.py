"""Receiving new notifications: one (`create`) or many of one employer (`create_batch`).

Both build their rows with the same functions (`_first_version`, `_new_worker`), so a notice
is stored the same way whatever the channel; `check` is what `create` judges, without storing.
Every write happens in the caller's transaction; this module only inserts."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, SQLModel, col, select

from meldplicht.audit import service as audit
from meldplicht.audit.models import AuditEvent
from meldplicht.core import metrics
from meldplicht.core.clock import legal_date, utcnow
from meldplicht.core.crypto import PersonalDataCipher, mask_bsn
from meldplicht.core.db import (
    insert_plain_rows,
    insert_together,
    persistent_from_row,
    upsert_row,
)
from meldplicht.core.errors import InvalidRequest
from meldplicht.notifications import flagging
from meldplicht.notifications.context import Context
from meldplicht.notifications.facts import facts_of_payload, finding_rows
from meldplicht.notifications.models import (
    Notification,
    NotificationFinding,
    NotificationStatus,
    NotificationVersion,
    VersionKind,
    Worker,
    WorkLocation,
    new_verification_code,
)
from meldplicht.notifications.schemas import (
    AddressIn,
    NotificationCreate,
)
from meldplicht.notifications.validation import cross_field_errors
from meldplicht.rules.checks import evaluate_notification
from meldplicht.rules.facts import (
    Evaluation,
    Finding,
)

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def check(payload: NotificationCreate, received_at: datetime) -> list[Finding]:
    """The findings `create` records for this notice received at `received_at`, and nothing
    else: no row, no flag, no audit entry. Raises what `create` raises for a refused notice.

    `create` calls it, so a check and a notification sent at the same moment agree."""
    notice_date = legal_date(received_at)
    errors = cross_field_errors(payload, notice_date)
    if errors:
        raise InvalidRequest(errors=errors)
    # A first version is always judged at intake.
    return evaluate_notification(
        facts_of_payload(payload, notice_date),
        as_of=notice_date,
        evaluation=Evaluation.INTAKE,
    )


def _receipt_number(year: int) -> str:
    """MPyy-XXXX-XXXX: 40 random bits, easy to read aloud (no I, L, O, U).

    No look-up first: a clash (about one in a trillion per pair) violates the unique
    constraint, the transaction rolls back and the client is told to retry (409).
    """
    # 40 bits from the OS in one call, five bits per character (32 characters).
    bits = int.from_bytes(secrets.token_bytes(5))
    body = "".join(RECEIPT_ALPHABET[(bits >> shift) & 31] for shift in range(35, -5, -5))
    return f"MP{year % 100:02d}-{body[:4]}-{body[4:]}"


# The worker columns each declaration sets (_worker_values).
_WORKER_DECLARED = (
    "given_names",
    "surname",
    "given_names_original",
    "surname_original",
    "birth_date",
    "sex",
    "nationality",
    "v_number_encrypted",
    "document_type",
    "document_number_encrypted",
    "document_valid_until",
)


def _worker_values(w: Any, cipher: PersonalDataCipher) -> dict[str, Any]:
    """The columns the newest declaration sets on the worker row (whether new or known)."""
    return {
        "given_names": w.given_names,
        "surname": w.surname,
        "given_names_original": w.given_names_original,
        "surname_original": w.surname_original,
        "birth_date": w.birth_date,
        "sex": w.sex,
        "nationality": w.nationality,
        "v_number_encrypted": cipher.encrypt(w.v_number) if w.v_number else None,
        "document_type": w.document_type,
        "document_number_encrypted": (
            cipher.encrypt(w.document_number) if w.document_number else None
        ),
        "document_valid_until": w.document_valid_until,
    }


_worker: Table = Worker.__table__  # type: ignore[attr-defined]
_notification: Table = Notification.__table__  # type: ignore[attr-defined]
_location: Table = WorkLocation.__table__  # type: ignore[attr-defined]
_version: Table = NotificationVersion.__table__  # type: ignore[attr-defined]
_finding: Table = NotificationFinding.__table__  # type: ignore[attr-defined]
_audit: Table = AuditEvent.__table__  # type: ignore[attr-defined]


def _upsert_worker(session: Session, new_row: dict[str, Any], values: dict[str, Any]) -> uuid.UUID:
    """The worker's id: `new_row` is inserted if the employer has no worker with its BSN hash,
    else the known worker takes the newest declaration (`values`, which `new_row` holds)."""
    worker_id: uuid.UUID = upsert_row(
        session,
        _worker,
        new_row,
        conflict=("employer_id", "bsn_hash"),
        update=_WORKER_DECLARED,
        returning="id",
    )
    # A Worker object already in the session is brought up to date too (as an ORM update
    # would); the newest declaration describes the person, older ones stay in the versions.
    known = session.identity_map.get(identity_key(Worker, worker_id))
    if known is not None:
        for name, value in values.items():
            set_committed_value(known, name, value)
    return worker_id


def declaration_of(payload: NotificationCreate) -> dict[str, Any]:
    """The whole notice as its first version stores it (JSON), without BSN, V-number or
    document number (they live encrypted on the worker row): what a replay under the same
    external reference is compared with (notifications/references.py)."""
    data = payload.model_dump(mode="json")
    data["worker"]["bsn_masked"] = mask_bsn(data["worker"].pop("bsn"))
    data["worker"].pop("document_number", None)
    data["worker"].pop("v_number", None)
    return data


def location_rows(notification_id: uuid.UUID, locations: list[AddressIn]) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "notification_id": notification_id,
            "position": position,
            "street": loc.street,
            "house_number": loc.house_number,
            "postcode": loc.postcode,
            "city": loc.city,
        }
        for position, loc in enumerate(locations)
    ]


def housing_values(housing: Any) -> dict[str, Any]:
    if housing is None or not housing.provided:
        return {
            "housing_provided": False,
            "housing_deduction_monthly": None,
            "housing_written_consent": False,
            "housing_certified": None,
            "housing_address": None,
            "housing_postcode": None,
        }
    addr = housing.address
    return {
        "housing_provided": True,
        "housing_deduction_monthly": housing.monthly_deduction,
        "housing_written_consent": housing.written_consent,
        "housing_certified": housing.certified,
        "housing_address": (
            f"{addr.street} {addr.house_number}, {addr.postcode} {addr.city}" if addr else None
        ),
        "housing_postcode": addr.postcode if addr else None,
    }


# --- the rows of a new notification (one builder for `create` and `create_batch`) ----------


def _new_worker(
    employer_id: uuid.UUID,
    payload: NotificationCreate,
    bsn_hash: str,
    values: dict[str, Any],
    cipher: PersonalDataCipher,
) -> dict[str, Any]:
    """The worker row for a person the employer has not notified before (every column)."""
    w = payload.worker
    return {
        "id": uuid.uuid4(),
        "employer_id": employer_id,
        "bsn_hash": bsn_hash,
        "bsn_encrypted": cipher.encrypt(w.bsn),
        "bsn_last3": w.bsn[-3:],
        "created_at": utcnow(),
        **values,
    }


@dataclass(frozen=True, slots=True)
class _FirstVersion:
    """Every row one new notification is stored as, besides its worker: each gives every
    column, so it is inserted as it is (no column defaults)."""

    notification: dict[str, Any]
    version: dict[str, Any]
    locations: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    audit: dict[str, Any]

    @property
    def id(self) -> uuid.UUID:
        nid: uuid.UUID = self.notification["id"]
        return nid

    @property
    def receipt_number(self) -> str:
        receipt: str = self.notification["receipt_number"]
        return receipt


def _first_version(
    employer_id: uuid.UUID,
    worker_id: uuid.UUID,
    payload: NotificationCreate,
    findings: Sequence[Finding],
    ctx: Context,
    external_reference: str | None,
) -> _FirstVersion:
    notice_date = legal_date(ctx.received_at)
    nid = uuid.uuid4()
    receipt = _receipt_number(notice_date.year)
    notification: dict[str, Any] = {
        "id": nid,
        "receipt_number": receipt,
        "verification_code": new_verification_code(),
        "external_reference": external_reference,
        "employer_id": employer_id,
        "worker_id": worker_id,
        "channel": ctx.channel,
        "received_at": ctx.received_at,
        "notice_date": notice_date,
        "status": NotificationStatus.ACTIVE,
        "version": 1,
        "updated_at": ctx.received_at,
        "contract_type": payload.contract_type,
        "start_date": payload.start_date,
        "end_date": payload.end_date,
        "job_title": payload.job_title,
        "job_description": payload.job_description,
        "hours_per_week": payload.hours_per_week,
        "fulltime_hours_per_week": payload.fulltime_hours_per_week,
        "wage_amount": payload.wage.amount,
        "wage_period": payload.wage.period,
        "wage_includes_holiday_allowance": payload.wage.includes_holiday_allowance,
        "cao": payload.cao,
        "signatory_name": payload.declaration.signatory_name,
        "hirer_kvk_number": payload.hirer.kvk_number if payload.hirer else None,
        "hirer_name": payload.hirer.name if payload.hirer else None,
        **housing_values(payload.housing),
        "bbl_student": payload.bbl_student,
        "paid_in_cash": payload.paid_in_cash,
        "termination_reason": None,
        "next_check_date": None,
        "next_cross_date": None,
        "next_payroll_date": None,
    }
    return _FirstVersion(
        notification=notification,
        version={
            "id": uuid.uuid4(),
            "notification_id": nid,
            "version": 1,
            "kind": VersionKind.INITIAL,
            "channel": ctx.channel,
            "received_at": ctx.received_at,
            "effective_date": payload.start_date,
            "declaration": declaration_of(payload),
            "changes": {},
            "reason": None,
        },
        locations=location_rows(nid, payload.work_locations),
        findings=finding_rows(nid, 1, findings, notice_date, ctx.received_at),
        audit=audit.entry(
            ctx.actor,
            "notification.created",
            "notification",
            nid,
            {
                "receipt_number": receipt,
                "channel": ctx.channel,
                "findings": [f.code for f in findings],
            },
        ),
    )


# --- one at a time ---------------------------------------------------------------------------


def create(
    session: Session,
    employer_id: uuid.UUID,
    payload: NotificationCreate,
    ctx: Context,
    *,
    external_reference: str | None = None,
) -> tuple[Notification, list[Finding]]:
    """Store a new notification with its first version, findings, flags and audit entry."""
    notice_date = legal_date(ctx.received_at)
    # The pure work first (rules, hashing): the facts of the payload are the facts `facts_of`
    # gives once it is stored, and a first version is always judged at intake.
    findings = check(payload, ctx.received_at)
    cipher = ctx.cipher
    bsn_hash = cipher.keyed_hash(payload.worker.bsn)
    values = _worker_values(payload.worker, cipher)
    new_worker = _new_worker(employer_id, payload, bsn_hash, values, cipher)
    rows = _first_version(employer_id, new_worker["id"], payload, findings, ctx, external_reference)
    # The writes (SQLite: a request's turn at the write lock starts here, at its first write;
    # the upsert needs no read before it, so two notices for one new person cannot race).
    rows.notification["worker_id"] = _upsert_worker(session, new_worker, values)
    # The rows are inserted plainly (every column is given), all tables at once (one statement
    # on PostgreSQL), and the notification is then handed to the session as the persistent
    # object it now is (persistent_from_row): no unit-of-work flush on the hot path, and none
    # of the ORM's per-attribute bookkeeping of a constructor.
    insert_together(
        session,
        [
            (_notification, [rows.notification]),
            (_location, rows.locations),
            (_version, [rows.version]),
            (_finding, rows.findings),
            (_audit, [rows.audit]),
        ],
    )
    notification = persistent_from_row(session, Notification, rows.notification)
    metrics.findings_emitted([f.code for f in findings], source="intake")
    # The postcode and person hash are in hand: the flag sync looks nothing up for them.
    flagging.raise_flags_at_intake(
        session,
        notification,
        findings,
        notice_date,
        Evaluation.INTAKE,
        first_postcode=payload.work_locations[0].postcode,
        person_hash=bsn_hash,
    )
    metrics.notification_received(ctx.channel)
    return notification, findings


# --- many at once (bulk upload) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Created:
    notification_id: uuid.UUID
    receipt_number: str
    findings: list[Finding]


def create_batch(
    session: Session,
    employer_id: uuid.UUID,
    items: Sequence[tuple[NotificationCreate, str | None]],
    ctx: Context,
) -> list[Created]:
    """`create` for many notifications of one employer with one statement per table.

    The same rows as `create` (the same builder), validation, rules, version history,
    findings, flags and audit entries, without the per-row round trips. All or nothing: on
    any error the caller rolls the batch back and falls back to `create` row by row (which
    then names the failing row).
    """
    notice_date = legal_date(ctx.received_at)
    # The pure work first, as in `create`: every row is judged before anything is written.
    judged = [check(payload, ctx.received_at) for payload, _ in items]
    cipher = ctx.cipher
    hashes = {id(p): cipher.keyed_hash(p.worker.bsn) for p, _ in items}
    existing = {
        w.bsn_hash: w
        for w in session.exec(
            select(Worker).where(
                Worker.employer_id == employer_id, col(Worker.bsn_hash).in_(set(hashes.values()))
            )
        )
    }
    new_workers: dict[str, dict[str, Any]] = {}
    worker_ids: dict[str, uuid.UUID] = {h: w.id for h, w in existing.items()}
    for payload, _ in items:
        values = _worker_values(payload.worker, cipher)
        bsn_hash = hashes[id(payload)]
        known = existing.get(bsn_hash)
        if known is not None:
            # The newest declaration describes the person, as in `create`.
            for name, value in values.items():
                setattr(known, name, value)
            session.add(known)
        elif bsn_hash in new_workers:
            new_workers[bsn_hash].update(values)
        else:
            new_workers[bsn_hash] = _new_worker(employer_id, payload, bsn_hash, values, cipher)
            worker_ids[bsn_hash] = new_workers[bsn_hash]["id"]
    session.flush()
    _insert_complete_rows(session, Worker, list(new_workers.values()))

    built = [
        _first_version(
            employer_id, worker_ids[hashes[id(payload)]], payload, findings, ctx, reference
        )
        for (payload, reference), findings in zip(items, judged, strict=True)
    ]
    _insert_complete_rows(session, Notification, [rows.notification for rows in built])
    _insert_complete_rows(session, NotificationVersion, [rows.version for rows in built])
    _insert_complete_rows(session, WorkLocation, [loc for rows in built for loc in rows.locations])
    _insert_complete_rows(
        session, NotificationFinding, [f for rows in built for f in rows.findings]
    )
    audit.record_many(session, [rows.audit for rows in built])
    # One sync for the batch: its flags join the employer's case once, not once per row.
    flagging.raise_new_notifications_flags(
        session,
        employer_id,
        [
            (rows.id, payload.work_locations[0].postcode, hashes[id(payload)], findings)
            for rows, (payload, _), findings in zip(built, items, judged, strict=True)
        ],
        notice_date,
    )
    created = [
        Created(rows.id, rows.receipt_number, findings)
        for rows, findings in zip(built, judged, strict=True)
    ]
    for item in created:
        metrics.findings_emitted([f.code for f in item.findings], source="intake")
        metrics.notification_received(ctx.channel)
    return created


def _insert_complete_rows(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]]
) -> None:
    """Many rows that give every column of the table (no defaults needed): at the driver's
    speed (COPY on PostgreSQL), for the bulk batch."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    insert_plain_rows(session, table, rows, [column.name for column in table.columns])
