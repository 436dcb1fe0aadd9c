"""Working days under the Algemene termijnenwet and the timeliness of a notification.

Working days are Monday to Friday minus the Atw art. 3 holidays (computed each year from the
rules in `atw_holiday_rules.yaml`, Easter by the Gregorian algorithm) and the days equated by
royal decree (`atw_decree_days.yaml`). See DECISIONS.md section 2.
"""

from __future__ import annotations

import enum
import functools
from datetime import date, timedelta

from meldplicht.rules.params import Parameters, ParameterValue, get_parameters

ONE_DAY = timedelta(days=1)


class Timeliness(enum.StrEnum):
    ON_TIME = "on_time"  # meets reading A and reading B
    BORDERLINE = "borderline"  # meets reading A (notice + 2 working days <= start), fails B
    LATE = "late"  # notice on or before the start date, but fails reading A
    RETROACTIVE = "retroactive"  # the work started before the notice date
    TRANSITIONAL = "transitional"  # covered by the 2022 late-notice window: on time


ACCEPTED = frozenset({Timeliness.ON_TIME, Timeliness.BORDERLINE, Timeliness.TRANSITIONAL})


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _params(params: Parameters | None) -> Parameters:
    return params if params is not None else get_parameters()


def atw_holidays(year: int, params: Parameters | None = None) -> dict[date, str]:
    """The Atw art. 3 holidays and the decree days of `year`, with their Dutch names."""
    return dict(_atw_holidays(year, _params(params)))


@functools.lru_cache(maxsize=512)
def _atw_holidays(year: int, params: Parameters) -> tuple[tuple[date, str], ...]:
    rules = params.at("atw_holiday_rules", date(year, 1, 1)).value
    easter = easter_sunday(year)
    days: dict[date, str] = {}
    for rule in rules:
        kind = rule["rule"]
        if kind == "fixed":
            day = date(year, rule["month"], rule["day"])
        elif kind == "easter":
            day = easter + timedelta(days=rule["offset"])
        else:  # koningsdag: 27 April, or Saturday 26 April when the 27th is a Sunday
            day = date(year, 4, 27)
            if day.weekday() == 6:
                day = date(year, 4, 26)
        days[day] = rule["name"]
    # Decree days are dated per year; a year past the newest decree simply has none known.
    for entry in params.entries("atw_decree_days"):
        for decree_day in entry.value or []:
            if decree_day["date"].year == year:
                days.setdefault(decree_day["date"], decree_day["name"])
    return tuple(sorted(days.items()))


@functools.lru_cache(maxsize=512)
def _holiday_dates(year: int, params: Parameters) -> frozenset[date]:
    return frozenset(day for day, _ in _atw_holidays(year, params))


def is_working_day(d: date, params: Parameters | None = None) -> bool:
    return d.weekday() < 5 and d not in _holiday_dates(d.year, _params(params))


def add_working_days(d: date, n: int, params: Parameters | None = None) -> date:
    """The n-th working day after `d` (`d` itself is not counted); n < 0 counts backwards."""
    if n < 0:
        return subtract_working_days(d, -n, params)
    current = d
    remaining = n
    while remaining:
        current += ONE_DAY
        if is_working_day(current, params):
            remaining -= 1
    return current


def subtract_working_days(d: date, n: int, params: Parameters | None = None) -> date:
    """The n-th working day before `d` (`d` itself is not counted)."""
    if n < 0:
        return add_working_days(d, -n, params)
    current = d
    remaining = n
    while remaining:
        current -= ONE_DAY
        if is_working_day(current, params):
            remaining -= 1
    return current


def working_days_between(a: date, b: date, params: Parameters | None = None) -> int:
    """The number of working days strictly between `a` and `b` (0 when b <= a + 1 day)."""
    count = 0
    current = a + ONE_DAY
    while current < b:
        if is_working_day(current, params):
            count += 1
        current += ONE_DAY
    return count


def notice_term_parameter(start_date: date, params: Parameters | None = None) -> ParameterValue:
    """The notice-term parameter that applies to work starting on `start_date`."""
    p = _params(params)
    first = p.entries("notice_term_working_days")[0].effective_from
    # The term has only ever been 2; a start before the first entry (before temporary
    # protection began) is judged with the first value rather than refused.
    return p.at("notice_term_working_days", max(start_date, first))


def notice_term(start_date: date, params: Parameters | None = None) -> int:
    """The notice term in working days for work starting on `start_date`."""
    value: int = notice_term_parameter(start_date, params).value
    return value


def notice_deadline(start_date: date, params: Parameters | None = None) -> date:
    """The latest working day on which a notice is on time under reading A.

    Reading A: notice date + 2 working days <= start date. A notice received on a
    non-working day right after this deadline (a weekend or holiday before the next working
    day) is also on time, because counting only resumes on the next working day; the
    deadline we tell employers is the working day.
    """
    last_working_day = start_date
    while not is_working_day(last_working_day, params):
        last_working_day -= ONE_DAY
    return subtract_working_days(last_working_day, notice_term(start_date, params), params)


def in_transitional_window(
    notice_date: date, start_date: date, params: Parameters | None = None
) -> bool:
    window = _params(params).at("transitional_notice_window", start_date).value
    return bool(
        window["work_start_from"] <= start_date <= window["work_start_until"]
        and notice_date <= window["notified_by"]
    )


def timeliness(notice_date: date, start_date: date, params: Parameters | None = None) -> Timeliness:
    """Classify a notice against the start of the work (DECISIONS.md section 2)."""
    p = _params(params)
    window_start = p.entries("transitional_notice_window")[0].effective_from
    if start_date >= window_start and in_transitional_window(notice_date, start_date, p):
        return Timeliness.TRANSITIONAL
    if start_date < notice_date:
        return Timeliness.RETROACTIVE
    term = notice_term(start_date, p)
    if add_working_days(notice_date, term, p) > start_date:
        return Timeliness.LATE
    if working_days_between(notice_date, start_date, p) < term:
        return Timeliness.BORDERLINE
    return Timeliness.ON_TIME
