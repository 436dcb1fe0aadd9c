"""Generated notification facts for the verdict benchmark (plain random, seeded).

The mix reaches every per-notification rule: notices late and on time, wages around the
minimum in every period, ages from 11 to 70, long weeks, housing deductions, non-Ukrainian
workers, expired documents, declared and passed end dates, terminations and withdrawals.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from meldplicht.rules.facts import (
    ContractType,
    NotificationFacts,
    WagePeriod,
    WorkerFacts,
)

FIRST = date(2022, 3, 14)  # starts from 4 March 2022 (the exemption)
LAST = date(2028, 6, 30)


def _day(rng: random.Random, lo: date = FIRST, hi: date = LAST) -> date:
    return lo + timedelta(days=rng.randrange((hi - lo).days + 1))


def _maybe(rng: random.Random, share: float) -> bool:
    return rng.random() < share


def random_facts(rng: random.Random) -> NotificationFacts:
    notice = _day(rng)
    start = notice + timedelta(days=rng.choice((-9, -1, 0, 1, 2, 3, 4, 5, 9, 30, 120)))
    end: date | None = None
    if _maybe(rng, 0.5):
        end = start + timedelta(days=rng.choice((-3, 10, 90, 400, 900, 1800)))
    age = rng.choice((11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 30, 45, 70))
    birth = start - timedelta(days=365 * age + rng.randrange(365))
    period = rng.choice(list(WagePeriod))
    hours = Decimal(rng.choice((0, 8, 12, 16, 20, 24, 32, 36, 38, 40, 45, 49, 56, 61, 70)))
    per_hour = Decimal(rng.choice(("4.50", "9.12", "11", "12.80", "13.27", "13.68", "14.06", "16")))
    factor = {
        WagePeriod.HOUR: Decimal(1),
        WagePeriod.WEEK: hours or Decimal(38),
        WagePeriod.FOUR_WEEKS: 4 * (hours or Decimal(38)),
        WagePeriod.MONTH: (hours or Decimal(38)) * 13 / 3,
    }[period]
    amount = (per_hour * factor).quantize(Decimal("0.01"))
    housing = _maybe(rng, 0.3)
    worker = WorkerFacts(
        birth_date=birth,
        nationality="UKR" if _maybe(rng, 0.8) else rng.choice(("RUS", "NGA", "ind")),
        document_type=rng.choice((None, "sticker", "o_document", "passport")),
        document_valid_until=_day(rng) if _maybe(rng, 0.6) else None,
    )
    terminated = end is not None and _maybe(rng, 0.3)
    return NotificationFacts(
        notice_date=notice,
        start_date=start,
        end_date=end,
        contract_type=(
            rng.choice(list(ContractType)) if _maybe(rng, 0.1) else ContractType.FIXED_TERM
        ),
        hours_per_week=hours,
        wage_amount=amount,
        wage_period=period,
        wage_includes_holiday_allowance=_maybe(rng, 0.3),
        worker=worker,
        fulltime_hours_per_week=rng.choice((None, None, Decimal(36), Decimal(38), Decimal(40))),
        housing_provided=housing,
        housing_deduction_monthly=(
            Decimal(rng.choice(("0", "150", "300", "450", "700"))) if housing else None
        ),
        housing_written_consent=rng.choice((None, True, False)),
        housing_certified=rng.choice((None, True, False)),
        bbl_student=rng.choice((None, False, True)) if 18 <= age <= 20 else None,
        terminated=terminated,
        withdrawn=_maybe(rng, 0.02),
    )


def random_as_of(rng: random.Random, facts: NotificationFacts) -> date:
    """A sweep day around the employment (before, during, after its end)."""
    return facts.start_date + timedelta(days=rng.choice((-5, 0, 1, 30, 200, 700, 2000)))
