"""Flags (one anomaly, one subject, one rule), their notes, and per-employer rule snoozes."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, text
from sqlmodel import Field, SQLModel

from meldplicht.core.clock import utcnow
from meldplicht.core.types import UTCDateTime


class FlagStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    CLEARED = "cleared"  # the condition disappeared before anyone resolved it


ACTIVE_STATUSES = (FlagStatus.OPEN, FlagStatus.CLAIMED, FlagStatus.INVESTIGATING)


class Outcome(enum.StrEnum):
    VIOLATION_CONFIRMED = "violation_confirmed"
    NO_VIOLATION = "no_violation"
    DUPLICATE = "duplicate"
    REFERRED = "referred"


class SubjectType(enum.StrEnum):
    NOTIFICATION = "notification"
    PERSON = "person"  # one person (BSN hash) across employers
    EMPLOYER = "employer"
    PAYROLL = "payroll"


class FlagSource(enum.StrEnum):
    INTAKE = "intake"
    SWEEP = "sweep"
    PAYROLL = "payroll"
    REGISTER = "register"


QUEUE_FILTER_COLUMNS = (
    "snoozed_until",
    "severity",
    "rule_code",
    "province",
    "sector",
    "assignee_id",
)


def _after(*leading: str) -> tuple[str, ...]:
    """Leading columns, the risk order, then every filter column and the status: SQLite reads
    such a page from the index alone only if the index has every column the query names."""
    rest = [c for c in QUEUE_FILTER_COLUMNS if c not in leading]
    return (*leading, "risk_score", "id", *rest, "status")


# Partial queue indexes over the active statuses (alembic 0006), as (name, columns, WHERE). A
# page reads one status at a time, and each of these is a range that status's `ix_flag_queue`
# range would only reach by walking past flags that do not match:
# - by rule, then risk: the risk score follows the rule's severity, so a medium rule's flags
#   all lie below every high one (and a rule with a severity it lacks matched nothing);
# - unassigned claimed or investigating flags, and assigned open ones: the workflow keeps
#   these (nearly) empty, so "unassigned" or "assigned to X" no longer walks the statuses
#   where it cannot match.
ACTIVE_QUEUE_INDEXES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    *(
        (f"ix_flag_rule_queue_{s.value}", _after("rule_code"), f"status = '{s.value}'")
        for s in ACTIVE_STATUSES
    ),
    *(
        (
            f"ix_flag_unassigned_queue_{s.value}",
            _after(),
            f"status = '{s.value}' AND assignee_id IS NULL",
        )
        for s in (FlagStatus.CLAIMED, FlagStatus.INVESTIGATING)
    ),
    (
        "ix_flag_assigned_queue_open",
        _after("assignee_id"),
        "status = 'open' AND assignee_id IS NOT NULL",
    ),
)


def _partial_index(name: str, columns: tuple[str, ...], where: str) -> Index:
    return Index(name, *columns, postgresql_where=text(where), sqlite_where=text(where))


class Flag(SQLModel, table=True):
    __tablename__ = "flag"
    __table_args__ = (
        # The queue's orders and their keyset pagination; the filter columns follow the sort
        # key so a filtered page is tested in the index (alembic 0005).
        Index("ix_flag_queue", "status", "risk_score", "id", *QUEUE_FILTER_COLUMNS),
        Index("ix_flag_queue_age", "status", "first_seen_at", "id", *QUEUE_FILTER_COLUMNS),
        # Partial indexes per active status for filters that walk far in those (alembic 0006).
        *(_partial_index(*spec) for spec in ACTIVE_QUEUE_INDEXES),
        Index("ix_flag_employer_status", "employer_id", "status"),
        # A case's active flags; with the rule, the case queue's rule filter (alembic 0018).
        Index("ix_flag_case_id", "case_id", "status", "rule_code"),
        Index("ix_flag_subject", "subject_type", "subject_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    fingerprint: str = Field(max_length=64, unique=True)
    rule_code: str = Field(max_length=40, index=True)
    rule_version: str = Field(max_length=20)
    subject_type: str = Field(max_length=16)
    subject_id: str = Field(max_length=64)
    period_key: str = Field(default="", max_length=40)
    employer_id: uuid.UUID | None = Field(default=None, foreign_key="employer.id")
    # The employer's case the flag belongs to (None: the flag has no employer, or it was
    # never active since cases exist). A flag stays in a closed case; reopened, it joins
    # the employer's open case (alembic 0011).
    case_id: uuid.UUID | None = Field(default=None, foreign_key="inspection_case.id")
    notification_id: uuid.UUID | None = Field(
        default=None, foreign_key="notification.id", index=True
    )
    person_hash: str | None = Field(default=None, max_length=64, index=True)
    severity: str = Field(max_length=10, index=True)
    status: str = Field(max_length=14, default=FlagStatus.OPEN)
    outcome: str | None = Field(default=None, max_length=24)
    resolution_note: str | None = Field(default=None, max_length=4000)
    assignee_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", index=True)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    risk_score: int = 0
    risk_breakdown: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # When the score was last computed from its inputs (alembic 0021); the queue shows it.
    risk_computed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    workers_affected: int = 1
    sector: str | None = Field(default=None, max_length=100, index=True)
    province: str | None = Field(default=None, max_length=20, index=True)
    legal_basis: str = Field(max_length=500)
    message_nl: str = Field(max_length=2000)
    message_en: str = Field(max_length=2000)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    parameters: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    source: str = Field(max_length=10)
    condition_present: bool = True
    snoozed_until: date | None = None
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_evaluated_on: date | None = None
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened_count: int = 0
    # The day the condition began (a notification's start of work, a payroll period's
    # start), not the day the flag was made; the case queue's age counts from it.
    condition_since: date | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FlagNote(SQLModel, table=True):
    __tablename__ = "flag_note"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    flag_id: uuid.UUID = Field(foreign_key="flag.id", index=True)
    author_id: str = Field(max_length=64)
    author_name: str = Field(max_length=200)
    body: str = Field(max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Snooze(SQLModel, table=True):
    """A rule silenced for one employer until a date, with the reason (audited)."""

    __tablename__ = "snooze"
    __table_args__ = (Index("ix_snooze_employer_rule", "employer_id", "rule_code"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    employer_id: uuid.UUID = Field(foreign_key="employer.id")
    rule_code: str = Field(max_length=40)
    until: date
    reason: str = Field(max_length=2000)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
