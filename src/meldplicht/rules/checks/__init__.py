"""Evaluate one notification (intake or sweep), run cross-notification checks, list the rules.

Verdict first, explanation on demand: `evaluate_verdicts` answers what each rule decided (code,
severity, period key, the deciding numbers) without building any words; `explain` turns one
verdict into the full finding with the rule's own explanation. `evaluate_notification` is
the two together, and its findings are exactly those of explaining every verdict.

Intake (as_of = notice date): the employment-period checks are judged on the start date.
Sweep: judged on max(as_of, start date), capped at a declared end date; timeliness findings
are always reported, so a sweep never clears them; a terminated notification whose end date
lies before as_of yields only timeliness findings.
"""

from __future__ import annotations

from collections.abc import Iterable
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
from meldplicht.rules.checks.base import (
    EXPLAINERS,
    REGISTRY,
    CheckFn,
    Context,
    RuleInfo,
    Verdict,
    explain_verdict,
    judged_on,
)
from meldplicht.rules.checks.cross import (
    check_many_employers,
    check_person_total_hours,
    check_repeatedly_late,
)
from meldplicht.rules.checks.schedule import next_change_date
from meldplicht.rules.facts import Evaluation, Finding, NotificationFacts, Severity
from meldplicht.rules.params import Parameters, get_parameters

__all__ = [
    "Judgement",
    "RuleInfo",
    "Verdict",
    "catalogue",
    "check_many_employers",
    "check_person_total_hours",
    "check_repeatedly_late",
    "evaluate_notification",
    "evaluate_verdicts",
    "explain",
    "explain_all",
    "judge",
    "judged_on",
    "next_change_date",
]

# The modules register their rules on import; name them so the imports are not "unused".
_MODULES = (notice, wage, payment, work, status, cross, payroll, register, lender)

SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2, Severity.INFO: 3}


def _context(
    facts: NotificationFacts, as_of: date, evaluation: Evaluation, params: Parameters | None
) -> Context:
    return Context(
        facts,
        as_of=as_of,
        evaluation=evaluation,
        params=params if params is not None else get_parameters(),
    )


def _order(verdict: Verdict) -> tuple[int, str, str]:
    return SEVERITY_ORDER[verdict.severity], verdict.code, verdict.period_key


_CHECKS: tuple[int, tuple[CheckFn, ...]] = (-1, ())


def _checks() -> tuple[CheckFn, ...]:
    """The per-notification checks in catalogue order (found again if a rule registers late)."""
    global _CHECKS
    if _CHECKS[0] != len(REGISTRY):
        _CHECKS = (len(REGISTRY), tuple(check for _, check in REGISTRY if check is not None))
    return _CHECKS[1]


def _verdicts(ctx: Context) -> list[Verdict]:
    if ctx.facts.withdrawn:
        return []
    verdicts: list[Verdict] = []
    for check in _checks():
        verdicts.extend(check(ctx))
    verdicts.sort(key=_order)
    return verdicts


def evaluate_verdicts(
    facts: NotificationFacts,
    *,
    as_of: date,
    evaluation: Evaluation,
    params: Parameters | None = None,
) -> list[Verdict]:
    """Every per-notification rule's verdict, without words: ordered by severity, then code,
    then period key, exactly as `evaluate_notification`'s findings.

    A withdrawn notification counts for nothing: it has no verdicts."""
    return _verdicts(_context(facts, as_of, evaluation, params))


def explain(
    verdict: Verdict,
    facts: NotificationFacts,
    *,
    as_of: date,
    evaluation: Evaluation,
    params: Parameters | None = None,
) -> Finding:
    """The full finding of one verdict (messages, evidence, parameter references), given the
    facts and day it was reached on."""
    return explain_verdict(_context(facts, as_of, evaluation, params), verdict)


def explain_all(
    verdicts: Iterable[Verdict],
    facts: NotificationFacts,
    *,
    as_of: date,
    evaluation: Evaluation,
    params: Parameters | None = None,
) -> list[Finding]:
    """The findings of several verdicts of one notification (one context, shared figures)."""
    ctx = _context(facts, as_of, evaluation, params)
    return [explain_verdict(ctx, verdict) for verdict in verdicts]


class Judgement:
    """One notification judged on one day: its verdicts now, their explanations on demand
    (sharing the figures the verdicts already worked out, such as the age and the minimum)."""

    __slots__ = ("_ctx", "verdicts")

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.verdicts = _verdicts(ctx)

    def explain(self, verdicts: Iterable[Verdict] | None = None) -> list[Finding]:
        """The findings of these verdicts (by default all of them), in their order."""
        chosen = self.verdicts if verdicts is None else verdicts
        return [explain_verdict(self._ctx, verdict) for verdict in chosen]


def judge(
    facts: NotificationFacts,
    *,
    as_of: date,
    evaluation: Evaluation,
    params: Parameters | None = None,
) -> Judgement:
    """The verdicts of `evaluate_verdicts`, with a way to explain any of them cheaply."""
    return Judgement(_context(facts, as_of, evaluation, params))


def evaluate_notification(
    facts: NotificationFacts,
    *,
    as_of: date,
    evaluation: Evaluation,
    params: Parameters | None = None,
) -> list[Finding]:
    """Run every per-notification check; findings are ordered by severity, then code.

    The verdicts of `evaluate_verdicts`, each explained. A withdrawn notification counts for
    nothing: it has no findings."""
    ctx = _context(facts, as_of, evaluation, params)
    return [explain_verdict(ctx, verdict) for verdict in _verdicts(ctx)]


def _unexplained() -> list[str]:
    """Per-notification rules without an explanation (none: checked on import)."""
    return [
        info.code for info, check in REGISTRY if check is not None and info.code not in EXPLAINERS
    ]


if _unexplained():  # pragma: no cover - a programming error, caught by every import
    raise RuntimeError(f"rules without an explanation: {_unexplained()}")


def catalogue() -> list[RuleInfo]:
    """Every check with its code, severity, version and legal basis (GET /api/v1/rules)."""
    return sorted((info for info, _ in REGISTRY), key=lambda info: info.code)
