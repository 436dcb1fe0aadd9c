"""The plain-data shapes the rules read (facts) and write (findings).

Services translate database rows into these frozen dataclasses; the rules never see a row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


class Severity(enum.StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class WagePeriod(enum.StrEnum):
    HOUR = "hour"
    WEEK = "week"
    FOUR_WEEKS = "four_weeks"
    MONTH = "month"


class ContractType(enum.StrEnum):
    """Employment contracts (arbeidsovereenkomst) the exemption covers, and two it does not."""

    FIXED_TERM = "fixed_term"
    OPEN_ENDED = "open_ended"
    ON_CALL = "on_call"
    TEMPORARY_AGENCY = "temporary_agency"
    PAYROLL = "payroll"
    # Not an employment contract: refused at intake (BuWav 2022 art. 6.5(1)).
    SELF_EMPLOYED = "self_employed"
    ASSIGNMENT = "assignment"


EMPLOYMENT_CONTRACTS = frozenset(
    {
        ContractType.FIXED_TERM,
        ContractType.OPEN_ENDED,
        ContractType.ON_CALL,
        ContractType.TEMPORARY_AGENCY,
        ContractType.PAYROLL,
    }
)


class Evaluation(enum.StrEnum):
    """Why the rules are asked: at intake (as of the receipt date) or in a sweep (as of a day)."""

    INTAKE = "intake"
    SWEEP = "sweep"


# The notification statuses that count for nothing. A withdrawn notification (withdrawn before
# the work started) was never a notification of work: no check judges it, no payroll period is
# covered by it, no person's hours or employer's lateness count it. Every query that selects
# notifications for a verdict filters on this set (`counts`, and its SQL form `rules.sql.counted`).
VOID_STATUSES = frozenset({"withdrawn"})


def counts(status: str) -> bool:
    """Does a notification with this status count for any verdict? (Not when withdrawn.)"""
    return status not in VOID_STATUSES


@dataclass(frozen=True, slots=True)
class WorkerFacts:
    birth_date: date
    nationality: str  # ISO 3166-1 alpha-3, e.g. "UKR"
    document_type: str | None = None  # "sticker", "o_document", "passport", "other"
    document_valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class NotificationFacts:
    """What an employer declared, as it stands now (the newest version after changes)."""

    notice_date: date  # the receipt instant's calendar date in Europe/Amsterdam
    start_date: date
    end_date: date | None
    contract_type: ContractType
    hours_per_week: Decimal
    wage_amount: Decimal
    wage_period: WagePeriod
    wage_includes_holiday_allowance: bool
    worker: WorkerFacts
    fulltime_hours_per_week: Decimal | None = None  # the employer's normal full-time week
    housing_provided: bool = False
    housing_deduction_monthly: Decimal | None = None
    # Besluit minimumloon art. 2a: a deduction needs the worker's written authorisation and
    # housing that meets the quality requirement. None: not stated.
    housing_written_consent: bool | None = None
    housing_certified: bool | None = None
    # The worker follows the beroepsbegeleidende leerweg (bbl): the lower bbl youth scale
    # applies to ages 18-20 until 31 December 2026. None or False: the general scale.
    bbl_student: bool | None = None
    # Wet minimumloon en minimumvakantiebijslag art. 7a: the minimum wage is paid into an
    # account in the worker's name. True: the employer declares the wage is paid in cash.
    # None: not stated.
    paid_in_cash: bool | None = None
    terminated: bool = False  # a termination notice was filed (end_date then holds its date)
    withdrawn: bool = False  # withdrawn before the start: counts for nothing (`counts`)


@dataclass(frozen=True, slots=True)
class ParameterUse:
    """One legal parameter value a finding relied on, with where it comes from."""

    name: str
    value: str  # str(value) so Decimals survive JSON exactly
    effective_from: date
    reference: str
    possibly_out_of_date: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "effective_from": self.effective_from.isoformat(),
            "reference": self.reference,
            "possibly_out_of_date": self.possibly_out_of_date,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One substantive observation about a notification (or a person, or an employer).

    `period_key` completes the flag fingerprint (rule + subject + period): empty for
    conditions that hold for the whole notification.
    """

    code: str
    severity: Severity
    rule_version: str
    legal_basis: str
    message_nl: str
    message_en: str
    evidence: dict[str, Any] = field(default_factory=dict)  # JSON-safe: str/int/bool/None/list/dict
    parameters: tuple[ParameterUse, ...] = ()
    period_key: str = ""


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One stored notification as the cross-notification sweep checks see it.

    `person_key` identifies the worker across employers (e.g. the keyed BSN hash) and
    `employer_key` the employer (e.g. the KvK number); the rules only compare them.
    """

    notification_id: str
    employer_key: str
    person_key: str
    facts: NotificationFacts
