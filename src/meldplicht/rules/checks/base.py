"""Shared machinery for the checks: rule metadata, the evaluation context, and message helpers."""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Generic, TypeVar, overload

from meldplicht.rules import calendar, wages
from meldplicht.rules.facts import Evaluation, Finding, NotificationFacts, ParameterUse, Severity
from meldplicht.rules.params import Parameters

INTAKE = "intake"
SWEEP = "sweep"

MONTHS_EN = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
MONTHS_NL = (
    *("januari", "februari", "maart", "april", "mei", "juni"),
    *("juli", "augustus", "september", "oktober", "november", "december"),
)


# A sweep asks the same questions of many notifications (one notice and start date pair, one
# age on one day): both answers depend only on their arguments and the (immutable) parameters.
@functools.lru_cache(maxsize=65536)
def _timeliness(notice_date: date, start_date: date, params: Parameters) -> calendar.Timeliness:
    return calendar.timeliness(notice_date, start_date, params)


@functools.lru_cache(maxsize=65536)
def _minimum(
    age: int, on: date, fulltime_hours_per_week: Decimal | None, params: Parameters, bbl: bool
) -> wages.MinimumWage:
    return wages.minimum_hourly_wage(age, on, fulltime_hours_per_week, params, bbl_student=bbl)


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """Public description of one check (served at GET /api/v1/rules)."""

    code: str
    severity: Severity
    version: str
    legal_basis: str
    title_nl: str
    title_en: str
    description_en: str
    applies_at: tuple[str, ...] = (INTAKE, SWEEP)


def date_en(d: date) -> str:
    return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"


def date_nl(d: date) -> str:
    return f"{d.day} {MONTHS_NL[d.month - 1]} {d.year}"


def hours_text(hours: Decimal) -> str:
    """Hours without trailing zeros: 40, 38.5."""
    text = f"{hours.normalize():f}"
    return text


_PLAIN = (str, int, float, type(None))


def json_safe(value: Any) -> Any:
    """Turn facts and figures into JSON-safe values (Decimal as exact text)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _PLAIN):  # the common case first: most leaves are plain
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


T = TypeVar("T")


class once(Generic[T]):
    """A figure worked out on first use and kept on the instance: `functools.cached_property`
    without its lock (Python 3.11 takes one on every first read, which costs as much as most
    of the figures it guards). A Context is judged by one thread and then dropped."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> once[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | once[T]:
        if instance is None:
            return self
        value = self.compute(instance)
        # A non-data descriptor: once in the instance's __dict__, the value is read directly.
        instance.__dict__[self.name] = value
        return value


class Context:
    """One notification judged on one date, with the figures several checks share."""

    def __init__(
        self,
        facts: NotificationFacts,
        *,
        as_of: date,
        evaluation: Evaluation,
        params: Parameters,
    ) -> None:
        self.facts = facts
        self.as_of = as_of
        self.evaluation = evaluation
        self.params = params
        self.judged_on = judged_on(facts, as_of, evaluation)

    @once
    def employment_period_over(self) -> bool:
        """In a sweep, a terminated notification whose end lies before as_of is closed."""
        f = self.facts
        return (
            self.evaluation is Evaluation.SWEEP
            and f.terminated
            and f.end_date is not None
            and f.end_date < self.as_of
        )

    @once
    def age(self) -> int:
        return wages.age_on(self.facts.worker.birth_date, self.judged_on)

    @once
    def timeliness(self) -> calendar.Timeliness:
        return _timeliness(self.facts.notice_date, self.facts.start_date, self.params)

    @once
    def holiday_rate(self) -> Decimal:
        value: Decimal = self.params.at("holiday_allowance_rate", self.judged_on).value
        return value

    @once
    def declared_hourly_exact(self) -> Fraction | None:
        """The declared wage per hour excluding holiday allowance (exact), or None if the wage
        cannot be checked (a wage per week, four weeks or month without hours)."""
        f = self.facts
        try:
            return wages.hourly_wage_exact(
                f.wage_amount,
                f.wage_period,
                f.hours_per_week,
                f.wage_includes_holiday_allowance,
                self.holiday_rate,
            )
        except wages.WageNotCheckable:
            return None

    @once
    def declared_hourly(self) -> Decimal | None:
        """The declared wage per hour excluding holiday allowance, or None if not checkable."""
        exact = self.declared_hourly_exact
        return None if exact is None else wages.to_decimal(exact)

    @once
    def minimum(self) -> wages.MinimumWage | None:
        if self.age < wages.YOUTH_TABLE_MIN_AGE:
            return None
        f = self.facts
        return _minimum(
            self.age, self.judged_on, f.fulltime_hours_per_week, self.params, bool(f.bbl_student)
        )

    @once
    def _base_evidence(self) -> dict[str, Any]:
        # Built once per notification and shared by its findings (JSON-safe already).
        return {
            "evaluation": self.evaluation.value,
            "as_of": self.as_of.isoformat(),
            "judged_on": self.judged_on.isoformat(),
            "inputs": json_safe(self.facts),
        }

    def base_evidence(self) -> dict[str, Any]:
        return dict(self._base_evidence)


def judged_on(facts: NotificationFacts, as_of: date, evaluation: Evaluation) -> date:
    """The date the employment-period checks are judged on.

    Intake: the start date. Sweep: max(as_of, start date), so indexations and birthdays show
    up; but never after a declared end date, since the declared employment does not run then.
    """
    if evaluation is Evaluation.INTAKE:
        return facts.start_date
    day = max(as_of, facts.start_date)
    if facts.end_date is not None and facts.end_date >= facts.start_date:
        day = min(day, facts.end_date)
    return day


# The figures a verdict turned on: plain values, so a verdict is data that can be compared,
# stored or sent on, and explained later from the same facts.
Number = Decimal | Fraction | date | int | str | bool | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one rule decided about one notification, without the words: cheap to compute.

    `code` and `period_key` complete the flag fingerprint as a finding's do; `numbers` are the
    deciding figures, named, which the rule's explanation reads instead of deciding again.
    The explanation (messages, evidence, parameter references) is built only on demand, by
    the rule's own `explains` function (`explain_verdict`)."""

    code: str
    severity: Severity
    period_key: str = ""
    numbers: tuple[tuple[str, Number], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """The rule and period: with the subject, the flag's fingerprint."""
        return self.code, self.period_key

    def number(self, name: str) -> Any:
        """One deciding figure by name (KeyError if the rule did not name it)."""
        for key, value in self.numbers:
            if key == name:
                return value
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Explanation:
    """The words and evidence of one verdict, in the form `make_finding` takes them."""

    message_en: str
    message_nl: str
    evidence: dict[str, Any]
    parameters: tuple[ParameterUse, ...] = ()


def verdict(
    info: RuleInfo,
    *,
    period_key: str = "",
    severity: Severity | None = None,
    **numbers: Number,
) -> list[Verdict]:
    """The one-verdict answer of a check (a check returns a list: none, or this)."""
    return [
        Verdict(
            code=info.code,
            severity=severity or info.severity,
            period_key=period_key,
            numbers=tuple(numbers.items()),
        )
    ]


def make_finding(
    info: RuleInfo,
    ctx: Context | None,
    *,
    message_en: str,
    message_nl: str,
    evidence: dict[str, Any],
    parameters: tuple[ParameterUse, ...] = (),
    period_key: str = "",
    severity: Severity | None = None,
) -> Finding:
    # The context's part is JSON-safe already (and shared between a notification's findings,
    # which are never mutated once made); only the check's own evidence is converted.
    full_evidence = {
        **(ctx._base_evidence if ctx is not None else {}),
        **json_safe(evidence),
        "legal_basis": info.legal_basis,
    }
    return Finding(
        code=info.code,
        severity=severity or info.severity,
        rule_version=info.version,
        legal_basis=info.legal_basis,
        message_nl=message_nl,
        message_en=message_en,
        evidence=full_evidence,
        parameters=parameters,
        period_key=period_key,
    )


CheckFn = Callable[[Context], list[Verdict]]
ExplainFn = Callable[[Context, Verdict], Explanation]

# Filled by the @rule decorator in the check modules, in catalogue order.
REGISTRY: list[tuple[RuleInfo, CheckFn | None]] = []
# Each per-notification rule's explanation, by code (the @explains decorator beside the check).
EXPLAINERS: dict[str, tuple[RuleInfo, ExplainFn]] = {}


def rule(info: RuleInfo) -> Callable[[CheckFn], CheckFn]:
    """Register a per-notification check: it decides, returning verdicts (no words)."""

    def register(fn: CheckFn) -> CheckFn:
        REGISTRY.append((info, fn))
        return fn

    return register


def explains(info: RuleInfo) -> Callable[[ExplainFn], ExplainFn]:
    """Register the explanation of a check's verdicts, defined right beside the check: it
    reads the verdict's deciding numbers and the context, and never decides again."""

    def register(fn: ExplainFn) -> ExplainFn:
        if info.code in EXPLAINERS:
            raise ValueError(f"rule {info.code} is explained twice")
        EXPLAINERS[info.code] = (info, fn)
        return fn

    return register


def explain_verdict(ctx: Context, found: Verdict) -> Finding:
    """The full finding of one verdict, built by its rule's explanation."""
    info, explain = EXPLAINERS[found.code]
    words = explain(ctx, found)
    return make_finding(
        info,
        ctx,
        message_en=words.message_en,
        message_nl=words.message_nl,
        evidence=words.evidence,
        parameters=words.parameters,
        period_key=found.period_key,
        severity=found.severity,
    )


def register_info(info: RuleInfo) -> RuleInfo:
    """Register a rule that is not run per notification (the cross-notification checks)."""
    REGISTRY.append((info, None))
    return info


def out_of_date_caveat(minimum: wages.MinimumWage, params: Parameters) -> tuple[str, str]:
    """The sentence a wage finding carries when the minimum is only known as a lower bound."""
    if not minimum.possibly_out_of_date:
        return "", ""
    name = "wml_hourly" if minimum.fulltime_hours is None else "wml_period_amounts"
    missing = date.fromordinal(params.table_ends(name).toordinal() + 1)
    return (
        f" The amounts from {date_en(missing)} are not yet held, so the minimum used is the "
        f"least it can be (an indexation never lowers it).",
        f" De bedragen vanaf {date_nl(missing)} zijn nog niet bekend, dus het gebruikte "
        f"minimum is het laagste dat het kan zijn (een indexering verlaagt het nooit).",
    )
