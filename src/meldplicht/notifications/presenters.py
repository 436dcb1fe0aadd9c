"""Notifications, findings and checks as the API and the pages answer them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from meldplicht.core.clock import legal_date
from meldplicht.core.crypto import mask_bsn
from meldplicht.notifications import changes as notice_changes
from meldplicht.notifications.models import (
    Notification,
    NotificationFinding,
    NotificationVersion,
    Worker,
    WorkLocation,
)
from meldplicht.notifications.schemas import (
    AddressIn,
    FindingOut,
    NotificationCheck,
    NotificationCreate,
    NotificationDetail,
    NotificationOut,
    VersionOut,
    WageIn,
    WorkerIn,
    WorkerOut,
)
from meldplicht.rules import calendar
from meldplicht.rules.facts import (
    Finding,
    WagePeriod,
)


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
