"""Evaluate one notification (intake or sweep), run cross-notification checks, list the rules.

Intake (as_of = notice date): the employment-period checks are judged on the start date.
Sweep: judged on max(as_of, start date), capped at a declared end date; timeliness findings
are always reported, so a sweep never clears them; a terminated notification whose end date
lies before as_of yields only timeliness findings.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

from meldplicht.rules import wages
from meldplicht.rules.checks import cross, notice, payroll, register, status, wage, work
from meldplicht.rules.checks.base import REGISTRY, Context, RuleInfo, judged_on
from meldplicht.rules.checks.cross import (
    check_many_employers,
    check_person_total_hours,
    check_repeatedly_late,
)
from meldplicht.rules.facts import Evaluation, Finding, NotificationFacts, Severity
from meldplicht.rules.params import Parameters, get_parameters

__all__ = [
    "RuleInfo",
    "catalogue",
    "check_many_employers",
    "check_person_total_hours",
    "check_repeatedly_late",
    "evaluate_notification",
    "judged_on",
    "next_change_date",
]

# The modules register their rules on import; name them so the imports are not "unused".
_MODULES = (notice, wage, work, status, cross, payroll, register)

SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2, Severity.INFO: 3}


def evaluate_notification(
    facts: NotificationFacts,
    *,
    as_of: date,
    evaluation: Evaluation,
    params: Parameters | None = None,
) -> list[Finding]:
    """Run every per-notification check; findings are ordered by severity, then code."""
    ctx = Context(
        facts,
        as_of=as_of,
        evaluation=evaluation,
        params=params if params is not None else get_parameters(),
    )
    findings: list[Finding] = []
    for _, check in REGISTRY:
        if check is not None:
            findings.extend(check(ctx))
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.period_key))


def catalogue() -> list[RuleInfo]:
    """Every check with its code, severity, version and legal basis (GET /api/v1/rules)."""
    return sorted((info for info, _ in REGISTRY), key=lambda info: info.code)


def next_change_date(
    facts: NotificationFacts, as_of: date, params: Parameters | None = None
) -> date | None:
    """The next date after as_of on which this notification's verdict could change.

    Candidates: the next birthday while the age still moves the wage or working-time band
    (until 21), every later effective date of a parameter (including the day a half-yearly
    table becomes possibly out of date), document expiry + 1, end date + 1,
    the current end of temporary protection + 1 and, for non-Ukrainians, the third-country
    cut-off + 1. A sweep needs to re-evaluate the notification only from that date.
    """
    p = params if params is not None else get_parameters()
    candidates: set[date] = set()
    birth = facts.worker.birth_date
    if wages.age_on(birth, max(as_of, facts.start_date)) < wages.ADULT_AGE:
        candidates.add(wages.next_birthday(birth, as_of))
    candidates.update(_change_dates(p))
    if facts.worker.document_valid_until is not None:
        candidates.add(_day_after(facts.worker.document_valid_until))
    if facts.end_date is not None:
        candidates.add(_day_after(facts.end_date))
    tp_end: date = p.at("temporary_protection_end", max(as_of, _first(p))).value
    candidates.add(_day_after(tp_end))
    if facts.worker.nationality.upper() != "UKR":
        cutoff: date = p.at("third_country_nationals_protection_end", _first(p)).value
        candidates.add(_day_after(cutoff))
    later = [d for d in candidates if d > as_of]
    if facts.terminated and facts.end_date is not None and facts.end_date < as_of:
        return None  # closed: only timeliness findings remain, and they never change
    return min(later) if later else None


def _day_after(day: date) -> date:
    """The next day; the calendar's last day stays itself (nothing changes after it).

    Intake bounds every date far from the calendar's end, but a stored row may predate the
    bounds: the sweep must still be able to judge it.
    """
    return day if day == date.max else day + timedelta(days=1)


@functools.lru_cache(maxsize=16)
def _change_dates(p: Parameters) -> frozenset[date]:
    """Every date on which some parameter may give a different answer."""
    return frozenset(d for name in p.names() for d in p.change_dates(name))


def _first(p: Parameters) -> date:
    return p.entries("temporary_protection_end")[0].effective_from
