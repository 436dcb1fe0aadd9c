"""Wage checks: the declared wage against the statutory minimum, and the housing-deduction cap."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from meldplicht.rules import wages
from meldplicht.rules.checks.base import (
    Context,
    RuleInfo,
    date_en,
    date_nl,
    hours_text,
    make_finding,
    out_of_date_caveat,
    rule,
)
from meldplicht.rules.facts import Finding, Severity, WagePeriod

WML_BASIS = (
    "Wet minimumloon en minimumvakantiebijslag art. 7, 8, 14 and 15 (DECISIONS.md section 3); "
    "https://wetten.overheid.nl/BWBR0002638"
)

BELOW_MINIMUM = RuleInfo(
    code="BELOW_MINIMUM_WAGE",
    severity=Severity.HIGH,
    version="1.0.0",
    legal_basis=WML_BASIS,
    title_nl="Loon onder het wettelijk minimumloon",
    title_en="Wage below the statutory minimum",
    description_en=(
        "The declared wage, normalised to an hourly amount excluding holiday allowance, is "
        "below the statutory hourly minimum for the worker's age on the judged date."
    ),
)
UNCHECKABLE = RuleInfo(
    code="WAGE_UNCHECKABLE",
    severity=Severity.MEDIUM,
    version="1.0.0",
    legal_basis=WML_BASIS,
    title_nl="Loon niet te controleren",
    title_en="Wage cannot be checked",
    description_en=(
        "The wage is stated per week, four weeks or month without a positive number of hours "
        "per week, so it cannot be compared with the hourly minimum (incomplete wage "
        "information)."
    ),
)
TABLE_OUT_OF_DATE = RuleInfo(
    code="MINIMUM_WAGE_TABLE_OUT_OF_DATE",
    severity=Severity.INFO,
    version="1.0.0",
    legal_basis=WML_BASIS,
    title_nl="Minimumloontabel mogelijk verouderd",
    title_en="Minimum-wage table possibly out of date",
    description_en=(
        "The wage was judged on a date past the newest half-year (1 January / 1 July) held in "
        "the minimum-wage table; the last known amounts were used."
    ),
)
HOUSING = RuleInfo(
    code="HOUSING_DEDUCTION_ABOVE_CAP",
    severity=Severity.HIGH,
    version="1.0.0",
    legal_basis=(
        "Wet minimumloon en minimumvakantiebijslag art. 13; Besluit Stb. 2016, 419 "
        "(DECISIONS.md section 9); https://zoek.officielebekendmakingen.nl/stb-2016-419.html"
    ),
    title_nl="Inhouding voor huisvesting boven het maximum",
    title_en="Housing deduction above the cap",
    description_en=(
        "The monthly housing deduction exceeds 25% of the minimum wage due for the month "
        "(hours per week x hourly minimum x 13/3); with the configuration flag on, the "
        "announced (not enacted) phase-out rate instead."
    ),
)

PERIOD_EN = {
    WagePeriod.HOUR: "hour",
    WagePeriod.WEEK: "week",
    WagePeriod.FOUR_WEEKS: "four weeks",
    WagePeriod.MONTH: "month",
}
PERIOD_NL = {
    WagePeriod.HOUR: "uur",
    WagePeriod.WEEK: "week",
    WagePeriod.FOUR_WEEKS: "vier weken",
    WagePeriod.MONTH: "maand",
}


def _two(declared: Decimal, minimum: Decimal) -> tuple[str, str, str, str]:
    """Display both amounts; with 4 decimals when cents would hide the difference."""
    places = Decimal("0.01")
    if declared.quantize(places, ROUND_HALF_UP) == minimum.quantize(places, ROUND_HALF_UP):
        places = Decimal("0.0001")
    d = declared.quantize(places, ROUND_HALF_UP)
    m = minimum.quantize(places, ROUND_HALF_UP)
    return f"EUR {d}", f"EUR {m}", f"€ {d}".replace(".", ","), f"€ {m}".replace(".", ",")


def _declared_texts(ctx: Context, hourly_en: str, hourly_nl: str) -> tuple[str, str]:
    f = ctx.facts
    holiday_en = " including holiday allowance" if f.wage_includes_holiday_allowance else ""
    holiday_nl = " inclusief vakantiegeld" if f.wage_includes_holiday_allowance else ""
    if f.wage_period is WagePeriod.HOUR and not f.wage_includes_holiday_allowance:
        return f"{hourly_en} per hour", f"{hourly_nl} per uur"
    if f.wage_period is WagePeriod.HOUR:
        return (
            f"{wages.eur(f.wage_amount)} per hour{holiday_en} ({hourly_en} per hour without it)",
            f"{wages.eur_nl(f.wage_amount)} per uur{holiday_nl} ({hourly_nl} per uur zonder)",
        )
    hours = hours_text(f.hours_per_week)
    return (
        f"{wages.eur(f.wage_amount)} per {PERIOD_EN[f.wage_period]}{holiday_en} at {hours} "
        f"hours a week ({hourly_en} per hour excluding holiday allowance)",
        f"{wages.eur_nl(f.wage_amount)} per {PERIOD_NL[f.wage_period]}{holiday_nl} bij {hours} "
        f"uur per week ({hourly_nl} per uur zonder vakantiegeld)",
    )


def _arithmetic(ctx: Context, declared: Decimal, minimum: wages.MinimumWage) -> str:
    f = ctx.facts
    steps = {
        WagePeriod.HOUR: f"{f.wage_amount}",
        WagePeriod.WEEK: f"{f.wage_amount} / {f.hours_per_week} h",
        WagePeriod.FOUR_WEEKS: f"{f.wage_amount} / (4 x {f.hours_per_week} h)",
        WagePeriod.MONTH: f"{f.wage_amount} x 3 / (13 x {f.hours_per_week} h)",
    }[f.wage_period]
    if f.wage_includes_holiday_allowance:
        steps = f"({steps}) / {1 + ctx.holiday_rate}"
    return (
        f"declared hourly = {steps} = {declared:.6f}; minimum: {minimum.basis_en}; "
        f"{declared:.6f} {'<' if declared < minimum.hourly else '>='} {minimum.hourly:.6f}. "
        f"Amounts are compared unrounded; messages round half-up to cents."
    )


def _skip(ctx: Context) -> bool:
    return ctx.employment_period_over or ctx.minimum is None


@rule(BELOW_MINIMUM)
def check_below_minimum_wage(ctx: Context) -> list[Finding]:
    if _skip(ctx) or ctx.declared_hourly is None:
        return []
    minimum = ctx.minimum
    assert minimum is not None  # _skip
    declared = ctx.declared_hourly
    if declared >= minimum.hourly:
        return []
    d_en, m_en, d_nl, m_nl = _two(declared, minimum.hourly)
    declared_en, declared_nl = _declared_texts(ctx, d_en, d_nl)
    caveat_en, caveat_nl = out_of_date_caveat(minimum, ctx.params)
    basis_en = basis_nl = ""
    if minimum.fulltime_hours is not None:
        basis_en = f" ({minimum.basis_en})"
        basis_nl = f" ({minimum.basis_nl})"
    on = ctx.judged_on
    return [
        make_finding(
            BELOW_MINIMUM,
            ctx,
            message_en=(
                f"The declared wage of {declared_en} is below the statutory minimum of {m_en} "
                f"per hour for a worker aged {minimum.age} on {date_en(on)}{basis_en}."
                f"{caveat_en}"
            ),
            message_nl=(
                f"Het opgegeven loon van {declared_nl} ligt onder het wettelijk minimum van "
                f"{m_nl} per uur voor een werknemer van {minimum.age} jaar op {date_nl(on)}"
                f"{basis_nl}.{caveat_nl}"
            ),
            evidence={
                "declared_hourly": declared,
                "minimum_hourly": minimum.hourly,
                "shortfall_per_hour": minimum.hourly - declared,
                "age": minimum.age,
                "assumed_fulltime_hours": minimum.assumed_fulltime_hours,
                "fulltime_hours": minimum.fulltime_hours,
                "possibly_out_of_date": minimum.possibly_out_of_date,
                "arithmetic": _arithmetic(ctx, declared, minimum),
            },
            parameters=minimum.parameters,
            period_key=f"{minimum.table_effective_from.isoformat()}/age-{min(minimum.age, 21)}",
        )
    ]


@rule(UNCHECKABLE)
def check_wage_uncheckable(ctx: Context) -> list[Finding]:
    if ctx.employment_period_over or ctx.declared_hourly is not None:
        return []
    f = ctx.facts
    stated = f.hours_per_week > 0
    hours_en = f"are {hours_text(f.hours_per_week)}" if stated else "were not stated"
    hours_nl = f"{hours_text(f.hours_per_week)} is" if stated else "niet is opgegeven"
    return [
        make_finding(
            UNCHECKABLE,
            ctx,
            message_en=(
                f"The wage of {wages.eur(f.wage_amount)} per {PERIOD_EN[f.wage_period]} cannot "
                f"be checked against the hourly minimum because the hours per week "
                f"{hours_en}. Please state the hours per week in a change notice."
            ),
            message_nl=(
                f"Het loon van {wages.eur_nl(f.wage_amount)} per {PERIOD_NL[f.wage_period]} kan "
                f"niet met het minimumuurloon worden vergeleken omdat het aantal uren per week "
                f"{hours_nl}. Geef de uren per week op in een wijzigingsmelding."
            ),
            evidence={"arithmetic": "hourly wage = amount / hours: hours per week missing or 0"},
        )
    ]


@rule(TABLE_OUT_OF_DATE)
def check_table_out_of_date(ctx: Context) -> list[Finding]:
    if _skip(ctx):
        return []
    minimum = ctx.minimum
    assert minimum is not None
    caveat_en, caveat_nl = out_of_date_caveat(minimum, ctx.params)
    if not caveat_en:
        return []
    missing = date.fromordinal(ctx.params.table_ends("wml_hourly").toordinal() + 1)
    return [
        make_finding(
            TABLE_OUT_OF_DATE,
            ctx,
            message_en=(
                f"The wage was judged on {date_en(ctx.judged_on)} using the minimum of "
                f"{wages.eur(minimum.hourly)} per hour for age {minimum.age}.{caveat_en}"
            ),
            message_nl=(
                f"Het loon is beoordeeld op {date_nl(ctx.judged_on)} met het minimum van "
                f"{wages.eur_nl(minimum.hourly)} per uur voor {minimum.age} jaar.{caveat_nl}"
            ),
            evidence={"table_ends": ctx.params.table_ends("wml_hourly")},
            parameters=minimum.parameters,
            period_key=missing.isoformat(),
        )
    ]


@rule(HOUSING)
def check_housing_deduction(ctx: Context) -> list[Finding]:
    f = ctx.facts
    deduction = f.housing_deduction_monthly
    if (
        _skip(ctx)
        or not f.housing_provided
        or deduction is None
        or deduction <= 0
        or f.hours_per_week <= 0
    ):
        return []
    minimum = ctx.minimum
    assert minimum is not None
    cap = wages.housing_deduction_cap(
        f.hours_per_week,
        minimum,
        ctx.judged_on,
        apply_announced_housing_phase_out=ctx.housing_phase_out,
        params=ctx.params,
    )
    if deduction <= cap.monthly_cap:
        return []
    percent = f"{(cap.rate * 100).normalize():f}%"
    which_en = (
        f"the announced phase-out cap of {percent} (announced, not in force; applied by "
        f"configuration)"
        if cap.announced_phase_out_applied
        else f"the statutory cap of {percent}"
    )
    which_nl = (
        f"het aangekondigde afbouwmaximum van {percent} (aangekondigd, niet in werking; "
        f"toegepast via configuratie)"
        if cap.announced_phase_out_applied
        else f"het wettelijk maximum van {percent}"
    )
    hours = hours_text(f.hours_per_week)
    caveat_en, caveat_nl = out_of_date_caveat(minimum, ctx.params)
    return [
        make_finding(
            HOUSING,
            ctx,
            message_en=(
                f"The monthly housing deduction of {wages.eur(deduction)} is above "
                f"{wages.eur(cap.monthly_cap)}, {which_en} of the minimum wage due for "
                f"{hours} hours a week ({wages.eur(cap.minimum_monthly_due)} a month for a "
                f"worker aged {minimum.age} on {date_en(ctx.judged_on)}).{caveat_en}"
            ),
            message_nl=(
                f"De maandelijkse inhouding voor huisvesting van {wages.eur_nl(deduction)} is "
                f"hoger dan {wages.eur_nl(cap.monthly_cap)}, {which_nl} van het minimumloon "
                f"voor {hours} uur per week ({wages.eur_nl(cap.minimum_monthly_due)} per maand "
                f"voor een werknemer van {minimum.age} jaar op {date_nl(ctx.judged_on)})."
                f"{caveat_nl}"
            ),
            evidence={
                "deduction_monthly": deduction,
                "cap_monthly": cap.monthly_cap,
                "cap_rate": cap.rate,
                "announced_phase_out_applied": cap.announced_phase_out_applied,
                "minimum_monthly_due": cap.minimum_monthly_due,
                "arithmetic": (
                    f"cap = {cap.rate} x ({minimum.hourly} x {f.hours_per_week} h x 13 / 3) "
                    f"= {cap.monthly_cap:.6f}; deduction {deduction} > cap"
                ),
            },
            parameters=cap.parameters,
            period_key=f"{minimum.table_effective_from.isoformat()}/rate-{cap.rate}",
        )
    ]
