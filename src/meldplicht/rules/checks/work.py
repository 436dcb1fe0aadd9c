"""Working-time checks on one notification: weekly hours against the limits for the age."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from meldplicht.rules.checks.base import (
    Context,
    RuleInfo,
    date_en,
    date_nl,
    hours_text,
    make_finding,
    rule,
)
from meldplicht.rules.facts import Finding, ParameterUse, Severity
from meldplicht.rules.params import Parameters

WORKING_HOURS_BASIS = (
    "Arbeidstijdenwet art. 5:7 and Arbeidstijdenbesluit (young workers) (DECISIONS.md "
    "section 4); https://www.arboportaal.nl/onderwerpen/werk--en-rusttijden-arbeidstijdenwet"
)

UNDERAGE = RuleInfo(
    code="UNDERAGE_WORK",
    severity=Severity.HIGH,
    version="1.0.0",
    legal_basis=WORKING_HOURS_BASIS,
    title_nl="Werk door een kind jonger dan 15",
    title_en="Work by a child under 15",
    description_en="The worker is younger than 15 on the judged date: any work is flagged.",
)
EXCESSIVE = RuleInfo(
    code="EXCESSIVE_HOURS",
    severity=Severity.HIGH,
    version="1.0.0",
    legal_basis=WORKING_HOURS_BASIS,
    title_nl="Te veel uren voor de leeftijd",
    title_en="Too many hours for the worker's age",
    description_en=(
        "Declared hours per week above 60 (18 and older), above 45 (16-17) or above 12 (15)."
    ),
)
ABOVE_48 = RuleInfo(
    code="HOURS_ABOVE_48",
    severity=Severity.MEDIUM,
    version="1.0.0",
    legal_basis=WORKING_HOURS_BASIS,
    title_nl="Meer dan 48 uur per week",
    title_en="More than 48 hours a week",
    description_en=(
        "Declared hours above 48 a week (and within the age limit): the 16-week average of "
        "48 hours a week cannot be met."
    ),
)


@dataclass(frozen=True, slots=True)
class HourLimits:
    high: Decimal | None  # None: any work is flagged (under the minimum age)
    medium: Decimal
    band_en: str
    band_nl: str
    use: ParameterUse


@functools.lru_cache(maxsize=65536)  # a pure function of its (immutable) arguments
def hour_limits(age: int, on: date, params: Parameters) -> HourLimits:
    """The weekly-hours limits that apply to a worker of `age` on `on`."""
    value = params.at("working_time_limits", on)
    limits = value.value
    medium = Decimal(limits["medium_average_limit"])
    if age < int(limits["minimum_age_any_work"]):
        return HourLimits(None, medium, "under 15", "jonger dan 15", value.as_use())
    if age == 15:
        return HourLimits(Decimal(limits["high_15"]), medium, "aged 15", "15 jaar", value.as_use())
    if age < 18:
        return HourLimits(
            Decimal(limits["high_16_17"]), medium, "aged 16-17", "16-17 jaar", value.as_use()
        )
    return HourLimits(
        Decimal(limits["high_18_plus"]),
        medium,
        "aged 18 or older",
        "18 jaar of ouder",
        value.as_use(),
    )


@rule(UNDERAGE)
def check_underage_work(ctx: Context) -> list[Finding]:
    if ctx.employment_period_over:
        return []
    limits = hour_limits(ctx.age, ctx.judged_on, ctx.params)
    if limits.high is not None:
        return []
    f = ctx.facts
    return [
        make_finding(
            UNDERAGE,
            ctx,
            message_en=(
                f"The worker (born {date_en(f.worker.birth_date)}) is {ctx.age} on "
                f"{date_en(ctx.judged_on)}; children under 15 may not be employed on this basis."
            ),
            message_nl=(
                f"De werknemer (geboren {date_nl(f.worker.birth_date)}) is {ctx.age} jaar op "
                f"{date_nl(ctx.judged_on)}; kinderen jonger dan 15 mogen op deze basis niet "
                f"werken."
            ),
            evidence={"age": ctx.age, "arithmetic": f"age {ctx.age} < 15"},
            parameters=(limits.use,),
        )
    ]


@rule(EXCESSIVE)
def check_excessive_hours(ctx: Context) -> list[Finding]:
    if ctx.employment_period_over:
        return []
    limits = hour_limits(ctx.age, ctx.judged_on, ctx.params)
    hours = ctx.facts.hours_per_week
    if limits.high is None or hours <= limits.high:
        return []
    return [
        make_finding(
            EXCESSIVE,
            ctx,
            message_en=(
                f"The declared {hours_text(hours)} hours a week exceed the limit of "
                f"{hours_text(limits.high)} hours for a worker {limits.band_en} (age {ctx.age} "
                f"on {date_en(ctx.judged_on)})."
            ),
            message_nl=(
                f"De opgegeven {hours_text(hours)} uur per week zijn meer dan het maximum van "
                f"{hours_text(limits.high)} uur voor een werknemer van {limits.band_nl} "
                f"({ctx.age} jaar op {date_nl(ctx.judged_on)})."
            ),
            evidence={
                "hours_per_week": hours,
                "limit": limits.high,
                "age": ctx.age,
                "arithmetic": f"{hours} > {limits.high}",
            },
            parameters=(limits.use,),
            period_key=f"limit-{limits.high}",
        )
    ]


@rule(ABOVE_48)
def check_hours_above_48(ctx: Context) -> list[Finding]:
    if ctx.employment_period_over:
        return []
    limits = hour_limits(ctx.age, ctx.judged_on, ctx.params)
    hours = ctx.facts.hours_per_week
    # Only when the age limit itself is not exceeded: EXCESSIVE_HOURS already says more.
    if limits.high is None or hours > limits.high or hours <= limits.medium:
        return []
    return [
        make_finding(
            ABOVE_48,
            ctx,
            message_en=(
                f"The declared {hours_text(hours)} hours a week are above {limits.medium}: the "
                f"legal average of at most 48 hours a week over 16 weeks cannot be met."
            ),
            message_nl=(
                f"De opgegeven {hours_text(hours)} uur per week zijn meer dan {limits.medium}: "
                f"het wettelijk gemiddelde van ten hoogste 48 uur per week over 16 weken kan "
                f"zo niet worden gehaald."
            ),
            evidence={
                "hours_per_week": hours,
                "limit": limits.medium,
                "arithmetic": f"{hours} > {limits.medium}",
            },
            parameters=(limits.use,),
        )
    ]
