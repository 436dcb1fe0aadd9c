"""Inspection cases (one per employer, gathering its flags), their notes and workers, signals
from outside, and saved views of the case queue."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, Numeric, text
from sqlmodel import Field, SQLModel

from meldplicht.core.clock import utcnow
from meldplicht.core.types import UTCDateTime

MONEY = Numeric(12, 2)


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    INVESTIGATING = "investigating"
    CLOSED = "closed"


ACTIVE_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.CLAIMED, CaseStatus.INVESTIGATING)


class CaseOutcome(enum.StrEnum):
    NO_VIOLATION = "no_violation"
    WARNING = "warning"
    FINE_REPORT = "fine_report"
    ORDER_TO_PAY = "order_to_pay"  # an order to pay the wage arrears
    REFERRED = "referred"  # referred to another authority
    # Closed by meldplicht, never by a person: a case signals opened before the employer was
    # known, whose signals moved into the employer's case when it registered.
    MERGED = "merged"


# The outcomes a person may close a case with.
CLOSING_OUTCOMES = tuple(o for o in CaseOutcome if o is not CaseOutcome.MERGED)


CASE_FILTER_COLUMNS = ("sector", "province", "assignee_id")


class Case(SQLModel, table=True):
    """One employer's inspection case: its active flags, their aggregate risk and back pay.

    One case per employer is not closed at a time (the partial unique index); the columns
    after `employer_id` are the aggregates `cases.refresh` keeps current from its flags.
    """

    __tablename__ = "inspection_case"
    __table_args__ = (
        Index(
            "ux_case_employer_active",
            "employer_id",
            unique=True,
            postgresql_where=text("status <> 'closed'"),
            sqlite_where=text("status <> 'closed'"),
        ),
        Index("ix_case_queue_risk", "status", "risk_score", "id", *CASE_FILTER_COLUMNS),
        Index("ix_case_queue_back_pay", "status", "back_pay", "id", *CASE_FILTER_COLUMNS),
        Index("ix_case_queue_age", "status", "condition_since", "id", *CASE_FILTER_COLUMNS),
        # The queue's COUNT under any of its column filters, from the index (alembic 0018).
        Index(
            "ix_case_count",
            "status",
            "province",
            "sector",
            "flags_high",
            "flags_medium",
            "flags_low",
            "assignee_id",
        ),
        # The age sort's count (cases with a day their condition began), from this small
        # index alone: PostgreSQL read the whole table for it (alembic 0019).
        Index(
            "ix_case_age_count",
            "status",
            postgresql_where=text("condition_since IS NOT NULL"),
            sqlite_where=text("condition_since IS NOT NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    reference: str = Field(max_length=20, unique=True)  # "Z-2026-000123", for the file
    # None: a case of its own for signals about an employer that matched no employer here;
    # the reported name and KvK number stand in for it (alembic 0016).
    employer_id: uuid.UUID | None = Field(default=None, foreign_key="employer.id", index=True)
    reported_name: str | None = Field(default=None, max_length=200)
    reported_kvk_number: str | None = Field(default=None, max_length=8)
    # The reported name as matched (signals.name_key), so later signals about the same
    # unknown employer join the same open case.
    reported_name_key: str | None = Field(default=None, max_length=200, index=True)
    status: str = Field(max_length=14, default=CaseStatus.OPEN)
    outcome: str | None = Field(default=None, max_length=20)
    closing_note: str | None = Field(default=None, max_length=4000)
    assignee_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    sector: str | None = Field(default=None, max_length=100)
    province: str | None = Field(default=None, max_length=20)
    risk_score: int = 0
    risk_breakdown: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # When the score was last computed from its inputs (alembic 0021); the queue shows it.
    risk_computed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    active_flags: int = 0
    flags_high: int = 0
    flags_medium: int = 0
    flags_low: int = 0
    rules: list[str] = Field(default_factory=list, sa_type=JSON)
    workers_affected: int = 0
    back_pay: Decimal = Field(default=Decimal("0.00"), sa_type=MONEY)
    # The oldest active condition began on this day. Empty on an open case: its figures were
    # never computed (opened by migration 0011 or by a signal); the sweep computes them.
    condition_since: date | None = None
    due_on: date | None = None  # from the most severe flag's target
    signals_unverified: int = 0  # signals from outside not yet verified or found unfounded
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseRule(SQLModel, table=True):
    """One rule a case has active flags of: how many, and the case's status beside it.

    Kept by `cases.refresh_rules` from the flags (whatever the case's status: a closed case's
    flags may still be active), and its `case_status` by every case transition, so the case
    queue counts the cases of a rule from `ix_case_rule_count` alone (alembic 0019). A row
    exists exactly when the case has an active flag of the rule.
    """

    __tablename__ = "case_rule"
    __table_args__ = (Index("ix_case_rule_count", "rule_code", "case_status", "case_id"),)

    case_id: uuid.UUID = Field(foreign_key="inspection_case.id", primary_key=True)
    rule_code: str = Field(max_length=40, primary_key=True)
    case_status: str = Field(max_length=14)
    open_flags: int


class CaseNote(SQLModel, table=True):
    __tablename__ = "case_note"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="inspection_case.id", index=True)
    author_id: str = Field(max_length=64)
    author_name: str = Field(max_length=200)
    body: str = Field(max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseWorker(SQLModel, table=True):
    """The back-pay estimate of one notification (one worker's employment) in a case."""

    __tablename__ = "case_worker"
    __table_args__ = (Index("ux_case_worker", "case_id", "notification_id", unique=True),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="inspection_case.id")
    notification_id: uuid.UUID = Field(foreign_key="notification.id", index=True)
    back_pay: Decimal = Field(default=Decimal("0.00"), sa_type=MONEY)
    # The calculation as data (periods, arithmetic, parameters with their references).
    calculation: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    computed_on: date
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseFiguresDue(SQLModel, table=True):
    """A case whose figures a sweep has still to recompute: the sweep gathers them as it goes
    and recomputes each case once, at its end (`cases.recompute_due`)."""

    __tablename__ = "case_figures_due"

    case_id: uuid.UUID = Field(
        foreign_key="inspection_case.id", ondelete="CASCADE", primary_key=True
    )


class CaseWorkerDue(SQLModel, table=True):
    """A worker's back-pay estimate in a case that a sweep has still to recompute."""

    __tablename__ = "case_worker_due"

    case_id: uuid.UUID = Field(
        foreign_key="inspection_case.id", ondelete="CASCADE", primary_key=True
    )
    notification_id: uuid.UUID = Field(primary_key=True)


class SignalSource(enum.StrEnum):
    WORKER_PAGE = "worker_page"  # the public form on the worker page
    PARTNER = "partner"  # a partner organisation through the public API


class SignalStatus(enum.StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    UNFOUNDED = "unfounded"


class Signal(SQLModel, table=True):
    """A report from outside about an employer: only what the form asks, nothing else.

    No account, no address of the sender, no browser details, no personal numbers (refused
    before storing). It lands unverified in the employer's open case, or in a case of its
    own when no employer matches; employers never see it (alembic 0016).
    """

    __tablename__ = "signal"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="inspection_case.id", index=True)
    employer_id: uuid.UUID | None = Field(default=None, foreign_key="employer.id", index=True)
    matched_by: str = Field(max_length=8)  # kvk, name or none
    employer_name: str | None = Field(default=None, max_length=200)
    kvk_number: str | None = Field(default=None, max_length=8)
    place: str = Field(max_length=100)
    what_happened: str = Field(max_length=4000)
    contact: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=2)
    source: str = Field(max_length=12)
    status: str = Field(max_length=10, default=SignalStatus.UNVERIFIED)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")


class CaseView(SQLModel, table=True):
    """A saved view: one inspector's named filter and sort of the case queue (their own)."""

    __tablename__ = "case_view"
    __table_args__ = (Index("ux_case_view_user_name", "user_id", "name", unique=True),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id")
    name: str = Field(max_length=80)
    # The queue's filter and sort as its query parameters (status, severity, sector, ...).
    query: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
