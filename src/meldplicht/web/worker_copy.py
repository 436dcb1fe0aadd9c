"""The worker's own copy of a notification, in Ukrainian, English or Dutch: who notified,
when the work starts, the wage declared and the statutory minimum for the worker's age on
the start date (from rules.wages, never re-computed here), their rights and where to report.
It never shows the BSN or the document number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_UP, Decimal
from typing import Any

from meldplicht.notifications.schemas import NotificationOut
from meldplicht.rules import wages
from meldplicht.rules.facts import WagePeriod
from meldplicht.rules.params import get_parameters


def rights_facts(on: date) -> dict[str, Any]:
    """The amounts the rights texts quote, as in force on `on`."""
    params = get_parameters()
    wml = params.at("wml_hourly", on)
    cap = params.at("housing_deduction_cap", on).value
    limits = params.at("working_time_limits", on).value
    return {
        "minimum_wage": wml.value[wages.age_key(wages.ADULT_AGE)],
        "minimum_wage_from": wml.effective_from,
        "housing_cap_percent": int(Decimal(str(cap)) * 100),
        "max_week": limits["adult_week_max"],
        "average_week": limits["adult_sixteen_week_average"],
    }


@dataclass(frozen=True, slots=True)
class MinimumForWorker:
    age: int
    on: date
    hourly: Decimal
    lower_bound: bool
    # The minimum for the declared period at the declared hours (None: per hour, or no hours).
    period_amount: Decimal | None


def minimum_for(n: NotificationOut) -> MinimumForWorker | None:
    """The statutory minimum for the worker's age on the start date; None below age 15."""
    age = wages.age_on(n.worker.birth_date, n.start_date)
    try:
        minimum = wages.minimum_hourly_wage(
            age, n.start_date, n.fulltime_hours_per_week, bbl_student=bool(n.bbl_student)
        )
    except ValueError:
        return None
    period = WagePeriod(n.wage.period)
    period_amount = None
    if period is not WagePeriod.HOUR and n.hours_per_week:
        exact = wages.to_decimal(minimum.period_minimum(period, n.hours_per_week))
        # Shown to the cent, rounded up: the worker is owed at least the exact amount.
        period_amount = exact.quantize(Decimal("0.01"), rounding=ROUND_UP)
    return MinimumForWorker(
        age=age,
        on=n.start_date,
        hourly=minimum.hourly,
        lower_bound=minimum.lower_bound,
        period_amount=period_amount,
    )
