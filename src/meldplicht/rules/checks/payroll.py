"""Payroll reconciliation checks: what a payroll source says was paid, against what was notified.

Pure functions over plain facts (no database): the payroll service gathers, for one paid
period, the same person's notifications from the same employer (matched by the employer's
loonheffingennummer and the keyed BSN hash) and asks `check_paid_period`; for one notification
it gathers the person's paid periods at that employer and asks `check_no_payroll_after_start`.
The rules are registered for the catalogue (GET /api/v1/rules) but never run per notification
at intake: they need payroll data, which only the reconciliation has.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from meldplicht.rules import wages
from meldplicht.rules.checks.base import (
    SWEEP,
    RuleInfo,
    date_en,
    date_nl,
    hours_text,
    make_finding,
    register_info,
)
from meldplicht.rules.checks.notice import BASIS as NOTICE_BASIS
from meldplicht.rules.checks.payment import CASH_BASIS, CASH_LAW_EN, CASH_LAW_NL
from meldplicht.rules.checks.wage import WML_BASIS
from meldplicht.rules.checks.work import (
    WORKING_HOURS_BASIS,
    Limit,
    exceeded_limit,
    hour_limits,
)
from meldplicht.rules.facts import Finding, ParameterUse, Severity, WagePeriod
from meldplicht.rules.params import Parameters, get_parameters

CENT = Decimal("0.01")
# Nationals of the EU/EEA and Switzerland need no notification (free movement): a payroll
# source that states one of these nationalities is out of scope of MISSING_NOTICE.
FREE_MOVEMENT = frozenset(
    {
        *("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC"),
        *("HUN", "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK"),
        *("SVN", "ESP", "SWE", "ISL", "LIE", "NOR", "CHE"),
    }
)

# What a payroll source may state as the worker's document (normalised: lower case, spaces and
# hyphens as underscores). A document of temporary protection (the IND sticker, the O-document,
# a V-number) points to the exemption of BuWav 2022 art. 6.5, which requires the notice.
PROTECTION_DOCUMENTS = frozenset(
    {
        *("sticker", "o_document", "temporary_protection", "tijdelijke_bescherming"),
        *("protection", "v_number", "v_nummer", "vnummer", "vreemdelingennummer"),
    }
)
# Another authorisation to work (Wav art. 3 and 4): a residence permit free to work, a work
# permit (TWV) or a single permit (GVVA). The worker then needs no notice.
OTHER_AUTHORISATIONS = frozenset(
    {
        *("residence_permit", "verblijfsvergunning", "twv", "gvva", "single_permit"),
        *("blue_card", "eu_blue_card", "kennismigrant", "highly_skilled_migrant"),
    }
)
PROTECTION_NATIONALITIES = frozenset({"UKR"})

UNNOTIFIED_BASIS = (
    "Wet arbeid vreemdelingen art. 2 (employing an alien without a permit or a valid "
    "exemption) with Besluit uitvoering Wav 2022 art. 6.5: the exemption requires the notice; "
    + NOTICE_BASIS
)
DECLARED_BASIS = (
    "Regeling melding Wav art. 3(1)(d) (the notice states the wage); tolerance is product "
    "policy: parameter policy_payroll_declared_wage_tolerance"
)
NO_PAYROLL_BASIS = (
    "Burgerlijk Wetboek art. 7:623 (wage is paid at least once a month) and Wet minimumloon "
    "en minimumvakantiebijslag art. 16; product policy, not law: a signal of unpaid wages or "
    "of a notice without work; parameter policy_payroll_no_payroll_weeks"
)

MISSING_NOTICE = register_info(
    RuleInfo(
        code="MISSING_NOTICE",
        severity=Severity.HIGH,
        version="1.0.0",
        legal_basis=UNNOTIFIED_BASIS,
        title_nl="Loon betaald zonder melding",
        title_en="Paid without a notification",
        description_en=(
            "The payroll source shows hours paid to a worker for a period that no notification "
            "of that employer (matched by loonheffingennummer and BSN) received by the end of "
            "the period covers."
        ),
        applies_at=(SWEEP,),
    )
)
AUTHORISATION_UNVERIFIED = register_info(
    RuleInfo(
        code="WORK_AUTHORISATION_UNVERIFIED",
        severity=Severity.LOW,
        version="1.0.0",
        legal_basis=(
            "Wet arbeid vreemdelingen art. 2 and 3 (a non-EU worker needs a work permit, a "
            "residence permit free to work, or an exemption such as Besluit uitvoering Wav "
            "2022 art. 6.5 for temporary protection, which requires a notice); "
            "https://wetten.overheid.nl/BWBR0007149"
        ),
        title_nl="Recht op arbeid niet vastgesteld",
        title_en="Work authorisation unverified",
        description_en=(
            "Hours are paid to a worker whom no notification covers, and nothing in the "
            "payroll points to temporary protection (not a Ukrainian national, no protection "
            "document, no notification at the employer) nor to free movement or another work "
            "authorisation: whether the worker may work is not known."
        ),
        applies_at=(SWEEP,),
    )
)
PAID_IN_CASH = register_info(
    RuleInfo(
        code="PAID_IN_CASH",
        severity=Severity.MEDIUM,
        version="1.0.0",
        legal_basis=CASH_BASIS,
        title_nl="Loon contant betaald",
        title_en="Wage paid in cash",
        description_en=(
            "The payroll source states that the period's wage was paid in cash: the minimum "
            "wage must be paid into an account in the worker's own name."
        ),
        applies_at=(SWEEP,),
    )
)
PAID_AFTER_TERMINATION = register_info(
    RuleInfo(
        code="PAID_AFTER_TERMINATION",
        severity=Severity.HIGH,
        version="1.0.0",
        legal_basis=UNNOTIFIED_BASIS,
        title_nl="Loon betaald na de gemelde einddatum",
        title_en="Paid after the notified end date",
        description_en=(
            "Hours are paid for a period that starts after the end date of the person's "
            "notification at that employer, and no later or extended notification covers it."
        ),
        applies_at=(SWEEP,),
    )
)
PAID_BELOW_MINIMUM = register_info(
    RuleInfo(
        code="PAID_BELOW_MINIMUM_WAGE",
        severity=Severity.HIGH,
        version="1.0.0",
        legal_basis=WML_BASIS,
        title_nl="Uitbetaald loon onder het minimumloon",
        title_en="Pay below the statutory minimum wage",
        description_en=(
            "The gross pay for the period (without holiday allowance) is below hours paid x "
            "the statutory hourly minimum for the worker's age at the start of the period."
        ),
        applies_at=(SWEEP,),
    )
)
PAID_WAGE_AGE_UNKNOWN = register_info(
    RuleInfo(
        code="PAID_WAGE_AGE_UNKNOWN",
        severity=Severity.LOW,
        version="1.0.0",
        legal_basis=WML_BASIS,
        title_nl="Uitbetaald loon niet te toetsen: leeftijd onbekend",
        title_en="Pay cannot be judged: age unknown",
        description_en=(
            "The pay per hour is below the adult minimum but not below the lowest youth "
            "minimum, and no birth date is known (neither from payroll nor from a notification)."
        ),
        applies_at=(SWEEP,),
    )
)
PAID_BELOW_DECLARED = register_info(
    RuleInfo(
        code="PAID_BELOW_DECLARED_WAGE",
        severity=Severity.MEDIUM,
        version="1.0.0",
        legal_basis=DECLARED_BASIS,
        title_nl="Uitbetaald loon lager dan gemeld",
        title_en="Pay clearly below the notified wage",
        description_en=(
            "The pay per hour (without holiday allowance) is lower than the hourly wage the "
            "covering notification declares by more than the policy tolerance (5%)."
        ),
        applies_at=(SWEEP,),
    )
)
NO_PAYROLL_AFTER_START = register_info(
    RuleInfo(
        code="NO_PAYROLL_AFTER_START",
        severity=Severity.MEDIUM,
        version="1.0.0",
        legal_basis=NO_PAYROLL_BASIS,
        title_nl="Geen loonbetaling na de start",
        title_en="No pay after the start",
        description_en=(
            "The employer's payroll is held for the date N weeks (policy: 6) after the "
            "notified start, but it shows no pay to this worker from the start until then."
        ),
        applies_at=(SWEEP,),
    )
)
HOURS_PAID_ABOVE_LIMIT = register_info(
    RuleInfo(
        code="HOURS_PAID_ABOVE_LIMIT",
        severity=Severity.HIGH,
        version="2.0.0",
        legal_basis=WORKING_HOURS_BASIS,
        title_nl="Meer uren uitbetaald dan wettelijk toegestaan",
        title_en="More hours paid than the working-time limit",
        description_en=(
            "The hours paid over the period break the working-time limit for the worker's "
            "age: the 4-week average (hours x 7 / days, at least 28 days) above 55 (18 and "
            "older) or 40 (16-17); the most in a week (hours x 7 / days, at least 7) above 60 "
            "(18 and older), 45 (16-17), 40 (15: a holiday week) or 35 (13-14: a holiday "
            "week); any hour under 13."
        ),
        applies_at=(SWEEP,),
    )
)

PAID_PERIOD_RULES = frozenset(
    {
        MISSING_NOTICE.code,
        AUTHORISATION_UNVERIFIED.code,
        PAID_IN_CASH.code,
        PAID_AFTER_TERMINATION.code,
        PAID_BELOW_MINIMUM.code,
        PAID_WAGE_AGE_UNKNOWN.code,
        PAID_BELOW_DECLARED.code,
        HOURS_PAID_ABOVE_LIMIT.code,
    }
)
NOTIFICATION_RULES = frozenset({NO_PAYROLL_AFTER_START.code})


@dataclass(frozen=True, slots=True)
class PaidPeriod:
    """One payroll record: a worker paid by one employer for one period."""

    record_id: str
    employer_lhn: str
    period_start: date
    period_end: date
    hours_paid: Decimal
    gross_wage: Decimal
    includes_holiday_allowance: bool = False
    birth_date: date | None = None
    birth_date_source: str | None = None  # "payroll" or "notification"
    nationality: str | None = None
    document_type: str | None = None  # as the payroll source states it
    paid_in_cash: bool | None = None  # None: not stated

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1


@dataclass(frozen=True, slots=True)
class NoticeSummary:
    """What one notification (not withdrawn) declares, as the payroll checks need it."""

    notification_id: str
    receipt_number: str
    notice_date: date
    start_date: date
    end_date: date | None
    terminated: bool
    hours_per_week: Decimal | None
    wage_amount: Decimal
    wage_period: WagePeriod
    wage_includes_holiday_allowance: bool
    fulltime_hours_per_week: Decimal | None = None
    withdrawn: bool = False  # counts for nothing (`facts.counts`)

    def overlaps(self, start: date, end: date) -> bool:
        return self.start_date <= end and (self.end_date is None or self.end_date >= start)

    def covers(self, start: date, end: date) -> bool:
        """Does this notification cover the paid period `start` .. `end`?

        When it counts (not withdrawn), its employment overlaps the period, and it was
        received no later than the period's last day: a notice made after the paid work did
        not notify it (the late notice itself is the intake's RETROACTIVE_NOTICE). A notice
        received during the period covers it: its lateness is judged at intake."""
        return not self.withdrawn and self.overlaps(start, end) and self.notice_date <= end


def known_notices(notices: Sequence[NoticeSummary], as_of: date) -> list[NoticeSummary]:
    """The notifications that count and were received by `as_of` (so a verdict can be
    replayed), by start date, then notice date."""
    return sorted(
        (n for n in notices if not n.withdrawn and n.notice_date <= as_of),
        key=lambda n: (n.start_date, n.notice_date),
    )


def covering_notices(
    period_start: date, period_end: date, notices: Sequence[NoticeSummary], as_of: date
) -> list[NoticeSummary]:
    """The notifications known on `as_of` that cover a paid period (see `covers`), first
    by start date: the one definition the checks and the reconciliation's flag subject use."""
    return [n for n in known_notices(notices, as_of) if n.covers(period_start, period_end)]


def _param(params: Parameters, name: str, on: date) -> tuple[Any, ParameterUse]:
    value = params.at(name, on)
    return value.value, value.as_use()


def _eur_nl(amount: Decimal) -> str:
    return wages.eur_nl(amount)


def _period_en(p: PaidPeriod) -> str:
    return f"{date_en(p.period_start)} - {date_en(p.period_end)}"


def _period_nl(p: PaidPeriod) -> str:
    return f"{date_nl(p.period_start)} t/m {date_nl(p.period_end)}"


def _paid_evidence(p: PaidPeriod, as_of: date) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "payroll_record_id": p.record_id,
        "employer_loonheffingennummer": p.employer_lhn,
        "period_start": p.period_start,
        "period_end": p.period_end,
        "hours_paid": p.hours_paid,
        "gross_wage": p.gross_wage,
        "includes_holiday_allowance": p.includes_holiday_allowance,
        "birth_date_source": p.birth_date_source,
        "nationality": p.nationality,
        "document_type": p.document_type,
    }


def _notice_json(n: NoticeSummary) -> dict[str, Any]:
    return {
        "notification_id": n.notification_id,
        "receipt_number": n.receipt_number,
        "notice_date": n.notice_date,
        "start_date": n.start_date,
        "end_date": n.end_date,
        "terminated": n.terminated,
    }


def declared_hourly(notice: NoticeSummary, holiday_rate: Decimal) -> Fraction | None:
    """The notified wage per hour without holiday allowance (exact), or None when not
    checkable: the same conversion as intake's."""
    try:
        return wages.hourly_wage_exact(
            notice.wage_amount,
            notice.wage_period,
            notice.hours_per_week,
            notice.wage_includes_holiday_allowance,
            holiday_rate,
        )
    except wages.WageNotCheckable:
        return None


def check_paid_period(
    paid: PaidPeriod,
    notices: Sequence[NoticeSummary],
    *,
    as_of: date,
    employer_registered: bool,
    params: Parameters | None = None,
) -> list[Finding]:
    """Every payroll finding for one paid period.

    `notices`: the person's notifications (not withdrawn) at the employer registered under the
    period's loonheffingennummer; those received after `as_of` are ignored, so a verdict can
    be replayed. A notification covers the period when its employment overlaps the period and
    it was received no later than the period's last day: a notice made after the paid work
    did not notify it (the late notice itself is the intake's RETROACTIVE_NOTICE).
    """
    p = params if params is not None else get_parameters()
    known = known_notices(notices, as_of)
    covering = covering_notices(paid.period_start, paid.period_end, known, as_of)
    findings: list[Finding] = []
    if paid.hours_paid > 0 and not covering:
        findings.extend(_unnotified(paid, known, as_of, employer_registered))
    if paid.hours_paid > 0:
        findings.extend(_wage_findings(paid, covering, as_of, p))
        findings.extend(_hours_findings(paid, as_of, p))
    if paid.paid_in_cash:
        findings.append(_in_cash(paid, as_of))
    return findings


def _in_cash(paid: PaidPeriod, as_of: date) -> Finding:
    evidence = _paid_evidence(paid, as_of)
    evidence["paid_in_cash"] = True
    evidence["arithmetic"] = "payroll states payment in cash for the period"
    return make_finding(
        PAID_IN_CASH,
        None,
        message_en=(
            f"The payroll states that the wage of {wages.eur(paid.gross_wage)} for "
            f"{_period_en(paid)} was paid in cash. {CASH_LAW_EN}"
        ),
        message_nl=(
            f"De loonadministratie vermeldt dat het loon van {_eur_nl(paid.gross_wage)} over "
            f"{_period_nl(paid)} contant is betaald. {CASH_LAW_NL}"
        ),
        evidence=evidence,
    )


def _unnotified(
    paid: PaidPeriod, known: list[NoticeSummary], as_of: date, employer_registered: bool
) -> list[Finding]:
    if notice_basis(paid, known) is Basis.FREE_MOVEMENT:
        return []
    hours = hours_text(paid.hours_paid)
    evidence = _paid_evidence(paid, as_of)
    evidence["notifications_of_person_at_employer"] = [_notice_json(n) for n in known]
    ended = [n for n in known if n.end_date is not None and n.end_date < paid.period_start]
    later = [n for n in known if n not in ended]
    if ended and not later:
        last = max(ended, key=lambda n: n.end_date or n.start_date)
        assert last.end_date is not None
        evidence["arithmetic"] = (
            f"notified end {last.end_date.isoformat()} < period start "
            f"{paid.period_start.isoformat()}; no notification covers the period"
        )
        return [
            make_finding(
                PAID_AFTER_TERMINATION,
                None,
                message_en=(
                    f"The payroll shows {hours} hours paid for {_period_en(paid)}, after the "
                    f"end date {date_en(last.end_date)} of notification {last.receipt_number}; "
                    f"no extension or new notification covers this period."
                ),
                message_nl=(
                    f"De loonadministratie toont {hours} uur betaald over {_period_nl(paid)}, "
                    f"na de einddatum {date_nl(last.end_date)} van melding "
                    f"{last.receipt_number}; geen verlenging of nieuwe melding dekt deze periode."
                ),
                evidence=evidence,
            )
        ]
    basis = notice_basis(paid, known)
    if basis is Basis.OTHER_AUTHORISATION:
        return []
    if basis is Basis.UNKNOWN:
        return [_unverified(paid, evidence)]
    evidence["likely_basis"] = "temporary_protection"
    if not employer_registered:
        why_en = (
            f"no employer with loonheffingennummer {paid.employer_lhn} has made any notification"
        )
        why_nl = (
            f"geen werkgever met loonheffingennummer {paid.employer_lhn} heeft ooit een "
            f"melding gedaan"
        )
    elif later:
        first = later[0]
        why_en = (
            f"the only notification for this worker ({first.receipt_number}, received "
            f"{date_en(first.notice_date)}, start {date_en(first.start_date)}) does not cover "
            f"the period or was made after it"
        )
        why_nl = (
            f"de enige melding voor deze werknemer ({first.receipt_number}, ontvangen "
            f"{date_nl(first.notice_date)}, start {date_nl(first.start_date)}) dekt de periode "
            f"niet of is daarna gedaan"
        )
    else:
        why_en = "the employer has made no notification for this worker"
        why_nl = "de werkgever heeft voor deze werknemer geen melding gedaan"
    evidence["arithmetic"] = "no notification overlapping the period received by its last day"
    return [
        make_finding(
            MISSING_NOTICE,
            None,
            message_en=(
                f"The payroll shows {hours} hours paid for {_period_en(paid)}, but {why_en}. "
                f"Work must be notified at least two working days before it starts."
            ),
            message_nl=(
                f"De loonadministratie toont {hours} uur betaald over {_period_nl(paid)}, maar "
                f"{why_nl}. Werk moet ten minste twee werkdagen vóór de start worden gemeld."
            ),
            evidence=evidence,
        )
    ]


class Basis(enum.StrEnum):
    """What the payroll data say the worker may work on (for an unnotified paid period)."""

    FREE_MOVEMENT = "free_movement"
    TEMPORARY_PROTECTION = "temporary_protection"
    OTHER_AUTHORISATION = "other_authorisation"
    UNKNOWN = "unknown"


def _document(value: str | None) -> str:
    return (value or "").strip().lower().replace("-", "_").replace(" ", "_")


def notice_basis(paid: PaidPeriod, known: Sequence[NoticeSummary] = ()) -> Basis:
    """The likely basis of the work, in this order: an EU/EEA/Swiss nationality (free
    movement); temporary protection when the payroll states Ukrainian nationality or a
    protection document, or the employer has notified this worker before (it relied on the
    exemption); another authorisation the payroll states; else unknown."""
    nationality = (paid.nationality or "").strip().upper()
    document = _document(paid.document_type)
    if nationality in FREE_MOVEMENT:
        return Basis.FREE_MOVEMENT
    if nationality in PROTECTION_NATIONALITIES or document in PROTECTION_DOCUMENTS or known:
        return Basis.TEMPORARY_PROTECTION
    if document in OTHER_AUTHORISATIONS:
        return Basis.OTHER_AUTHORISATION
    return Basis.UNKNOWN


def _unverified(paid: PaidPeriod, evidence: dict[str, Any]) -> Finding:
    hours = hours_text(paid.hours_paid)
    nationality = (paid.nationality or "").strip().upper()
    who_en = f"nationality {nationality}" if nationality else "nationality not stated"
    who_nl = f"nationaliteit {nationality}" if nationality else "nationaliteit niet vermeld"
    evidence["likely_basis"] = Basis.UNKNOWN.value
    evidence["arithmetic"] = (
        f"no notification covers the period; {who_en}; document "
        f"{paid.document_type or 'not stated'}: no sign of temporary protection"
    )
    return make_finding(
        AUTHORISATION_UNVERIFIED,
        None,
        message_en=(
            f"The payroll shows {hours} hours paid for {_period_en(paid)} to a worker "
            f"({who_en}) whom no notification covers. Nothing in the payroll points to "
            f"temporary protection: if the worker works under it, a notice was required; a "
            f"residence permit free to work, a work permit (TWV) or a single permit (GVVA) "
            f"needs none (Wet arbeid vreemdelingen art. 2 and 3). Check which applies."
        ),
        message_nl=(
            f"De loonadministratie toont {hours} uur betaald over {_period_nl(paid)} aan een "
            f"werknemer ({who_nl}) voor wie geen melding geldt. Niets in de "
            f"loonadministratie wijst op tijdelijke bescherming: werkt de werknemer op grond "
            f"daarvan, dan was een melding verplicht; een verblijfsvergunning die vrij werken "
            f"toestaat, een tewerkstellingsvergunning (TWV) of een GVVA vraagt er geen (art. 2 "
            f"en 3 Wet arbeid vreemdelingen). Controleer wat geldt."
        ),
        evidence=evidence,
    )


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _law_period(paid: PaidPeriod) -> WagePeriod:
    """The law's unit a paid period is compared in: a calendar month with the monthly amount
    (before 2024, when the law set one), any other period with the weekly amount per hour."""
    start, end = paid.period_start, paid.period_end
    whole_month = start.day == 1 and (end + timedelta(days=1)).day == 1 and start.month == end.month
    return WagePeriod.MONTH if whole_month and start.year == end.year else WagePeriod.HOUR


def minimum_due(minimum: wages.MinimumWage, paid: PaidPeriod) -> Fraction:
    """The statutory minimum for the hours paid in a period, exact (the same floor intake
    compares with: `MinimumWage.hourly_floor`), never rounded before the comparison."""
    return minimum.hourly_floor(_law_period(paid)) * Fraction(paid.hours_paid)


def _wage_findings(
    paid: PaidPeriod, covering: list[NoticeSummary], as_of: date, p: Parameters
) -> list[Finding]:
    on = paid.period_start
    holiday_rate: Decimal = p.at("holiday_allowance_rate", on).value
    pay_exact, hourly_exact = wages.paid_hourly_exact(
        paid.gross_wage, paid.hours_paid, paid.includes_holiday_allowance, holiday_rate
    )
    pay, hourly = wages.to_decimal(pay_exact), wages.to_decimal(hourly_exact)
    fulltime = next(
        (n.fulltime_hours_per_week for n in covering if n.fulltime_hours_per_week), None
    )
    holiday_en = (
        f" (EUR {_cents(paid.gross_wage)} including holiday allowance / {1 + holiday_rate})"
        if paid.includes_holiday_allowance
        else ""
    )
    holiday_nl = (
        f" ({_eur_nl(paid.gross_wage)} inclusief vakantiegeld / {1 + holiday_rate})"
        if paid.includes_holiday_allowance
        else ""
    )
    hours = hours_text(paid.hours_paid)
    evidence = _paid_evidence(paid, as_of)
    evidence.update({"paid_per_hour": hourly, "pay_without_holiday_allowance": pay})
    declared = _lowest_declared(covering, holiday_rate)
    if declared is not None:
        evidence["declared_per_hour"] = wages.to_decimal(declared[0])
        evidence["declared_in"] = declared[1].receipt_number

    if paid.birth_date is None:
        adult = wages.minimum_hourly_wage(wages.ADULT_AGE, on, fulltime, p)
        lowest = wages.minimum_hourly_wage(wages.YOUTH_TABLE_MIN_AGE, on, fulltime, p)
        if pay_exact >= minimum_due(adult, paid):
            return _declared_findings(paid, declared, pay, hourly_exact, evidence, as_of, p)
        if pay_exact >= minimum_due(lowest, paid):
            due = wages.to_decimal(minimum_due(adult, paid))
            evidence.update({"adult_minimum_per_hour": adult.hourly, "lowest_youth": lowest.hourly})
            return [
                make_finding(
                    PAID_WAGE_AGE_UNKNOWN,
                    None,
                    message_en=(
                        f"Paid {wages.eur(pay)} for {hours} hours in {_period_en(paid)}"
                        f"{holiday_en}: {wages.eur(hourly)} per hour, below the adult minimum "
                        f"of {wages.eur(adult.hourly)} ({wages.eur(due)} for the period). The "
                        f"worker's age is unknown (no birth date in the payroll or in any "
                        f"notification), so the youth minimum that may apply cannot be chosen."
                    ),
                    message_nl=(
                        f"Betaald {_eur_nl(pay)} voor {hours} uur over {_period_nl(paid)}"
                        f"{holiday_nl}: {_eur_nl(hourly)} per uur, onder het minimumloon voor "
                        f"volwassenen van {_eur_nl(adult.hourly)} ({_eur_nl(due)} voor de "
                        f"periode). De leeftijd is onbekend (geen geboortedatum in de "
                        f"loonadministratie of in een melding), dus het jeugdminimumloon dat "
                        f"kan gelden is niet te bepalen."
                    ),
                    evidence=evidence,
                    parameters=adult.parameters,
                )
            ]
        return [_below_minimum(paid, lowest, None, pay, hourly, evidence, holiday_en, holiday_nl)]

    age = wages.age_on(paid.birth_date, on)
    if age < wages.YOUTH_TABLE_MIN_AGE:
        return []  # the WML sets no amount under 15; HOURS_PAID_ABOVE_LIMIT judges the hours
    minimum = wages.minimum_hourly_wage(age, on, fulltime, p)
    if pay_exact < minimum_due(minimum, paid):
        return [_below_minimum(paid, minimum, age, pay, hourly, evidence, holiday_en, holiday_nl)]
    return _declared_findings(paid, declared, pay, hourly_exact, evidence, as_of, p)


def _below_minimum(
    paid: PaidPeriod,
    minimum: wages.MinimumWage,
    age: int | None,
    pay: Decimal,
    hourly: Decimal,
    evidence: dict[str, Any],
    holiday_en: str,
    holiday_nl: str,
) -> Finding:
    due = wages.to_decimal(minimum_due(minimum, paid))
    hours = hours_text(paid.hours_paid)
    if age is None:
        who_en = "for any age (15 or older; the worker's birth date is unknown)"
        who_nl = "voor elke leeftijd (15 jaar of ouder; de geboortedatum is onbekend)"
    else:
        who_en = f"for a worker aged {age} on {date_en(paid.period_start)}"
        who_nl = f"voor een werknemer van {age} jaar op {date_nl(paid.period_start)}"
    evidence.update(
        {
            "age": age,
            "minimum_per_hour": minimum.hourly,
            "minimum_due_for_period": due,
            "shortfall_for_period": due - pay,
            "arithmetic": (
                f"pay {pay:.6f} / {paid.hours_paid} h = {hourly:.6f} per hour; due "
                f"{wages.to_decimal(minimum.hourly_floor(_law_period(paid))):.6f} x "
                f"{paid.hours_paid} h = {due:.6f} ({minimum.basis_en})"
            ),
        }
    )
    return make_finding(
        PAID_BELOW_MINIMUM,
        None,
        message_en=(
            f"Paid {wages.eur(pay)} for {hours} hours in {_period_en(paid)}{holiday_en}: "
            f"{wages.eur(hourly)} per hour, below the statutory minimum of "
            f"{wages.eur(minimum.hourly)} per hour {who_en}. The minimum for the period is "
            f"{wages.eur(due)}, {wages.eur(due - pay)} more than paid."
        ),
        message_nl=(
            f"Betaald {_eur_nl(pay)} voor {hours} uur over {_period_nl(paid)}{holiday_nl}: "
            f"{_eur_nl(hourly)} per uur, onder het wettelijk minimum van "
            f"{_eur_nl(minimum.hourly)} per uur {who_nl}. Het minimum voor de periode is "
            f"{_eur_nl(due)}, {_eur_nl(due - pay)} meer dan betaald."
        ),
        evidence=evidence,
        parameters=minimum.parameters,
    )


def _lowest_declared(
    covering: list[NoticeSummary], holiday_rate: Decimal
) -> tuple[Fraction, NoticeSummary] | None:
    """The lowest checkable declared hourly wage among the covering notifications."""
    candidates = [
        (hourly, n) for n in covering if (hourly := declared_hourly(n, holiday_rate)) is not None
    ]
    return min(candidates, key=lambda c: c[0]) if candidates else None


def _declared_findings(
    paid: PaidPeriod,
    declared: tuple[Fraction, NoticeSummary] | None,
    pay: Decimal,
    hourly_exact: Fraction,
    evidence: dict[str, Any],
    as_of: date,
    p: Parameters,
) -> list[Finding]:
    """Pay below the notified wage; only asked when it is not below the statutory minimum,
    which says more (its evidence carries the declared wage too). Compared exactly."""
    if declared is None:
        return []
    declared_exact, notice = declared
    tolerance, use = _param(p, "policy_payroll_declared_wage_tolerance", as_of)
    floor_exact = declared_exact * (1 - Fraction(tolerance))
    if hourly_exact >= floor_exact:
        return []
    declared_hour, hourly = wages.to_decimal(declared_exact), wages.to_decimal(hourly_exact)
    floor = wages.to_decimal(floor_exact)
    shortfall = wages.to_decimal((declared_exact - hourly_exact) / declared_exact)
    percent = f"{(shortfall * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
    allowed = f"{(tolerance * 100).normalize():f}%"
    evidence.update(
        {
            "tolerance": tolerance,
            "shortfall_ratio": shortfall,
            "arithmetic": (
                f"paid {hourly:.6f} per hour < declared {declared_hour:.6f} x (1 - {tolerance})"
                f" = {floor:.6f}"
            ),
        }
    )
    hours = hours_text(paid.hours_paid)
    return [
        make_finding(
            PAID_BELOW_DECLARED,
            None,
            message_en=(
                f"Paid {wages.eur(pay)} for {hours} hours in {_period_en(paid)}: "
                f"{wages.eur(hourly)} per hour, {percent} below the {wages.eur(declared_hour)} "
                f"per hour declared in notification {notice.receipt_number} (tolerance "
                f"{allowed})."
            ),
            message_nl=(
                f"Betaald {_eur_nl(pay)} voor {hours} uur over {_period_nl(paid)}: "
                f"{_eur_nl(hourly)} per uur, {percent} onder de {_eur_nl(declared_hour)} per "
                f"uur uit melding {notice.receipt_number} (marge {allowed})."
            ),
            evidence=evidence,
            parameters=(use,),
        )
    ]


def _hours_findings(paid: PaidPeriod, as_of: date, p: Parameters) -> list[Finding]:
    """Hours paid above the working-time limit for the age (`work.hour_limits`, read through
    `work.exceeded_limit` like the notification's EXCESSIVE_HOURS).

    The most in a week: hours x 7 / max(days, 7); a period shorter than a week is not scaled
    up (20 hours in two days is not 70 a week), and an average above the weekly maximum means
    at least one week exceeded it. The 4-week average: hours x 7 / max(days, 28); a period of
    4 weeks or a month is judged by its own average, a shorter one lies within one span of 4
    weeks (its hours / 4 is the least that span's average can be)."""
    on = paid.period_start
    days = paid.days
    per_week = paid.hours_paid * 7 / Decimal(max(days, 7))
    four_weeks = paid.hours_paid * 7 / Decimal(max(days, 28))
    age = wages.age_on(paid.birth_date, on) if paid.birth_date is not None else None
    limits = hour_limits(age if age is not None else wages.ADULT_AGE, on, p)
    if limits.week is None:  # under 13: no work at all (Arbeidstijdenwet art. 3:2(1))
        limit: Limit | None = Limit(
            Decimal(0),
            "in any week",
            "in een week",
            "Arbeidstijdenwet art. 3:2(1)",
        )
        value, span_en, span_nl = per_week, "a week on average", "per week gemiddeld"
    else:
        limit = exceeded_limit(limits, per_week, four_weeks)
        if limit is limits.average:
            value = four_weeks
            span_en = "a week on average" if days >= 28 else "a week on average over 4 weeks"
            span_nl = "per week gemiddeld" if days >= 28 else "per week gemiddeld over 4 weken"
        else:
            value, span_en, span_nl = per_week, "a week on average", "per week gemiddeld"
    if limit is None or value <= limit.hours:
        return []
    divisor = max(days, 28) if limit is limits.average else max(days, 7)
    evidence = _paid_evidence(paid, as_of)
    evidence.update(
        {
            "hours_per_week": value,
            "limit": limit.hours,
            "limit_basis": limit.article,
            "age": age,
            "arithmetic": (
                f"{paid.hours_paid} h x 7 / {divisor} days = {value:.2f} h a week > "
                f"{limit.hours} ({limit.what_en})"
            ),
            "arithmetic_nl": (
                f"{paid.hours_paid} uur x 7 / {divisor} dagen = {value:.2f} uur per week > "
                f"{limit.hours} ({limit.what_nl})"
            ),
        }
    )
    if age is None:
        who_en = "18 or older (the birth date is unknown: the highest limits are applied)"
        who_nl = "18 jaar of ouder (geboortedatum onbekend: de ruimste maxima zijn gebruikt)"
    else:
        who_en = f"{limits.band_en} (age {age} on {date_en(on)})"
        who_nl = f"van {limits.band_nl} ({age} jaar op {date_nl(on)})"
    if limits.week is None:
        tail_en = f": a child under 13 may not work ({limit.article})"
        tail_nl = f": een kind jonger dan 13 mag niet werken ({limit.article})"
    elif limit is limits.week:
        tail_en = f"; so at least one week exceeded it ({limit.article})"
        tail_nl = f"; dus ten minste één week ging erover ({limit.article})"
    else:
        tail_en = tail_nl = f"; {limit.article}"
    shown = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    lim = hours_text(limit.hours)
    return [
        make_finding(
            HOURS_PAID_ABOVE_LIMIT,
            None,
            message_en=(
                f"{hours_text(paid.hours_paid)} hours were paid for {_period_en(paid)} "
                f"({days} days): {shown} hours {span_en}, above the limit of {lim} hours "
                f"{limit.what_en} for a worker {who_en}{tail_en}."
            ),
            message_nl=(
                f"Er zijn {hours_text(paid.hours_paid)} uur betaald over {_period_nl(paid)} "
                f"({days} dagen): {str(shown).replace('.', ',')} uur {span_nl}, meer dan het "
                f"maximum van {lim} uur {limit.what_nl} voor een werknemer {who_nl}{tail_nl}."
            ),
            evidence=evidence,
            parameters=(limits.use,),
        )
    ]


NO_PAYROLL_WEEKS = "policy_payroll_no_payroll_weeks"


def no_payroll_deadline(start_date: date, params: Parameters | None = None) -> PayrollDeadline:
    """The day by which the first pay is expected: the start + N weeks, N the policy's number
    of weeks read on the start date (so the deadline of a start never moves afterwards)."""
    p = params if params is not None else get_parameters()
    value = p.at(NO_PAYROLL_WEEKS, start_date)
    weeks = int(value.value["weeks"])
    return PayrollDeadline(start_date + timedelta(weeks=weeks), weeks, value.as_use())


@dataclass(frozen=True, slots=True)
class PayrollDeadline:
    """A date a policy sets, with the number of weeks it added and the parameter used."""

    day: date
    weeks: int
    use: ParameterUse


def payroll_deadline(notice: NoticeSummary, params: Parameters | None = None) -> date:
    """The day by which the first pay is expected for a notification (`no_payroll_deadline`)."""
    return no_payroll_deadline(notice.start_date, params).day


def no_payroll_offsets(params: Parameters | None = None) -> frozenset[int]:
    """Every number of days `no_payroll_deadline` can add to a start (for date schedules)."""
    p = params if params is not None else get_parameters()
    return frozenset(
        7 * int(entry.value["weeks"]) for entry in p.entries(NO_PAYROLL_WEEKS) if entry.value
    )


def latest_start_due(as_of: date, params: Parameters | None = None) -> date:
    """The latest start date whose `no_payroll_deadline` lies on or before `as_of`: a
    notification starting later is not judged yet (the SQL pre-selection of the check)."""
    p = params if params is not None else get_parameters()
    entries = p.entries(NO_PAYROLL_WEEKS)
    latest = date.min
    for i, entry in enumerate(entries):
        if not entry.value:
            continue
        until = entries[i + 1].effective_from - timedelta(days=1) if i + 1 < len(entries) else None
        candidate = as_of - timedelta(weeks=int(entry.value["weeks"]))
        if until is not None:
            candidate = min(candidate, until)
        if candidate >= entry.effective_from:
            latest = max(latest, candidate)
    return latest


def check_no_payroll_after_start(
    notice: NoticeSummary,
    paid_periods: Sequence[tuple[date, date]],
    employer_payroll_span: tuple[date, date] | None,
    *,
    as_of: date,
    params: Parameters | None = None,
) -> list[Finding]:
    """A notification with no pay to the worker from its start until N weeks after it.

    `paid_periods`: the (start, end) of the person's payroll records at the employer (any
    hours). Judged only when the employer's payroll is held for the deadline day
    (`employer_payroll_span` = first period start, last period end, by loonheffingennummer):
    without that, missing pay says nothing.
    """
    if notice.withdrawn:
        return []
    deadline_at = no_payroll_deadline(notice.start_date, params)
    deadline, weeks = deadline_at.day, deadline_at.weeks
    if notice.notice_date > as_of or as_of < deadline or employer_payroll_span is None:
        return []
    first, last = employer_payroll_span
    if not first <= deadline <= last:
        return []
    window_end = min(deadline, notice.end_date) if notice.end_date is not None else deadline
    if window_end < notice.start_date:
        return []
    if any(start <= window_end and end >= notice.start_date for start, end in paid_periods):
        return []
    return [
        make_finding(
            NO_PAYROLL_AFTER_START,
            None,
            message_en=(
                f"Notification {notice.receipt_number} says the work started on "
                f"{date_en(notice.start_date)}, but the employer's payroll, held up to "
                f"{date_en(last)}, shows no pay to this worker from the start to "
                f"{date_en(window_end)} ({weeks} weeks after the start at most)."
            ),
            message_nl=(
                f"Volgens melding {notice.receipt_number} begon het werk op "
                f"{date_nl(notice.start_date)}, maar de loonadministratie van de werkgever, "
                f"bekend tot {date_nl(last)}, toont geen betaling aan deze werknemer van de "
                f"start tot {date_nl(window_end)} (ten hoogste {weeks} weken na de start)."
            ),
            evidence={
                "as_of": as_of,
                "notification": _notice_json(notice),
                "deadline": deadline,
                "window": [notice.start_date, window_end],
                "employer_payroll_span": [first, last],
                "payroll_periods_of_worker": [list(period) for period in paid_periods],
                "arithmetic": (
                    f"start {notice.start_date.isoformat()} + {weeks} weeks = "
                    f"{deadline.isoformat()}; no paid period overlaps "
                    f"{notice.start_date.isoformat()} - {window_end.isoformat()}"
                ),
            },
            parameters=(deadline_at.use,),
        )
    ]
