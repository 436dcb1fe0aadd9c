"""The ordinary night's selection (sweeps/dirty.py), on SQLite and PostgreSQL: the stored next
cross-notification and payroll dates select a notification on its day and not before, the
since-window is exclusive, retention is driven by dates, and every part is an index look-up."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import col, select

from meldplicht.core.crypto import cipher_for
from meldplicht.notifications.models import Notification, NotificationStatus, Worker
from meldplicht.payroll.models import PayrollRecord
from meldplicht.privacy.retention import purge
from meldplicht.rules.checks.schedule import next_crossing_date
from meldplicht.rules.params import get_parameters
from meldplicht.sweeps.models import SweepRun
from meldplicht.sweeps.sweep import (
    EMPLOYER_SCOPE,
    PERSON_SCOPE,
    SweepMode,
    SweepStatus,
    run_sweep,
)
from tests.sweeps.conftest import SweepDb, add_employer, at, body_for, change, notify

CROSS = PERSON_SCOPE | EMPLOYER_SCOPE


def sweep(db: SweepDb, day: date, mode: SweepMode = SweepMode.INCREMENTAL) -> SweepRun:
    run = run_sweep(db.engine, day, mode=mode, settings=db.settings, batch_size=7)
    assert run.status == SweepStatus.SUCCEEDED, run.errors
    return run


def stored(db: SweepDb, nid: uuid.UUID) -> Notification:
    with db.session() as session:
        notification = session.get(Notification, nid)
        assert notification is not None
        return notification


def employer(db: SweepDb, kvk: str = "12345678") -> uuid.UUID:
    with db.session() as session, session.begin():
        return add_employer(session, kvk).id


def test_a_notification_is_selected_on_its_next_cross_date_and_not_the_day_before(
    sweep_db: SweepDb,
) -> None:
    # Starts on 10 September 2024: the person's hours add up from that day.
    nid = notify(
        sweep_db,
        employer(sweep_db),
        body_for(start=date(2024, 9, 10), end=date(2025, 3, 31)),
        received=date(2024, 8, 20),
    )
    first = sweep(sweep_db, date(2024, 8, 21), SweepMode.FULL)
    n = stored(sweep_db, nid)
    days = {
        "notice_date": n.notice_date,
        "start_date": n.start_date,
        "end_date": n.end_date,
        "document_valid_until": date(2027, 3, 4),
    }
    expected = next_crossing_date(days, first.as_of, CROSS, get_parameters())
    assert expected == n.next_cross_date
    assert expected is not None
    assert date(2024, 8, 22) < expected <= date(2024, 9, 10)
    assert n.next_payroll_date is not None
    assert n.next_payroll_date > first.as_of

    day_before = sweep(sweep_db, expected - timedelta(days=1))
    assert day_before.mode == SweepMode.INCREMENTAL
    assert "cross_phases_in_full" not in day_before.counts
    assert day_before.counts["dirty_people"] == 0
    assert stored(sweep_db, nid).next_cross_date == expected  # not yet moved

    on_the_day = sweep(sweep_db, expected)
    assert on_the_day.counts["dirty_people"] == 1
    assert on_the_day.counts["persons"] <= 1
    moved = stored(sweep_db, nid).next_cross_date
    assert moved is not None
    assert moved > expected
    assert moved == next_crossing_date(days, expected, CROSS, get_parameters())


def test_intake_leaves_the_stored_dates_unknown_and_the_next_night_selects_them(
    sweep_db: SweepDb,
) -> None:
    nid = notify(sweep_db, employer(sweep_db), body_for(start=date(2024, 9, 10)), date(2024, 8, 20))
    sweep(sweep_db, date(2024, 8, 21), SweepMode.FULL)
    assert stored(sweep_db, nid).next_cross_date is not None
    change(sweep_db, nid, date(2024, 8, 22), end_date="2024-12-31")
    n = stored(sweep_db, nid)
    assert (n.next_cross_date, n.next_payroll_date) == (None, None)
    night = sweep(sweep_db, date(2024, 8, 23))
    assert night.counts["dirty_people"] == 1
    assert night.counts["dirty_payers"] == 1
    n = stored(sweep_db, nid)
    assert n.next_cross_date is not None
    assert n.next_payroll_date is not None


def test_a_change_at_the_last_runs_cutoff_is_taken_once(sweep_db: SweepDb) -> None:
    boss = employer(sweep_db)
    nid = notify(sweep_db, boss, body_for(start=date(2024, 9, 10)), date(2024, 8, 20))
    sweep(sweep_db, date(2024, 8, 21), SweepMode.FULL)
    # A change received on the next day, before that night's run: that run takes it.
    change(sweep_db, nid, date(2024, 8, 22), hour=9, hours_per_week="30")
    stamp = stored(sweep_db, nid).updated_at
    taking = sweep(sweep_db, date(2024, 8, 22))
    assert taking.counts["selected"] == 1
    assert taking.changes_through == stamp  # the latest change it could see
    # The next night: the change stamped exactly at the cutoff is not taken again (the
    # window is "after", not "from"), and neither is the rest of the previous day's intake.
    other = notify(
        sweep_db,
        boss,
        body_for(start=date(2024, 9, 12), bsn="123456782"),
        date(2024, 8, 22),
        hour=9,
    )
    with sweep_db.session() as session, session.begin():
        row = session.get(Notification, other)
        assert row is not None
        row.updated_at = stamp  # a declaration stamped at the very instant of the cutoff
        row.next_check_date = date(2024, 9, 1)  # ... already judged
        row.next_cross_date = row.next_payroll_date = date(2024, 9, 1)
        session.add(row)
    after = sweep(sweep_db, date(2024, 8, 23))
    assert after.counts["selected"] == 0
    assert after.counts["dirty_people"] == 0
    assert after.changes_through == stamp


def _ended_notification(db: SweepDb, boss: uuid.UUID, bsn: str, end: date) -> uuid.UUID:
    """A notification whose employment ended on `end` and was last touched the day after
    (intake refuses notices that far back, so the dates are set on the row)."""
    nid = notify(db, boss, body_for(start=date(2024, 9, 10), bsn=bsn), date(2024, 8, 20))
    with db.session() as session, session.begin():
        row = session.get(Notification, nid)
        assert row is not None
        row.status = NotificationStatus.TERMINATED
        row.start_date = end - timedelta(days=60)
        row.end_date = end
        row.updated_at = at(end + timedelta(days=1))
        session.add(row)
    return nid


def test_retention_takes_what_its_dates_say_and_nothing_else(sweep_db: SweepDb) -> None:
    boss = employer(sweep_db)
    old = _ended_notification(sweep_db, boss, "111222333", date(2019, 6, 30))
    recent = _ended_notification(sweep_db, boss, "123456782", date(2020, 1, 10))
    withdrawn = _ended_notification(sweep_db, boss, "100000009", date(2025, 6, 30))
    with sweep_db.session() as session, session.begin():
        row = session.get(Notification, withdrawn)
        assert row is not None
        row.status = NotificationStatus.WITHDRAWN
        row.updated_at = at(date(2019, 3, 1))
        session.add(row)
        worker = session.get(Worker, row.worker_id)
        assert worker is not None
        session.add(
            PayrollRecord(
                employer_lhn="123456789L01",
                bsn_hash=worker.bsn_hash,
                bsn_encrypted="x",
                bsn_last3="009",
                period_start=date(2019, 5, 1),
                period_end=date(2019, 5, 31),
                hours_paid=160,
                gross_wage=2400,
            )
        )
    cipher = cipher_for(sweep_db.settings)
    with sweep_db.session() as session, session.begin():
        # On 1 January 2025 the term of work ended in 2019 is over, of 2020 not yet.
        counts = purge(session, date(2025, 1, 1), 2, cipher=cipher)
    assert (counts.notifications, counts.payroll_records) == (2, 1)
    assert stored(sweep_db, old).signatory_name == ""
    assert stored(sweep_db, withdrawn).signatory_name == ""
    assert stored(sweep_db, recent).signatory_name != ""
    with sweep_db.session() as session, session.begin():
        again = purge(session, date(2025, 1, 1), 2, cipher=cipher)
    assert again.notifications == 0  # what was anonymised has left the date indexes


# --- the plans: every selection of an ordinary night is an index look-up ---------------------


def _plan(engine: Engine, query: Any) -> str:
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))
            return "\n".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
        return "\n".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_the_selections_of_an_ordinary_night_use_their_indexes(sweep_db: SweepDb) -> None:
    """On SQLite the plan names each selection's index; on PostgreSQL, with sequential scans
    made expensive (a test table is tiny), each is an index condition. The plans at 100,000
    notifications are in the notes of the change (issue 19, item 5)."""
    from meldplicht.privacy.retention import (
        _expired_notifications,
        cutoff,
        expired_batch,
        payroll_batch,
    )

    engine = sweep_db.engine
    day = date(2026, 3, 10)
    expected = {
        "ix_notification_next_cross_date": select(Notification.id).where(
            col(Notification.next_cross_date) <= day
        ),
        "ix_notification_next_payroll_date": select(Notification.id).where(
            col(Notification.next_payroll_date).is_(None)
        ),
        "ix_notification_updated_at": select(Notification.id).where(
            col(Notification.updated_at) > at(day)
        ),
        "ix_notification_status_next_check": select(Notification.id).where(
            col(Notification.status).in_(["active", "terminated"]),
            col(Notification.next_check_date) <= day,
        ),
        # Retention: the very statements `purge` runs, batch size and all.
        "ix_payroll_record_period_end": payroll_batch(cutoff(day, 5), 500),
    }
    ended, gone = _expired_notifications(cutoff(day, 5))
    expected["ix_notification_retention_end"] = expired_batch(ended, 500)
    expected["ix_notification_retention_withdrawn"] = expired_batch(gone, 500)
    for index, query in expected.items():
        plan = _plan(engine, query)
        if engine.dialect.name == "postgresql":
            # On a table this small the planner may take a sibling index; it must still be
            # an index condition, never a pass over the table.
            assert "Seq Scan" not in plan, f"{index}:\n{plan}"
            assert "Index Cond" in plan, f"{index}:\n{plan}"
        else:
            assert f"USING INDEX {index} " in plan, f"{index}:\n{plan}"
