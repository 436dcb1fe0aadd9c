"""Working-time checks on one notification: weekly hours against the limits for the age.

Declared weekly hours are the same every week, so a declared week above an average limit
(55 over 4 weeks for adults, 40 over 4 weeks at 16-17, 48 over 16 weeks for adults) breaks
that average: the average limits are judged like weekly limits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from meldplicht.rules.checks.base import (
    Context,
    Explanation,
    RuleInfo,
    Verdict,
    date_en,
    date_nl,
    explains,
    hours_text,
    rule,
    verdict,
)
from meldplicht.rules.facts import ParameterUse, Severity
from meldplicht.rules.params import Parameters

ATW = "https://wetten.overheid.nl/BWBR0007671"
KINDERARBEID = "https://wetten.overheid.nl/BWBR0007195"
WORKING_HOURS_BASIS = (
    "Arbeidstijdenwet art. 5:7 (18 and older: 60 hours a week, 55 on average over 4 weeks, 48 "
    "on average over 16 weeks; 16-17: 45 hours a week, 40 on average over 4 weeks); Nadere "
    f"regeling kinderarbeid art. 4:1, 4:2, 5:1 and 5:2 (ages 13-15); {ATW}"
)
CHILD_BASIS = (
    "Arbeidstijdenwet art. 3:2 (no work by children, except light non-industrial work from "
    "13); Nadere regeling kinderarbeid art. 4:1, 4:2, 5:1 and 5:2 (ages 13-15: hours in a "
    f"school week and in a holiday week, holiday weeks a year); {ATW} ; {KINDERARBEID}"
)

UNDERAGE = RuleInfo(
    code="UNDERAGE_WORK",
    severity=Severity.HIGH,
    version="2.0.0",
    legal_basis=CHILD_BASIS,
    title_nl="Werk door een kind jonger dan 13",
    title_en="Work by a child under 13",
    description_en=(
        "The worker is younger than 13 on the judged date: a child under 13 may not work "
        "(Arbeidstijdenwet art. 3:2(1))."
    ),
)
CHILD_CONDITIONS = RuleInfo(
    code="CHILD_WORK_CONDITIONS",
    severity=Severity.MEDIUM,
    version="1.0.0",
    legal_basis=CHILD_BASIS,
    title_nl="Werk door een kind van 13-15: alleen onder voorwaarden",
    title_en="Work by a child aged 13-15: only under conditions",
    description_en=(
        "Ages 13 and 14: any declared work (only light, non-industrial helper work under "
        "supervision, not on school days; at most 12 hours in a school week, 35 in a holiday "
        "week, 4 holiday weeks a year). Age 15: more than 12 hours a week, which is allowed "
        "only in school holidays, at most 6 weeks a year (40 hours in a holiday week)."
    ),
)
EXCESSIVE = RuleInfo(
    code="EXCESSIVE_HOURS",
    severity=Severity.HIGH,
    version="2.0.0",
    legal_basis=WORKING_HOURS_BASIS,
    title_nl="Te veel uren voor de leeftijd",
    title_en="Too many hours for the worker's age",
    description_en=(
        "Declared hours per week above 55 (18 and older: the 4-week average; 60 in any week), "
        "above 40 (16-17: the 4-week average; 45 in any week), above 40 (15: a holiday week) "
        "or above 35 (13-14: a holiday week)."
    ),
)
ABOVE_48 = RuleInfo(
    code="HOURS_ABOVE_48",
    severity=Severity.MEDIUM,
    version="2.0.0",
    legal_basis=WORKING_HOURS_BASIS,
    title_nl="Meer dan 48 uur per week",
    title_en="More than 48 hours a week",
    description_en=(
        "18 and older: declared hours above 48 and at most 55 a week. The average of at most "
        "48 hours a week over 16 weeks (Arbeidstijdenwet art. 5:7(2)(c)) cannot be met."
    ),
)


@dataclass(frozen=True, slots=True)
class Limit:
    """One weekly limit with what it is, in words, and its article."""

    hours: Decimal
    what_en: str
    what_nl: str
    article: str


@dataclass(frozen=True, slots=True)
class HourLimits:
    """The weekly-hours limits that apply to one age on one date.

    `high` is the most in any single week (None: no work at all is allowed); `average` the
    4-week average; `medium` the 16-week average of 48 (adults only); `school_week` the most in
    a school week (ages 13-15), more being allowed only in holiday weeks.
    """

    high: Decimal | None
    medium: Decimal | None
    band_en: str
    band_nl: str
    use: ParameterUse
    average: Limit | None = None
    week: Limit | None = None
    school_week: Decimal | None = None
    holiday_weeks: int | None = None
    light_work_only: bool = False

    @property
    def declared_high(self) -> Limit | None:
        """The limit a constant declared week must not exceed (the average where there is one)."""
        return self.average if self.average is not None else self.week


@functools.lru_cache(maxsize=65536)  # a pure function of its (immutable) arguments
def hour_limits(age: int, on: date, params: Parameters) -> HourLimits:
    """The weekly-hours limits that apply to a worker of `age` on `on`."""
    value = params.at("working_time_limits", on)
    v = {key: Decimal(item) for key, item in value.value.items()}
    use = value.as_use()
    if age < v["minimum_age_light_work"]:
        return HourLimits(None, None, "under 13", "jonger dan 13", use)
    if age < 15:
        week = v["child_13_14_holiday_week"]
        return HourLimits(
            week,
            None,
            "aged 13-14",
            "13-14 jaar",
            use,
            week=Limit(
                week,
                "in a holiday week",
                "in een vakantieweek",
                "Nadere regeling kinderarbeid art. 5:1",
            ),
            school_week=v["child_13_14_school_week"],
            holiday_weeks=int(v["child_13_14_holiday_weeks_a_year"]),
            light_work_only=True,
        )
    if age == 15:
        week = v["child_15_holiday_week"]
        return HourLimits(
            week,
            None,
            "aged 15",
            "15 jaar",
            use,
            week=Limit(
                week,
                "in a holiday week",
                "in een vakantieweek",
                "Nadere regeling kinderarbeid art. 5:2",
            ),
            school_week=v["child_15_school_week"],
            holiday_weeks=int(v["child_15_holiday_weeks_a_year"]),
        )
    if age < 18:
        return HourLimits(
            v["young_week_max"],
            None,
            "aged 16-17",
            "16-17 jaar",
            use,
            average=Limit(
                v["young_four_week_average"],
                "on average over 4 weeks",
                "gemiddeld over 4 weken",
                "Arbeidstijdenwet art. 5:7(1)(c)",
            ),
            week=Limit(
                v["young_week_max"],
                "in any week",
                "in een week",
                "Arbeidstijdenwet art. 5:7(1)(b)",
            ),
        )
    return HourLimits(
        v["adult_week_max"],
        v["adult_sixteen_week_average"],
        "aged 18 or older",
        "18 jaar of ouder",
        use,
        average=Limit(
            v["adult_four_week_average"],
            "on average over 4 weeks",
            "gemiddeld over 4 weken",
            "Arbeidstijdenwet art. 5:7(3) (a collective arrangement may allow more, never above "
            "60 in a week)",
        ),
        week=Limit(
            v["adult_week_max"],
            "in any week",
            "in een week",
            "Arbeidstijdenwet art. 5:7(2)(b)",
        ),
    )


def exceeded_limit(
    limits: HourLimits, most_in_a_week: Decimal, on_average: Decimal
) -> Limit | None:
    """The strictest limit broken, or None: the most in any week when `most_in_a_week` is above
    it, else the 4-week average when `on_average` is above it (the one reading of the limits
    that the notification and the payroll checks share). Under 13 no limit is given: any work
    is UNDERAGE_WORK."""
    if limits.week is not None and most_in_a_week > limits.week.hours:
        return limits.week
    if limits.average is not None and on_average > limits.average.hours:
        return limits.average
    return None


def _limits(ctx: Context) -> HourLimits:
    return hour_limits(ctx.age, ctx.judged_on, ctx.params)


@rule(UNDERAGE)
def check_underage_work(ctx: Context) -> list[Verdict]:
    if ctx.employment_period_over or _limits(ctx).high is not None:
        return []
    return verdict(UNDERAGE, age=ctx.age)


@explains(UNDERAGE)
def explain_underage_work(ctx: Context, _v: Verdict) -> Explanation:
    f = ctx.facts
    return Explanation(
        message_en=(
            f"The worker (born {date_en(f.worker.birth_date)}) is {ctx.age} on "
            f"{date_en(ctx.judged_on)}; a child under 13 may not work "
            f"(Arbeidstijdenwet art. 3:2)."
        ),
        message_nl=(
            f"De werknemer (geboren {date_nl(f.worker.birth_date)}) is {ctx.age} jaar op "
            f"{date_nl(ctx.judged_on)}; een kind jonger dan 13 mag niet werken "
            f"(Arbeidstijdenwet art. 3:2)."
        ),
        evidence={
            "age": ctx.age,
            "arithmetic": f"age {ctx.age} < 13",
            "arithmetic_nl": f"leeftijd {ctx.age} < 13",
        },
        parameters=(_limits(ctx).use,),
    )


@rule(CHILD_CONDITIONS)
def check_child_work_conditions(ctx: Context) -> list[Verdict]:
    if ctx.employment_period_over:
        return []
    limits = _limits(ctx)
    hours = ctx.facts.hours_per_week
    if limits.school_week is None or limits.high is None or hours > limits.high:
        return []  # not a child of 13-15, or EXCESSIVE_HOURS says more
    if not limits.light_work_only and hours <= limits.school_week:
        return []
    return verdict(
        CHILD_CONDITIONS,
        period_key=f"age-{min(ctx.age, 15)}",
        hours_per_week=hours,
        school_week_limit=limits.school_week,
        holiday_week_limit=limits.high,
    )


@explains(CHILD_CONDITIONS)
def explain_child_work_conditions(ctx: Context, _v: Verdict) -> Explanation:
    limits = _limits(ctx)
    assert limits.school_week is not None  # the verdict's
    assert limits.high is not None
    hours = ctx.facts.hours_per_week
    school = hours_text(limits.school_week)
    holiday = hours_text(limits.high)
    weeks = limits.holiday_weeks
    h = hours_text(hours)
    if limits.light_work_only:
        message_en = (
            f"The worker is {ctx.age} on {date_en(ctx.judged_on)}. A child of 13 or 14 may do "
            f"only light, non-industrial helper work under supervision, not on school days: at "
            f"most {school} hours in a school week and {holiday} in a holiday week, in at most "
            f"{weeks} holiday weeks a year (Arbeidstijdenwet art. 3:2; Nadere regeling "
            f"kinderarbeid art. 4:1 and 5:1). {h} hours a week are declared."
        )
        message_nl = (
            f"De werknemer is {ctx.age} jaar op {date_nl(ctx.judged_on)}. Een kind van 13 of 14 "
            f"mag alleen licht, niet-industrieel hulpwerk onder toezicht doen, niet op "
            f"schooldagen: ten hoogste {school} uur in een schoolweek en {holiday} in een "
            f"vakantieweek, in ten hoogste {weeks} vakantieweken per jaar (Arbeidstijdenwet "
            f"art. 3:2; Nadere regeling kinderarbeid art. 4:1 en 5:1). Opgegeven is {h} uur per "
            f"week."
        )
    else:
        message_en = (
            f"The declared {h} hours a week are above {school}, the most a worker aged 15 may "
            f"work in a school week. More is allowed only in school holidays, at most {weeks} "
            f"weeks a year and {holiday} hours in a holiday week (Nadere regeling kinderarbeid "
            f"art. 4:2 and 5:2). Age {ctx.age} on {date_en(ctx.judged_on)}."
        )
        message_nl = (
            f"De opgegeven {h} uur per week zijn meer dan {school}, het maximum voor een "
            f"werknemer van 15 in een schoolweek. Meer mag alleen in schoolvakanties, ten "
            f"hoogste {weeks} weken per jaar en {holiday} uur in een vakantieweek (Nadere "
            f"regeling kinderarbeid art. 4:2 en 5:2). Leeftijd {ctx.age} op "
            f"{date_nl(ctx.judged_on)}."
        )
    return Explanation(
        message_en=message_en,
        message_nl=message_nl,
        evidence={
            "hours_per_week": hours,
            "age": ctx.age,
            "school_week_limit": limits.school_week,
            "holiday_week_limit": limits.high,
            "holiday_weeks_a_year": weeks,
            "arithmetic": (
                f"age {ctx.age}: {hours} h a week; school week at most {school}, holiday "
                f"week at most {holiday}"
            ),
            "arithmetic_nl": (
                f"leeftijd {ctx.age}: {hours} uur per week; schoolweek ten hoogste {school}, "
                f"vakantieweek ten hoogste {holiday}"
            ),
        },
        parameters=(limits.use,),
    )


@rule(EXCESSIVE)
def check_excessive_hours(ctx: Context) -> list[Verdict]:
    if ctx.employment_period_over:
        return []
    limits = _limits(ctx)
    hours = ctx.facts.hours_per_week
    # The same hours every week: the declared week is the most in a week and the average.
    limit = exceeded_limit(limits, hours, hours)
    if limit is None:
        return []
    weekly = limit is limits.week
    return verdict(
        EXCESSIVE,
        period_key=f"limit-{limit.hours}",
        hours_per_week=hours,
        limit=limit.hours,
        broken="week" if weekly else "declared",
    )


@explains(EXCESSIVE)
def explain_excessive_hours(ctx: Context, v: Verdict) -> Explanation:
    limits = _limits(ctx)
    hours = ctx.facts.hours_per_week
    limit = limits.week if v.number("broken") == "week" else limits.declared_high
    assert limit is not None  # the verdict's
    h, lim = hours_text(hours), hours_text(limit.hours)
    return Explanation(
        message_en=(
            f"The declared {h} hours a week exceed the limit of {lim} hours {limit.what_en} "
            f"for a worker {limits.band_en} ({limit.article}; age {ctx.age} on "
            f"{date_en(ctx.judged_on)}). The same hours every week break it."
        ),
        message_nl=(
            f"De opgegeven {h} uur per week zijn meer dan het maximum van {lim} uur "
            f"{limit.what_nl} voor een werknemer van {limits.band_nl} ({limit.article}; "
            f"{ctx.age} jaar op {date_nl(ctx.judged_on)}). Elke week dezelfde uren "
            f"overschrijden het."
        ),
        evidence={
            "hours_per_week": hours,
            "limit": limit.hours,
            "limit_basis": limit.article,
            "age": ctx.age,
            "arithmetic": f"{hours} > {limit.hours} ({limit.what_en})",
            "arithmetic_nl": f"{hours} > {limit.hours} ({limit.what_nl})",
        },
        parameters=(limits.use,),
    )


@rule(ABOVE_48)
def check_hours_above_48(ctx: Context) -> list[Verdict]:
    if ctx.employment_period_over:
        return []
    limits = _limits(ctx)
    hours = ctx.facts.hours_per_week
    declared = limits.declared_high
    # Only when the age limit itself is not exceeded: EXCESSIVE_HOURS already says more.
    if limits.medium is None or declared is None or hours > declared.hours:
        return []
    if hours <= limits.medium:
        return []
    return verdict(ABOVE_48, hours_per_week=hours, limit=limits.medium)


@explains(ABOVE_48)
def explain_hours_above_48(ctx: Context, v: Verdict) -> Explanation:
    limits = _limits(ctx)
    hours = ctx.facts.hours_per_week
    medium: Decimal = v.number("limit")
    m = hours_text(medium)
    return Explanation(
        message_en=(
            f"The declared {hours_text(hours)} hours a week are above {m}: the legal average "
            f"of at most {m} hours a week over 16 weeks (Arbeidstijdenwet art. 5:7(2)(c)) "
            f"cannot be met with the same hours every week."
        ),
        message_nl=(
            f"De opgegeven {hours_text(hours)} uur per week zijn meer dan {m}: het wettelijk "
            f"gemiddelde van ten hoogste {m} uur per week over 16 weken (Arbeidstijdenwet "
            f"art. 5:7(2)(c)) kan met elke week dezelfde uren niet worden gehaald."
        ),
        evidence={
            "hours_per_week": hours,
            "limit": medium,
            "arithmetic": f"{hours} > {medium} (the 16-week average)",
            "arithmetic_nl": f"{hours} > {medium} (het gemiddelde over 16 weken)",
        },
        parameters=(limits.use,),
    )
