"""Wage arithmetic: normalisation round trips, ages and 29 February, rounding, housing cap."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meldplicht.rules import wages
from meldplicht.rules.facts import WagePeriod
from meldplicht.rules.params import Parameters

CENTS = st.integers(min_value=1, max_value=2_000_000).map(lambda c: Decimal(c) / 100)
HOURS = st.integers(min_value=1, max_value=600).map(lambda h: Decimal(h) / 10)


@given(
    amount=CENTS,
    period=st.sampled_from(list(WagePeriod)),
    hours=HOURS,
    holiday=st.booleans(),
)
def test_normalise_and_back_is_exact_to_the_cent(
    amount: Decimal, period: WagePeriod, hours: Decimal, holiday: bool
) -> None:
    hourly = wages.hourly_wage(amount, period, hours, holiday)
    back = wages.amount_for_period(hourly, period, hours, holiday)
    assert back.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == amount


@pytest.mark.parametrize("period", [WagePeriod.WEEK, WagePeriod.FOUR_WEEKS, WagePeriod.MONTH])
@pytest.mark.parametrize("hours", [None, Decimal(0)])
def test_non_hourly_wage_needs_hours(period: WagePeriod, hours: Decimal | None) -> None:
    with pytest.raises(wages.WageNotCheckable):
        wages.hourly_wage(Decimal(2000), period, hours, False)


def test_hourly_wage_needs_no_hours() -> None:
    assert wages.hourly_wage(Decimal("15.00"), WagePeriod.HOUR, None, False) == Decimal("15.00")


def test_age_on() -> None:
    assert wages.age_on(date(2000, 6, 15), date(2021, 6, 14)) == 20
    assert wages.age_on(date(2000, 6, 15), date(2021, 6, 15)) == 21


def test_leap_day_birthday_advances_on_1_march_in_non_leap_years() -> None:
    born = date(2004, 2, 29)
    assert wages.age_on(born, date(2025, 2, 28)) == 20
    assert wages.age_on(born, date(2025, 3, 1)) == 21
    assert wages.age_on(born, date(2024, 2, 29)) == 20
    assert wages.next_birthday(born, date(2025, 1, 1)) == date(2025, 3, 1)
    assert wages.next_birthday(born, date(2027, 3, 1)) == date(2028, 2, 29)


def test_display_rounding_half_up() -> None:
    assert wages.eur(Decimal("12.345")) == "EUR 12.35"
    assert wages.eur(Decimal("12.344999")) == "EUR 12.34"
    assert wages.eur_nl(Decimal("2549.733")) == "€ 2.549,73"


def test_no_minimum_below_15(params: Parameters) -> None:
    with pytest.raises(ValueError, match="age 14"):
        wages.minimum_hourly_wage(14, date(2026, 1, 5), None, params)


def test_adult_rate_for_all_ages_from_21(params: Parameters) -> None:
    assert wages.minimum_hourly_wage(67, date(2026, 1, 5), None, params).hourly == Decimal("14.71")


def test_housing_cap_is_25_percent_without_a_switch(params: Parameters) -> None:
    minimum = wages.minimum_hourly_wage(30, date(2026, 3, 1), None, params)
    statutory = wages.housing_deduction_cap(Decimal(36), minimum, date(2026, 3, 1), params=params)
    # 0.25 x 14.71 x 36 x 13 / 3 = 573.69
    assert statutory.monthly_cap == Decimal("573.69")
    assert statutory.rate == Decimal("0.25")
    # The withdrawn phase-out (20% in 2027) never applies.
    later = wages.minimum_hourly_wage(30, date(2026, 9, 1), None, params)
    assert wages.housing_deduction_cap(
        Decimal(40), later, date(2026, 9, 1), params=params
    ).rate == Decimal("0.25")
    # Before 2024: the monthly amount pro rata the full-time week (1995.00 x 20 / 40 x 0.25).
    old = wages.minimum_hourly_wage(30, date(2023, 8, 1), Decimal(40), params)
    cap = wages.housing_deduction_cap(Decimal(20), old, date(2023, 8, 1), params=params)
    assert cap.monthly_cap == Decimal("249.375")
