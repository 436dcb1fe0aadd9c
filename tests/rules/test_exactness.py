"""Properties of the wage arithmetic: statutory amounts pass exactly, published tables agree.

Paying exactly the statutory amount for the period (rounded up to the cent where the exact
amount has more decimals) is never "below", and one cent less always is, for every held
period, age, full-time week and wage period. The published tables obey the rounding rules
the law and the youth decree set, for every period held.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meldplicht.rules import wages
from meldplicht.rules.checks import evaluate_notification
from meldplicht.rules.facts import (
    ContractType,
    Evaluation,
    NotificationFacts,
    WagePeriod,
    WorkerFacts,
)
from meldplicht.rules.params import Parameters, get_parameters

CENT = Decimal("0.01")
PARAMS = get_parameters()
# The first day of every held period of the two minimum-wage tables.
PERIOD_STARTS = [
    e.effective_from for e in PARAMS.entries("wml_period_amounts") if e.value is not None
] + [e.effective_from for e in PARAMS.entries("wml_hourly")]


def _ceil_cent(value: Fraction) -> Decimal:
    return wages.to_decimal(value).quantize(CENT, rounding=ROUND_CEILING)


def _statutory(minimum: wages.MinimumWage, period: WagePeriod, hours: Decimal) -> Fraction:
    """The statutory amount for the period, from the table's own figures (not the code's
    comparison): before 2024 the month or week amount pro rata hours / full-time week."""
    if minimum.weekly is not None and minimum.monthly is not None:
        assert minimum.fulltime_hours is not None
        share = Fraction(hours) / Fraction(minimum.fulltime_hours)
        if period is WagePeriod.MONTH:
            return Fraction(minimum.monthly) * share
        if period is WagePeriod.FOUR_WEEKS:
            return 4 * Fraction(minimum.weekly) * share
        if period is WagePeriod.WEEK:
            return Fraction(minimum.weekly) * share
        return Fraction(minimum.weekly) / Fraction(minimum.fulltime_hours)
    weeks = {
        WagePeriod.HOUR: None,
        WagePeriod.WEEK: Fraction(1),
        WagePeriod.FOUR_WEEKS: Fraction(4),
        WagePeriod.MONTH: Fraction(13, 3),
    }[period]
    hourly = Fraction(minimum.hourly)
    return hourly if weeks is None else hourly * weeks * Fraction(hours)


def _below(
    amount: Decimal,
    period: WagePeriod,
    hours: Decimal,
    fulltime: Decimal,
    age: int,
    on: date,
    holiday: bool,
    params: Parameters,
) -> bool:
    facts = NotificationFacts(
        notice_date=on,
        start_date=on,
        end_date=None,
        contract_type=ContractType.OPEN_ENDED,
        hours_per_week=hours,
        wage_amount=amount,
        wage_period=period,
        wage_includes_holiday_allowance=holiday,
        worker=WorkerFacts(birth_date=date(on.year - age - 1, 12, 31), nationality="UKR"),
        fulltime_hours_per_week=fulltime,
    )
    findings = evaluate_notification(facts, as_of=on, evaluation=Evaluation.INTAKE, params=params)
    return any(f.code == "BELOW_MINIMUM_WAGE" for f in findings)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.sampled_from(PERIOD_STARTS),
    offset=st.integers(min_value=0, max_value=180),
    age=st.integers(min_value=15, max_value=70),
    fulltime=st.sampled_from([Decimal(36), Decimal(38), Decimal(40)]),
    part=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(3, 4), Fraction(1, 3)]),
    period=st.sampled_from(list(WagePeriod)),
    holiday=st.booleans(),
)
def test_statutory_amount_passes_and_one_cent_less_fails(
    start: date,
    offset: int,
    age: int,
    fulltime: Decimal,
    part: Fraction,
    period: WagePeriod,
    holiday: bool,
) -> None:
    # Judged from 4 March 2022 (the first day of protection) to the last day of the newest table.
    on = max(min(start + timedelta(days=offset), date(2026, 12, 31)), date(2022, 3, 4))
    hours = wages.to_decimal(Fraction(fulltime) * part).quantize(Decimal("0.01"))
    minimum = wages.minimum_hourly_wage(age, on, fulltime, PARAMS)
    statutory = _statutory(minimum, period, hours)
    if holiday:
        statutory *= 1 + Fraction(Decimal("0.08"))
    exact = _ceil_cent(statutory)
    assert not _below(exact, period, hours, fulltime, age, on, holiday, PARAMS)
    assert _below(exact - CENT, period, hours, fulltime, age, on, holiday, PARAMS)


def test_full_time_statutory_monthly_amounts_pass_before_2024() -> None:
    # The gap that flagged these before was under EUR 0.0005 an hour (1725.00 < 13/3 x 398.10).
    for entry in PARAMS.entries("wml_period_amounts"):
        if entry.value is None:
            continue
        on = max(entry.effective_from, date(2022, 3, 4))
        for fulltime in (Decimal(36), Decimal(38), Decimal(40)):
            monthly = entry.value["21"]["month"]
            args = (WagePeriod.MONTH, fulltime, fulltime, 30, on, False, PARAMS)
            assert not _below(monthly, *args)
            assert _below(monthly - CENT, *args)


def test_published_youth_amounts_are_adult_times_share_rounded() -> None:
    """From 2024 to the cent (half up); before, month and week amounts to EUR 0.05 (Besluit
    minimumjeugdloonregeling art. 2(2)). Holds for every held period and age."""
    for entry in PARAMS.entries("wml_hourly"):
        adult = entry.value["21"]
        for key, amount in entry.value.items():
            share = wages.youth_share(int(key), entry.effective_from, PARAMS)
            assert amount == (adult * share).quantize(CENT, rounding=ROUND_HALF_UP), key
    for entry in PARAMS.entries("wml_period_amounts"):
        if entry.value is None:
            continue
        adult = entry.value["21"]
        for key, amounts in entry.value.items():
            share = wages.youth_share(int(key), entry.effective_from, PARAMS)
            for unit in ("month", "week"):
                expected = (adult[unit] * share / Decimal("0.05")).quantize(
                    Decimal(1), rounding=ROUND_HALF_UP
                ) * Decimal("0.05")
                assert amounts[unit] == expected, (entry.effective_from, key, unit)


def test_hourly_amount_is_reference_monthly_over_13_3_x_36_rounded_up() -> None:
    """WML art. 14: the hourly minimum is the reference monthly amount / (13/3 x 36), rounded
    up to the cent (2,337.00 / 156 = 14.9808 -> 14.99)."""
    entries = PARAMS.entries("wml_reference_monthly")
    assert entries
    for entry in entries:
        hourly = PARAMS.at("wml_hourly", entry.effective_from)
        assert hourly.effective_from == entry.effective_from
        expected = _ceil_cent(Fraction(entry.value) / (Fraction(13, 3) * 36))
        assert hourly.value["21"] == expected


@settings(max_examples=200, deadline=None)
@given(
    age=st.integers(min_value=15, max_value=70),
    on=st.dates(min_value=date(2027, 1, 1), max_value=date(2028, 12, 31)),
)
def test_lower_bound_never_above_a_new_table_that_rises(age: int, on: date) -> None:
    """Whatever rise a new table brings (0 or more), its amount, rounded as published, is at
    least the lower bound: the bound is never rounded up."""
    bound = wages.minimum_hourly_wage(age, on, None, PARAMS)
    assert bound.lower_bound
    last_adult = PARAMS.at("wml_hourly", on).value["21"]
    share = wages.youth_share(age, on, PARAMS)
    for rise in (Decimal(0), Decimal("0.001"), Decimal("0.02")):
        adult = (last_adult * (1 + rise)).quantize(CENT, rounding=ROUND_CEILING)
        assert (adult * share).quantize(CENT, rounding=ROUND_HALF_UP) >= bound.hourly
