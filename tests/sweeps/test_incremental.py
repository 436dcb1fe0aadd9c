"""Incremental sweeps leave exactly the flags full sweeps leave, on generated data.

A few hundred notifications with varied ages (youth bands and birthdays), wages around the
minimum, hours, notice timing, end dates, documents and nationalities, several employers
and people working for several of them. The database is cloned (same ids); then, for a
series of days spanning indexations, birthdays, expiries and window moves, the same change
notices and terminations are filed in both, one copy is swept incrementally and the other
in full, and the flags (fingerprint, status, condition, severity) must be identical.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from meldplicht.core.db import create_db_engine
from meldplicht.core.errors import DomainError
from meldplicht.notifications import service
from meldplicht.notifications.models import Notification, NotificationStatus
from meldplicht.notifications.schemas import TerminationIn
from meldplicht.sweeps.sweep import SweepMode, SweepStatus, run_sweep
from tests.sweeps.conftest import (
    SweepDb,
    add_employer,
    at,
    body_for,
    change,
    clone_database,
    context,
    drop_database,
    flags,
    notify,
    settings_for,
    valid_bsns,
)

NOTIFICATIONS = 250
PERSONS = 150
ORDINARY_NIGHTS = {date(2024, 7, 2), date(2025, 7, 3)}
SWEEP_DAYS = [
    date(2024, 6, 29),
    date(2024, 7, 1),
    date(2024, 7, 2),  # an ordinary night: little is due
    date(2025, 1, 1),
    date(2025, 3, 5),
    date(2025, 7, 1),
    date(2025, 7, 3),  # another ordinary night
    date(2026, 3, 5),
]
WAGES = ["4.00", "6.50", "8.00", "9.50", "11.00", "11.40", "12.00", "13.30", "13.70", "14.10"]
HOURS = ["8", "16", "24", "32", "38", "40", "46", "50", "62"]


def generate(db: SweepDb, rng: random.Random) -> list[uuid.UUID]:
    with db.session() as session, session.begin():
        employers = [
            add_employer(session, f"{10000000 + i * 1111111}", f"Werkgever {i}").id
            for i in range(6)
        ]
    people = []
    for bsn in valid_bsns(PERSONS, 300000000):
        birth = date(rng.randint(1965, 2009), rng.randint(1, 12), rng.randint(1, 28))
        nationality = "UKR" if rng.random() < 0.9 else rng.choice(["RUS", "SYR", "NGA"])
        document = (
            None if rng.random() < 0.3 else date(2024, 8, 1) + timedelta(days=rng.randint(0, 900))
        )
        people.append((bsn, birth, nationality, document))
    ids: list[uuid.UUID] = []
    for _ in range(NOTIFICATIONS):
        bsn, birth, nationality, document = rng.choice(people)
        received = date(2024, 1, 2) + timedelta(days=rng.randint(0, 178))
        if rng.random() < 0.3:
            start = received + timedelta(days=rng.randint(-4, 3))  # late or retroactive
        else:
            start = received + timedelta(days=rng.randint(5, 420))
        if start <= birth + timedelta(days=365 * 14):
            start = birth + timedelta(days=365 * 15)
        if received < start - timedelta(days=700):
            received = start - timedelta(days=700)
        end = None if rng.random() < 0.5 else start + timedelta(days=rng.randint(20, 500))
        body = body_for(
            start=start,
            end=end,
            wage=rng.choice(WAGES),
            hours=rng.choice(HOURS),
            birth=birth,
            bsn=bsn,
            nationality=nationality,
            document_valid_until=document,
        )
        if rng.random() < 0.1:
            body["wage"] = {
                "amount": "520.00",
                "period": "week",
                "includes_holiday_allowance": True,
            }
        try:
            ids.append(notify(db, rng.choice(employers), body, received, rng.randint(7, 18)))
        except DomainError:
            continue  # a combination intake refuses (e.g. implausible age); skip it
    return ids


def mutations(rng: random.Random, ids: list[uuid.UUID], previous: date, day: date) -> list[Any]:
    """Change notices and terminations received between two sweep days (same for both)."""
    out: list[Any] = []
    span = max((day - previous).days, 1)
    for nid in rng.sample(ids, 8):
        received = previous + timedelta(days=rng.randrange(span))
        kind = rng.random()
        if kind < 0.4:
            amount = rng.choice(WAGES)
            out.append(("wage", nid, received, amount))
        elif kind < 0.6:
            out.append(("hours", nid, received, rng.choice(HOURS)))
        elif kind < 0.8:
            out.append(("end", nid, received, received + timedelta(days=rng.randint(1, 90))))
        else:
            out.append(("terminate", nid, received, received + timedelta(days=rng.randint(0, 40))))
    return out


def apply(db: SweepDb, mutation: Any) -> None:
    kind, nid, received, value = mutation
    with db.session() as session:
        notification = session.get(Notification, nid)
        assert notification is not None
        if notification.status != NotificationStatus.ACTIVE:
            return
        start = notification.start_date
    try:
        if kind == "wage":
            wage = {"amount": value, "period": "hour", "includes_holiday_allowance": False}
            change(db, nid, received, wage=wage)
        elif kind == "hours":
            change(db, nid, received, hours_per_week=value)
        elif kind == "end":
            change(db, nid, received, end_date=max(value, start).isoformat())
        else:
            with db.session() as session, session.begin():
                n = session.get(Notification, nid)
                assert n is not None
                service.terminate(
                    session,
                    n.employer_id,
                    nid,
                    TerminationIn(end_date=max(value, start), reason="Contract ended"),
                    context(db.settings, at(received, 15)),
                )
    except DomainError:
        pass  # refused the same way in both copies


@pytest.mark.slow
def test_incremental_equals_full(sweep_db: SweepDb, tmp_path: Path) -> None:
    rng = random.Random(20240701)
    ids = generate(sweep_db, rng)
    assert len(ids) > 200
    sweep_db.engine.dispose()
    full_url = clone_database(sweep_db.url, tmp_path)
    full = SweepDb(full_url, create_db_engine(full_url), settings_for(full_url), sweep_db.backend)
    try:
        assert flags(full.engine) == flags(sweep_db.engine)
        previous = date(2024, 6, 28)
        for day in SWEEP_DAYS:
            for mutation in mutations(rng, ids, previous, day):
                apply(sweep_db, mutation)
                apply(full, mutation)
            inc = run_sweep(sweep_db.engine, day, settings=sweep_db.settings, batch_size=100)
            ful = run_sweep(
                full.engine, day, mode=SweepMode.FULL, settings=full.settings, batch_size=100
            )
            assert inc.status == ful.status == SweepStatus.SUCCEEDED
            assert inc.counts["errors"] == ful.counts["errors"] == 0, inc.errors + ful.errors
            assert flags(sweep_db.engine) == flags(full.engine), day
            if inc.mode == SweepMode.INCREMENTAL:
                assert inc.counts["evaluated"] <= ful.counts["evaluated"]
            if day in ORDINARY_NIGHTS:  # the incremental run really skips work
                assert inc.mode == SweepMode.INCREMENTAL
                assert inc.counts["evaluated"] < ful.counts["evaluated"] / 5, day
            previous = day
        # A full run after the incremental ones finds nothing to change.
        check = run_sweep(
            sweep_db.engine, SWEEP_DAYS[-1], mode=SweepMode.FULL, settings=sweep_db.settings
        )
        assert (check.counts["opened"], check.counts["cleared"], check.counts["reopened"]) == (
            0,
            0,
            0,
        )
        statuses = {status for _, status, _, _ in flags(full.engine).values()}
        assert {"open", "cleared"} <= statuses
        rules = {rule for rule, _, _, _ in flags(full.engine).values()}
        assert {"BELOW_MINIMUM_WAGE", "PAST_DECLARED_END", "REPEATEDLY_LATE"} <= rules
        with full.session() as session:
            assert session.exec(select(Notification.next_check_date)).first() is not None
    finally:
        full.engine.dispose()
        drop_database(full_url)
