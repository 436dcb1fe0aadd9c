"""The Atw working-day calendar: holidays, counting, and properties of deadlines."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from meldplicht.rules import calendar
from meldplicht.rules.calendar import Timeliness

DATES = st.dates(min_value=date(2022, 3, 4), max_value=date(2028, 12, 31))


def test_easter_dates_match_legal_research() -> None:
    # legal-research.md section 5.3
    assert calendar.easter_sunday(2022) == date(2022, 4, 17)
    assert calendar.easter_sunday(2023) == date(2023, 4, 9)
    assert calendar.easter_sunday(2024) == date(2024, 3, 31)
    assert calendar.easter_sunday(2025) == date(2025, 4, 20)
    assert calendar.easter_sunday(2026) == date(2026, 4, 5)
    assert calendar.easter_sunday(2027) == date(2027, 3, 28)


def test_holidays_2026_table() -> None:
    # legal-research.md sections 5.2 and 5.3
    assert set(calendar.atw_holidays(2026)) == {
        date(2026, 1, 1),
        date(2026, 1, 2),  # decree day
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 4, 27),
        date(2026, 5, 5),
        date(2026, 5, 14),
        date(2026, 5, 15),  # decree day
        date(2026, 5, 25),
        date(2026, 12, 25),
        date(2026, 12, 26),
    }


def test_koningsdag_moves_to_saturday_when_27_april_is_sunday() -> None:
    assert calendar.atw_holidays(2025)[date(2025, 4, 26)] == "Koningsdag"
    assert date(2025, 4, 27) not in calendar.atw_holidays(2025)


def test_bevrijdingsdag_every_year() -> None:
    for year in range(2022, 2029):
        assert date(year, 5, 5) in calendar.atw_holidays(year)


def test_decree_days_2022_2028() -> None:
    expected = [
        date(2022, 5, 27),
        date(2023, 4, 28),
        date(2023, 5, 19),
        date(2024, 5, 10),
        date(2024, 12, 27),
        date(2025, 5, 30),
        date(2026, 1, 2),
        date(2026, 5, 15),
        date(2027, 5, 7),
        date(2028, 4, 28),
        date(2028, 5, 26),
    ]
    for day in expected:
        assert not calendar.is_working_day(day), day


def test_working_days_between_is_strict() -> None:
    assert calendar.working_days_between(date(2025, 3, 3), date(2025, 3, 5)) == 1
    assert calendar.working_days_between(date(2025, 3, 3), date(2025, 3, 4)) == 0
    assert calendar.working_days_between(date(2025, 3, 5), date(2025, 3, 3)) == 0


def test_add_and_subtract() -> None:
    assert calendar.add_working_days(date(2025, 12, 30), 2) == date(2026, 1, 5)
    assert calendar.subtract_working_days(date(2026, 1, 5), 2) == date(2025, 12, 30)
    assert calendar.add_working_days(date(2026, 1, 5), -2) == date(2025, 12, 30)
    assert calendar.add_working_days(date(2026, 1, 3), 0) == date(2026, 1, 3)


@given(start=DATES)
def test_deadline_is_a_working_day_and_on_time(start: date) -> None:
    deadline = calendar.notice_deadline(start)
    assert calendar.is_working_day(deadline)
    assert calendar.add_working_days(deadline, 2) <= start
    # The next working day is too late.
    assert calendar.add_working_days(calendar.add_working_days(deadline, 1), 2) > start


@given(a=DATES, b=DATES, n=st.integers(min_value=0, max_value=30))
def test_add_working_days_is_monotonic(a: date, b: date, n: int) -> None:
    early, late = sorted((a, b))
    assert calendar.add_working_days(early, n) <= calendar.add_working_days(late, n)
    assert calendar.add_working_days(a, n) <= calendar.add_working_days(a, n + 1)
    if n:
        assert calendar.is_working_day(calendar.add_working_days(a, n))


@given(d=DATES, n=st.integers(min_value=1, max_value=30))
def test_subtract_inverts_add_on_working_days(d: date, n: int) -> None:
    later = calendar.add_working_days(d, n)
    back = calendar.subtract_working_days(later, n)
    assert back <= d
    assert calendar.add_working_days(back, n) == later


@given(notice=DATES, days=st.integers(min_value=0, max_value=40))
def test_later_start_never_worse(notice: date, days: int) -> None:
    order = {
        Timeliness.RETROACTIVE: 0,
        Timeliness.LATE: 1,
        Timeliness.BORDERLINE: 2,
        Timeliness.ON_TIME: 3,
        Timeliness.TRANSITIONAL: 3,
    }
    start = notice + timedelta(days=days)
    later = start + timedelta(days=1)
    assert order[calendar.timeliness(notice, start)] <= order[calendar.timeliness(notice, later)]
