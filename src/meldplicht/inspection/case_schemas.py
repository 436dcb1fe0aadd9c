"""Request and response bodies of the case API (the case queue, one case, its workflow)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from meldplicht.inspection.models import (
    CaseOutcome,
    CaseStatus,
    SignalSource,
    SignalStatus,
)
from meldplicht.inspection.schemas import AuditEntryOut, NoteOut, NoteText, _In


class SignalVerdict(enum.StrEnum):
    VERIFIED = "verified"
    UNFOUNDED = "unfounded"


class CaseRow(BaseModel):
    """A case as a queue row: one employer (or, for signals about an employer not registered
    here, the name and KvK number they reported)."""

    id: uuid.UUID
    reference: str
    status: CaseStatus
    outcome: CaseOutcome | None
    employer_id: uuid.UUID | None = Field(
        description="None: no registered employer matched the signals of this case."
    )
    employer_name: str = Field(description="The employer's name, or the name reported.")
    kvk_number: str | None = Field(description="The employer's KvK number, or the reported one.")
    employer_registered: bool = Field(
        description="False: the employer is only known from signals (name and KvK as reported)."
    )
    signals_unverified: int = Field(description="Signals from outside not yet checked.")
    sector: str | None
    province: str | None
    workers_affected: int
    active_flags: int
    flags_by_severity: dict[str, int] = Field(description="Active flags: high, medium, low.")
    rules: list[str]
    risk_score: int
    risk_breakdown: dict[str, Any]
    back_pay: Decimal = Field(
        description="Estimated back pay in EUR (an estimate for the inspector, not a claim)."
    )
    condition_since: date | None = Field(
        description="The day the oldest active condition began (not the day it was flagged)."
    )
    age_days: int | None
    due_on: date | None
    due_status: str = Field(description="overdue, due_soon, on_time or none.")
    assignee_id: uuid.UUID | None
    opened_at: datetime
    closed_at: datetime | None


class CasePage(BaseModel):
    items: list[CaseRow]
    count: int = Field(description="How many cases match the filters (all pages).")
    next_cursor: str | None = Field(
        description="Pass as `cursor` with the same filters and sort for the next page."
    )


class CaseWorkerOut(BaseModel):
    notification_id: uuid.UUID
    name: str
    bsn_masked: str
    age_band: str
    declared_wage: str = Field(description="As declared now, e.g. 'EUR 9.00 per hour'.")
    minimum_hourly: Decimal | None = Field(description="The minimum for the age today.")
    shortfall: Decimal
    holiday_allowance: Decimal
    hours: Decimal
    weeks: Decimal
    back_pay: Decimal
    calculation: dict[str, Any] = Field(description="Every period's arithmetic and references.")


class RuleCount(BaseModel):
    rule_code: str
    severity: str
    count: int
    message_nl: str
    message_en: str
    legal_basis: str
    flag_ids: list[uuid.UUID] = Field(description="The active flags of this rule (up to 200).")


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(description="notification, signal or case")
    text: str


class SignalOut(BaseModel):
    """A signal from outside, as the inspector sees it: unverified until checked."""

    id: uuid.UUID
    status: SignalStatus = Field(description="unverified, verified or unfounded.")
    source: SignalSource
    received_at: datetime
    matched_by: str = Field(description="How it joined the case: kvk, name or none.")
    employer_name: str | None
    kvk_number: str | None
    place: str
    what_happened: str
    contact: str | None
    language: str | None
    reviewed_at: datetime | None


class SignalReviewIn(_In):
    verdict: SignalVerdict


class CaseDetail(CaseRow):
    closing_note: str | None
    employer_city: str | None
    employer_postcode: str | None
    workers: list[CaseWorkerOut]
    flags_by_rule: list[RuleCount]
    timeline: list[TimelineEntry]
    signals: list[SignalOut] = Field(description="Reports from outside; never shown to employers.")
    notes: list[NoteOut]
    audit: list[AuditEntryOut]


class CloseIn(_In):
    outcome: CaseOutcome
    note: NoteText = Field(description="Why: mandatory, kept with the case and in the audit log.")
