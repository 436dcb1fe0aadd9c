"""Request and response bodies of the case API (the case queue, one case, its workflow)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from meldplicht.inspection.case_queue import CaseSort, DueStatus
from meldplicht.inspection.models import (
    CaseOutcome,
    CaseStatus,
    SignalSource,
    SignalStatus,
)
from meldplicht.inspection.schemas import MAX_BULK, AuditEntryOut, NoteOut, NoteText, _In
from meldplicht.rules.facts import Severity


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
    risk_computed_at: datetime | None = Field(
        description="When the case's risk score was last computed: when it changed, or "
        "when one of its flags was scored again (not each night)."
    )
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


class ViewQuery(_In):
    """A case-queue filter and sort, as the queue page's query parameters."""

    status: CaseStatus | Literal["all"] | None = Field(
        default=None, description="One status, `all`, or none for the active cases."
    )
    severity: Severity | None = None
    sector: str | None = Field(default=None, max_length=100)
    province: str | None = Field(default=None, max_length=20)
    due: DueStatus | None = None
    sort: CaseSort = CaseSort.RISK


class ViewIn(_In):
    name: str = Field(
        max_length=400,
        description="1 to 80 characters, any script; saving an existing name replaces it.",
    )
    query: ViewQuery = Field(default_factory=ViewQuery)


class ViewOut(BaseModel):
    id: uuid.UUID
    name: str
    query: dict[str, str] = Field(description="The filter and sort, as the queue's parameters.")
    href: str = Field(description="The case queue page with this view applied.")
    created_at: datetime


class BulkAssignIn(_In):
    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BULK)
    assignee_id: uuid.UUID = Field(description="The user id of an inspector or supervisor.")


class BulkAssignOut(BaseModel):
    assigned: list[CaseRow]
