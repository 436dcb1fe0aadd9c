"""Request and response bodies of the inspection API (the queue, a flag, its workflow)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from meldplicht.core.validation import clean_text
from meldplicht.flags.models import FlagStatus, Outcome
from meldplicht.notifications.schemas import LawDate, NotificationDetail

NoteText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(clean_text),
]
ReasonText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=2000),
    AfterValidator(clean_text),
]
MAX_BULK = 500


class QueueSort(enum.StrEnum):
    RISK = "risk"  # risk score, highest first
    AGE = "age"  # first seen, oldest first


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- flags --------------------------------------------------------------------------------


class FlagOut(BaseModel):
    """A flag as a queue row."""

    id: uuid.UUID
    rule_code: str
    rule_version: str
    severity: str
    status: FlagStatus
    risk_score: int
    risk_computed_at: datetime | None = Field(
        description="When the risk score was last computed from its inputs (the flag's "
        "severity and workers, the employer's confirmed violations and sector). It is "
        "computed again when one of them changes, not each night."
    )
    subject_type: str
    subject_id: str
    employer_id: uuid.UUID | None
    notification_id: uuid.UUID | None
    sector: str | None
    province: str | None
    workers_affected: int
    assignee_id: uuid.UUID | None
    claimed_at: datetime | None
    outcome: Outcome | None
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    condition_present: bool = Field(
        description="False once the rules no longer find the condition (a sweep cleared it)."
    )
    snoozed_until: date | None
    first_seen_at: datetime
    last_seen_at: datetime = Field(
        description=(
            "When the rules last wrote this flag's content (its finding new or changed). A "
            "sweep leaves an unchanged flag as it was: that an open flag still holds is what "
            "the latest completed sweep run says."
        )
    )
    cleared_at: datetime | None
    reopened_count: int
    message_en: str
    message_nl: str


class FlagPage(BaseModel):
    items: list[FlagOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` with the same filters for the next page; null at the end."
    )


class NoteOut(BaseModel):
    id: uuid.UUID
    author_id: str
    author_name: str
    body: str
    created_at: datetime


class AuditEntryOut(BaseModel):
    at: datetime
    actor_role: str
    actor_id: str
    action: str
    details: dict[str, Any]


class FlagDetail(FlagOut):
    """One flag with everything an inspector needs to decide on it."""

    legal_basis: str
    evidence: dict[str, Any]
    parameters: list[dict[str, Any]]
    risk_breakdown: dict[str, Any]
    resolution_note: str | None
    worker_bsn_masked: str | None = Field(
        description="Only the last three digits; the full BSN is at .../personal-data."
    )
    notification: NotificationDetail | None = Field(
        description="The notification the flag is about, with every version as declared."
    )
    related_employer_flags: list[FlagOut] = Field(
        description="Other active flags of the same employer, highest risk first."
    )
    related_person_flags: list[FlagOut] = Field(
        description="Other active flags about the same person (any employer)."
    )
    notes: list[NoteOut]
    audit: list[AuditEntryOut]


class PersonalDataOut(BaseModel):
    flag_id: uuid.UUID
    worker_id: uuid.UUID
    bsn: str
    given_names: str
    surname: str
    birth_date: date


# --- workflow -------------------------------------------------------------------------------


class AssignIn(_In):
    assignee_id: uuid.UUID = Field(description="The user id of an inspector or supervisor.")


class ResolveIn(_In):
    outcome: Outcome
    note: NoteText = Field(description="Why: mandatory, kept with the flag and in the audit log.")


class NoteIn(_In):
    body: NoteText


class ReopenIn(_In):
    note: NoteText | None = Field(None, description="Why the flag is reopened (added as a note).")


FlagIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_BULK)]


class BulkAssignIn(_In):
    flag_ids: FlagIds
    assignee_id: uuid.UUID


class BulkResolveIn(_In):
    flag_ids: FlagIds
    outcome: Outcome
    note: NoteText


class BulkResult(BaseModel):
    updated: list[FlagOut]


class SnoozeIn(_In):
    employer_id: uuid.UUID
    rule_code: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    until: LawDate = Field(description="Last day (inclusive) on which the rule stays silenced.")
    reason: ReasonText


class SnoozeOut(BaseModel):
    id: uuid.UUID
    employer_id: uuid.UUID
    rule_code: str
    until: date
    reason: str
    created_by: str
    created_at: datetime
    lifted_at: datetime | None
    flags_affected: int | None = Field(
        None, description="Active flags whose snooze changed with this request."
    )


# --- employer view and health ----------------------------------------------------------------


class EmployerSummary(BaseModel):
    id: uuid.UUID
    kvk_number: str
    name: str
    sector: str | None
    sbi_code: str | None
    city: str | None
    postcode: str | None
    is_staffing_agency: bool


class RuleGroup(BaseModel):
    rule_code: str
    flags: int
    workers_affected: int = Field(description="Distinct persons among the rule's active flags.")
    by_status: dict[str, int]
    max_risk_score: int
    severity: str = Field(description="The highest severity among the group's flags.")
    flag_ids: list[uuid.UUID] = Field(description="Up to 100 flag ids, highest risk first.")


class ResolvedFlagOut(BaseModel):
    id: uuid.UUID
    rule_code: str
    outcome: Outcome | None
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None


class EmployerView(BaseModel):
    employer: EmployerSummary
    active_flags: int
    rules: list[RuleGroup]
    notifications: int
    active_notifications: int
    outcomes: dict[str, int] = Field(description="Resolved flags of this employer per outcome.")
    recent_resolutions: list[ResolvedFlagOut] = Field(description="The 50 newest resolutions.")
    active_snoozes: list[SnoozeOut]


class RulePrecision(BaseModel):
    rule_code: str
    resolved: int
    violation_confirmed: int
    precision: float | None = Field(
        description="violation_confirmed / resolved; null before the first resolution."
    )


class QueueHealth(BaseModel):
    as_of: datetime
    by_status: dict[str, int]
    active_by_age: dict[str, int] = Field(
        description="Active flags by days since first seen (0-7, 8-30, 31-90, 91+)."
    )
    snoozed: int
    overdue_targets_days: dict[str, int] = Field(
        description="Days an active flag of each severity may wait (inspection.queue."
        "SEVERITY_TARGET_DAYS: high 5, medium 15, low 30)."
    )
    overdue_by_severity: dict[str, int] = Field(
        description="Active flags older than their severity's target."
    )
    overdue_total: int
    precision_by_rule: list[RulePrecision]
