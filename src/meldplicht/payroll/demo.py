"""Believable payroll for the demo notifications, with a few planted problems.

For every notification of an employer with a loonheffingennummer, one record per calendar month
from the start to the last whole month before `today` (or the end date): the declared hours
(hours a week x 13/3) at the declared hourly wage. Planted, at about the given rates: pay 20%
below the statutory minimum, a month of pay after the end date, a notification with no pay at
all, and a worker paid who was never notified. BSNs of notified workers are taken from the
worker rows as stored (hash, ciphertext, last three digits): no BSN is decrypted.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session, col, select

from meldplicht.core.clock import today as clock_today
from meldplicht.core.config import Settings, get_settings
from meldplicht.core.crypto import cipher_for
from meldplicht.employers.models import Employer
from meldplicht.notifications.models import Notification, Worker
from meldplicht.payroll.models import PayrollRecord
from meldplicht.rules import wages
from meldplicht.rules.facts import WagePeriod
from meldplicht.rules.sql import counted

CENT = Decimal("0.01")


def _months(start: date, end: date) -> list[tuple[date, date]]:
    periods = []
    first = date(start.year, start.month, 1)
    while first <= end:
        nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        last = nxt - timedelta(days=1)
        if last <= end:
            periods.append((first, last))
        first = nxt
    return periods


def _valid_bsn(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
        if sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 == 0:
            return "".join(map(str, digits))


def add_demo_payroll(
    session: Session,
    seed: int = 2026,
    *,
    settings: Settings | None = None,
    today: date | None = None,
    underpaid_rate: float = 0.04,
    no_pay_rate: float = 0.03,
    unnotified_per_employer: float = 0.3,
) -> dict[str, Any]:
    """Add the payroll; returns counts of records and of each planted problem."""
    rng = random.Random(seed)
    settings = settings or get_settings()
    cipher = cipher_for(settings)
    today = today or clock_today()
    last_day = date(today.year, today.month, 1) - timedelta(days=1)
    counts = {"records": 0, "underpaid": 0, "no_pay": 0, "after_end": 0, "unnotified": 0}
    rows = session.exec(
        select(Notification, Worker, Employer)
        .join(Worker, col(Worker.id) == col(Notification.worker_id))
        .join(Employer, col(Employer.id) == col(Notification.employer_id))
        .where(
            col(Employer.loonheffingennummer).is_not(None),
            counted(col(Notification.status)),
        )
        # Ids are random: order by what the seed decides, so the same seed gives the same data.
        .order_by(
            col(Notification.received_at),
            col(Notification.start_date),
            col(Worker.surname),
            col(Worker.given_names),
        )
    ).all()
    employers: dict[uuid.UUID, Employer] = {}
    for notification, worker, employer in rows:
        employers[employer.id] = employer
        lhn = employer.loonheffingennummer
        assert lhn is not None
        if rng.random() < no_pay_rate:
            counts["no_pay"] += 1
            continue
        hours_week = notification.hours_per_week or Decimal(24)
        try:
            hourly = wages.hourly_wage(
                notification.wage_amount,
                WagePeriod(notification.wage_period),
                hours_week,
                notification.wage_includes_holiday_allowance,
            )
        except wages.WageNotCheckable:
            hourly = Decimal("14.40")
        end = min(notification.end_date or last_day, last_day)
        periods = _months(notification.start_date, end)
        planted_after = (
            notification.end_date is not None
            and notification.end_date < last_day - timedelta(days=31)
            and rng.random() < 0.15
        )
        if planted_after and notification.end_date is not None:
            periods += _months(notification.end_date + timedelta(days=1), last_day)[:1]
            counts["after_end"] += 1
        underpaid_month = periods[rng.randrange(len(periods))] if periods else None
        underpaid = underpaid_month is not None and rng.random() < underpaid_rate
        counts["underpaid"] += int(underpaid)
        start_age = wages.age_on(worker.birth_date, notification.start_date)
        paid_fairly_at_start = (
            start_age < wages.YOUTH_TABLE_MIN_AGE
            or hourly
            >= wages.minimum_hourly_wage(
                max(start_age, wages.YOUTH_TABLE_MIN_AGE), notification.start_date
            ).hourly
        )
        for first, last in periods:
            hours = (hours_week * 13 / 3).quantize(CENT, ROUND_HALF_UP)
            rate = hourly
            if paid_fairly_at_start:
                # An honest employer follows each indexation and birthday; one who notified
                # too low a wage goes on paying it.
                age_now = max(wages.age_on(worker.birth_date, first), 15)
                rate = max(rate, wages.minimum_hourly_wage(age_now, first).hourly)
            if underpaid and (first, last) == underpaid_month:
                age = wages.age_on(worker.birth_date, first)
                minimum = wages.minimum_hourly_wage(max(age, 15), first).hourly
                rate = minimum * Decimal("0.8")
            session.add(
                PayrollRecord(
                    employer_lhn=lhn,
                    employer_id=employer.id,
                    bsn_hash=worker.bsn_hash,
                    bsn_encrypted=worker.bsn_encrypted,
                    bsn_last3=worker.bsn_last3,
                    period_start=first,
                    period_end=last,
                    hours_paid=hours,
                    gross_wage=(rate * hours).quantize(CENT, ROUND_HALF_UP),
                    nationality=worker.nationality,
                )
            )
            counts["records"] += 1
    for employer in employers.values():
        if rng.random() >= unnotified_per_employer:
            continue
        assert employer.loonheffingennummer is not None
        bsn = _valid_bsn(rng)
        first, last = _months(last_day - timedelta(days=45), last_day)[-1]
        session.add(
            PayrollRecord(
                employer_lhn=employer.loonheffingennummer,
                employer_id=employer.id,
                bsn_hash=cipher.keyed_hash(bsn),
                bsn_encrypted=cipher.encrypt(bsn),
                bsn_last3=bsn[-3:],
                period_start=first,
                period_end=last,
                hours_paid=Decimal(120),
                gross_wage=Decimal("1800.00"),
                nationality="UKR",
            )
        )
        counts["unnotified"] += 1
        counts["records"] += 1
    session.flush()
    return counts
