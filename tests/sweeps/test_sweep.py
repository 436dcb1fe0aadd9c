"""The sweep's verdicts as of a day, on SQLite and PostgreSQL: indexation, birthdays, clearing,
reopening, idempotence, the cross-notification checks, and per-item failure isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from meldplicht.flags.models import Flag, FlagStatus, SubjectType
from meldplicht.notifications.models import Notification, Worker
from meldplicht.rules.params import get_parameters
from meldplicht.sweeps.models import SweepRun
from meldplicht.sweeps.phases import employers as employers_phase
from meldplicht.sweeps.sweep import NEVER, SweepMode, SweepStatus, run_sweep
from tests.sweeps.conftest import (
    SweepDb,
    add_employer,
    body_for,
    change,
    flags,
    flags_of,
    notify,
    valid_bsns,
)

BELOW = "BELOW_MINIMUM_WAGE"
CHANGES = ("opened", "cleared", "reopened")


def sweep(db: SweepDb, day: date, mode: SweepMode = SweepMode.INCREMENTAL) -> SweepRun:
    run = run_sweep(db.engine, day, mode=mode, settings=db.settings, batch_size=7)
    assert run.status == SweepStatus.SUCCEEDED, run.errors
    return run


def changed(run: SweepRun) -> dict[str, int]:
    return {k: run.counts[k] for k in CHANGES}


def employer_id(
    db: SweepDb, kvk: str = "12345678", name: str = "Kwekerij De Tuin B.V."
) -> uuid.UUID:
    with db.session() as session, session.begin():
        return add_employer(session, kvk, name).id


def wage_flags(db: SweepDb, notification_id: uuid.UUID) -> list[Flag]:
    return flags_of(db.engine, notification_id, BELOW)


def adult_at_13_50(db: SweepDb) -> uuid.UUID:
    """13.50/hour: above the adult minimum of 13.27 until 30 June 2024, below 13.68 after."""
    return notify(
        db,
        employer_id(db),
        body_for(start=date(2024, 6, 10), wage="13.50", end=date(2025, 12, 31)),
        received=date(2024, 5, 27),
    )


class TestIndexation:
    def test_wage_that_met_the_minimum_is_flagged_from_1_july(self, sweep_db: SweepDb) -> None:
        nid = adult_at_13_50(sweep_db)
        assert wage_flags(sweep_db, nid) == []  # intake: fine on the start date

        before = sweep(sweep_db, date(2024, 6, 30))
        assert before.counts["evaluated"] == 1
        assert wage_flags(sweep_db, nid) == []

        after = sweep(sweep_db, date(2024, 7, 1))
        assert after.counts["evaluated"] == 1  # next_check_date was 1 July
        (flag,) = wage_flags(sweep_db, nid)
        assert flag.status == FlagStatus.OPEN
        assert flag.source == "sweep"
        assert flag.period_key == "2024-07-01/age-21"
        assert flag.evidence["minimum_hourly"] == "13.68"
        assert after.counts["opened"] >= 1

    def test_next_check_date_is_stored(self, sweep_db: SweepDb) -> None:
        nid = adult_at_13_50(sweep_db)
        sweep(sweep_db, date(2024, 6, 30))
        with sweep_db.session() as session:
            notification = session.get(Notification, nid)
            assert notification is not None
            assert notification.next_check_date == date(2024, 7, 1)


class TestBirthday:
    def test_worker_turning_21_is_flagged_on_the_birthday(self, sweep_db: SweepDb) -> None:
        # Born 20 Aug 2004: 20 until 19 Aug 2025 (80%: 11.52 from 1 July 2025), 21 after
        # (adult minimum 14.40). 12.00 an hour is enough at 20 and not at 21.
        nid = notify(
            sweep_db,
            employer_id(sweep_db),
            body_for(start=date(2025, 7, 15), wage="12.00", birth=date(2004, 8, 20)),
            received=date(2025, 7, 1),
        )
        sweep(sweep_db, date(2025, 7, 20))
        day_before = sweep(sweep_db, date(2025, 8, 19))
        assert wage_flags(sweep_db, nid) == []
        assert day_before.counts["evaluated"] == 0  # nothing due until the birthday

        birthday = sweep(sweep_db, date(2025, 8, 20))
        assert birthday.counts["evaluated"] == 1
        (flag,) = wage_flags(sweep_db, nid)
        assert flag.status == FlagStatus.OPEN
        assert flag.period_key == "2025-07-01/age-21"
        assert flag.evidence["age"] == 21
        assert flag.evidence["minimum_hourly"] == "14.40"


class TestClearAndReopen:
    def test_correcting_change_clears_and_a_lowering_change_reopens(
        self, sweep_db: SweepDb
    ) -> None:
        nid = adult_at_13_50(sweep_db)
        sweep(sweep_db, date(2024, 7, 1))
        assert [f.status for f in wage_flags(sweep_db, nid)] == [FlagStatus.OPEN]

        wage = {"period": "hour", "includes_holiday_allowance": False}
        change(sweep_db, nid, date(2024, 7, 3), wage={**wage, "amount": "14.00"})
        (flag,) = wage_flags(sweep_db, nid)
        assert flag.status == FlagStatus.CLEARED
        run = sweep(sweep_db, date(2024, 7, 4))
        assert run.counts["evaluated"] == 1  # changed since the last run
        assert changed(run) == {"opened": 0, "cleared": 0, "reopened": 0}
        assert [f.status for f in wage_flags(sweep_db, nid)] == [FlagStatus.CLEARED]

        change(sweep_db, nid, date(2024, 7, 10), wage={**wage, "amount": "13.00"})
        (flag,) = wage_flags(sweep_db, nid)
        assert flag.status == FlagStatus.OPEN
        assert flag.reopened_count == 1
        run = sweep(sweep_db, date(2024, 7, 11))
        assert changed(run) == {"opened": 0, "cleared": 0, "reopened": 0}

    def test_the_next_indexation_flags_the_corrected_wage_again(self, sweep_db: SweepDb) -> None:
        nid = adult_at_13_50(sweep_db)
        sweep(sweep_db, date(2024, 7, 1))
        wage = {"period": "hour", "includes_holiday_allowance": False}
        change(sweep_db, nid, date(2024, 7, 3), wage={**wage, "amount": "14.00"})
        sweep(sweep_db, date(2024, 7, 4))
        assert sweep(sweep_db, date(2024, 12, 31)).counts["evaluated"] == 0

        run = sweep(sweep_db, date(2025, 1, 1))  # adult minimum 14.06 > 14.00
        assert run.counts["evaluated"] == 1
        old, new = wage_flags(sweep_db, nid)
        # The fingerprint carries the table period, so a new period is a new flag; the old
        # one stays cleared (its condition ended with the correction).
        assert (old.period_key, old.status) == ("2024-07-01/age-21", FlagStatus.CLEARED)
        assert (new.period_key, new.status) == ("2025-01-01/age-21", FlagStatus.OPEN)


class TestIdempotent:
    def test_second_run_for_the_same_day_changes_nothing(self, sweep_db: SweepDb) -> None:
        adult_at_13_50(sweep_db)
        for mode in (SweepMode.INCREMENTAL, SweepMode.FULL):
            first = sweep(sweep_db, date(2024, 7, 1), mode)
            state = flags(sweep_db.engine)
            second = sweep(sweep_db, date(2024, 7, 1), mode)
            assert changed(second) == {"opened": 0, "cleared": 0, "reopened": 0}
            assert flags(sweep_db.engine) == state
            assert first.counts["errors"] == second.counts["errors"] == 0
        with sweep_db.session() as session:
            runs = session.exec(select(SweepRun).order_by(SweepRun.started_at)).all()
        assert [r.status for r in runs] == [SweepStatus.SUCCEEDED] * 4

    def test_first_incremental_run_is_full_and_says_why(self, sweep_db: SweepDb) -> None:
        adult_at_13_50(sweep_db)
        run = sweep(sweep_db, date(2024, 7, 1))
        assert run.mode == SweepMode.FULL
        assert run.counts["requested_mode"] == "incremental"
        assert sweep(sweep_db, date(2024, 7, 2)).mode == SweepMode.INCREMENTAL

    def test_going_back_in_time_runs_in_full(self, sweep_db: SweepDb) -> None:
        nid = adult_at_13_50(sweep_db)
        sweep(sweep_db, date(2024, 7, 1))
        sweep(sweep_db, date(2024, 7, 2))
        run = sweep(sweep_db, date(2024, 6, 30))
        assert run.mode == SweepMode.FULL
        assert [f.status for f in wage_flags(sweep_db, nid)] == [FlagStatus.CLEARED]


class TestLifecycle:
    def test_declared_end_passing_and_terminated_notifications(self, sweep_db: SweepDb) -> None:
        eid = employer_id(sweep_db)
        nid = notify(
            sweep_db,
            eid,
            body_for(start=date(2024, 6, 10), end=date(2024, 8, 31)),
            received=date(2024, 5, 27),
        )
        sweep(sweep_db, date(2024, 8, 31))
        assert flags_of(sweep_db.engine, nid, "PAST_DECLARED_END") == []
        sweep(sweep_db, date(2024, 9, 1))
        (flag,) = flags_of(sweep_db.engine, nid, "PAST_DECLARED_END")
        assert flag.status == FlagStatus.OPEN

    def test_document_expiring(self, sweep_db: SweepDb) -> None:
        nid = notify(
            sweep_db,
            employer_id(sweep_db),
            body_for(start=date(2024, 6, 10), document_valid_until=date(2024, 10, 15)),
            received=date(2024, 5, 27),
        )
        sweep(sweep_db, date(2024, 10, 15))
        assert flags_of(sweep_db.engine, nid, "DOCUMENT_EXPIRED") == []
        run = sweep(sweep_db, date(2024, 10, 16))
        assert run.counts["evaluated"] == 1
        (flag,) = flags_of(sweep_db.engine, nid, "DOCUMENT_EXPIRED")
        assert flag.status == FlagStatus.OPEN


class TestCrossChecks:
    def test_person_total_hours_across_employers_and_clearing(self, sweep_db: SweepDb) -> None:
        first = employer_id(sweep_db, "12345678")
        second = employer_id(sweep_db, "87654321", "Schoonmaak Snel B.V.")
        notify(sweep_db, first, body_for(start=date(2024, 6, 10), hours="32"), date(2024, 5, 27))
        other = notify(
            sweep_db, second, body_for(start=date(2024, 6, 17), hours="20"), date(2024, 6, 3)
        )
        run = sweep(sweep_db, date(2024, 6, 20))
        assert run.counts["persons"] == 1
        with sweep_db.session() as session:
            bsn_hash = session.exec(select(Worker.bsn_hash)).first()
        (flag,) = flags_of(sweep_db.engine, bsn_hash, "PERSON_TOTAL_HOURS_ABOVE_48")
        assert flag.subject_type == SubjectType.PERSON
        assert flag.person_hash == bsn_hash
        assert flag.status == FlagStatus.OPEN
        assert len(flag.period_key) <= 40  # the joined ids are digested to fit the column

        change(sweep_db, other, date(2024, 6, 24), hours_per_week="12")
        run = sweep(sweep_db, date(2024, 6, 25))
        (flag,) = flags_of(sweep_db.engine, bsn_hash, "PERSON_TOTAL_HOURS_ABOVE_48")
        assert flag.status == FlagStatus.CLEARED
        assert run.counts["cleared"] == 1

    def test_many_employers_and_repeated_lateness(self, sweep_db: SweepDb) -> None:
        kvks = ["11111111", "22222222", "33333333"]
        employers = [employer_id(sweep_db, kvk, f"Werkgever {kvk}") for kvk in kvks]
        for i, eid in enumerate(employers):
            # Notified on a Monday to start on Tuesday: late (fails the two working days).
            notify(
                sweep_db,
                eid,
                body_for(start=date(2024, 9, 3 + 7 * i), end=date(2024, 9, 6 + 7 * i)),
                received=date(2024, 9, 2 + 7 * i),
            )
        lazy = employers[0]
        bsns = valid_bsns(3, 123000000)
        for i, bsn in enumerate(bsns):
            notify(
                sweep_db,
                lazy,
                body_for(start=date(2024, 10, 2 + i), bsn=bsn),
                received=date(2024, 10, 1 + i),
            )
        run = sweep(sweep_db, date(2024, 10, 10))
        assert run.counts["errors"] == 0
        with sweep_db.session() as session:
            many = session.exec(select(Flag).where(Flag.rule_code == "MANY_EMPLOYERS")).all()
            late = session.exec(select(Flag).where(Flag.rule_code == "REPEATEDLY_LATE")).all()
        assert [(f.subject_type, f.status) for f in many] == [("person", FlagStatus.OPEN)]
        assert [(f.subject_type, f.subject_id, f.status) for f in late] == [
            ("employer", str(lazy), FlagStatus.OPEN)
        ]
        # A year later the windows have moved past every notice: both clear.
        run = sweep(sweep_db, date(2025, 12, 1))
        assert {f.status for f in flags_of(sweep_db.engine, lazy, "REPEATEDLY_LATE")} == {
            FlagStatus.CLEARED
        }
        assert {f.status for f in flags_of(sweep_db.engine, many[0].subject_id)} == {
            FlagStatus.CLEARED
        }


class TestFailureIsolation:
    def test_one_bad_record_is_counted_and_the_run_goes_on(self, sweep_db: SweepDb) -> None:
        eid = employer_id(sweep_db)
        good = notify(
            sweep_db, eid, body_for(start=date(2024, 6, 10), wage="13.50"), date(2024, 5, 27)
        )
        bad = notify(
            sweep_db,
            eid,
            body_for(start=date(2024, 6, 10), bsn=valid_bsns(1, 200000000)[0]),
            date(2024, 5, 27),
        )
        with Session(sweep_db.engine) as session, session.begin():
            # A value no code path writes (as if from a faulty migration).
            session.execute(
                update(Notification).where(Notification.id == bad).values(wage_period="fortnight")  # type: ignore[arg-type]
            )
        run = run_sweep(sweep_db.engine, date(2024, 7, 1), settings=sweep_db.settings)
        assert run.status == SweepStatus.SUCCEEDED
        assert run.counts["errors"] == 1
        assert run.counts["evaluated"] == 1
        assert run.errors[0]["item"] == "notification"
        assert run.errors[0]["id"] == str(bad)
        assert "fortnight" in run.errors[0]["error"]
        assert [f.status for f in wage_flags(sweep_db, good)] == [FlagStatus.OPEN]
        with sweep_db.session() as session:
            stored = session.get(Notification, bad)
            assert stored is not None
            assert stored.next_check_date is None
            assert session.get(Notification, good).next_check_date not in (None, NEVER)  # type: ignore[union-attr]


class TestFarOffDates:
    """Issue 16: a date far in the future, stored past intake's bounds, must not let a
    notification escape the nightly re-check, nor stop the run for the others."""

    def _two(self, db: SweepDb) -> tuple[uuid.UUID, uuid.UUID]:
        eid = employer_id(db)
        good = notify(db, eid, body_for(start=date(2024, 6, 10), wage="13.50"), date(2024, 5, 27))
        bad = notify(
            db,
            eid,
            body_for(start=date(2024, 6, 10), bsn=valid_bsns(1, 200000000)[0]),
            date(2024, 5, 27),
        )
        sweep(db, date(2024, 6, 20), SweepMode.FULL)
        return good, bad

    def test_year_9999_dates_are_judged_like_any_other(self, sweep_db: SweepDb) -> None:
        good, bad = self._two(sweep_db)
        with Session(sweep_db.engine) as session, session.begin():
            # Written directly (as an old release or a hand edit could): intake refuses it.
            session.execute(
                update(Notification)
                .where(Notification.id == bad)  # type: ignore[arg-type]
                .values(end_date=date(9999, 12, 31), next_check_date=date(2024, 6, 30))
            )
            worker_id = session.get(Notification, bad).worker_id  # type: ignore[union-attr]
            session.execute(
                update(Worker)
                .where(Worker.id == worker_id)  # type: ignore[arg-type]
                .values(document_valid_until=date(9999, 12, 31))
            )
        run = sweep(sweep_db, date(2024, 7, 1))
        assert run.counts["errors"] == 0, run.errors
        assert [f.status for f in wage_flags(sweep_db, good)] == [FlagStatus.OPEN]
        with sweep_db.session() as session:
            stored = session.get(Notification, bad)
            assert stored is not None
            assert stored.next_check_date is not None
            assert date(2024, 7, 1) < stored.next_check_date < NEVER

    def test_an_item_that_fails_is_retried_on_every_run(self, sweep_db: SweepDb) -> None:
        good, bad = self._two(sweep_db)
        with Session(sweep_db.engine) as session, session.begin():
            # Changed since the last run (so selected) but not due by its check date: before
            # the fix its failure kept that date, and incremental runs skipped it until then.
            session.execute(
                update(Notification)
                .where(Notification.id == bad)  # type: ignore[arg-type]
                .values(
                    wage_period="fortnight",
                    next_check_date=date(2030, 1, 1),
                    updated_at=datetime.now(UTC),
                )
            )
        for day in (date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 3)):
            run = run_sweep(sweep_db.engine, day, settings=sweep_db.settings)
            assert run.status == SweepStatus.SUCCEEDED
            assert run.counts["errors"] == 1, (day, run.counts)
            assert [e["id"] for e in run.errors] == [str(bad)]
            assert [f.status for f in wage_flags(sweep_db, good)] == [FlagStatus.OPEN]
            with sweep_db.session() as session:
                assert session.get(Notification, bad).next_check_date is None  # type: ignore[union-attr]


class TestCrossItemRetry:
    """Issue 16: an employer (or person) whose cross-notification verdict failed is judged again
    by the next incremental run, even when none of its data changed."""

    def test_a_failing_employer_is_judged_again_next_run(
        self, sweep_db: SweepDb, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        day = date(2024, 6, 20)
        policy = get_parameters().at("policy_repeatedly_late", day).value
        eid = employer_id(sweep_db)
        bsns = valid_bsns(int(policy["threshold"]), 210000000)
        for bsn in bsns:
            notify(sweep_db, eid, body_for(start=date(2024, 6, 10), bsn=bsn), date(2024, 6, 10))

        def broken(*args: object, **kwargs: object) -> list[object]:
            raise RuntimeError("verdict failed")

        monkeypatch.setattr(employers_phase, "check_repeatedly_late", broken)
        first = sweep(sweep_db, day, SweepMode.FULL)
        assert [e["item"] for e in first.errors] == ["employer"]
        assert first.errors[0]["id"] == str(eid)
        monkeypatch.undo()

        again = sweep(sweep_db, date(2024, 6, 21))
        assert again.mode == SweepMode.INCREMENTAL
        assert again.counts["errors"] == 0, again.errors
        assert again.counts["employers"] == 1, again.counts
        assert again.counts["retried_cross_items"] == 1
        # Judged once with success: the run after leaves it alone (nothing changed).
        quiet = sweep(sweep_db, date(2024, 6, 22))
        assert quiet.mode == SweepMode.INCREMENTAL
        assert quiet.counts["employers"] == 0, quiet.counts
        assert "retried_cross_items" not in quiet.counts

    def test_more_failures_than_stored_runs_the_cross_phases_in_full(
        self, sweep_db: SweepDb
    ) -> None:
        eid = employer_id(sweep_db)
        notify(sweep_db, eid, body_for(start=date(2024, 6, 10)), date(2024, 5, 27))
        first = sweep(sweep_db, date(2024, 6, 20), SweepMode.FULL)
        with Session(sweep_db.engine) as session, session.begin():
            # As if more items failed than the run keeps in its error list.
            session.execute(
                update(SweepRun)
                .where(SweepRun.id == first.id)  # type: ignore[arg-type]
                .values(counts={**first.counts, "errors": 1})
            )
        again = sweep(sweep_db, date(2024, 6, 21))
        assert again.mode == SweepMode.INCREMENTAL
        assert again.counts.get("cross_phases_in_full") == 1, again.counts
