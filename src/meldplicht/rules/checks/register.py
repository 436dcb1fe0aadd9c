"""Business-register checks on an employer: registered, active, new but busy, agency as lender.

Pure: the registers service hands over what the KvK register said at the last successful
look-up (`RegisterFacts`) and what meldplicht knows of the employer (`EmployerActivity`).
An employer never looked up, or whose look-ups all failed, gets no verdict at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from meldplicht.rules.checks.base import (
    SWEEP,
    RuleInfo,
    date_en,
    date_nl,
    make_finding,
    register_info,
)
from meldplicht.rules.checks.cross import POLICY_BASIS
from meldplicht.rules.facts import Finding, Severity
from meldplicht.rules.params import Parameters, get_parameters

# SBI codes the KvK gives to lenders of workers. SBI 2008: 78201 temp agencies, 78202 lending
# agencies, 78203 job pools, 7830 payrolling (https://www.waadicheck.nl/sbi-code-waadi/).
# SBI 2025 (the KvK recoded every enterprise on 5-7 September 2025; all codes have 5 digits
# since): NACE Rev. 2.1 group 78.2 "temporary employment agency activities and other human
# resource provisions" takes in the former 78.30, so every 7820x code counts, and 78300 (7830
# written with 5 digits). The exact SBI 2025 fifth digits were not confirmed in a primary source.
# Non-commercial lenders get a Waadi indicator instead.
LENDER_SBI_CODES = frozenset({"78201", "78202", "78203", "7830", "78300"})
LENDER_SBI_2025_PREFIX = "7820"
# How a Waadi indicator is kept among the register's SBI codes (employer.register_sbi_codes).
WAADI_MARKER = "WAADI"

HANDELSREGISTER_BASIS = (
    "Handelsregisterwet 2007 art. 5 and 18 (an enterprise is registered, and its end "
    "notified); Regeling melding Wav art. 3(1)(d) 1° (the notice states the KvK number); "
    "https://developers.kvk.nl/documentation/basisprofiel-api"
)
WAADI_BASIS = (
    "Wet allocatie arbeidskrachten door intermediairs (Waadi) art. 7a: whoever supplies "
    "workers for a fee is registered as such in the Handelsregister (SBI 78201/78202/78203/"
    "7830, or SBI 2025 7820x, or a Waadi indicator); until 31 December 2027, when the "
    "admission system of the Wtta replaces it; https://wetten.overheid.nl/BWBR0009616"
)

NOT_IN_REGISTER = register_info(
    RuleInfo(
        code="EMPLOYER_NOT_IN_REGISTER",
        severity=Severity.HIGH,
        version="1.0.0",
        legal_basis=HANDELSREGISTER_BASIS,
        title_nl="Werkgever niet in het Handelsregister",
        title_en="Employer not in the business register",
        description_en="The KvK register does not know the employer's KvK number.",
        applies_at=(SWEEP,),
    )
)
INACTIVE = register_info(
    RuleInfo(
        code="EMPLOYER_INACTIVE",
        severity=Severity.HIGH,
        version="1.0.0",
        legal_basis=HANDELSREGISTER_BASIS,
        title_nl="Werkgever staat als beëindigd ingeschreven",
        title_en="Employer's registration has ended",
        description_en=(
            "The register gives an end date for the enterprise, yet the employer has active "
            "notifications."
        ),
        applies_at=(SWEEP,),
    )
)
NEW_MANY = register_info(
    RuleInfo(
        code="NEW_EMPLOYER_MANY_NOTICES",
        severity=Severity.MEDIUM,
        version="1.0.0",
        legal_basis=POLICY_BASIS + " policy_new_employer_many_notices",
        title_nl="Nieuwe werkgever met veel meldingen",
        title_en="New employer notifying many workers",
        description_en=(
            "Registered in the business register recently (policy: within 180 days) and "
            "notified at least the threshold number of distinct workers (policy: 10) in the "
            "window (policy: 90 days)."
        ),
        applies_at=(SWEEP,),
    )
)
AGENCY_NOT_LENDER = register_info(
    RuleInfo(
        code="AGENCY_NOT_REGISTERED_AS_LENDER",
        severity=Severity.HIGH,
        version="1.0.0",
        legal_basis=WAADI_BASIS,
        title_nl="Uitzendbureau niet ingeschreven als uitlener",
        title_en="Staffing agency not registered as a lender",
        description_en=(
            "The employer supplies workers to hirers, but the register shows neither a lender "
            "SBI code (SBI 2008: 78201, 78202, 78203, 7830; SBI 2025: 7820x) nor a Waadi "
            "indicator. Applies until the Waadi registration duty lapses (31 December 2027)."
        ),
        applies_at=(SWEEP,),
    )
)

REGISTER_RULES = frozenset(
    {NOT_IN_REGISTER.code, INACTIVE.code, NEW_MANY.code, AGENCY_NOT_LENDER.code}
)


@dataclass(frozen=True, slots=True)
class RegisterFacts:
    """What the register said at the last successful look-up."""

    kvk_number: str
    found: bool
    checked_on: date
    registered_on: date | None = None
    active: bool | None = None
    sbi_codes: tuple[str, ...] = ()
    waadi_indicator: bool = False


@dataclass(frozen=True, slots=True)
class EmployerActivity:
    """What meldplicht knows of the employer on `as_of`."""

    is_staffing_agency: bool
    active_notifications: int
    workers_notified_in_window: int  # distinct persons with a notice date in the policy window


def is_lender_sbi_code(code: str) -> bool:
    """A lender's SBI code in the 2008 or the 2025 classification ("78.20.1" reads as 78201)."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if digits in LENDER_SBI_CODES:
        return True
    return len(digits) == 5 and digits.startswith(LENDER_SBI_2025_PREFIX)


def is_registered_lender(facts: RegisterFacts) -> bool:
    return facts.waadi_indicator or any(is_lender_sbi_code(code) for code in facts.sbi_codes)


def waadi_registration_applies(as_of: date, params: Parameters | None = None) -> bool:
    """Waadi art. 7a (registration as a lender in the Handelsregister) lapses when the
    admission system is enforced; from then LENDER_NOT_ADMITTED judges lenders instead."""
    p = params if params is not None else get_parameters()
    first = p.entries("wtta_admission_dates")[0].effective_from
    if as_of < first:
        return True
    until: date = p.at("wtta_admission_dates", as_of).value["waadi_registration_until"]
    return as_of <= until


def policy_window(as_of: date, params: Parameters | None = None) -> tuple[date, int, int, int]:
    """(first notice day counted, window days, threshold, registered-within days)."""
    p = params if params is not None else get_parameters()
    policy = p.at("policy_new_employer_many_notices", as_of).value
    window = int(policy["window_days"])
    return (
        as_of - timedelta(days=window - 1),
        window,
        int(policy["threshold"]),
        int(policy["registered_within_days"]),
    )


def check_register(
    facts: RegisterFacts | None,
    activity: EmployerActivity,
    *,
    as_of: date,
    params: Parameters | None = None,
) -> list[Finding]:
    p = params if params is not None else get_parameters()
    if facts is None:
        return []
    base = {
        "as_of": as_of,
        "kvk_number": facts.kvk_number,
        "register_checked_on": facts.checked_on,
        "active_notifications": activity.active_notifications,
    }
    if not facts.found:
        return [
            make_finding(
                NOT_IN_REGISTER,
                None,
                message_en=(
                    f"The KvK business register does not know KvK number {facts.kvk_number} "
                    f"(looked up on {date_en(facts.checked_on)}); the employer has "
                    f"{activity.active_notifications} active notification(s)."
                ),
                message_nl=(
                    f"Het Handelsregister kent KvK-nummer {facts.kvk_number} niet (opgevraagd "
                    f"op {date_nl(facts.checked_on)}); de werkgever heeft "
                    f"{activity.active_notifications} actieve melding(en)."
                ),
                evidence={**base, "arithmetic": "GET basisprofielen/{kvkNummer}: 404"},
            )
        ]
    findings: list[Finding] = []
    if facts.active is False and activity.active_notifications > 0:
        findings.append(
            make_finding(
                INACTIVE,
                None,
                message_en=(
                    f"The business register shows the enterprise with KvK number "
                    f"{facts.kvk_number} as ended (looked up on {date_en(facts.checked_on)}), "
                    f"yet it has {activity.active_notifications} active notification(s)."
                ),
                message_nl=(
                    f"Volgens het Handelsregister is de onderneming met KvK-nummer "
                    f"{facts.kvk_number} beëindigd (opgevraagd op {date_nl(facts.checked_on)}), "
                    f"maar zij heeft {activity.active_notifications} actieve melding(en)."
                ),
                evidence={**base, "arithmetic": "materieleRegistratie.datumEinde is set"},
            )
        )
    findings.extend(_new_many(facts, activity, as_of, p, base))
    if (
        activity.is_staffing_agency
        and not is_registered_lender(facts)
        and waadi_registration_applies(as_of, p)
    ):
        codes = ", ".join(facts.sbi_codes) or "none"
        findings.append(
            make_finding(
                AGENCY_NOT_LENDER,
                None,
                message_en=(
                    f"The employer supplies workers to hirers, but KvK number "
                    f"{facts.kvk_number} is registered with SBI codes {codes} and no Waadi "
                    f"indicator: not as a lender (78201, 78202, 78203 or 7830; SBI 2025: 7820x)."
                ),
                message_nl=(
                    f"De werkgever leent werknemers uit aan inleners, maar KvK-nummer "
                    f"{facts.kvk_number} staat ingeschreven met SBI-codes {codes} en zonder "
                    f"Waadi-indicatie: niet als uitlener (78201, 78202, 78203 of 7830; "
                    f"SBI 2025: 7820x)."
                ),
                evidence={
                    **base,
                    "sbi_codes": list(facts.sbi_codes),
                    "lender_sbi_codes": sorted(LENDER_SBI_CODES),
                    "arithmetic": "no register SBI code in the lender set; no Waadi indicator",
                },
            )
        )
    return findings


def _new_many(
    facts: RegisterFacts,
    activity: EmployerActivity,
    as_of: date,
    p: Parameters,
    base: dict[str, object],
) -> list[Finding]:
    if facts.registered_on is None:
        return []
    first_day, window, threshold, within = policy_window(as_of, p)
    age_days = (as_of - facts.registered_on).days
    if age_days > within or activity.workers_notified_in_window < threshold:
        return []
    use = p.at("policy_new_employer_many_notices", as_of).as_use()
    n = activity.workers_notified_in_window
    return [
        make_finding(
            NEW_MANY,
            None,
            message_en=(
                f"Registered in the business register on {date_en(facts.registered_on)} "
                f"({age_days} days before {date_en(as_of)}), the employer notified {n} "
                f"different workers in the last {window} days (policy: at least {threshold} "
                f"within {within} days of registration)."
            ),
            message_nl=(
                f"Ingeschreven in het Handelsregister op {date_nl(facts.registered_on)} "
                f"({age_days} dagen vóór {date_nl(as_of)}) meldde de werkgever {n} "
                f"verschillende werknemers in de laatste {window} dagen (beleid: ten minste "
                f"{threshold} binnen {within} dagen na inschrijving)."
            ),
            evidence={
                **base,
                "registered_on": facts.registered_on,
                "registered_days_ago": age_days,
                "workers_notified_in_window": n,
                "window_start": first_day,
                "arithmetic": f"{age_days} <= {within} and {n} >= {threshold}",
            },
            parameters=(use,),
        )
    ]
