"""Wage arithmetic: normalising declared wages to an hourly amount, ages, and the statutory minimum.

Everything is Decimal at full precision (28 significant digits); only `eur()` rounds, and only
for display (ROUND_HALF_UP to cents). Comparisons always use the unrounded amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from meldplicht.rules.facts import ParameterUse, WagePeriod
from meldplicht.rules.params import Parameters, ParameterValue, get_parameters

CENT = Decimal("0.01")
WEEKS_PER_MONTH = Decimal(13) / Decimal(3)  # 52 weeks / 12 months, kept as the exact ratio
DEFAULT_FULLTIME_HOURS = Decimal(40)  # DECISIONS.md section 3: the most lenient reading
DEFAULT_HOLIDAY_ALLOWANCE_RATE = Decimal("0.08")
ADULT_AGE = 21  # the tables' top key: 21 and older
YOUTH_TABLE_MIN_AGE = 15  # the WML has no amount below 15


class WageNotCheckable(ValueError):
    """The declared wage cannot be normalised to an hourly amount (e.g. no hours per week)."""


def eur(amount: Decimal) -> str:
    """Display an amount as `EUR 1234.57` (ROUND_HALF_UP to cents, display only)."""
    return f"EUR {amount.quantize(CENT, rounding=ROUND_HALF_UP)}"


def eur_nl(amount: Decimal) -> str:
    """Display an amount the Dutch way, `€ 1.234,57` (ROUND_HALF_UP to cents, display only)."""
    text = f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"
    return "€ " + text.replace(",", "_").replace(".", ",").replace("_", ".")


def _weeks_per_period(period: WagePeriod) -> Decimal | None:
    if period is WagePeriod.WEEK:
        return Decimal(1)
    if period is WagePeriod.FOUR_WEEKS:
        return Decimal(4)
    if period is WagePeriod.MONTH:
        return WEEKS_PER_MONTH
    return None


def hourly_wage(
    amount: Decimal,
    period: WagePeriod,
    hours_per_week: Decimal | None,
    includes_holiday_allowance: bool,
    holiday_allowance_rate: Decimal = DEFAULT_HOLIDAY_ALLOWANCE_RATE,
) -> Decimal:
    """Normalise a declared wage to an hourly amount excluding holiday allowance.

    A month is 13/3 weeks. A wage that includes the holiday allowance is divided by
    (1 + rate), i.e. 1.08. Raises WageNotCheckable for a non-hourly wage without hours.
    """
    weeks = _weeks_per_period(period)
    if weeks is None:
        hourly = amount
    else:
        if hours_per_week is None or hours_per_week <= 0:
            raise WageNotCheckable(f"a wage per {period.value} needs the hours per week")
        if period is WagePeriod.MONTH:
            # amount * 3 / (13 * hours): one division keeps the result as exact as possible.
            hourly = amount * 3 / (13 * hours_per_week)
        else:
            hourly = amount / (weeks * hours_per_week)
    if includes_holiday_allowance:
        hourly = hourly / (1 + holiday_allowance_rate)
    return hourly


def amount_for_period(
    hourly: Decimal,
    period: WagePeriod,
    hours_per_week: Decimal | None,
    includes_holiday_allowance: bool,
    holiday_allowance_rate: Decimal = DEFAULT_HOLIDAY_ALLOWANCE_RATE,
) -> Decimal:
    """The inverse of `hourly_wage`: the amount per period for an hourly wage."""
    amount = hourly * (1 + holiday_allowance_rate) if includes_holiday_allowance else hourly
    weeks = _weeks_per_period(period)
    if weeks is None:
        return amount
    if hours_per_week is None or hours_per_week <= 0:
        raise WageNotCheckable(f"a wage per {period.value} needs the hours per week")
    if period is WagePeriod.MONTH:
        return amount * 13 * hours_per_week / 3
    return amount * weeks * hours_per_week


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years on `on`.

    Someone born on 29 February turns a year older on 1 March in a non-leap year: the
    tuple comparison treats (2, 28) as before (2, 29).
    """
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(before_birthday)


def birthday_in(birth_date: date, year: int) -> date:
    """The day in `year` on which the age advances (1 March for a 29 February birthday)."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def next_birthday(birth_date: date, after: date) -> date:
    """The first day strictly after `after` on which the age advances."""
    candidate = birthday_in(birth_date, after.year)
    if candidate <= after:
        candidate = birthday_in(birth_date, after.year + 1)
    return candidate


@dataclass(frozen=True, slots=True)
class MinimumWage:
    """The statutory hourly minimum for one age on one date, and how it was reached."""

    hourly: Decimal
    age: int
    on: date
    basis_en: str
    basis_nl: str
    parameters: tuple[ParameterUse, ...]
    assumed_fulltime_hours: bool
    fulltime_hours: Decimal | None  # only before 2024
    possibly_out_of_date: bool
    table_effective_from: date


def _age_key(age: int) -> str:
    return str(min(age, ADULT_AGE))


def minimum_hourly_wage(
    age: int,
    on: date,
    fulltime_hours_per_week: Decimal | None = None,
    params: Parameters | None = None,
) -> MinimumWage:
    """The statutory hourly minimum wage for a worker of `age` on `on`.

    From 1 January 2024: the published hourly amount for the age. Before: the weekly amount
    for the age divided by the employer's full-time week; 40 hours when it is missing
    (DECISIONS.md section 3). Raises ValueError below age 15 (the WML sets no amount).
    """
    p = params if params is not None else get_parameters()
    if age < YOUTH_TABLE_MIN_AGE:
        raise ValueError(f"the statutory minimum wage has no amount for age {age}")
    hourly_start = p.entries("wml_hourly")[0].effective_from
    label_en = "21 and older" if age >= ADULT_AGE else f"{age}"
    label_nl = "21 jaar en ouder" if age >= ADULT_AGE else f"{age} jaar"
    if on >= hourly_start:
        table: ParameterValue = p.at("wml_hourly", on)
        hourly: Decimal = table.value[_age_key(age)]
        return MinimumWage(
            hourly=hourly,
            age=age,
            on=on,
            basis_en=(
                f"statutory hourly minimum wage for age {label_en}: {eur(hourly)} "
                f"(table in force from {table.effective_from.isoformat()})"
            ),
            basis_nl=(
                f"wettelijk minimumuurloon voor {label_nl}: {eur_nl(hourly)} "
                f"(tabel geldig vanaf {table.effective_from.isoformat()})"
            ),
            parameters=(table.as_use(),),
            assumed_fulltime_hours=False,
            fulltime_hours=None,
            possibly_out_of_date=table.possibly_out_of_date,
            table_effective_from=table.effective_from,
        )

    table = p.at("wml_period_amounts", on)
    weekly: Decimal = table.value[_age_key(age)]["week"]
    assumed = fulltime_hours_per_week is None or fulltime_hours_per_week <= 0
    fulltime = DEFAULT_FULLTIME_HOURS if assumed else fulltime_hours_per_week
    assert fulltime is not None  # for mypy: set on both branches above
    hourly = weekly / fulltime
    assumed_en = " (not stated: 40 hours assumed, the most lenient reading)" if assumed else ""
    assumed_nl = " (niet opgegeven: 40 uur aangenomen, de mildste lezing)" if assumed else ""
    return MinimumWage(
        hourly=hourly,
        age=age,
        on=on,
        basis_en=(
            f"weekly statutory minimum wage for age {label_en} {eur(weekly)} (in force from "
            f"{table.effective_from.isoformat()}) / full-time week of {fulltime} hours"
            f"{assumed_en} = {hourly:.4f} per hour"
        ),
        basis_nl=(
            f"wettelijk minimumweekloon voor {label_nl} {eur_nl(weekly)} (geldig vanaf "
            f"{table.effective_from.isoformat()}) / voltijdweek van {fulltime} uur"
            f"{assumed_nl} = {hourly:.4f} per uur"
        ),
        parameters=(table.as_use(),),
        assumed_fulltime_hours=assumed,
        fulltime_hours=fulltime,
        possibly_out_of_date=table.possibly_out_of_date,
        table_effective_from=table.effective_from,
    )


@dataclass(frozen=True, slots=True)
class HousingCap:
    """The most that may be deducted for housing per month, and which cap was applied."""

    monthly_cap: Decimal
    rate: Decimal
    minimum_monthly_due: Decimal
    announced_phase_out_applied: bool
    parameters: tuple[ParameterUse, ...]


def housing_deduction_cap(
    hours_per_week: Decimal,
    minimum: MinimumWage,
    on: date,
    *,
    apply_announced_housing_phase_out: bool = False,
    params: Parameters | None = None,
) -> HousingCap:
    """The monthly housing-deduction cap: rate x (hours x hourly minimum x 13/3).

    The statutory rate is 25% (DECISIONS.md section 9). With the configuration flag on, the
    announced (not enacted) phase-out rate applies from its first date.
    """
    p = params if params is not None else get_parameters()
    rate_value = p.at("housing_deduction_cap", on)
    applied_announced = False
    announced_start = p.entries("housing_deduction_cap_announced")[0].effective_from
    if apply_announced_housing_phase_out and on >= announced_start:
        rate_value = p.at("housing_deduction_cap_announced", on)
        applied_announced = True
    rate: Decimal = rate_value.value
    minimum_monthly = minimum.hourly * hours_per_week * 13 / 3
    return HousingCap(
        monthly_cap=rate * minimum_monthly,
        rate=rate,
        minimum_monthly_due=minimum_monthly,
        announced_phase_out_applied=applied_announced,
        parameters=(*minimum.parameters, rate_value.as_use()),
    )
