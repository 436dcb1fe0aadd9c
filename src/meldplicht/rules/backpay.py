"""Back pay: an estimate of the minimum wage a worker was not paid (never a legal claim).

Per worker and per period: (hourly minimum due - hourly wage) x hours, where the hours are
the declared hours per week x weeks (days / 7) or, for a period payroll covers, the hours
paid in it (pro rata the days of the payroll period that fall in the part). The minimum is
the one for the worker's age on each day and the table in force on it, so a birthday or an
indexation splits a period in two. What was paid wins over what was declared for the days
a payroll record covers; elsewhere the declaration in force on the day (a notification's
versions, each from its effective date) is used. On the shortfall the statutory minimum
holiday allowance is added (WML art. 15(1): 8%). No statutory interest, no increase for late
payment (WML art. 18b), no other claims: DECISIONS 12, product policy.

Everything is exact (`Fraction`); only the totals are rounded to the cent (ROUND_HALF_UP).
The result carries every part's arithmetic and the parameters used, with their references.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from meldplicht.rules.facts import ParameterUse, WagePeriod
from meldplicht.rules.params import Parameters, get_parameters
from meldplicht.rules.wages import (
    YOUTH_TABLE_MIN_AGE,
    WageNotCheckable,
    age_on,
    eur,
    eur_nl,
    hourly_wage_exact,
    minimum_hourly_wage,
    next_birthday,
    to_decimal,
)

CENT = Decimal("0.01")
LEGAL_BASIS = (
    "Wet minimumloon en minimumvakantiebijslag art. 7, 8, 13 en 15 (BWBR0002638): het "
    "minimumloon voor de leeftijd op elke dag en 8% minimumvakantiebijslag"
)
DISCLAIMER_NL = (
    "Een schatting voor de inspecteur, geen vordering: het verschil tussen het wettelijk "
    "minimumloon en het gemelde of betaalde loon, met 8% vakantiebijslag, zonder wettelijke "
    "rente of verhoging."
)
DISCLAIMER_EN = (
    "An estimate for the inspector, not a claim: the difference between the statutory "
    "minimum wage and the wage declared or paid, with 8% holiday allowance, without "
    "statutory interest or increase."
)
_SPLITTING_PARAMETERS = (
    "wml_hourly",
    "wml_period_amounts",
    "wml_youth_percentages",
    "wml_youth_percentages_bbl",
    "holiday_allowance_rate",
)


@dataclass(frozen=True, slots=True)
class Declared:
    """One declaration of the wage, in force from `effective_from` (a notification version)."""

    effective_from: date
    amount: Decimal
    period: WagePeriod
    hours_per_week: Decimal | None
    includes_holiday_allowance: bool
    fulltime_hours_per_week: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Paid:
    """One payroll record: what was paid for the days `period_start`..`period_end`."""

    period_start: date
    period_end: date  # inclusive
    hours_paid: Decimal
    gross_wage: Decimal
    includes_holiday_allowance: bool = False


@dataclass(frozen=True, slots=True)
class Part:
    """One stretch of days with one age, one table, one declaration or payroll record."""

    start: date
    end: date  # inclusive
    age: int
    source: str  # "payroll" or "declaration"
    hourly_due: Fraction
    hourly_paid: Fraction
    hours: Fraction
    weeks: Fraction | None  # days / 7 for a declaration; None for payroll (hours paid)
    holiday_rate: Fraction
    minimum_basis_nl: str
    minimum_basis_en: str
    parameters: tuple[ParameterUse, ...]
    lower_bound: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def shortfall(self) -> Fraction:
        return max(Fraction(0), self.hourly_due - self.hourly_paid) * self.hours

    @property
    def holiday_allowance(self) -> Fraction:
        return self.shortfall * self.holiday_rate

    @property
    def back_pay(self) -> Fraction:
        return self.shortfall + self.holiday_allowance

    def arithmetic_nl(self) -> str:
        hours = (
            f"{_num_nl(self.hours)} betaalde uren"
            if self.weeks is None
            else f"{_num_nl(self.hours / self.weeks)} uur x {_num_nl(self.weeks)} weken"
        )
        return (
            f"({eur_nl(to_decimal(self.hourly_due))} - {eur_nl(to_decimal(self.hourly_paid))}) "
            f"x {hours} = {eur_nl(_cents(self.shortfall))}; + "
            f"{_num_nl(self.holiday_rate * 100)}% vakantiebijslag "
            f"{eur_nl(_cents(self.holiday_allowance))}"
        )

    def arithmetic_en(self) -> str:
        hours = (
            f"{_num(self.hours)} hours paid"
            if self.weeks is None
            else f"{_num(self.hours / self.weeks)} hours x {_num(self.weeks)} weeks"
        )
        return (
            f"({eur(to_decimal(self.hourly_due))} - {eur(to_decimal(self.hourly_paid))}) "
            f"x {hours} = {eur(_cents(self.shortfall))}; + "
            f"{_num(self.holiday_rate * 100)}% holiday allowance "
            f"{eur(_cents(self.holiday_allowance))}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "age": self.age,
            "source": self.source,
            "hourly_due": str(to_decimal(self.hourly_due)),
            "hourly_paid": str(to_decimal(self.hourly_paid)),
            "hours": str(to_decimal(self.hours)),
            "weeks": str(to_decimal(self.weeks)) if self.weeks is not None else None,
            "shortfall": str(_cents(self.shortfall)),
            "holiday_allowance": str(_cents(self.holiday_allowance)),
            "back_pay": str(_cents(self.back_pay)),
            "lower_bound": self.lower_bound,
            "minimum_basis_nl": self.minimum_basis_nl,
            "minimum_basis_en": self.minimum_basis_en,
            "arithmetic_nl": self.arithmetic_nl(),
            "arithmetic_en": self.arithmetic_en(),
        }


@dataclass(frozen=True, slots=True)
class BackPay:
    """The estimate for one worker over `start`..`end`, with every part and its evidence."""

    start: date
    end: date
    parts: tuple[Part, ...]
    not_computed: tuple[str, ...] = field(default=())  # why some days could not be estimated

    @property
    def shortfall_exact(self) -> Fraction:
        return sum((p.shortfall for p in self.parts), Fraction(0))

    @property
    def holiday_allowance_exact(self) -> Fraction:
        return sum((p.holiday_allowance for p in self.parts), Fraction(0))

    @property
    def shortfall(self) -> Decimal:
        return _cents(self.shortfall_exact)

    @property
    def holiday_allowance(self) -> Decimal:
        return _cents(self.holiday_allowance_exact)

    @property
    def total(self) -> Decimal:
        """Shortfall plus holiday allowance, rounded once, to the cent."""
        return _cents(self.shortfall_exact + self.holiday_allowance_exact)

    @property
    def hours(self) -> Decimal:
        return to_decimal(sum((p.hours for p in self.parts), Fraction(0)))

    @property
    def weeks(self) -> Decimal:
        return to_decimal(Fraction(sum(p.days for p in self.parts), 7))

    def parameters(self) -> list[ParameterUse]:
        seen: dict[tuple[str, str], ParameterUse] = {}
        for part in self.parts:
            for use in part.parameters:
                seen.setdefault((use.name, use.effective_from.isoformat()), use)
        return list(seen.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "shortfall": str(self.shortfall),
            "holiday_allowance": str(self.holiday_allowance),
            "total": str(self.total),
            "hours": str(self.hours),
            "weeks": str(self.weeks),
            "parts": [p.to_json() for p in self.parts],
            "parameters": [u.to_json() for u in self.parameters()],
            "not_computed": list(self.not_computed),
            "legal_basis": LEGAL_BASIS,
            "disclaimer_nl": DISCLAIMER_NL,
            "disclaimer_en": DISCLAIMER_EN,
        }


def _cents(value: Fraction) -> Decimal:
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _num(value: Fraction) -> str:
    """A number for the arithmetic, to at most 4 decimals (display only)."""
    return f"{to_decimal(value).quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP).normalize():f}"


def _num_nl(value: Fraction) -> str:
    return _num(value).replace(".", ",")


def _split_points(
    start: date,
    end: date,
    birth_date: date,
    declarations: Sequence[Declared],
    payroll: Sequence[Paid],
    params: Parameters,
) -> list[date]:
    """Every day inside (start, end] on which something that changes the sum begins."""
    points: set[date] = {d.effective_from for d in declarations}
    for paid in payroll:
        points.update({paid.period_start, paid.period_end + timedelta(days=1)})
    for name in _SPLITTING_PARAMETERS:
        points.update(params.change_dates(name))
    birthday = next_birthday(birth_date, start)
    while birthday <= end:
        points.add(birthday)
        birthday = next_birthday(birth_date, birthday)
    return sorted(p for p in points if start < p <= end)


def _declared_on(declarations: Sequence[Declared], day: date) -> Declared:
    in_force = [d for d in declarations if d.effective_from <= day]
    if in_force:
        return max(in_force, key=lambda d: d.effective_from)
    return min(declarations, key=lambda d: d.effective_from)


def _paid_on(payroll: Sequence[Paid], day: date) -> Paid | None:
    for paid in payroll:
        if paid.period_start <= day <= paid.period_end:
            return paid
    return None


def back_pay(
    *,
    birth_date: date,
    start: date,
    end: date,
    declarations: Sequence[Declared],
    payroll: Sequence[Paid] = (),
    bbl_student: bool = False,
    params: Parameters | None = None,
) -> BackPay:
    """The back-pay estimate for one worker from `start` to `end` (both inclusive).

    `declarations` are the wage as declared, each from its effective date; `payroll` what
    was paid per period (it wins over a declaration for the days it covers). Days that
    cannot be estimated (a wage per week or month without hours, hours not stated, an age
    below the tables) are left out and said in `not_computed`.
    """
    p = params if params is not None else get_parameters()
    if end < start or (not declarations and not payroll):
        return BackPay(start=start, end=end, parts=())
    points = [start, *_split_points(start, end, birth_date, declarations, payroll, p)]
    bounds = [*points, end + timedelta(days=1)]
    parts: list[Part] = []
    skipped: list[str] = []
    for part_start, next_start in itertools.pairwise(bounds):
        part_end = next_start - timedelta(days=1)
        age = age_on(birth_date, part_start)
        span = f"{part_start.isoformat()}..{part_end.isoformat()}"
        if age < YOUTH_TABLE_MIN_AGE:
            skipped.append(f"{span}: age {age}, below the minimum wage tables")
            continue
        rate = Fraction(p.at("holiday_allowance_rate", part_start).value)
        rate_use = p.at("holiday_allowance_rate", part_start).as_use()
        days = Fraction((part_end - part_start).days + 1)
        paid = _paid_on(payroll, part_start)
        if paid is not None:
            minimum = minimum_hourly_wage(age, part_start, None, p, bbl_student=bbl_student)
            if paid.hours_paid <= 0:
                skipped.append(f"{span}: payroll record without hours")
                continue
            period_days = (paid.period_end - paid.period_start).days + 1
            hourly_paid = Fraction(paid.gross_wage) / Fraction(paid.hours_paid)
            if paid.includes_holiday_allowance:
                hourly_paid /= 1 + rate
            due = minimum.hourly_floor(WagePeriod.WEEK)
            hours = Fraction(paid.hours_paid) * days / period_days
            source, weeks = "payroll", None
        else:
            if not declarations:
                skipped.append(f"{span}: no declaration and no payroll")
                continue
            declared = _declared_on(declarations, part_start)
            if declared.hours_per_week is None or declared.hours_per_week <= 0:
                skipped.append(f"{span}: hours per week not declared")
                continue
            minimum = minimum_hourly_wage(
                age, part_start, declared.fulltime_hours_per_week, p, bbl_student=bbl_student
            )
            try:
                hourly_paid = hourly_wage_exact(
                    declared.amount,
                    declared.period,
                    declared.hours_per_week,
                    declared.includes_holiday_allowance,
                    Decimal(rate.numerator) / Decimal(rate.denominator),
                )
            except WageNotCheckable as exc:
                skipped.append(f"{span}: {exc}")
                continue
            due = minimum.hourly_floor(declared.period)
            weeks = days / 7
            hours = Fraction(declared.hours_per_week) * weeks
            source = "declaration"
        parts.append(
            Part(
                start=part_start,
                end=part_end,
                age=age,
                source=source,
                hourly_due=due,
                hourly_paid=hourly_paid,
                hours=hours,
                weeks=weeks,
                holiday_rate=rate,
                minimum_basis_nl=minimum.basis_nl,
                minimum_basis_en=minimum.basis_en,
                parameters=(*minimum.parameters, rate_use),
                lower_bound=minimum.lower_bound,
            )
        )
    return BackPay(start=start, end=end, parts=tuple(parts), not_computed=tuple(skipped))
