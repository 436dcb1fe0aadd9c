"""Incremental sweeps leave exactly the flags full sweeps leave, on generated data.

A few hundred notifications with varied ages (youth bands and birthdays), wages around the
minimum, hours, notice timing, end dates, documents and nationalities, several employers
and people working for several of them, and payroll deliveries (paid, unpaid, underpaid,
unnotified and unregistered work; a second delivery arrives between two sweep days). The
database is cloned (same ids); then, for a
series of days spanning indexations, birthdays, expiries and window moves, the same change
notices and terminations are filed in both, one copy is swept incrementally and the other
in full, and the flags (fingerprint, status, condition, severity) must be identical.
"""

from __future__ import annotations

import io
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from meldplicht.core.clock import utcnow
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import create_db_engine
from meldplicht.core.errors import DomainError
from meldplicht.notifications import changes
from meldplicht.notifications.models import Notification, NotificationStatus
from meldplicht.notifications.schemas import TerminationIn
from meldplicht.payroll import service as payroll
from meldplicht.payroll.models import PayrollRecord
from meldplicht.payroll.schemas import COLUMNS, iter_rows
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
# The second payroll delivery arrives between the sweeps of 2025-01-01 and 2025-03-05.
SECOND_DELIVERY_BEFORE = date(2025, 3, 5)
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


@dataclass(frozen=True)
class World:
    ids: list[uuid.UUID]
    people: list[tuple[str, date, str, date | None]]
    lhns: list[str]


def generate(db: SweepDb, rng: random.Random) -> World:
    lhns = [f"{n}L01" for n in valid_bsns(7, 820000000)]
    with db.session() as session, session.begin():
        employers = [
            add_employer(session, f"{10000000 + i * 1111111}", f"Werkgever {i}", lhns[i]).id
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
    deliver_payroll(db, payroll_rows(rng, people, lhns, 2024, range(1, 7)), date(2024, 6, 20))
    return World(ids, people, lhns)


def payroll_rows(
    rng: random.Random,
    people: list[tuple[str, date, str, date | None]],
    lhns: list[str],
    year: int,
    months: range,
) -> list[dict[str, Any]]:
    """Paid periods for a third of the people, at employers that may or may not have notified
    them (the seventh loonheffingennummer belongs to no registered employer)."""
    rows = []
    for bsn, _, _, _ in rng.sample(people, len(people) // 3):
        lhn = rng.choice(lhns)
        for m in rng.sample(list(months), rng.randint(1, 3)):
            first = date(year, m, 1)
            last = date(year + (m == 12), m % 12 + 1, 1) - timedelta(days=1)
            hours = rng.choice([40, 80, 120, 160, 200])
            hourly = Decimal(rng.choice(WAGES))
            rows.append(
                {
                    "loonheffingennummer": lhn,
                    "bsn": bsn,
                    "period_start": first.isoformat(),
                    "period_end": last.isoformat(),
                    "hours_paid": str(hours),
                    "gross_wage": str((hours * hourly).quantize(Decimal("0.01"))),
                }
            )
    return rows


def same_record_ids(source: SweepDb, target: SweepDb) -> None:
    """Give the target's payroll records the source's ids (a record's flags are keyed by its
    id, which each import draws afresh), matching them on what identifies a paid period."""

    def key(r: PayrollRecord) -> tuple[str, str, date, date]:
        return (r.employer_lhn, r.bsn_hash, r.period_start, r.period_end)

    with source.session() as session:
        ids = {key(r): r.id for r in session.exec(select(PayrollRecord))}
    with target.session() as session, session.begin():
        for record in list(session.exec(select(PayrollRecord))):
            wanted = ids[key(record)]
            if record.id != wanted:
                session.execute(
                    update(PayrollRecord)
                    .where(col(PayrollRecord.id) == record.id)
                    .values(id=wanted)
                )


def deliver_payroll(db: SweepDb, rows: list[dict[str, Any]], received: date) -> None:
    """Import through the real parser and importer, then date the delivery to `received`
    (the importer stamps the wall clock; the sweeps replay past days)."""
    lines = [",".join(COLUMNS)] + [",".join(str(r.get(c, "")) for c in COLUMNS) for r in rows]
    before = utcnow()
    with db.session() as session, session.begin():
        result = payroll.import_rows(
            session,
            iter_rows(io.BytesIO(("\n".join(lines) + "\n").encode()), "csv"),
            cipher=cipher_for(db.settings),
            today=received,
            actor_id="test",
            source="test",
        )
        assert result.counts["rejected"] == 0, result.rejected_rows[:3]
        stamp = at(received, 12)
        session.execute(
            update(PayrollRecord)
            .where(col(PayrollRecord.updated_at) >= before)
            .values(imported_at=stamp, updated_at=stamp)
        )


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
                changes.terminate(
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
    world = generate(sweep_db, rng)
    ids = world.ids
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
            if day == SECOND_DELIVERY_BEFORE:
                rows = payroll_rows(rng, world.people, world.lhns, 2024, range(7, 13))
                deliver_payroll(sweep_db, rows, date(2025, 2, 20))
                deliver_payroll(full, rows, date(2025, 2, 20))
                same_record_ids(sweep_db, full)
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
        assert {"MISSING_NOTICE", "PAID_BELOW_MINIMUM_WAGE"} <= rules
        with full.session() as session:
            assert session.exec(select(Notification.next_check_date)).first() is not None
    finally:
        full.engine.dispose()
        drop_database(full_url)
