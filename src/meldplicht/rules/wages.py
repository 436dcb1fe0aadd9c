"""Wage arithmetic: normalising declared wages to an hourly amount, ages, and the statutory minimum.

Comparisons are exact: amounts are turned into fractions (`Fraction(Decimal)` is exact) and
compared in the law's own unit, so paying exactly a statutory amount is never "below" it.
`hourly_wage` gives the Decimal of the same exact value (28 significant digits); only
`eur()` rounds, and only for display (ROUND_HALF_UP to cents).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction

from meldplicht.rules.facts import ParameterUse, WagePeriod
from meldplicht.rules.params import Parameters, ParameterValue, get_parameters

CENT = Decimal("0.01")
FIVE_CENTS = Decimal("0.05")
WEEKS_PER_MONTH = Fraction(13, 3)  # 52 weeks / 12 months, the exact ratio (WML art. 14)
# Where the employer's full-time week is not stated, 40 hours is used: the longest usual
# full-time week, so the lowest hourly floor, the reading most favourable to the employer.
DEFAULT_FULLTIME_HOURS = Decimal(40)
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


def _weeks_per_period(period: WagePeriod) -> Fraction | None:
    if period is WagePeriod.WEEK:
        return Fraction(1)
    if period is WagePeriod.FOUR_WEEKS:
        return Fraction(4)
    if period is WagePeriod.MONTH:
        return WEEKS_PER_MONTH
    return None


def to_decimal(value: Fraction) -> Decimal:
    """A fraction as a Decimal (28 significant digits, correctly rounded).

    An exact result keeps at least cents (16.50, not 16.5), as money is written.
    """
    result = Decimal(value.numerator) / Decimal(value.denominator)
    exponent = result.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        return result.quantize(CENT)
    return result


def hourly_wage_exact(
    amount: Decimal,
    period: WagePeriod,
    hours_per_week: Decimal | None,
    includes_holiday_allowance: bool,
    holiday_allowance_rate: Decimal = DEFAULT_HOLIDAY_ALLOWANCE_RATE,
) -> Fraction:
    """A declared wage as an exact hourly amount excluding holiday allowance.

    A month is 13/3 weeks. A wage that includes the holiday allowance is divided by
    (1 + rate), i.e. 1.08. Raises WageNotCheckable for a non-hourly wage without hours.
    """
    hourly = without_holiday_allowance(amount, includes_holiday_allowance, holiday_allowance_rate)
    weeks = _weeks_per_period(period)
    if weeks is not None:
        if hours_per_week is None or hours_per_week <= 0:
            raise WageNotCheckable(f"a wage per {period.value} needs the hours per week")
        hourly /= weeks * Fraction(hours_per_week)
    return hourly


def without_holiday_allowance(
    amount: Decimal,
    includes_holiday_allowance: bool,
    holiday_allowance_rate: Decimal = DEFAULT_HOLIDAY_ALLOWANCE_RATE,
) -> Fraction:
    """An amount without the holiday allowance it includes (exact): amount / (1 + rate).

    The one holiday-allowance conversion: declared wages (`hourly_wage_exact`) and paid
    periods (`paid_hourly_exact`) both go through it (WML art. 15: 8% of the wage)."""
    value = Fraction(amount)
    if includes_holiday_allowance:
        value /= 1 + Fraction(holiday_allowance_rate)
    return value


def paid_hourly_exact(
    pay: Decimal,
    hours_paid: Decimal,
    includes_holiday_allowance: bool,
    holiday_allowance_rate: Decimal = DEFAULT_HOLIDAY_ALLOWANCE_RATE,
) -> tuple[Fraction, Fraction]:
    """A paid period's pay without holiday allowance, and per hour (both exact)."""
    if hours_paid <= 0:
        raise WageNotCheckable("a paid period without hours has no pay per hour")
    period_pay = without_holiday_allowance(pay, includes_holiday_allowance, holiday_allowance_rate)
    return period_pay, period_pay / Fraction(hours_paid)


def hourly_wage(
    amount: Decimal,
    period: WagePeriod,
    hours_per_week: Decimal | None,
    includes_holiday_allowance: bool,
    holiday_allowance_rate: Decimal = DEFAULT_HOLIDAY_ALLOWANCE_RATE,
) -> Decimal:
    """Normalise a declared wage to an hourly amount excluding holiday allowance (Decimal).

    The one conversion (period, hours, holiday allowance) every check uses; see
    `hourly_wage_exact` for the exact value it rounds to 28 significant digits.
    """
    return to_decimal(
        hourly_wage_exact(
            amount, period, hours_per_week, includes_holiday_allowance, holiday_allowance_rate
        )
    )


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
    return amount * int(weeks) * hours_per_week


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
    """The statutory minimum for one age on one date, and how it was reached.

    Before 2024 the law sets amounts per month and per week for a full-time week (`monthly`,
    `weekly`); from 2024 an hourly amount. `hourly` is the hourly floor for display and for
    hourly comparisons (weekly / full-time week before 2024). When `lower_bound` is true the
    date lies past the newest adult amount held: the minimum is then at least `hourly`.
    """

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
    weekly: Decimal | None = None  # before 2024: the statutory weekly amount for the age
    monthly: Decimal | None = None  # before 2024: the statutory monthly amount for the age
    lower_bound: bool = False
    missing_table: date | None = None  # with a lower bound: the first 1 Jan / 1 Jul not held
    plausible_upper: Decimal | None = None  # with a lower bound: see `lower_bound_minimum`
    bbl: bool = False  # the lower scale for bbl (work-study) students was applied
    share: Decimal | None = None  # the youth share applied to an adult amount, if any

    def hourly_floor(self, period: WagePeriod) -> Fraction:
        """The exact hourly floor a wage per `period` is compared with.

        Before 2024 a monthly wage is compared with the monthly amount (pro rata the agreed
        hours, WML art. 12) and any other wage with the weekly amount; expressed per hour
        that is amount / (13/3 x full-time week) or weekly / full-time week. Multiplying both
        sides by the declared hours keeps the comparison exact in the law's own unit.
        """
        if self.fulltime_hours is not None and self.weekly is not None:
            fulltime = Fraction(self.fulltime_hours)
            if period is WagePeriod.MONTH and self.monthly is not None:
                return Fraction(self.monthly) / (WEEKS_PER_MONTH * fulltime)
            return Fraction(self.weekly) / fulltime
        return Fraction(self.hourly)

    def period_minimum(self, period: WagePeriod, hours_per_week: Decimal) -> Fraction:
        """The statutory minimum for one wage period at the declared weekly hours (exact)."""
        weeks = _weeks_per_period(period)
        if weeks is None:
            return self.hourly_floor(period)
        return self.hourly_floor(period) * weeks * Fraction(hours_per_week)


def age_key(age: int) -> str:
    """The key of the minimum-wage tables for `age` (ages as text; "21": 21 and older)."""
    return str(min(age, ADULT_AGE))


def _labels(age: int) -> tuple[str, str]:
    if age >= ADULT_AGE:
        return "21 and older", "21 jaar en ouder"
    return f"{age}", f"{age} jaar"


def bbl_share(age: int, on: date, params: Parameters | None = None) -> Decimal | None:
    """The lower youth share for a bbl (work-study) student aged `age` on `on`, if any."""
    p = params if params is not None else get_parameters()
    first = p.entries("wml_youth_percentages_bbl")[0].effective_from
    if on < first:
        return None
    shares = p.at("wml_youth_percentages_bbl", on).value
    if shares is None:
        return None
    share: Decimal | None = shares.get(str(age))
    return share


def youth_share(age: int, on: date, params: Parameters | None = None) -> Decimal:
    """The share of the adult minimum for `age` on `on` (1 for 21 and older)."""
    p = params if params is not None else get_parameters()
    shares: dict[str, Decimal] = p.at("wml_youth_percentages", on).value
    top = max(int(k) for k in shares)
    if age >= top:
        return Decimal(1)
    return shares[str(max(age, YOUTH_TABLE_MIN_AGE))]


@functools.lru_cache(maxsize=16)
def largest_half_yearly_rise(params: Parameters) -> Fraction:
    """The largest rise of the adult amount from one held period to the next (as a fraction).

    Used only to tell a wage that is plainly above any new amount from one that cannot be
    confirmed until the new table is entered. The held tables include the rise of
    1 January 2023 (special increase plus indexation, 10.15%).
    """
    series: list[list[Fraction]] = [
        [Fraction(e.value["21"]) for e in params.entries("wml_hourly") if e.value is not None],
        [
            Fraction(e.value["21"]["month"])
            for e in params.entries("wml_period_amounts")
            if e.value is not None
        ],
    ]
    rises = [b / a - 1 for values in series for a, b in itertools.pairwise(values)]
    return max(rises, default=Fraction(0))


def _round_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _round_five_cents(value: Decimal) -> Decimal:
    """Besluit minimumjeugdloonregeling art. 2(2): to a multiple of EUR 0.05, 0.025 up."""
    return (value / FIVE_CENTS).quantize(Decimal(1), rounding=ROUND_HALF_UP) * FIVE_CENTS


def minimum_hourly_wage(
    age: int,
    on: date,
    fulltime_hours_per_week: Decimal | None = None,
    params: Parameters | None = None,
    *,
    bbl_student: bool = False,
) -> MinimumWage:
    """The statutory minimum wage for a worker of `age` on `on`.

    From 1 January 2024: the published hourly amount for the age; past the newest adult
    amount held, a lower bound (`lower_bound_minimum`). Before: the weekly and monthly amounts
    for the age for a full-time week; the employer's full-time week, or 40 hours when it is not
    stated. A bbl student aged 18-20 has the lower bbl share while it is in force. Raises
    ValueError below age 15 (the WML sets no amount).
    """
    p = params if params is not None else get_parameters()
    if age < YOUTH_TABLE_MIN_AGE:
        raise ValueError(f"the statutory minimum wage has no amount for age {age}")
    hourly_start = p.entries("wml_hourly")[0].effective_from
    bbl = bbl_share(age, on, p) if bbl_student and age < ADULT_AGE else None
    if on >= hourly_start:
        table: ParameterValue = p.at("wml_hourly", on)
        if table.possibly_out_of_date:
            return lower_bound_minimum(age, on, p, bbl=bbl)
        return _hourly_minimum(age, on, table, bbl)
    return _period_minimum(age, on, fulltime_hours_per_week, p, bbl)


def _hourly_minimum(age: int, on: date, table: ParameterValue, bbl: Decimal | None) -> MinimumWage:
    label_en, label_nl = _labels(age)
    since = table.effective_from.isoformat()
    if bbl is not None:
        adult: Decimal = table.value["21"]
        hourly = _round_cent(adult * bbl)
        percent = _percent(bbl)
        basis_en = (
            f"statutory hourly minimum wage for a bbl (work-study) student aged {label_en}: "
            f"{percent} of {eur(adult)} = {eur(hourly)} (table in force from {since})"
        )
        basis_nl = (
            f"wettelijk minimumuurloon voor een bbl-leerling van {label_nl}: {percent} van "
            f"{eur_nl(adult)} = {eur_nl(hourly)} (tabel geldig vanaf {since})"
        )
    else:
        hourly = table.value[age_key(age)]
        basis_en = (
            f"statutory hourly minimum wage for age {label_en}: {eur(hourly)} "
            f"(table in force from {since})"
        )
        basis_nl = (
            f"wettelijk minimumuurloon voor {label_nl}: {eur_nl(hourly)} "
            f"(tabel geldig vanaf {since})"
        )
    return MinimumWage(
        hourly=hourly,
        age=age,
        on=on,
        basis_en=basis_en,
        basis_nl=basis_nl,
        parameters=(table.as_use(),),
        assumed_fulltime_hours=False,
        fulltime_hours=None,
        possibly_out_of_date=False,
        table_effective_from=table.effective_from,
        bbl=bbl is not None,
        share=bbl,
    )


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def lower_bound_minimum(
    age: int, on: date, params: Parameters, *, bbl: Decimal | None = None
) -> MinimumWage:
    """The least the minimum can be on a date past the newest adult amount held.

    An indexation never lowers the adult amount (WML art. 14: a review that would lower it
    leaves it unchanged), so the new amount is at least the last known one, and the youth
    amount at least that x the share in force on `on`. The product is rounded down to the
    cent, never up, so it stays a bound. Where the share is the one the last table used, the
    last published youth amount itself is the bound (the new one is the larger amount x the
    same share, rounded the same way).
    """
    table = params.at("wml_hourly", on)
    last = table.effective_from
    missing = date.fromordinal(params.table_ends("wml_hourly").toordinal() + 1)
    adult: Decimal = table.value["21"]
    share = bbl if bbl is not None else youth_share(age, on, params)
    same_share = bbl is None and share == youth_share(age, last, params)
    if same_share:
        hourly: Decimal = table.value[age_key(age)]
    else:
        hourly = (adult * share).quantize(CENT, rounding=ROUND_FLOOR)
    upper = Decimal(adult) * share * (1 + to_decimal(largest_half_yearly_rise(params)))
    shares_name = "wml_youth_percentages_bbl" if bbl is not None else "wml_youth_percentages"
    uses = [table.as_use()]
    if share != 1:
        uses.append(params.at(shares_name, on).as_use())
    label_en, label_nl = _labels(age)
    bbl_en = "a bbl (work-study) student aged " if bbl is not None else "age "
    bbl_nl = "een bbl-leerling van " if bbl is not None else ""
    if share == 1 or same_share:
        how_en = f"{eur(hourly)}, the amount for {bbl_en}{label_en} in the table of {last}"
        how_nl = f"{eur_nl(hourly)}, het bedrag voor {bbl_nl}{label_nl} in de tabel van {last}"
    else:
        percent = _percent(share)
        how_en = (
            f"{eur(adult)} (the adult amount of {last}) x {percent} (the share for "
            f"{bbl_en}{label_en} in force on {on}) = {adult * share:.4f}, rounded down to "
            f"{eur(hourly)}"
        )
        how_nl = (
            f"{eur_nl(adult)} (het bedrag voor volwassenen van {last}) x {percent} (het "
            f"percentage voor {bbl_nl}{label_nl} geldig op {on}) = {adult * share:.4f}, naar "
            f"beneden afgerond op {eur_nl(hourly)}"
        )
    return MinimumWage(
        hourly=hourly,
        age=age,
        on=on,
        basis_en=(
            f"the amounts from {missing} are not yet held; an indexation never lowers the "
            f"adult amount, so the minimum is at least {how_en}"
        ),
        basis_nl=(
            f"de bedragen vanaf {missing} zijn nog niet bekend; een indexering verlaagt het "
            f"bedrag voor volwassenen nooit, dus het minimum is ten minste {how_nl}"
        ),
        parameters=tuple(uses),
        assumed_fulltime_hours=False,
        fulltime_hours=None,
        possibly_out_of_date=True,
        table_effective_from=last,
        lower_bound=True,
        missing_table=missing,
        plausible_upper=upper,
        bbl=bbl is not None,
        share=share if share != 1 else None,
    )


def _period_minimum(
    age: int,
    on: date,
    fulltime_hours_per_week: Decimal | None,
    p: Parameters,
    bbl: Decimal | None,
) -> MinimumWage:
    table = p.at("wml_period_amounts", on)
    if bbl is not None:
        adult = table.value["21"]
        weekly: Decimal = _round_five_cents(adult["week"] * bbl)
        monthly: Decimal = _round_five_cents(adult["month"] * bbl)
    else:
        weekly = table.value[age_key(age)]["week"]
        monthly = table.value[age_key(age)]["month"]
    assumed = fulltime_hours_per_week is None or fulltime_hours_per_week <= 0
    fulltime = DEFAULT_FULLTIME_HOURS if assumed else fulltime_hours_per_week
    assert fulltime is not None  # for mypy: set on both branches above
    hourly = weekly / fulltime
    label_en, label_nl = _labels(age)
    who_en = f"a bbl (work-study) student aged {label_en}" if bbl is not None else f"age {label_en}"
    who_nl = f"een bbl-leerling van {label_nl}" if bbl is not None else label_nl
    bbl_en = f" ({_percent(bbl)} of the adult amount)" if bbl is not None else ""
    bbl_nl = f" ({_percent(bbl)} van het bedrag voor volwassenen)" if bbl is not None else ""
    assumed_en = (
        " (not stated: 40 hours used, the reading most favourable to the employer)"
        if assumed
        else ""
    )
    assumed_nl = (
        " (niet opgegeven: 40 uur gebruikt, de lezing die het gunstigst is voor de werkgever)"
        if assumed
        else ""
    )
    since = table.effective_from.isoformat()
    return MinimumWage(
        hourly=hourly,
        age=age,
        on=on,
        basis_en=(
            f"statutory minimum wage for {who_en}{bbl_en}: {eur(monthly)} a month and "
            f"{eur(weekly)} a week (in force from {since}) for a full-time week of {fulltime} "
            f"hours{assumed_en}; {eur(weekly)} / {fulltime} = {hourly:.4f} per hour"
        ),
        basis_nl=(
            f"wettelijk minimumloon voor {who_nl}{bbl_nl}: {eur_nl(monthly)} per maand en "
            f"{eur_nl(weekly)} per week (geldig vanaf {since}) voor een voltijdweek van "
            f"{fulltime} uur{assumed_nl}; {eur_nl(weekly)} / {fulltime} = {hourly:.4f} per uur"
        ),
        parameters=(table.as_use(),),
        assumed_fulltime_hours=assumed,
        fulltime_hours=fulltime,
        possibly_out_of_date=table.possibly_out_of_date,
        table_effective_from=table.effective_from,
        weekly=weekly,
        monthly=monthly,
        bbl=bbl is not None,
        share=bbl,
    )


@dataclass(frozen=True, slots=True)
class HousingCap:
    """The most that may be deducted for housing per month, and how it was reached."""

    monthly_cap: Decimal
    rate: Decimal
    minimum_monthly_due: Decimal
    parameters: tuple[ParameterUse, ...]


def housing_deduction_cap(
    hours_per_week: Decimal,
    minimum: MinimumWage,
    on: date,
    *,
    params: Parameters | None = None,
) -> HousingCap:
    """The monthly housing-deduction cap: 25% of the minimum wage due for a month.

    The minimum due for a month is the statutory amount for the declared hours: hours x hourly
    minimum x 13/3 from 2024, the monthly amount pro rata the full-time week before.
    """
    p = params if params is not None else get_parameters()
    rate_value = p.at("housing_deduction_cap", on)
    rate: Decimal = rate_value.value
    due = minimum.period_minimum(WagePeriod.MONTH, hours_per_week)
    return HousingCap(
        monthly_cap=to_decimal(Fraction(rate) * due),
        rate=rate,
        minimum_monthly_due=to_decimal(due),
        parameters=(*minimum.parameters, rate_value.as_use()),
    )
