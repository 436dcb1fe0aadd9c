"""Receiving, changing, terminating and reading notifications.

Every write goes through here, whatever the channel (API, form, bulk CSV, import): structural
checks that need more than one field, the rules (findings), the immutable version history, the
audit entry and the flags all happen in the caller's transaction. This module only flushes.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Table, and_, or_
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, SQLModel, col, select

from meldplicht.audit import service as audit
from meldplicht.audit.models import AuditEvent
from meldplicht.core import keyset, metrics
from meldplicht.core.clock import legal_date, utcnow
from meldplicht.core.crypto import PersonalDataCipher, mask_bsn
from meldplicht.core.db import (
    insert_plain_rows,
    insert_rows,
    insert_together,
    persistent_from_row,
    upsert_row,
)
from meldplicht.core.errors import Conflict, FieldError, InvalidRequest, NotFound
from meldplicht.core.security import Principal
from meldplicht.core.validation import field_errors_from_pydantic
from meldplicht.inspection import service as inspection
from meldplicht.notifications import changes as notice_changes
from meldplicht.notifications.models import (
    Channel,
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
    Deduction,
    FindingOut,
    Hours,
    IsoDate,
    NotificationChange,
    NotificationCheck,
    NotificationCreate,
    NotificationDetail,
    NotificationOut,
    TerminationIn,
    VersionOut,
    WageIn,
    WithdrawalIn,
    WorkerIn,
    WorkerOut,
)
from meldplicht.rules import calendar
from meldplicht.rules.checks import evaluate_notification
from meldplicht.rules.checks.base import date_en, date_nl
from meldplicht.rules.facts import (
    EMPLOYMENT_CONTRACTS,
    ContractType,
    Evaluation,
    Finding,
    NotificationFacts,
    WagePeriod,
    WorkerFacts,
    counts,
)
from meldplicht.rules.protection import protection_start

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    title = "Notification not found"


class NotificationClosed(Conflict):
    code = "notification_closed"
    title = "The notification is terminated or withdrawn"


class WithdrawalTooLate(Conflict):
    code = "withdrawal_too_late"
    title = "Only a notification whose work has not started can be withdrawn"


@dataclass(frozen=True, slots=True)
class Context:
    """What every write needs besides its payload."""

    actor: Principal
    cipher: PersonalDataCipher
    channel: Channel
    received_at: datetime


# --- structure that spans fields -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Known:
    """What the cross-field checks read, each None when it is not known: not given, or given
    but structurally wrong (that error is reported on its own field already)."""

    contract_type: ContractType | None
    start_date: date | None
    end_date: date | None
    birth_date: date | None
    hours_per_week: Decimal | None
    hirer_given: bool | None
    housing_provided: bool | None
    housing_address_given: bool | None
    housing_deduction: Decimal | None
    document_valid_until: date | None
    document_type_given: bool | None


def _known_of_payload(payload: NotificationCreate) -> _Known:
    housing = payload.housing
    return _Known(
        contract_type=payload.contract_type,
        start_date=payload.start_date,
        end_date=payload.end_date,
        birth_date=payload.worker.birth_date,
        hours_per_week=payload.hours_per_week,
        hirer_given=payload.hirer is not None,
        housing_provided=housing.provided if housing is not None else None,
        housing_address_given=housing.address is not None if housing is not None else None,
        housing_deduction=housing.monthly_deduction if housing is not None else None,
        document_valid_until=payload.worker.document_valid_until,
        document_type_given=payload.worker.document_type is not None,
    )


_DATE: TypeAdapter[date] = TypeAdapter(IsoDate)
_CONTRACT: TypeAdapter[ContractType] = TypeAdapter(ContractType)
_HOURS: TypeAdapter[Decimal] = TypeAdapter(Hours)
_DEDUCTION: TypeAdapter[Decimal] = TypeAdapter(Deduction)
_BOOL: TypeAdapter[bool] = TypeAdapter(bool)


def _read(adapter: TypeAdapter[Any], value: Any) -> Any:
    """The value as the schema reads it, or None when absent or structurally wrong."""
    if value is None:
        return None
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _given(container: dict[str, Any], name: str) -> bool:
    return container.get(name) is not None


def _known_of_body(body: Any) -> _Known:
    """The same view of a body that failed validation: every part that can be read is."""
    top: dict[str, Any] = body if isinstance(body, dict) else {}
    worker = top.get("worker") if isinstance(top.get("worker"), dict) else {}
    housing = top.get("housing") if isinstance(top.get("housing"), dict) else None
    assert worker is not None
    return _Known(
        contract_type=_read(_CONTRACT, top.get("contract_type")),
        start_date=_read(_DATE, top.get("start_date")),
        end_date=_read(_DATE, top.get("end_date")),
        birth_date=_read(_DATE, worker.get("birth_date")),
        hours_per_week=_read(_HOURS, top.get("hours_per_week")),
        # A hirer given but malformed is reported on its own fields, not as missing.
        hirer_given=_given(top, "hirer") if isinstance(body, dict) else None,
        housing_provided=_read(_BOOL, housing.get("provided")) if housing else None,
        housing_address_given=_given(housing, "address") if housing else None,
        housing_deduction=_read(_DEDUCTION, housing.get("monthly_deduction")) if housing else None,
        document_valid_until=_read(_DATE, worker.get("document_valid_until")),
        document_type_given=_given(worker, "document_type"),
    )


def validate_notice(body: Any, received_on: date) -> NotificationCreate | list[FieldError]:
    """Every problem of a notice body at once (DECISIONS §7): the structural field errors,
    the checks that span fields and the eligibility refusals (no employment contract, work
    before 4 March 2022), in one list; the notice itself when there is none."""
    try:
        payload = NotificationCreate.model_validate(body)
    except ValidationError as exc:
        return merge_errors(
            field_errors_from_pydantic(exc.errors()), body_cross_field_errors(body, received_on)
        )
    return cross_field_errors(payload, received_on) or payload


def body_cross_field_errors(body: Any, received_on: date) -> list[FieldError]:
    """`cross_field_errors` of a body that did not validate, on the parts that can be read."""
    return _cross_field_errors(_known_of_body(body), received_on)


def merge_errors(*groups: Sequence[FieldError]) -> list[FieldError]:
    """The errors of every group in order, each (field, code) once."""
    seen: set[tuple[str, str]] = set()
    out: list[FieldError] = []
    for group in groups:
        for error in group:
            if (error.field, error.code) not in seen:
                seen.add((error.field, error.code))
                out.append(error)
    return out


def cross_field_errors(payload: NotificationCreate, received_on: date) -> list[FieldError]:
    """Checks that need two fields at once; every one is reported, not only the first."""
    return _cross_field_errors(_known_of_payload(payload), received_on)


def _cross_field_errors(known: _Known, received_on: date) -> list[FieldError]:
    errors: list[FieldError] = []

    def add(field: str, code: str, en: str, nl: str) -> None:
        errors.append(FieldError(field=field, code=code, message=en, message_nl=nl))

    if known.contract_type is not None and known.contract_type not in EMPLOYMENT_CONTRACTS:
        add(
            "contract_type",
            "not_an_employment_contract",
            "The exemption from the work permit covers only work on an employment contract "
            "(Besluit uitvoering Wav 2022 art. 6.5(1)). Self-employed work or an assignment "
            "needs a work permit (TWV): this cannot be notified.",
            "De vrijstelling van de tewerkstellingsvergunning geldt alleen voor werk op een "
            "arbeidsovereenkomst (art. 6.5 lid 1 Besluit uitvoering Wav 2022). Voor werk als "
            "zelfstandige of op opdracht is een TWV nodig: dit kan niet worden gemeld.",
        )
    # The exemption (BuWav 2022 art. 6.5) applies from the start of temporary protection.
    start = known.start_date
    protection = protection_start()
    if start is not None and start < protection:
        add(
            "start_date",
            "before_protection_start",
            f"The exemption applies to work from {date_en(protection)} onwards (Besluit "
            f"uitvoering Wav 2022 art. 6.5: work by a person under temporary protection).",
            f"De vrijstelling geldt voor werk vanaf {date_nl(protection)} (art. 6.5 Besluit "
            f"uitvoering Wav 2022: werk door een persoon met tijdelijke bescherming).",
        )
    if start is not None and start > received_on + timedelta(days=730):
        add(
            "start_date",
            "too_far_ahead",
            "The start date lies more than two years ahead: notify closer to the start.",
            "De startdatum ligt meer dan twee jaar vooruit: meld dichter bij de start.",
        )
    if start is not None and known.end_date is not None and known.end_date < start:
        add(
            "end_date",
            "end_before_start",
            "The end date lies before the start date.",
            "De einddatum ligt voor de startdatum.",
        )
    birth = known.birth_date
    if birth is not None and (birth > received_on or (start is not None and birth >= start)):
        add(
            "worker.birth_date",
            "birth_date_not_past",
            "The birth date must lie before the start date and before today.",
            "De geboortedatum moet voor de startdatum en voor vandaag liggen.",
        )
    elif (
        birth is not None and start is not None and (_age(birth, start) >= 100 or birth.year < 1900)
    ):
        add(
            "worker.birth_date",
            "birth_date_implausible",
            "The birth date makes the worker 100 or older at the start: please check it.",
            "Volgens de geboortedatum is de werknemer bij de start 100 of ouder: controleer dit.",
        )
    elif birth is not None and start is not None and _age(birth, start) < 12:
        add(
            "worker.birth_date",
            "birth_date_implausible",
            "The birth date makes the worker younger than 12 at the start: please check it.",
            "Volgens de geboortedatum is de werknemer bij de start jonger dan 12: controleer dit.",
        )
    if known.hours_per_week is not None and known.hours_per_week > Decimal(100):
        add(
            "hours_per_week",
            "hours_implausible",
            "More than 100 hours a week cannot be right: a week has at most 100 working hours "
            "after the legal rest periods.",
            "Meer dan 100 uur per week kan niet kloppen.",
        )
    if known.contract_type in (ContractType.TEMPORARY_AGENCY, ContractType.PAYROLL) and (
        known.hirer_given is False
    ):
        add(
            "hirer",
            "hirer_required",
            "Agency and payroll work must name the hirer (the company where the work is done).",
            "Bij uitzend- en payrollwerk moet de inlener worden vermeld.",
        )
    if known.housing_provided is True and known.housing_address_given is False:
        add(
            "housing.address",
            "housing_address_required",
            "When the employer provides housing, its address is part of the notice "
            "(Regeling melding Wav art. 3(1)(d) 3°).",
            "Als de werkgever huisvesting biedt, hoort het adres in de melding.",
        )
    if known.housing_provided is False and known.housing_deduction:
        add(
            "housing.monthly_deduction",
            "deduction_without_housing",
            "A housing deduction is declared but no housing is provided.",
            "Er is een inhouding voor huisvesting opgegeven, maar geen huisvesting.",
        )
    if known.document_valid_until is not None and known.document_type_given is False:
        add(
            "worker.document_type",
            "document_type_required",
            "Say which document the validity date belongs to.",
            "Geef aan bij welk document de geldigheidsdatum hoort.",
        )
    return errors


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# --- facts and findings --------------------------------------------------------------------


def facts_of(notification: Notification, worker: Worker) -> NotificationFacts:
    return NotificationFacts(
        notice_date=notification.notice_date,
        start_date=notification.start_date,
        end_date=notification.end_date,
        contract_type=ContractType(notification.contract_type),
        # Not stated counts as 0 hours: the rules then say the wage cannot be checked.
        hours_per_week=notification.hours_per_week or Decimal(0),
        fulltime_hours_per_week=notification.fulltime_hours_per_week,
        wage_amount=notification.wage_amount,
        wage_period=WagePeriod(notification.wage_period),
        wage_includes_holiday_allowance=notification.wage_includes_holiday_allowance,
        housing_provided=notification.housing_provided,
        housing_deduction_monthly=notification.housing_deduction_monthly,
        housing_written_consent=notification.housing_written_consent,
        housing_certified=notification.housing_certified,
        bbl_student=notification.bbl_student,
        paid_in_cash=notification.paid_in_cash,
        # A termination notice was filed (its end date may still lie ahead: the notification
        # stays active until then, see notifications/changes.py).
        terminated=notification.status == NotificationStatus.TERMINATED
        or notification.termination_reason is not None,
        withdrawn=not counts(notification.status),
        worker=WorkerFacts(
            birth_date=worker.birth_date,
            nationality=worker.nationality,
            document_type=worker.document_type,
            document_valid_until=worker.document_valid_until,
        ),
    )


def facts_of_payload(payload: NotificationCreate, notice_date: date) -> NotificationFacts:
    """What the rules see for an unsaved notice received on `notice_date` (bulk intake and the
    form's check step): the same facts `facts_of` gives once it is stored."""
    housing = payload.housing
    provided = housing is not None and housing.provided
    w = payload.worker
    return NotificationFacts(
        notice_date=notice_date,
        start_date=payload.start_date,
        end_date=payload.end_date,
        contract_type=ContractType(payload.contract_type),
        # Hours not stated count as 0, as in facts_of: the wage is then uncheckable.
        hours_per_week=payload.hours_per_week or Decimal(0),
        fulltime_hours_per_week=payload.fulltime_hours_per_week,
        wage_amount=payload.wage.amount,
        wage_period=WagePeriod(payload.wage.period),
        wage_includes_holiday_allowance=payload.wage.includes_holiday_allowance,
        housing_provided=provided,
        housing_deduction_monthly=housing.monthly_deduction if housing and provided else None,
        housing_written_consent=housing.written_consent if housing and provided else False,
        housing_certified=housing.certified if housing and provided else None,
        bbl_student=payload.bbl_student,
        paid_in_cash=payload.paid_in_cash,
        worker=WorkerFacts(
            birth_date=w.birth_date,
            nationality=w.nationality,
            document_type=w.document_type,
            document_valid_until=w.document_valid_until,
        ),
    )


def _finding_rows(
    notification_id: uuid.UUID,
    version: int,
    findings: Sequence[Finding],
    as_of: date,
    evaluated_at: datetime,
) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "notification_id": notification_id,
            "version": version,
            "code": finding.code,
            "severity": finding.severity,
            "rule_version": finding.rule_version,
            "legal_basis": finding.legal_basis,
            "message_nl": finding.message_nl,
            "message_en": finding.message_en,
            "evidence": finding.evidence,
            "parameters": [p.to_json() for p in finding.parameters],
            "period_key": finding.period_key,
            "as_of": as_of,
            "evaluated_at": evaluated_at,
        }
        for finding in findings
    ]


def _evaluate(
    session: Session,
    notification: Notification,
    worker: Worker,
    ctx: Context,
    *,
    first_postcode: str | None = None,
) -> list[Finding]:
    as_of = legal_date(ctx.received_at)
    evaluation = Evaluation.INTAKE if as_of < notification.start_date else Evaluation.SWEEP
    if notification.version == 1:
        evaluation = Evaluation.INTAKE
    findings = evaluate_notification(
        facts_of(notification, worker), as_of=as_of, evaluation=evaluation
    )
    insert_rows(
        session,
        NotificationFinding,
        _finding_rows(notification.id, notification.version, findings, as_of, ctx.received_at),
    )
    metrics.findings_emitted([f.code for f in findings], source="intake")
    inspection.raise_flags_at_intake(
        session,
        notification,
        findings,
        as_of,
        evaluation,
        first_postcode=first_postcode,
        person_hash=worker.bsn_hash,
    )
    return findings


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


# --- writes -------------------------------------------------------------------------------


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
    """The notice as its first version stores it (JSON, without BSN or document number):
    what a bulk replay with the same external reference is compared with."""
    return _declaration(payload)


def _declaration(payload: NotificationCreate) -> dict[str, Any]:
    """The whole notice as JSON for the version history, without BSN, V-number or document
    number (they live encrypted on the worker row)."""
    data = payload.model_dump(mode="json")
    data["worker"]["bsn_masked"] = mask_bsn(data["worker"].pop("bsn"))
    data["worker"].pop("document_number", None)
    data["worker"].pop("v_number", None)
    return data


def _set_locations(
    session: Session, notification: Notification, locations: list[AddressIn], *, replace: bool
) -> None:
    if replace:
        for old in session.exec(
            select(WorkLocation).where(WorkLocation.notification_id == notification.id)
        ):
            session.delete(old)
    insert_rows(session, WorkLocation, _location_rows(notification.id, locations))


def _location_rows(notification_id: uuid.UUID, locations: list[AddressIn]) -> list[dict[str, Any]]:
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


def find_by_reference(
    session: Session, employer_id: uuid.UUID, external_reference: str
) -> Notification | None:
    return session.exec(
        select(Notification).where(
            Notification.employer_id == employer_id,
            Notification.external_reference == external_reference,
        )
    ).first()


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
    w = payload.worker
    bsn_hash = cipher.keyed_hash(w.bsn)
    values = _worker_values(w, cipher)
    new_worker = {
        "id": uuid.uuid4(),
        "employer_id": employer_id,
        "bsn_hash": bsn_hash,
        "bsn_encrypted": cipher.encrypt(w.bsn),
        "bsn_last3": w.bsn[-3:],
        "created_at": utcnow(),
        **values,
    }
    declaration = _declaration(payload)
    # Every column, as a row: inserted as it is, then handed to the session as the
    # persistent object it then is (persistent_from_row), without the ORM's per-attribute
    # bookkeeping of a constructor.
    row: dict[str, Any] = dict(
        id=uuid.uuid4(),
        receipt_number=_receipt_number(notice_date.year),
        verification_code=new_verification_code(),
        external_reference=external_reference,
        employer_id=employer_id,
        worker_id=new_worker["id"],
        channel=ctx.channel,
        received_at=ctx.received_at,
        notice_date=notice_date,
        status=NotificationStatus.ACTIVE,
        version=1,
        updated_at=ctx.received_at,
        contract_type=payload.contract_type,
        start_date=payload.start_date,
        end_date=payload.end_date,
        job_title=payload.job_title,
        job_description=payload.job_description,
        hours_per_week=payload.hours_per_week,
        fulltime_hours_per_week=payload.fulltime_hours_per_week,
        wage_amount=payload.wage.amount,
        wage_period=payload.wage.period,
        wage_includes_holiday_allowance=payload.wage.includes_holiday_allowance,
        cao=payload.cao,
        signatory_name=payload.declaration.signatory_name,
        hirer_kvk_number=payload.hirer.kvk_number if payload.hirer else None,
        hirer_name=payload.hirer.name if payload.hirer else None,
        **_housing_values(payload.housing),
        bbl_student=payload.bbl_student,
        paid_in_cash=payload.paid_in_cash,
        termination_reason=None,
        next_check_date=None,
    )
    # The writes (SQLite: a request's turn at the write lock starts here, at its first write;
    # the upsert needs no read before it, so two notices for one new person cannot race).
    row["worker_id"] = _upsert_worker(session, new_worker, values)
    # The rows are inserted plainly (every column is given), all tables at once (one statement
    # on PostgreSQL), and the notification is then handed to the session as the persistent
    # object it now is: no unit-of-work flush on the hot path.
    insert_together(
        session,
        [
            (_notification, [row]),
            (_location, _location_rows(row["id"], payload.work_locations)),
            (
                _version,
                [
                    {
                        "id": uuid.uuid4(),
                        "notification_id": row["id"],
                        "version": 1,
                        "kind": VersionKind.INITIAL,
                        "channel": ctx.channel,
                        "received_at": ctx.received_at,
                        "effective_date": payload.start_date,
                        "declaration": declaration,
                        "changes": {},
                        "reason": None,
                    }
                ],
            ),
            (
                _finding,
                _finding_rows(row["id"], 1, findings, notice_date, ctx.received_at),
            ),
            (
                _audit,
                [
                    audit.entry(
                        ctx.actor,
                        "notification.created",
                        "notification",
                        row["id"],
                        {
                            "receipt_number": row["receipt_number"],
                            "channel": ctx.channel,
                            "findings": [f.code for f in findings],
                        },
                    )
                ],
            ),
        ],
    )
    notification = persistent_from_row(session, Notification, row)
    metrics.findings_emitted([f.code for f in findings], source="intake")
    # The postcode and person hash are in hand: the flag sync looks nothing up for them.
    inspection.raise_flags_at_intake(
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


def _housing_values(housing: Any) -> dict[str, Any]:
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


def _apply_housing(notification: Notification, housing: Any) -> None:
    for name, value in _housing_values(housing).items():
        setattr(notification, name, value)


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

    Same validation, rules, version history, findings, flags and audit entries as `create`,
    without the per-row round trips. All or nothing: on any error the caller rolls the batch
    back and falls back to `create` row by row (which then names the failing row).
    """
    notice_date = legal_date(ctx.received_at)
    for payload, _ in items:
        errors = cross_field_errors(payload, notice_date)
        if errors:
            raise InvalidRequest(errors=errors)
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
        w = payload.worker
        values = _worker_values(w, cipher)
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
            worker_ids[bsn_hash] = uuid.uuid4()
            new_workers[bsn_hash] = {
                "id": worker_ids[bsn_hash],
                "employer_id": employer_id,
                "bsn_hash": bsn_hash,
                "bsn_encrypted": cipher.encrypt(w.bsn),
                "bsn_last3": w.bsn[-3:],
                "created_at": ctx.received_at,
                **values,
            }
    session.flush()
    _insert_complete_rows(session, Worker, list(new_workers.values()))

    notifications: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    locations: list[dict[str, Any]] = []
    finding_rows: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    created: list[Created] = []
    pending_flags: list[tuple[uuid.UUID, str, str, list[Finding]]] = []
    for payload, reference in items:
        nid = uuid.uuid4()
        bsn_hash = hashes[id(payload)]
        receipt = _receipt_number(notice_date.year)
        housing = _housing_values(payload.housing)
        notifications.append(
            {
                "id": nid,
                "receipt_number": receipt,
                "verification_code": new_verification_code(),
                "external_reference": reference,
                "employer_id": employer_id,
                "worker_id": worker_ids[bsn_hash],
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
                "termination_reason": None,
                "next_check_date": None,
                "bbl_student": payload.bbl_student,
                "paid_in_cash": payload.paid_in_cash,
                **housing,
            }
        )
        versions.append(
            {
                "id": uuid.uuid4(),
                "notification_id": nid,
                "version": 1,
                "kind": VersionKind.INITIAL,
                "channel": ctx.channel,
                "received_at": ctx.received_at,
                "effective_date": payload.start_date,
                "declaration": _declaration(payload),
                "changes": {},
                "reason": None,
            }
        )
        locations.extend(
            {
                "id": uuid.uuid4(),
                "notification_id": nid,
                "position": position,
                "street": loc.street,
                "house_number": loc.house_number,
                "postcode": loc.postcode,
                "city": loc.city,
            }
            for position, loc in enumerate(payload.work_locations)
        )
        facts = facts_of_payload(payload, notice_date)
        findings = evaluate_notification(
            facts,
            as_of=notice_date,
            evaluation=Evaluation.INTAKE,
        )
        finding_rows.extend(
            {
                "id": uuid.uuid4(),
                "notification_id": nid,
                "version": 1,
                "code": f.code,
                "severity": f.severity,
                "rule_version": f.rule_version,
                "legal_basis": f.legal_basis,
                "message_nl": f.message_nl,
                "message_en": f.message_en,
                "evidence": f.evidence,
                "parameters": [p.to_json() for p in f.parameters],
                "period_key": f.period_key,
                "as_of": notice_date,
                "evaluated_at": ctx.received_at,
            }
            for f in findings
        )
        audits.append(
            audit.entry(
                ctx.actor,
                "notification.created",
                "notification",
                nid,
                {
                    "receipt_number": receipt,
                    "channel": ctx.channel,
                    "findings": [f.code for f in findings],
                },
            )
        )
        pending_flags.append((nid, payload.work_locations[0].postcode, bsn_hash, findings))
        created.append(Created(nid, receipt, findings))
    _insert_complete_rows(session, Notification, notifications)
    _insert_complete_rows(session, NotificationVersion, versions)
    _insert_complete_rows(session, WorkLocation, locations)
    _insert_complete_rows(session, NotificationFinding, finding_rows)
    audit.record_many(session, audits)
    # One sync for the batch: its flags join the employer's case once, not once per row.
    inspection.raise_new_notifications_flags(session, employer_id, pending_flags, notice_date)
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


def _load_for_write(
    session: Session, employer_id: uuid.UUID, notification_id: uuid.UUID, ctx: Context
) -> tuple[Notification, Worker]:
    notification = session.exec(
        select(Notification)
        .where(Notification.id == notification_id, Notification.employer_id == employer_id)
        .with_for_update()
    ).first()
    if notification is None:
        raise NotificationNotFound()
    if notification.status != NotificationStatus.ACTIVE:
        raise NotificationClosed(f"This notification is {notification.status}.")
    if notice_changes.has_ended(notification, legal_date(ctx.received_at)):
        raise NotificationClosed("The employment ended on its notified end date.")
    worker = session.get(Worker, notification.worker_id)
    assert worker is not None
    return notification, worker


def _latest_declaration(session: Session, notification: Notification) -> dict[str, Any]:
    version = session.exec(
        select(NotificationVersion).where(
            NotificationVersion.notification_id == notification.id,
            NotificationVersion.version == notification.version,
        )
    ).one()
    return copy.deepcopy(version.declaration)  # edited into the next version


def _new_version(
    session: Session,
    notification: Notification,
    kind: VersionKind,
    ctx: Context,
    declaration: dict[str, Any],
    changes: dict[str, Any],
    effective_date: date | None,
    reason: str | None,
) -> None:
    notification.version += 1
    notification.updated_at = ctx.received_at
    notification.next_check_date = None  # re-evaluate in the next incremental sweep
    session.add(notification)
    session.add(
        NotificationVersion(
            notification_id=notification.id,
            version=notification.version,
            kind=kind,
            channel=ctx.channel,
            received_at=ctx.received_at,
            effective_date=effective_date,
            declaration=declaration,
            changes=changes,
            reason=reason,
        )
    )


def change(
    session: Session,
    employer_id: uuid.UUID,
    notification_id: uuid.UUID,
    payload: NotificationChange,
    ctx: Context,
) -> tuple[Notification, list[Finding]]:
    notification, worker = _load_for_write(session, employer_id, notification_id, ctx)
    fields = payload.model_dump(exclude_unset=True, exclude={"effective_date", "reason"})
    if not fields:
        raise InvalidRequest(
            "A change notice must change at least one field.",
            errors=[
                FieldError(
                    field="",
                    code="nothing_to_change",
                    message="Send at least one field to change.",
                    message_nl="Geef minstens één veld om te wijzigen.",
                )
            ],
        )
    errors: list[FieldError] = []
    new_end = payload.end_date if "end_date" in fields else notification.end_date
    if new_end is not None and new_end < notification.start_date:
        errors.append(
            FieldError(
                field="end_date",
                code="end_before_start",
                message="The end date lies before the start date.",
                message_nl="De einddatum ligt voor de startdatum.",
            )
        )
    if payload.effective_date < notification.start_date - timedelta(days=730):
        errors.append(
            FieldError(
                field="effective_date",
                code="effective_date_implausible",
                message="The effective date is implausible.",
                message_nl="De ingangsdatum is onwaarschijnlijk.",
            )
        )
    errors.extend(notice_changes.change_errors(notification, payload, fields))
    if payload.housing is not None and payload.housing.provided and payload.housing.address is None:
        errors.append(
            FieldError(
                field="housing.address",
                code="housing_address_required",
                message="When the employer provides housing, give its address.",
                message_nl="Geef het adres van de huisvesting.",
            )
        )
    if errors:
        raise InvalidRequest(errors=errors)

    declaration = _latest_declaration(session, notification)
    dumped = payload.model_dump(mode="json", exclude_unset=True)
    changes: dict[str, Any] = {}
    for name in fields:
        before = declaration.get(name)
        after = dumped[name]
        if before != after:
            changes[name] = {"from": before, "to": after}
        declaration[name] = after
    if "hours_per_week" in fields and payload.hours_per_week is not None:
        notification.hours_per_week = payload.hours_per_week
    if "fulltime_hours_per_week" in fields:
        notification.fulltime_hours_per_week = payload.fulltime_hours_per_week
    if "wage" in fields and payload.wage is not None:
        notification.wage_amount = payload.wage.amount
        notification.wage_period = payload.wage.period
        notification.wage_includes_holiday_allowance = payload.wage.includes_holiday_allowance
    if "end_date" in fields:
        notification.end_date = payload.end_date
    if "job_title" in fields and payload.job_title is not None:
        notification.job_title = payload.job_title
    if "job_description" in fields:
        notification.job_description = payload.job_description
    if "cao" in fields:
        notification.cao = payload.cao
    if "housing" in fields:
        _apply_housing(notification, payload.housing)
    if "bbl_student" in fields:
        notification.bbl_student = payload.bbl_student
    if "paid_in_cash" in fields:
        notification.paid_in_cash = payload.paid_in_cash
    if "work_locations" in fields and payload.work_locations:
        _set_locations(session, notification, payload.work_locations, replace=True)
    if "hirer" in fields:
        notification.hirer_kvk_number = payload.hirer.kvk_number if payload.hirer else None
        notification.hirer_name = payload.hirer.name if payload.hirer else None
    _new_version(
        session,
        notification,
        VersionKind.CHANGE,
        ctx,
        declaration,
        changes,
        payload.effective_date,
        payload.reason,
    )
    session.flush()
    findings = _evaluate(session, notification, worker, ctx)
    audit.record(
        session,
        ctx.actor,
        "notification.changed",
        "notification",
        notification.id,
        {"version": notification.version, "fields": sorted(changes)},
    )
    session.flush()
    return notification, findings


def terminate(
    session: Session,
    employer_id: uuid.UUID,
    notification_id: uuid.UUID,
    payload: TerminationIn,
    ctx: Context,
) -> tuple[Notification, list[Finding]]:
    notification, worker = _load_for_write(session, employer_id, notification_id, ctx)
    if payload.end_date < notification.start_date:
        raise InvalidRequest(
            errors=[
                FieldError(
                    field="end_date",
                    code="end_before_start",
                    message="The employment cannot end before it started; withdraw instead.",
                    message_nl="Een dienstverband kan niet voor de start eindigen; trek in.",
                )
            ]
        )
    declaration = _latest_declaration(session, notification)
    changed: dict[str, Any] = {
        "end_date": {"from": declaration.get("end_date"), "to": payload.end_date.isoformat()},
    }
    declaration["end_date"] = payload.end_date.isoformat()
    notification.end_date = payload.end_date
    notification.termination_reason = payload.reason
    # A future end date keeps the notification active until then; the day after, the sweep
    # closes it (notice_changes.settle_terminations).
    if notice_changes.has_ended(notification, legal_date(ctx.received_at)):
        changed["status"] = {"from": notification.status, "to": NotificationStatus.TERMINATED}
        notification.status = NotificationStatus.TERMINATED
    _new_version(
        session,
        notification,
        VersionKind.TERMINATION,
        ctx,
        declaration,
        changed,
        payload.end_date,
        payload.reason,
    )
    session.flush()
    findings = _evaluate(session, notification, worker, ctx)
    audit.record(
        session,
        ctx.actor,
        "notification.terminated",
        "notification",
        notification.id,
        {"end_date": payload.end_date.isoformat()},
    )
    session.flush()
    return notification, findings


def withdraw(
    session: Session,
    employer_id: uuid.UUID,
    notification_id: uuid.UUID,
    payload: WithdrawalIn,
    ctx: Context,
) -> tuple[Notification, list[Finding]]:
    notification, worker = _load_for_write(session, employer_id, notification_id, ctx)
    if legal_date(ctx.received_at) >= notification.start_date:
        raise WithdrawalTooLate(
            "The work has started (or starts today): send a termination instead."
        )
    declaration = _latest_declaration(session, notification)
    changes = {"status": {"from": notification.status, "to": NotificationStatus.WITHDRAWN}}
    notification.status = NotificationStatus.WITHDRAWN
    _new_version(
        session,
        notification,
        VersionKind.WITHDRAWAL,
        ctx,
        declaration,
        changes,
        None,
        payload.reason,
    )
    session.flush()
    findings = _evaluate(session, notification, worker, ctx)
    audit.record(
        session,
        ctx.actor,
        "notification.withdrawn",
        "notification",
        notification.id,
        {"reason": payload.reason},
    )
    session.flush()
    return notification, findings


# --- reads --------------------------------------------------------------------------------


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


# --- presentation ---------------------------------------------------------------------------


def _finding_out(row: NotificationFinding, lang: str) -> FindingOut:
    return FindingOut(
        code=row.code,
        severity=row.severity,
        message=row.message_nl if lang == "nl" else row.message_en,
        message_nl=row.message_nl,
        message_en=row.message_en,
        legal_basis=row.legal_basis,
        rule_version=row.rule_version,
        evidence=row.evidence,
        parameters=row.parameters,
    )


def _findings_by_version(
    session: Session, notification_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, int], list[NotificationFinding]]:
    out: dict[tuple[uuid.UUID, int], list[NotificationFinding]] = {}
    if not notification_ids:
        return out
    rows = session.exec(
        select(NotificationFinding)
        .where(col(NotificationFinding.notification_id).in_(notification_ids))
        .order_by(col(NotificationFinding.severity), col(NotificationFinding.code))
    )
    for row in rows:
        out.setdefault((row.notification_id, row.version), []).append(row)
    return out


def present(
    session: Session, notifications: list[Notification], lang: str = "en"
) -> list[NotificationOut]:
    ids = [n.id for n in notifications]
    workers = (
        {
            w.id: w
            for w in session.exec(
                select(Worker).where(col(Worker.id).in_([n.worker_id for n in notifications]))
            )
        }
        if ids
        else {}
    )
    locations: dict[uuid.UUID, list[WorkLocation]] = {}
    if ids:
        for loc in session.exec(
            select(WorkLocation)
            .where(col(WorkLocation.notification_id).in_(ids))
            .order_by(col(WorkLocation.position))
        ):
            locations.setdefault(loc.notification_id, []).append(loc)
    findings = _findings_by_version(session, ids)
    return [
        _present_one(
            n,
            _worker_out(workers[n.worker_id], workers[n.worker_id].bsn_last3),
            locations.get(n.id, []),
            [_finding_out(f, lang) for f in findings.get((n.id, n.version), [])],
        )
        for n in notifications
    ]


def present_created(
    notification: Notification,
    payload: NotificationCreate,
    findings: Sequence[Finding],
    lang: str = "en",
) -> NotificationOut:
    """`present` of a notification `create` just stored, from what is in hand (no reads).

    The stored worker, work locations and findings are exactly the payload's and the rules'
    (the findings in the order `present` reads them: by severity, then code). Evidence is
    JSON-safe as the rules make it (`json_safe`), so it is answered as it is stored.
    """
    worker = _worker_out(payload.worker, payload.worker.bsn[-3:])
    return _present_one(
        notification, worker, payload.work_locations, present_findings(findings, lang)
    )


def present_findings(findings: Sequence[Finding], lang: str = "en") -> list[FindingOut]:
    """Findings not read from the database, as `present` answers them once stored: by
    severity, then code; evidence is JSON-safe as the rules make it (`json_safe`)."""
    ordered = sorted(findings, key=lambda f: (str(f.severity), f.code))
    return [
        FindingOut(
            code=f.code,
            severity=str(f.severity),
            message=f.message_nl if lang == "nl" else f.message_en,
            message_nl=f.message_nl,
            message_en=f.message_en,
            legal_basis=f.legal_basis,
            rule_version=f.rule_version,
            evidence=f.evidence,
            parameters=[p.to_json() for p in f.parameters],
        )
        for f in ordered
    ]


def present_check(
    payload: NotificationCreate, findings: Sequence[Finding], received_at: datetime, lang: str
) -> NotificationCheck:
    return NotificationCheck(
        notice_date=legal_date(received_at),
        notice_deadline=calendar.notice_deadline(payload.start_date),
        findings=present_findings(findings, lang),
    )


def _worker_out(w: Worker | WorkerIn, bsn_last3: str) -> WorkerOut:
    """The worker as answered: a stored one, or the payload's just stored (same fields)."""
    return WorkerOut(
        given_names=w.given_names,
        surname=w.surname,
        given_names_original=w.given_names_original,
        surname_original=w.surname_original,
        birth_date=w.birth_date,
        sex=w.sex,
        nationality=w.nationality,
        bsn_masked=mask_bsn("000000" + bsn_last3),
        document_type=w.document_type,
        document_valid_until=w.document_valid_until,
    )


def _present_one(
    n: Notification,
    worker: WorkerOut,
    locations: Sequence[WorkLocation | AddressIn],
    findings: list[FindingOut],
) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        receipt_number=n.receipt_number,
        received_at=n.received_at,
        notice_date=n.notice_date,
        notice_deadline=calendar.notice_deadline(n.start_date),
        status=n.status,
        termination_pending=notice_changes.termination_pending(n),
        version=n.version,
        channel=n.channel,
        contract_type=n.contract_type,
        start_date=n.start_date,
        end_date=n.end_date,
        job_title=n.job_title,
        job_description=n.job_description,
        hours_per_week=n.hours_per_week,
        fulltime_hours_per_week=n.fulltime_hours_per_week,
        wage=WageIn(
            amount=n.wage_amount,
            period=WagePeriod(n.wage_period),
            includes_holiday_allowance=n.wage_includes_holiday_allowance,
        ),
        cao=n.cao,
        work_locations=[
            {
                "street": loc.street,
                "house_number": loc.house_number,
                "postcode": loc.postcode,
                "city": loc.city,
            }
            for loc in locations
        ],
        housing=(
            {
                "provided": True,
                "address": n.housing_address,
                "monthly_deduction": n.housing_deduction_monthly,
                "written_consent": n.housing_written_consent,
                "certified": n.housing_certified,
            }
            if n.housing_provided
            else None
        ),
        bbl_student=n.bbl_student,
        paid_in_cash=n.paid_in_cash,
        hirer=(
            {"kvk_number": n.hirer_kvk_number or "", "name": n.hirer_name or ""}
            if n.hirer_kvk_number
            else None
        ),
        signatory_name=n.signatory_name,
        worker=worker,
        findings=findings,
    )


def present_detail(
    session: Session, notification: Notification, lang: str = "en"
) -> NotificationDetail:
    base = present(session, [notification], lang)[0]
    findings = _findings_by_version(session, [notification.id])
    versions = session.exec(
        select(NotificationVersion)
        .where(NotificationVersion.notification_id == notification.id)
        .order_by(col(NotificationVersion.version))
    )
    history = [
        VersionOut(
            version=v.version,
            kind=v.kind,
            channel=v.channel,
            received_at=v.received_at,
            effective_date=v.effective_date,
            changes=v.changes,
            reason=v.reason,
            declaration=v.declaration,
            findings=[
                _finding_out(f, lang) for f in findings.get((notification.id, v.version), [])
            ],
        )
        for v in versions
    ]
    return NotificationDetail(**base.model_dump(), history=history)
