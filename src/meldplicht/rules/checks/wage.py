"""Wage checks: the declared wage against the statutory minimum, and the housing-deduction cap."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction

from meldplicht.rules import wages
from meldplicht.rules.checks.base import (
    Context,
    Explanation,
    RuleInfo,
    Verdict,
    date_en,
    date_nl,
    explains,
    hours_text,
    out_of_date_caveat,
    rule,
    verdict,
)
from meldplicht.rules.facts import Severity, WagePeriod

WML_BASIS = (
    "Wet minimumloon en minimumvakantiebijslag art. 7, 8, 12, 14 and 15; Besluit "
    "minimumjeugdloonregeling art. 2 (youth shares); https://wetten.overheid.nl/BWBR0002638"
)
HOUSING_BASIS = (
    "Wet minimumloon en minimumvakantiebijslag art. 13; Besluit minimumloon en "
    "minimumvakantiebijslag art. 2a (Stb. 2016, 419); "
    "https://zoek.officielebekendmakingen.nl/stb-2016-419.html"
)

BELOW_MINIMUM = RuleInfo(
    code="BELOW_MINIMUM_WAGE",
    severity=Severity.HIGH,
    version="2.0.0",
    legal_basis=WML_BASIS,
    title_nl="Loon onder het wettelijk minimumloon",
    title_en="Wage below the statutory minimum",
    description_en=(
        "The declared wage, excluding holiday allowance, is below the statutory minimum for "
        "the worker's age on the judged date, compared exactly in the law's own unit: before "
        "2024 a monthly wage against the monthly amount and any other wage against the weekly "
        "amount, pro rata the hours of the full-time week; from 2024 against the hourly amount "
        "times the hours. Past the newest table held, against the least the minimum can be "
        "(the last adult amount x the youth share in force, rounded down)."
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
    version="2.0.0",
    legal_basis=WML_BASIS,
    title_nl="Minimumloon nog niet te bevestigen",
    title_en="Minimum wage cannot be confirmed yet",
    description_en=(
        "The wage is judged on a date past the newest minimum-wage table held. It is not below "
        "the least the new minimum can be, but it is below what the new minimum could be if it "
        "rises as much as it ever has in half a year, so it cannot be confirmed until the new "
        "table is entered."
    ),
)
HOUSING = RuleInfo(
    code="HOUSING_DEDUCTION_ABOVE_CAP",
    severity=Severity.HIGH,
    version="2.0.0",
    legal_basis=HOUSING_BASIS,
    title_nl="Inhouding voor huisvesting boven het maximum",
    title_en="Housing deduction above the cap",
    description_en=(
        "The monthly housing deduction exceeds 25% of the minimum wage due for a month at the "
        "declared hours (hours per week x hourly minimum x 13/3; before 2024 the monthly amount "
        "pro rata the full-time week)."
    ),
)
HOUSING_CONDITIONS = RuleInfo(
    code="HOUSING_DEDUCTION_CONDITIONS",
    severity=Severity.MEDIUM,
    version="1.0.0",
    legal_basis=HOUSING_BASIS,
    title_nl="Inhouding voor huisvesting zonder volmacht of keurmerk",
    title_en="Housing deduction without written authorisation or certified housing",
    description_en=(
        "A housing deduction is declared, but the notification does not confirm both that the "
        "worker authorised it in writing and that the housing meets the quality requirement "
        "(certified housing). Without both, no deduction from the minimum wage is allowed."
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


def _arithmetic(ctx: Context, declared: Decimal, floor: Decimal, below: bool) -> tuple[str, str]:
    """The comparison as text for inspectors, in English and in Dutch."""
    f = ctx.facts
    minimum = ctx.minimum
    assert minimum is not None
    hours = f.hours_per_week
    steps_en = {
        WagePeriod.HOUR: f"{f.wage_amount}",
        WagePeriod.WEEK: f"{f.wage_amount} / {hours} h",
        WagePeriod.FOUR_WEEKS: f"{f.wage_amount} / (4 x {hours} h)",
        WagePeriod.MONTH: f"{f.wage_amount} x 3 / (13 x {hours} h)",
    }[f.wage_period]
    steps_nl = steps_en.replace(" h", " u")
    if f.wage_includes_holiday_allowance:
        steps_en = f"({steps_en}) / {1 + ctx.holiday_rate}"
        steps_nl = f"({steps_nl}) / {1 + ctx.holiday_rate}"
    sign = "<" if below else ">="
    period_en = period_nl = ""
    if f.wage_period is not WagePeriod.HOUR:
        due = wages.to_decimal(minimum.period_minimum(f.wage_period, hours))
        period_en = (
            f" Per {PERIOD_EN[f.wage_period]} at {hours_text(hours)} hours a week the minimum is "
            f"{due:.4f} (excluding holiday allowance)."
        )
        period_nl = (
            f" Per {PERIOD_NL[f.wage_period]} bij {hours_text(hours)} uur per week is het "
            f"minimum {due:.4f} (zonder vakantiegeld)."
        )
    if minimum.monthly is not None and f.wage_period is WagePeriod.MONTH:
        unit_en = (
            f" A monthly wage is compared with the monthly amount {minimum.monthly} pro rata "
            f"{hours_text(hours)} / {minimum.fulltime_hours} hours."
        )
        unit_nl = (
            f" Een maandloon wordt vergeleken met het maandbedrag {minimum.monthly} naar rato "
            f"van {hours_text(hours)} / {minimum.fulltime_hours} uur."
        )
    else:
        unit_en = unit_nl = ""
    return (
        f"declared hourly = {steps_en} = {declared:.6f}; minimum: {minimum.basis_en}; "
        f"{declared:.6f} {sign} {floor:.6f}.{period_en}{unit_en} Amounts are compared exactly "
        f"(as fractions); messages round half-up to cents.",
        f"opgegeven uurloon = {steps_nl} = {declared:.6f}; minimum: {minimum.basis_nl}; "
        f"{declared:.6f} {sign} {floor:.6f}.{period_nl}{unit_nl} Bedragen worden exact "
        f"vergeleken (als breuken); berichten ronden half naar boven af op centen.",
    )


def _skip(ctx: Context) -> bool:
    return ctx.employment_period_over or ctx.minimum is None


def _bbl_hint(ctx: Context, minimum: wages.MinimumWage) -> tuple[str, str]:
    """Tell the employer of an 18-20-year-old that a bbl student has a lower minimum."""
    if minimum.bbl or wages.bbl_share(minimum.age, ctx.judged_on, ctx.params) is None:
        return "", ""
    return (
        " If the worker follows the beroepsbegeleidende leerweg (bbl, work-study), say so in a "
        "change notice: a lower minimum then applies until 31 December 2026.",
        " Volgt de werknemer de beroepsbegeleidende leerweg (bbl), geef dat dan op in een "
        "wijzigingsmelding: tot en met 31 december 2026 geldt dan een lager minimum.",
    )


@rule(BELOW_MINIMUM)
def check_below_minimum_wage(ctx: Context) -> list[Verdict]:
    if _skip(ctx) or ctx.declared_hourly_exact is None:
        return []
    minimum = ctx.minimum
    assert minimum is not None  # _skip
    floor_exact = minimum.hourly_floor(ctx.facts.wage_period)
    if ctx.declared_hourly_exact >= floor_exact:
        return []
    key = minimum.missing_table or minimum.table_effective_from
    suffix = ("/bbl" if minimum.bbl else "") + ("/at-least" if minimum.lower_bound else "")
    return verdict(
        BELOW_MINIMUM,
        period_key=f"{key.isoformat()}/age-{min(minimum.age, 21)}{suffix}",
        declared_hourly=ctx.declared_hourly_exact,
        minimum_hourly=floor_exact,
        age=minimum.age,
    )


@explains(BELOW_MINIMUM)
def explain_below_minimum_wage(ctx: Context, v: Verdict) -> Explanation:
    minimum = ctx.minimum
    assert minimum is not None  # the verdict needs one
    declared = wages.to_decimal(v.number("declared_hourly"))
    floor = wages.to_decimal(v.number("minimum_hourly"))
    d_en, m_en, d_nl, m_nl = _two(declared, floor)
    declared_en, declared_nl = _declared_texts(ctx, d_en, d_nl)
    least_en = " of at least" if minimum.lower_bound else " of"
    least_nl = " van ten minste" if minimum.lower_bound else " van"
    basis_en = basis_nl = ""
    if minimum.fulltime_hours is not None or minimum.lower_bound or minimum.bbl:
        basis_en = f" ({minimum.basis_en})"
        basis_nl = f" ({minimum.basis_nl})"
    hint_en, hint_nl = _bbl_hint(ctx, minimum)
    arithmetic_en, arithmetic_nl = _arithmetic(ctx, declared, floor, below=True)
    on = ctx.judged_on
    return Explanation(
        message_en=(
            f"The declared wage of {declared_en} is below the statutory minimum{least_en} "
            f"{m_en} per hour for a worker aged {minimum.age} on {date_en(on)}{basis_en}."
            f"{hint_en}"
        ),
        message_nl=(
            f"Het opgegeven loon van {declared_nl} ligt onder het wettelijk minimum"
            f"{least_nl} {m_nl} per uur voor een werknemer van {minimum.age} jaar op "
            f"{date_nl(on)}{basis_nl}.{hint_nl}"
        ),
        evidence={
            "declared_hourly": declared,
            "minimum_hourly": floor,
            "shortfall_per_hour": floor - declared,
            "age": minimum.age,
            "assumed_fulltime_hours": minimum.assumed_fulltime_hours,
            "fulltime_hours": minimum.fulltime_hours,
            "possibly_out_of_date": minimum.possibly_out_of_date,
            "lower_bound": minimum.lower_bound,
            "bbl_student": minimum.bbl,
            "arithmetic": arithmetic_en,
            "arithmetic_nl": arithmetic_nl,
        },
        parameters=minimum.parameters,
    )


@rule(UNCHECKABLE)
def check_wage_uncheckable(ctx: Context) -> list[Verdict]:
    if ctx.employment_period_over or ctx.declared_hourly_exact is not None:
        return []
    return verdict(UNCHECKABLE, hours_per_week=ctx.facts.hours_per_week)


@explains(UNCHECKABLE)
def explain_wage_uncheckable(ctx: Context, _v: Verdict) -> Explanation:
    f = ctx.facts
    stated = f.hours_per_week > 0
    hours_en = f"are {hours_text(f.hours_per_week)}" if stated else "were not stated"
    hours_nl = f"{hours_text(f.hours_per_week)} is" if stated else "niet is opgegeven"
    return Explanation(
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
        evidence={
            "arithmetic": "hourly wage = amount / hours: hours per week missing or 0",
            "arithmetic_nl": "uurloon = bedrag / uren: uren per week ontbreken of 0",
        },
    )


@rule(TABLE_OUT_OF_DATE)
def check_table_out_of_date(ctx: Context) -> list[Verdict]:
    if _skip(ctx) or ctx.declared_hourly_exact is None:
        return []
    minimum = ctx.minimum
    assert minimum is not None
    if not minimum.lower_bound or minimum.plausible_upper is None:
        return []
    declared = ctx.declared_hourly_exact
    upper = Fraction(minimum.plausible_upper)
    if declared < minimum.hourly_floor(ctx.facts.wage_period) or declared >= upper:
        return []
    missing = minimum.missing_table
    assert missing is not None
    return verdict(
        TABLE_OUT_OF_DATE,
        period_key=missing.isoformat(),
        declared_hourly=declared,
        minimum_at_least=minimum.hourly,
        minimum_plausible_upper=minimum.plausible_upper,
    )


@explains(TABLE_OUT_OF_DATE)
def explain_table_out_of_date(ctx: Context, v: Verdict) -> Explanation:
    minimum = ctx.minimum
    assert minimum is not None  # the verdict's
    assert minimum.plausible_upper is not None
    missing = minimum.missing_table
    assert missing is not None
    shown = wages.to_decimal(v.number("declared_hourly"))
    upper_shown = minimum.plausible_upper.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    rise = wages.largest_half_yearly_rise(ctx.params)
    rise_text = f"{float(rise) * 100:.2f}%"
    return Explanation(
        message_en=(
            f"The declared wage of {wages.eur(shown)} per hour (excluding holiday allowance) "
            f"is not below the least the minimum can be for a worker aged {minimum.age} on "
            f"{date_en(ctx.judged_on)} ({wages.eur(minimum.hourly)}), but it cannot be "
            f"confirmed until the table of {date_en(missing)} is entered: if the amounts "
            f"rise as much as they ever have in half a year, the minimum would be about "
            f"{wages.eur(upper_shown)}."
        ),
        message_nl=(
            f"Het opgegeven loon van {wages.eur_nl(shown)} per uur (zonder vakantiegeld) ligt "
            f"niet onder het laagste dat het minimum kan zijn voor een werknemer van "
            f"{minimum.age} jaar op {date_nl(ctx.judged_on)} "
            f"({wages.eur_nl(minimum.hourly)}), maar kan pas worden bevestigd als de tabel "
            f"van {date_nl(missing)} is ingevoerd: stijgen de bedragen zoveel als ooit in "
            f"een half jaar, dan wordt het minimum ongeveer {wages.eur_nl(upper_shown)}."
        ),
        evidence={
            "declared_hourly": shown,
            "minimum_at_least": minimum.hourly,
            "minimum_plausible_upper": minimum.plausible_upper,
            "table_ends": ctx.params.table_ends("wml_hourly"),
            "arithmetic": (
                f"{minimum.basis_en}; {minimum.hourly} <= {shown:.6f} < "
                f"{minimum.plausible_upper:.6f} (the least x (1 + {rise_text}), the largest "
                f"half-yearly rise held)"
            ),
            "arithmetic_nl": (
                f"{minimum.basis_nl}; {minimum.hourly} <= {shown:.6f} < "
                f"{minimum.plausible_upper:.6f} (het laagste x (1 + {rise_text}), de "
                f"grootste halfjaarlijkse stijging in de tabellen)"
            ),
        },
        parameters=minimum.parameters,
    )


def _deduction(ctx: Context) -> Decimal | None:
    """The declared monthly housing deduction, when the housing checks apply."""
    f = ctx.facts
    deduction = f.housing_deduction_monthly
    if _skip(ctx) or not f.housing_provided or deduction is None or deduction <= 0:
        return None
    return deduction


def _cap(ctx: Context) -> wages.HousingCap:
    minimum = ctx.minimum
    assert minimum is not None  # _deduction
    return wages.housing_deduction_cap(
        ctx.facts.hours_per_week, minimum, ctx.judged_on, params=ctx.params
    )


@rule(HOUSING)
def check_housing_deduction(ctx: Context) -> list[Verdict]:
    deduction = _deduction(ctx)
    if deduction is None or ctx.facts.hours_per_week <= 0:
        return []
    minimum = ctx.minimum
    assert minimum is not None
    cap = _cap(ctx)
    if deduction <= cap.monthly_cap:
        return []
    return verdict(
        HOUSING,
        period_key=f"{minimum.table_effective_from.isoformat()}/rate-{cap.rate}",
        deduction_monthly=deduction,
        cap_monthly=cap.monthly_cap,
    )


@explains(HOUSING)
def explain_housing_deduction(ctx: Context, v: Verdict) -> Explanation:
    f = ctx.facts
    minimum = ctx.minimum
    assert minimum is not None
    deduction: Decimal = v.number("deduction_monthly")
    cap = _cap(ctx)
    percent = f"{(cap.rate * 100).normalize():f}%"
    hours = hours_text(f.hours_per_week)
    caveat_en, caveat_nl = out_of_date_caveat(minimum, ctx.params)
    if minimum.lower_bound:
        caveat_en = (
            f" The amounts from {date_en(minimum.missing_table or ctx.judged_on)} are not yet "
            f"held, so the cap is taken from the highest the minimum could plausibly be."
        )
        caveat_nl = (
            f" De bedragen vanaf {date_nl(minimum.missing_table or ctx.judged_on)} zijn nog "
            f"niet bekend, dus het maximum is berekend op het hoogste dat het minimum "
            f"redelijkerwijs kan zijn."
        )
    arithmetic = (
        f"cap = {cap.rate} x minimum due for a month at {hours} h a week "
        f"({cap.minimum_monthly_due:.6f}) = {cap.monthly_cap:.6f}; deduction {deduction} > cap"
    )
    arithmetic_nl = (
        f"maximum = {cap.rate} x minimumloon voor een maand bij {hours} uur per week "
        f"({cap.minimum_monthly_due:.6f}) = {cap.monthly_cap:.6f}; inhouding {deduction} > "
        f"maximum"
    )
    return Explanation(
        message_en=(
            f"The monthly housing deduction of {wages.eur(deduction)} is above "
            f"{wages.eur(cap.monthly_cap)}, the statutory cap of {percent} of the minimum "
            f"wage due for {hours} hours a week ({wages.eur(cap.minimum_monthly_due)} a "
            f"month for a worker aged {minimum.age} on {date_en(ctx.judged_on)}).{caveat_en}"
        ),
        message_nl=(
            f"De maandelijkse inhouding voor huisvesting van {wages.eur_nl(deduction)} is "
            f"hoger dan {wages.eur_nl(cap.monthly_cap)}, het wettelijk maximum van {percent} "
            f"van het minimumloon voor {hours} uur per week "
            f"({wages.eur_nl(cap.minimum_monthly_due)} per maand voor een werknemer van "
            f"{minimum.age} jaar op {date_nl(ctx.judged_on)}).{caveat_nl}"
        ),
        evidence={
            "deduction_monthly": deduction,
            "cap_monthly": cap.monthly_cap,
            "cap_rate": cap.rate,
            "minimum_monthly_due": cap.minimum_monthly_due,
            "arithmetic": arithmetic,
            "arithmetic_nl": arithmetic_nl,
        },
        parameters=cap.parameters,
    )


def _condition_text(
    value: bool | None, en: tuple[str, str], nl: tuple[str, str]
) -> tuple[str, str]:
    """(not stated, stated as not met) wording for one condition, or empty when it is met."""
    if value is True:
        return "", ""
    return (en[0], nl[0]) if value is None else (en[1], nl[1])


@rule(HOUSING_CONDITIONS)
def check_housing_deduction_conditions(ctx: Context) -> list[Verdict]:
    f = ctx.facts
    deduction = _deduction(ctx)
    if deduction is None or (f.housing_written_consent is True and f.housing_certified is True):
        return []
    return verdict(
        HOUSING_CONDITIONS,
        deduction_monthly=deduction,
        written_consent=f.housing_written_consent,
        certified_housing=f.housing_certified,
    )


@explains(HOUSING_CONDITIONS)
def explain_housing_deduction_conditions(ctx: Context, v: Verdict) -> Explanation:
    f = ctx.facts
    deduction: Decimal = v.number("deduction_monthly")
    consent = _condition_text(
        f.housing_written_consent,
        (
            "the worker's written authorisation is not stated",
            "the worker did not authorise it in writing",
        ),
        (
            "is niet opgegeven dat de werknemer schriftelijk volmacht gaf",
            "de werknemer gaf geen schriftelijke volmacht",
        ),
    )
    certified = _condition_text(
        f.housing_certified,
        (
            "the housing is not stated to meet the quality requirement (certified housing)",
            "the housing is declared as not certified",
        ),
        (
            "is niet opgegeven dat de huisvesting aan de kwaliteitseisen voldoet (gecertificeerd)",
            "de huisvesting is opgegeven als niet gecertificeerd",
        ),
    )
    missing_en = [text for text in (consent[0], certified[0]) if text]
    missing_nl = [text for text in (consent[1], certified[1]) if text]
    return Explanation(
        message_en=(
            f"A monthly housing deduction of {wages.eur(deduction)} is declared, but "
            f"{' and '.join(missing_en)}. A deduction from the minimum wage is allowed only "
            f"as a payment the worker authorised in writing, made to the landlord, for rent, "
            f"individually metered utilities and service costs, of housing that meets the "
            f"quality requirement (certified housing). If both conditions are met, say so in "
            f"a change notice."
        ),
        message_nl=(
            f"Er is een maandelijkse inhouding voor huisvesting van "
            f"{wages.eur_nl(deduction)} opgegeven, maar {' en '.join(missing_nl)}. Een "
            f"inhouding op het minimumloon mag alleen als betaling die de werknemer "
            f"schriftelijk heeft gemachtigd, aan de verhuurder, voor huur, individueel "
            f"bemeten nutsvoorzieningen en servicekosten, van huisvesting die aan de "
            f"kwaliteitseisen voldoet (gecertificeerde huisvesting). Is aan beide voldaan, "
            f"geef dat dan op in een wijzigingsmelding."
        ),
        evidence={
            "deduction_monthly": deduction,
            "written_consent": f.housing_written_consent,
            "certified_housing": f.housing_certified,
            "arithmetic": (
                f"deduction {deduction} > 0; written authorisation: "
                f"{_stated_en(f.housing_written_consent)}; certified housing: "
                f"{_stated_en(f.housing_certified)}"
            ),
            "arithmetic_nl": (
                f"inhouding {deduction} > 0; schriftelijke volmacht: "
                f"{_stated_nl(f.housing_written_consent)}; gecertificeerde huisvesting: "
                f"{_stated_nl(f.housing_certified)}"
            ),
        },
    )


def _stated_en(value: bool | None) -> str:
    return "not stated" if value is None else ("yes" if value else "no")


def _stated_nl(value: bool | None) -> str:
    return "niet opgegeven" if value is None else ("ja" if value else "nee")
