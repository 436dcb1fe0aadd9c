"""Work through a lender of workers, judged against the admission system (Wtta) on its dates.

Pure: the caller hands over what the public register of admitted lenders said about the
lender (`AdmissionFacts`, None when it was never asked or no answer came) and how the work
runs through a lender (`LenderWork`). The law's dates come from the parameter
`wtta_admission_dates`:

- before `in_force` (1 January 2027) there is no admission duty: no finding;
- before `register_online` (1 July 2027) the register cannot say who is admitted: no finding;
- from `register_online` until the day before `enforced_from` the duty is in force but not
  yet fined: a lender the register does not show as admitted, exempted or under the
  transitional arrangement gets a low-severity finding that says from when it is fined;
- from `enforced_from` (1 January 2028) the same is a high-severity finding, for the lender
  and for the hirer named on the notification.

A status counts only on the days it is valid (`valid_from` .. `valid_until`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from meldplicht.rules.checks.base import (
    SWEEP,
    RuleInfo,
    date_en,
    date_nl,
    make_finding,
    register_info,
)
from meldplicht.rules.facts import Finding, ParameterUse, Severity
from meldplicht.rules.params import Parameters, get_parameters

PARAMETER = "wtta_admission_dates"

WTTA_BASIS = (
    "Waadi chapter 3a, added by the Wet toelating terbeschikkingstelling van arbeidskrachten "
    "(Kamerstukken 36 446): a lender needs an admission from the Nederlandse Autoriteit "
    "Uitleenmarkt; a hirer may hire only from an admitted lender, one with an exemption or one "
    "under the transitional arrangement; in force 1 January 2027, fined from 1 January 2028; "
    "https://wetten.overheid.nl/BWBR0009616"
)


class AdmissionStatus(enum.StrEnum):
    """What the public register says of a lender."""

    ADMITTED = "admitted"  # toegelaten
    PROVISIONAL = "provisional"  # voorlopige toelating
    EXEMPT = "exempt"  # ontheffing
    TRANSITIONAL = "transitional"  # aangemeld voor de overgangsregeling
    SUSPENDED = "suspended"  # geschorst
    REVOKED = "revoked"  # ingetrokken
    REFUSED = "refused"  # aanvraag afgewezen
    NOT_FOUND = "not_found"  # the register does not know the lender


# The statuses under which a lender may lend (and a hirer may hire from it).
MAY_LEND = frozenset(
    {
        AdmissionStatus.ADMITTED,
        AdmissionStatus.PROVISIONAL,
        AdmissionStatus.EXEMPT,
        AdmissionStatus.TRANSITIONAL,
    }
)

STATUS_EN = {
    AdmissionStatus.ADMITTED: "admitted",
    AdmissionStatus.PROVISIONAL: "provisionally admitted",
    AdmissionStatus.EXEMPT: "exempted",
    AdmissionStatus.TRANSITIONAL: "under the transitional arrangement",
    AdmissionStatus.SUSPENDED: "suspended",
    AdmissionStatus.REVOKED: "revoked",
    AdmissionStatus.REFUSED: "refused",
    AdmissionStatus.NOT_FOUND: "not listed",
}
STATUS_NL = {
    AdmissionStatus.ADMITTED: "toegelaten",
    AdmissionStatus.PROVISIONAL: "voorlopig toegelaten",
    AdmissionStatus.EXEMPT: "ontheven",
    AdmissionStatus.TRANSITIONAL: "aangemeld voor de overgangsregeling",
    AdmissionStatus.SUSPENDED: "geschorst",
    AdmissionStatus.REVOKED: "ingetrokken",
    AdmissionStatus.REFUSED: "afgewezen",
    AdmissionStatus.NOT_FOUND: "niet ingeschreven",
}

LENDER_NOT_ADMITTED = register_info(
    RuleInfo(
        code="LENDER_NOT_ADMITTED",
        severity=Severity.HIGH,
        version="1.0.0",
        legal_basis=WTTA_BASIS,
        title_nl="Uitlener niet toegelaten",
        title_en="Lender of workers not admitted",
        description_en=(
            "Work notified through a lender (a staffing or payroll agency notifying, or a hirer "
            "named) while the public register of admitted lenders does not show the lender as "
            "admitted, exempted or under the transitional arrangement on the date judged. "
            "No finding before the register is online (1 July 2027); low severity until the "
            "duty is fined (1 January 2028), high from then on."
        ),
        applies_at=(SWEEP,),
    )
)


@dataclass(frozen=True, slots=True)
class AdmissionFacts:
    """What the register of admitted lenders said at the last successful look-up."""

    kvk_number: str
    status: AdmissionStatus
    checked_on: date
    valid_from: date | None = None
    valid_until: date | None = None
    register_number: str | None = None

    def may_lend_on(self, day: date) -> bool:
        if self.status not in MAY_LEND:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


@dataclass(frozen=True, slots=True)
class LenderWork:
    """How a notification's work runs through a lender."""

    lender_kvk_number: str
    lender_name: str | None = None
    hirer_kvk_number: str | None = None
    hirer_name: str | None = None


def admission_dates(day: date, params: Parameters | None = None) -> dict[str, date] | None:
    """The Wtta dates known on `day`, or None before the act was adopted."""
    p = params if params is not None else get_parameters()
    if day < p.entries(PARAMETER)[0].effective_from:
        return None
    value: dict[str, date] = p.at(PARAMETER, day).value
    return value


def check_lender_admission(
    facts: AdmissionFacts | None,
    work: LenderWork,
    *,
    judged_on: date,
    params: Parameters | None = None,
) -> list[Finding]:
    """The finding for work through a lender the register does not show as allowed to lend."""
    p = params if params is not None else get_parameters()
    dates = admission_dates(judged_on, p)
    if dates is None or facts is None:
        return []
    if judged_on < dates["in_force"] or judged_on < dates["register_online"]:
        return []
    if facts.may_lend_on(judged_on):
        return []
    enforced = dates["enforced_from"]
    severity = Severity.HIGH if judged_on >= enforced else Severity.LOW
    use: ParameterUse = p.at(PARAMETER, judged_on).as_use()
    status_en, status_nl = _status_text(facts, judged_on)
    lender_en = _party(work.lender_name, work.lender_kvk_number, "the lender", "KvK number")
    lender_nl = _party(work.lender_name, work.lender_kvk_number, "de uitlener", "KvK-nummer")
    if work.hirer_kvk_number or work.hirer_name:
        hirer_en = _party(work.hirer_name, work.hirer_kvk_number, "the hirer", "KvK number")
        hirer_nl = _party(work.hirer_name, work.hirer_kvk_number, "de inlener", "KvK-nummer")
        hirer_en = f" The hirer, {hirer_en}, may hire only from an admitted lender."
        hirer_nl = f" De inlener, {hirer_nl}, mag alleen inlenen bij een toegelaten uitlener."
    else:
        hirer_en = hirer_nl = ""
    if severity is Severity.HIGH:
        when_en = (
            f"Since {date_en(enforced)} lending without admission, and hiring from such a "
            f"lender, is fined."
        )
        when_nl = (
            f"Sinds {date_nl(enforced)} is uitlenen zonder toelating, en inlenen bij zo'n "
            f"uitlener, beboetbaar."
        )
    else:
        when_en = (
            f"The admission duty applies since {date_en(dates['in_force'])}; from "
            f"{date_en(enforced)} lending without admission, and hiring from such a lender, "
            f"is fined."
        )
        when_nl = (
            f"De toelatingsplicht geldt sinds {date_nl(dates['in_force'])}; vanaf "
            f"{date_nl(enforced)} is uitlenen zonder toelating, en inlenen bij zo'n uitlener, "
            f"beboetbaar."
        )
    return [
        make_finding(
            LENDER_NOT_ADMITTED,
            None,
            severity=severity,
            message_en=(
                f"The work is done through {lender_en}. According to the public register of "
                f"admitted lenders (Nederlandse Autoriteit Uitleenmarkt, looked up on "
                f"{date_en(facts.checked_on)}) the lender is {status_en} on "
                f"{date_en(judged_on)}: not admitted, exempted or under the transitional "
                f"arrangement. {when_en}{hirer_en}"
            ),
            message_nl=(
                f"Het werk loopt via {lender_nl}. Volgens het openbare register van toegelaten "
                f"uitleners (Nederlandse Autoriteit Uitleenmarkt, opgevraagd op "
                f"{date_nl(facts.checked_on)}) is de uitlener op {date_nl(judged_on)} "
                f"{status_nl}: niet toegelaten, ontheven of onder de overgangsregeling. "
                f"{when_nl}{hirer_nl}"
            ),
            evidence={
                "judged_on": judged_on,
                "lender_kvk_number": work.lender_kvk_number,
                "hirer_kvk_number": work.hirer_kvk_number,
                "register_status": facts.status.value,
                "register_number": facts.register_number,
                "valid_from": facts.valid_from,
                "valid_until": facts.valid_until,
                "register_checked_on": facts.checked_on,
                "enforced_from": enforced,
                "arithmetic": (
                    f"status {facts.status.value} on {judged_on.isoformat()} is not one of "
                    f"{sorted(s.value for s in MAY_LEND)} within its validity"
                ),
            },
            parameters=(use,),
        )
    ]


def _status_text(facts: AdmissionFacts, day: date) -> tuple[str, str]:
    en, nl = STATUS_EN[facts.status], STATUS_NL[facts.status]
    if facts.status in MAY_LEND:  # a status that does not cover this day
        if facts.valid_until is not None and day > facts.valid_until:
            return (
                f"{en} only until {date_en(facts.valid_until)}",
                f"{nl} tot en met {date_nl(facts.valid_until)}",
            )
        if facts.valid_from is not None:
            return (
                f"{en} only from {date_en(facts.valid_from)}",
                f"{nl} pas vanaf {date_nl(facts.valid_from)}",
            )
    return en, nl


def _party(name: str | None, kvk_number: str | None, fallback: str, kvk_word: str) -> str:
    if name and kvk_number:
        return f"{name} ({kvk_word} {kvk_number})"
    if kvk_number:
        return f"{fallback} ({kvk_word} {kvk_number})"
    return name or fallback
