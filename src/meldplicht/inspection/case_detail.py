"""One case in full: the employer, its workers' back pay, flags by rule, timeline, notes."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from meldplicht.audit.models import AuditEvent
from meldplicht.employers.models import Employer
from meldplicht.flags.models import ACTIVE_STATUSES, Flag
from meldplicht.inspection import case_queue, cases, signals
from meldplicht.inspection.case_schemas import (
    CaseDetail,
    CaseRow,
    CaseWorkerOut,
    RuleCount,
    SignalOut,
    TimelineEntry,
)
from meldplicht.inspection.case_workflow import get_case
from meldplicht.inspection.models import (
    Case,
    CaseNote,
    CaseOutcome,
    CaseStatus,
    CaseWorker,
    Signal,
    SignalSource,
    SignalStatus,
)
from meldplicht.inspection.schemas import AuditEntryOut, NoteOut
from meldplicht.notifications.models import Notification, NotificationVersion, Worker
from meldplicht.rules.wages import age_on, minimum_hourly_wage

FLAG_IDS_PER_RULE = 200
SOURCE_TEXT: dict[str, str] = {
    SignalSource.WORKER_PAGE: "worker page",
    SignalSource.PARTNER: "partner API",
}


def case_row(case: Case, employer: Employer | None, today: date) -> CaseRow:
    """The row of a case; `employer` None: a case of signals about an unregistered one."""
    return CaseRow(
        id=case.id,
        reference=case.reference,
        status=CaseStatus(case.status),
        outcome=CaseOutcome(case.outcome) if case.outcome else None,
        employer_id=employer.id if employer else None,
        employer_name=employer.name if employer else (case.reported_name or ""),
        kvk_number=employer.kvk_number if employer else case.reported_kvk_number,
        employer_registered=employer is not None,
        signals_unverified=case.signals_unverified,
        sector=case.sector,
        province=case.province,
        workers_affected=case.workers_affected,
        active_flags=case.active_flags,
        flags_by_severity={
            "high": case.flags_high,
            "medium": case.flags_medium,
            "low": case.flags_low,
        },
        rules=list(case.rules),
        risk_score=case.risk_score,
        risk_computed_at=case.risk_computed_at,
        risk_breakdown=case.risk_breakdown,
        back_pay=Decimal(case.back_pay).quantize(Decimal("0.01")),
        condition_since=case.condition_since,
        age_days=case_queue.age_days(case, today),
        due_on=case.due_on,
        due_status=case_queue.due_status(case, today),
        assignee_id=case.assignee_id,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
    )


def age_band(age: int) -> str:
    if age < 18:
        return "15-17"
    if age < 21:
        return "18-20"
    return "21+"


def _workers(session: Session, case: Case, today: date) -> list[CaseWorkerOut]:
    out: list[CaseWorkerOut] = []
    for cw, notification, worker in session.exec(
        select(CaseWorker, Notification, Worker)
        .join(Notification, col(Notification.id) == col(CaseWorker.notification_id))
        .join(Worker, col(Worker.id) == col(Notification.worker_id))
        .where(CaseWorker.case_id == case.id)
        .order_by(col(CaseWorker.back_pay).desc(), col(Worker.surname))
    ):
        age = age_on(worker.birth_date, today)
        try:
            minimum = minimum_hourly_wage(
                age,
                today,
                notification.fulltime_hours_per_week,
                bbl_student=bool(notification.bbl_student),
            ).hourly
        except ValueError:
            minimum = None
        calc = cw.calculation
        out.append(
            CaseWorkerOut(
                notification_id=notification.id,
                name=f"{worker.given_names} {worker.surname}",
                bsn_masked="******" + worker.bsn_last3,
                age_band=age_band(age),
                declared_wage=f"EUR {notification.wage_amount} per {notification.wage_period}",
                minimum_hourly=minimum,
                shortfall=Decimal(calc.get("shortfall", "0")),
                holiday_allowance=Decimal(calc.get("holiday_allowance", "0")),
                hours=Decimal(calc.get("hours", "0")),
                weeks=Decimal(calc.get("weeks", "0")),
                back_pay=Decimal(cw.back_pay).quantize(Decimal("0.01")),
                calculation=calc,
            )
        )
    return out


def _flags_by_rule(session: Session, case: Case) -> list[RuleCount]:
    groups: dict[str, RuleCount] = {}
    for flag in session.exec(
        select(Flag)
        .where(Flag.case_id == case.id, col(Flag.status).in_(ACTIVE_STATUSES))
        .order_by(col(Flag.risk_score).desc(), col(Flag.id))
    ):
        group = groups.get(flag.rule_code)
        if group is None:
            group = groups[flag.rule_code] = RuleCount(
                rule_code=flag.rule_code,
                severity=flag.severity,
                count=0,
                message_nl=flag.message_nl,
                message_en=flag.message_en,
                legal_basis=flag.legal_basis,
                flag_ids=[],
            )
        group.count += 1
        if len(group.flag_ids) < FLAG_IDS_PER_RULE:
            group.flag_ids.append(flag.id)
    return sorted(groups.values(), key=lambda g: (-g.count, g.rule_code))


def signal_out(row: Signal) -> SignalOut:
    return SignalOut(
        id=row.id,
        status=SignalStatus(row.status),
        source=SignalSource(row.source),
        received_at=row.received_at,
        matched_by=row.matched_by,
        employer_name=row.employer_name,
        kvk_number=row.kvk_number,
        place=row.place,
        what_happened=row.what_happened,
        contact=row.contact,
        language=row.language,
        reviewed_at=row.reviewed_at,
    )


def _timeline(
    session: Session, case: Case, audit_rows: list[AuditEvent], case_signals: list[Signal]
) -> list[TimelineEntry]:
    notification_ids = {
        n
        for n in session.exec(select(Flag.notification_id).where(Flag.case_id == case.id))
        if n is not None
    }
    entries: list[TimelineEntry] = []
    if notification_ids:
        for version, notification in session.exec(
            select(NotificationVersion, Notification)
            .join(Notification, col(Notification.id) == col(NotificationVersion.notification_id))
            .where(col(NotificationVersion.notification_id).in_(sorted(notification_ids)))
        ):
            effective = f", effective {version.effective_date}" if version.effective_date else ""
            entries.append(
                TimelineEntry(
                    at=version.received_at,
                    kind="notification",
                    text=f"{notification.receipt_number} v{version.version}: {version.kind}"
                    f"{effective}",
                )
            )
    for row in case_signals:
        entries.append(
            TimelineEntry(
                at=row.received_at,
                kind="signal",
                text=f"Signal received from the {SOURCE_TEXT.get(row.source, row.source)}",
            )
        )
    for event in audit_rows:
        entries.append(TimelineEntry(at=event.at, kind="case", text=event.action))
    return sorted(entries, key=lambda e: e.at)


def case_detail(session: Session, case_id: uuid.UUID, today: date) -> CaseDetail:
    case = get_case(session, case_id)
    cases.recompute_case(session, case, today)
    session.refresh(case)
    employer = session.get(Employer, case.employer_id) if case.employer_id else None
    case_signals = signals.for_case(session, case.id)
    audit_rows = list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.subject_type == "case", AuditEvent.subject_id == str(case.id))
            .order_by(col(AuditEvent.id))
        )
    )
    notes = session.exec(
        select(CaseNote).where(CaseNote.case_id == case.id).order_by(col(CaseNote.created_at))
    ).all()
    return CaseDetail(
        **case_row(case, employer, today).model_dump(),
        closing_note=case.closing_note,
        employer_city=employer.city if employer else None,
        employer_postcode=employer.postcode if employer else None,
        workers=_workers(session, case, today),
        flags_by_rule=_flags_by_rule(session, case),
        timeline=_timeline(session, case, audit_rows, case_signals),
        signals=[signal_out(s) for s in case_signals],
        notes=[
            NoteOut(
                id=n.id,
                author_id=n.author_id,
                author_name=n.author_name,
                body=n.body,
                created_at=n.created_at,
            )
            for n in notes
        ],
        audit=[
            AuditEntryOut(
                at=e.at,
                actor_role=e.actor_role,
                actor_id=e.actor_id,
                action=e.action,
                details=e.details,
            )
            for e in audit_rows
        ],
    )
