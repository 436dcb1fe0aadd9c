"""Tables for workers as declared, notifications, their immutable versions, and findings.

`notification` holds the current state (what the newest version says) for fast queries;
`notification_version` holds every declaration as it was made, never updated, so an inspector
sees what was declared when.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, Numeric, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from meldplicht.core.clock import utcnow
from meldplicht.core.types import UTCDateTime

MONEY = Numeric(12, 2)
HOURS = Numeric(5, 2)


# Crockford's base32 (no I, L, O, U): read aloud or typed from paper without confusion.
VERIFICATION_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
VERIFICATION_LENGTH = 20  # 100 random bits


def new_verification_code() -> str:
    """A receipt's verification code: 100 random bits, stored, never derived from the receipt.

    Anyone holding it (through the QR code on the receipt) can confirm the receipt number,
    date and employer; nobody can guess one (2^100 codes) or walk from one to the next.
    """
    return "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_LENGTH))


class NotificationStatus(enum.StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"


class Channel(enum.StrEnum):
    API = "api"
    FORM = "form"
    BULK = "bulk"
    IMPORT = "import"


class VersionKind(enum.StrEnum):
    INITIAL = "initial"
    CHANGE = "change"
    TERMINATION = "termination"
    WITHDRAWAL = "withdrawal"


class Worker(SQLModel, table=True):
    """A person as declared by one employer; the same person at two employers is two rows
    sharing `bsn_hash`."""

    __tablename__ = "worker"
    __table_args__ = (UniqueConstraint("employer_id", "bsn_hash"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    employer_id: uuid.UUID = Field(foreign_key="employer.id", index=True)
    bsn_hash: str = Field(max_length=64, index=True)
    bsn_encrypted: str = Field(max_length=255)
    bsn_last3: str = Field(max_length=3)
    given_names: str = Field(max_length=200)
    surname: str = Field(max_length=200)
    given_names_original: str | None = Field(default=None, max_length=200)
    surname_original: str | None = Field(default=None, max_length=200)
    birth_date: date
    sex: str = Field(max_length=1)
    nationality: str = Field(max_length=3)
    # The V-number (vreemdelingennummer) identifies the person as surely as the BSN: stored
    # encrypted like the document number, never in clear (migration 0010).
    v_number_encrypted: str | None = Field(default=None, max_length=255)
    document_type: str | None = Field(default=None, max_length=20)
    document_number_encrypted: str | None = Field(default=None, max_length=255)
    document_valid_until: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_employer_received", "employer_id", "received_at", "id"),
        Index("ix_notification_status_next_check", "status", "next_check_date"),
        # An ordinary night: what crosses a cross-notification or payroll date, what changed
        # since the last run, and what retention takes, each found through an index
        # (migration 0022).
        Index("ix_notification_next_cross_date", "next_cross_date"),
        Index("ix_notification_next_payroll_date", "next_payroll_date"),
        Index("ix_notification_updated_at", "updated_at"),
        Index(
            "ix_notification_retention_end",
            "end_date",
            sqlite_where=text("signatory_name <> ''"),
            postgresql_where=text("signatory_name <> ''"),
        ),
        Index(
            "ix_notification_retention_withdrawn",
            "status",
            "updated_at",
            sqlite_where=text("signatory_name <> ''"),
            postgresql_where=text("signatory_name <> ''"),
        ),
        # A unique index (not a table constraint): SQLite can add it without copying the table.
        Index("uq_notification_verification_code", "verification_code", unique=True),
        UniqueConstraint("employer_id", "external_reference"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    receipt_number: str = Field(max_length=20, unique=True)
    # The code behind the receipt's QR link (/verify/<code>); random, not the receipt number.
    verification_code: str = Field(default_factory=new_verification_code, max_length=32)
    # The sender's own reference (a row id in an older system or a bulk file): re-sending the
    # same reference never makes a second notification.
    external_reference: str | None = Field(default=None, max_length=64)
    employer_id: uuid.UUID = Field(foreign_key="employer.id")
    worker_id: uuid.UUID = Field(foreign_key="worker.id", index=True)
    channel: str = Field(max_length=10)
    received_at: datetime = Field(sa_type=UTCDateTime)
    notice_date: date
    status: str = Field(max_length=12, default=NotificationStatus.ACTIVE)
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The current declaration (a copy of the newest version's content, for queries and sweeps).
    contract_type: str = Field(max_length=20)
    start_date: date = Field(index=True)
    end_date: date | None = None
    job_title: str = Field(max_length=200)
    job_description: str | None = Field(default=None, max_length=2000)
    # None: not stated (on-call work); a wage per week or month then cannot be checked.
    hours_per_week: Decimal | None = Field(default=None, sa_type=HOURS)
    fulltime_hours_per_week: Decimal | None = Field(default=None, sa_type=HOURS)
    wage_amount: Decimal = Field(sa_type=MONEY)
    wage_period: str = Field(max_length=12)
    wage_includes_holiday_allowance: bool = False
    cao: str | None = Field(default=None, max_length=200)
    housing_provided: bool = False
    housing_deduction_monthly: Decimal | None = Field(default=None, sa_type=MONEY)
    housing_written_consent: bool = False
    # None: not stated (Besluit minimumloon art. 2a: the housing meets the quality requirement).
    housing_certified: bool | None = None
    # None: not stated; the worker follows the bbl (work-study), a lower youth minimum to 2026.
    bbl_student: bool | None = None
    # None: not stated; True: the wage is paid in cash (Wet minimumloon art. 7a forbids it up to
    # the minimum wage).
    paid_in_cash: bool | None = None
    housing_address: str | None = Field(default=None, max_length=500)
    housing_postcode: str | None = Field(default=None, max_length=7, index=True)
    signatory_name: str = Field(max_length=200)
    hirer_kvk_number: str | None = Field(default=None, max_length=8)
    hirer_name: str | None = Field(default=None, max_length=200)
    termination_reason: str | None = Field(default=None, max_length=500)
    # The next day on which a verdict about this notification can change (incremental sweep).
    next_check_date: date | None = None
    # The next day on which a person's or employer's verdict, or a payroll verdict, can move
    # because of this notification (rules/checks/schedule.py); None: not known, check it.
    # Intake sets them to None on every change; the sweep stores them.
    next_cross_date: date | None = None
    next_payroll_date: date | None = None


class NotificationVersion(SQLModel, table=True):
    """One declaration as made: the initial notice, a change, a termination or a withdrawal."""

    __tablename__ = "notification_version"
    __table_args__ = (UniqueConstraint("notification_id", "version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    notification_id: uuid.UUID = Field(foreign_key="notification.id", index=True)
    version: int
    kind: str = Field(max_length=12)
    channel: str = Field(max_length=10)
    received_at: datetime = Field(sa_type=UTCDateTime)
    effective_date: date | None = None
    # The whole declaration after this event (BSN and document number left out: they live
    # encrypted on the worker row) and the fields this event changed.
    declaration: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    reason: str | None = Field(default=None, max_length=500)


class NotificationFinding(SQLModel, table=True):
    """A finding the rules produced for one version of a notification at intake."""

    __tablename__ = "notification_finding"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    notification_id: uuid.UUID = Field(foreign_key="notification.id", index=True)
    version: int
    code: str = Field(max_length=40)
    severity: str = Field(max_length=10)
    rule_version: str = Field(max_length=20)
    legal_basis: str = Field(max_length=500)
    message_nl: str = Field(max_length=2000)
    message_en: str = Field(max_length=2000)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    parameters: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    period_key: str = Field(default="", max_length=40)
    as_of: date
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkLocation(SQLModel, table=True):
    """A place where the work is done, as currently declared."""

    __tablename__ = "work_location"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    notification_id: uuid.UUID = Field(foreign_key="notification.id", index=True)
    position: int = 0
    street: str = Field(max_length=200)
    house_number: str = Field(max_length=20)
    postcode: str = Field(max_length=7, index=True)
    city: str = Field(max_length=100)
