"""What the rules see of a notification (stored or not yet), and its findings as rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import col

from meldplicht.notifications.models import (
    Notification,
    NotificationStatus,
    Worker,
)
from meldplicht.notifications.schemas import (
    NotificationCreate,
)
from meldplicht.rules.facts import (
    ContractType,
    Finding,
    NotificationFacts,
    WagePeriod,
    WorkerFacts,
    counts,
)

# What `facts_of` reads of a notification and of its worker (no column name is in both).
NOTIFICATION_FACTS = (
    "notice_date",
    "start_date",
    "end_date",
    "contract_type",
    "hours_per_week",
    "fulltime_hours_per_week",
    "wage_amount",
    "wage_period",
    "wage_includes_holiday_allowance",
    "housing_provided",
    "housing_deduction_monthly",
    "housing_written_consent",
    "housing_certified",
    "bbl_student",
    "paid_in_cash",
    "status",
    "termination_reason",
)
WORKER_FACTS = ("birth_date", "nationality", "document_type", "document_valid_until")


def fact_columns() -> list[Any]:
    """The columns `facts_of_row` needs, for a Core SELECT joining Notification and Worker."""
    return [col(getattr(Notification, name)) for name in NOTIFICATION_FACTS] + [
        col(getattr(Worker, name)) for name in WORKER_FACTS
    ]


def facts_of(notification: Notification, worker: Worker) -> NotificationFacts:
    return _facts(notification, worker)


def facts_of_row(row: Any) -> NotificationFacts:
    """`facts_of` for a plain row holding `fact_columns()` (a set-based read: no ORM objects)."""
    return _facts(row, row)


def _facts(notification: Any, worker: Any) -> NotificationFacts:
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


def finding_rows(
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
