"""Payroll records as a data partner delivers them, and the imports that brought them in.

A record is one worker paid by one employer (loonheffingennummer) for one period. The BSN is
kept only as a keyed hash (for matching), encrypted, and its last three digits (for display):
never in clear text (DECISIONS.md section 8).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from meldplicht.core.clock import utcnow
from meldplicht.core.types import UTCDateTime

MONEY = Numeric(12, 2)
# Hours paid for a whole period (a month can hold several hundred).
PERIOD_HOURS = Numeric(7, 2)


class PayrollImport(SQLModel, table=True):
    """One delivery (a file on the command line or an upload by a data partner)."""

    __tablename__ = "payroll_import"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    source: str = Field(max_length=10)  # "api" or "cli"
    actor_id: str = Field(max_length=64)
    filename: str | None = Field(default=None, max_length=255)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class PayrollRecord(SQLModel, table=True):
    __tablename__ = "payroll_record"
    __table_args__ = (
        # The idempotency key: the same record delivered twice is one record.
        UniqueConstraint("employer_lhn", "bsn_hash", "period_start", "period_end"),
        # Reconciliation looks up a person's periods at one employer, and a notice's payroll.
        Index("ix_payroll_record_bsn_period", "bsn_hash", "period_start"),
        # An incremental sweep reconciles what was imported or corrected since its last run.
        Index("ix_payroll_record_updated_at", "updated_at"),
        # Retention deletes records by the end of their period (migration 0022).
        Index("ix_payroll_record_period_end", "period_end"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Looked up through the unique key, whose first column it is (no index of its own).
    employer_lhn: str = Field(max_length=12)
    # The employer registered under that loonheffingennummer when the record was imported
    # (None: no employer known; reconciliation looks again).
    employer_id: uuid.UUID | None = Field(default=None, foreign_key="employer.id", index=True)
    bsn_hash: str = Field(max_length=64)
    bsn_encrypted: str = Field(max_length=255)
    bsn_last3: str = Field(max_length=3)
    period_start: date
    period_end: date
    hours_paid: Decimal = Field(sa_type=PERIOD_HOURS)
    gross_wage: Decimal = Field(sa_type=MONEY)
    # Holiday allowance is normally paid apart (in May or on leaving); a period amount that
    # includes it is flagged by the source and divided by 1 + rate before any comparison.
    includes_holiday_allowance: bool = False
    nationality: str | None = Field(default=None, max_length=3)
    document_type: str | None = Field(default=None, max_length=20)
    # Paid in cash rather than into the worker's own account (WML art. 7a); None: not stated.
    paid_in_cash: bool | None = None
    birth_date: date | None = None
    source_reference: str | None = Field(default=None, max_length=64)
    import_id: uuid.UUID | None = Field(default=None, foreign_key="payroll_import.id", index=True)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
