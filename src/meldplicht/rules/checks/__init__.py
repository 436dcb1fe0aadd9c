"""Evaluate one notification (intake or sweep), run cross-notification checks, list the rules.

Intake (as_of = notice date): the employment-period checks are judged on the start date.
Sweep: judged on max(as_of, start date), capped at a declared end date; timeliness findings
are always reported, so a sweep never clears them; a terminated notification whose end date
lies before as_of yields only timeliness findings.
"""

from __future__ import annotations

from datetime import date

from meldplicht.rules.checks import (
    cross,
    lender,
    notice,
    payment,
    payroll,
    register,
    status,
    wage,
    work,
)
from meldplicht.rules.checks.base import REGISTRY, Context, RuleInfo, judged_on
from meldplicht.rules.checks.cross import (
    check_many_employers,
    check_person_total_hours,
    check_repeatedly_late,
)
from meldplicht.rules.checks.schedule import next_change_date
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
_MODULES = (notice, wage, payment, work, status, cross, payroll, register, lender)

SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2, Severity.INFO: 3}


def evaluate_notification(
    facts: NotificationFacts,
    *,
    as_of: date,
    evaluation: Evaluation,
    params: Parameters | None = None,
) -> list[Finding]:
    """Run every per-notification check; findings are ordered by severity, then code.

    A withdrawn notification counts for nothing: it has no findings."""
    if facts.withdrawn:
        return []
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
