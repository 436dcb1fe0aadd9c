"""The sweep's flag writes against intake writing at the same time, on SQLite and PostgreSQL.

A flag the sweep read and then wants to update is changed by someone else before the write
(its version, `updated_at`, moves): the guarded update notices, the batch is redone item by
item from a fresh read, and nothing is overwritten unseen. A flag the sweep wants to open is
inserted by someone else first (the same fingerprint): no second flag, no failure, and the
sweep's count and audit do not claim an opening it did not make.

On PostgreSQL the other writer is another connection that commits between the sweep's read
and its write. On SQLite the sweep's batch holds the database's write lock from its BEGIN
IMMEDIATE, so no other connection can write in between; the change is made in the batch's
own transaction instead, which is what the guarded write sees either way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from meldplicht.accounts.models import Role, UserAccount
from meldplicht.audit.models import AuditEvent
from meldplicht.flags import risk
from meldplicht.flags import sync as flag_service
from meldplicht.flags.models import Flag, FlagSource, FlagStatus, Outcome, SubjectType
from meldplicht.inspection import workflow
from meldplicht.inspection.models import Case
from meldplicht.rules.facts import Finding, Severity
from meldplicht.sweeps import flag_writes
from meldplicht.sweeps.sweep import SweepMode, SweepStatus, run_sweep
from tests.sweeps.conftest import SweepDb, add_employer, body_for, flags_of, notify

BELOW = "BELOW_MINIMUM_WAGE"


def sweep(db: SweepDb, day: date) -> Any:
    run = run_sweep(db.engine, day, mode=SweepMode.FULL, settings=db.settings, batch_size=7)
    assert run.status == SweepStatus.SUCCEEDED, run.errors
    assert run.counts["errors"] == 0
    return run


@contextmanager
def other_writer(db: SweepDb, sweep_session: Session) -> Iterator[Session]:
    """A session standing for intake: its own committed transaction on PostgreSQL, the
    sweep's transaction on SQLite (see the module docstring)."""
    if db.backend == "postgres":
        with Session(db.engine) as other, other.begin():
            yield other
        return
    yield sweep_session
    sweep_session.flush()


def between_read_and_write(
    monkeypatch: pytest.MonkeyPatch, db: SweepDb, act: Callable[[Session], None]
) -> list[str]:
    """Run `act` once, as another writer, right after the sweep's first read of stored flags;
    returns what the guarded updates raised meanwhile."""
    read = flag_writes._stored_flags
    update_flags = flag_writes._guarded_update
    done: list[bool] = []
    raised: list[str] = []

    def reading(session: Session, *args: Any) -> Any:
        found = read(session, *args)
        if not done:
            done.append(True)
            with other_writer(db, session) as other:
                act(other)
        return found

    def updating(session: Session, rows: list[dict[str, Any]]) -> None:
        try:
            update_flags(session, rows)
        except flag_writes.FlagChangedMeanwhile as exc:
            raised.append(str(exc))
            raise

    monkeypatch.setattr(flag_writes, "_stored_flags", reading)
    monkeypatch.setattr(flag_writes, "_guarded_update", updating)
    return raised


def below_minimum(db: SweepDb, start: date = date(2024, 6, 10), wage: str = "13.50") -> uuid.UUID:
    with db.session() as session, session.begin():
        employer = add_employer(session, "12345678").id
    return notify(
        db,
        employer,
        body_for(start=start, wage=wage, end=date(2025, 12, 31)),
        received=start - timedelta(days=14),
    )


def test_a_flag_changed_between_read_and_write_is_detected_and_redone(
    sweep_db: SweepDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    nid = below_minimum(sweep_db)
    sweep(sweep_db, date(2024, 7, 1))  # opens the wage flag (13.50 < 13.68 from 1 July)
    (flag,) = flags_of(sweep_db.engine, nid, BELOW)
    right_score = flag.risk_score
    # The stored score went stale: the next sweep wants to write the flag.
    with sweep_db.session() as session, session.begin():
        session.execute(update(Flag).where(col(Flag.id) == flag.id).values(risk_score=1))
    moved = flag.updated_at + timedelta(microseconds=1)

    def intake_touches_the_flag(other: Session) -> None:
        other.execute(
            update(Flag)
            .where(col(Flag.id) == flag.id)
            .values(updated_at=moved, message_en="written by intake")
        )

    raised = between_read_and_write(monkeypatch, sweep_db, intake_touches_the_flag)
    sweep(sweep_db, date(2024, 7, 2))

    assert raised == ["1 of 1 flags changed meanwhile"]
    (after,) = flags_of(sweep_db.engine, nid, BELOW)
    # Redone from a fresh read: intake's change was seen, then the sweep's content written.
    assert after.risk_score == right_score
    assert after.message_en != "written by intake"
    assert after.message_en.startswith(flag.message_en[:40])
    assert after.updated_at != moved  # written again by the sweep, after intake


def test_a_flag_inserted_between_read_and_write_is_not_duplicated(
    sweep_db: SweepDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    nid = below_minimum(sweep_db)
    assert flags_of(sweep_db.engine, nid, BELOW) == []  # fine at intake (before 1 July)
    period = "2024-07-01/age-21"
    fp = flag_service.fingerprint(BELOW, SubjectType.NOTIFICATION, str(nid), period)
    theirs = uuid.uuid4()

    def intake_opens_the_same_flag(other: Session) -> None:
        employer = flags_employer(other, nid)
        other.add(
            Flag(
                id=theirs,
                fingerprint=fp,
                rule_code=BELOW,
                rule_version="intake",
                subject_type=SubjectType.NOTIFICATION,
                subject_id=str(nid),
                period_key=period,
                employer_id=employer,
                notification_id=nid,
                severity="high",
                status=FlagStatus.OPEN,
                legal_basis="Wet minimumloon en minimumvakantiebijslag, artikel 7",
                message_nl="door de melding",
                message_en="by intake",
                source=FlagSource.INTAKE,
            )
        )

    raised = between_read_and_write(monkeypatch, sweep_db, intake_opens_the_same_flag)
    run = sweep(sweep_db, date(2024, 7, 1))

    assert raised == []
    (flag,) = flags_of(sweep_db.engine, nid, BELOW)
    assert flag.id == theirs  # theirs stands; no second flag with the fingerprint
    assert run.counts["opened"] == 0
    with sweep_db.session() as session:
        opened = session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "flag.opened", AuditEvent.subject_type == "flag")
        ).one()
        assert opened == 0  # intake's insert here made no entry, and the sweep claims none
        stored = session.get(Flag, theirs)
        assert stored is not None
        assert stored.case_id is not None  # found by the sweep, it joined the employer's case


def flags_employer(session: Session, nid: uuid.UUID) -> uuid.UUID:
    from meldplicht.notifications.models import Notification

    notification = session.get(Notification, nid)
    assert notification is not None
    return notification.employer_id


def stamps(db: SweepDb) -> dict[str, Any]:
    with db.session() as session:
        found: dict[str, Any] = {
            f"flag {f.id}": f.risk_computed_at for f in session.exec(select(Flag))
        }
        found.update({f"case {c.id}": c.risk_computed_at for c in session.exec(select(Case))})
        return found


def test_a_sweep_that_changes_nothing_leaves_the_risk_stamps(sweep_db: SweepDb) -> None:
    nid = below_minimum(sweep_db)
    sweep(sweep_db, date(2024, 7, 1))
    before = stamps(sweep_db)
    assert before
    assert all(v is not None for v in before.values())

    again = sweep(sweep_db, date(2024, 7, 1))
    assert again.counts.get("flags_written", 0) == 0
    assert stamps(sweep_db) == before
    # The next night the message names the new day (the flag is written), but no input of
    # the score changed: the stamps stay.
    night = sweep(sweep_db, date(2024, 7, 2))
    assert night.counts["flags_written"] == 1
    assert stamps(sweep_db) == before

    # A confirmed violation rescores the employer's flags at once; the next night's sweep
    # computes the same score and writes nothing.
    (flag,) = flags_of(sweep_db.engine, nid, BELOW)
    with sweep_db.session() as session, session.begin():
        user = UserAccount(
            username="anna", display_name="Anna", role=Role.INSPECTOR, password_hash="x"
        )
        session.add(user)
        session.flush()
        who = workflow.Staff(user.id, "anna", "Anna", Role.INSPECTOR, "test")
        other = flag_service.sync_flags(
            session,
            flag_service.Subject(
                type=SubjectType.EMPLOYER, id="late-once", employer_id=flag.employer_id
            ),
            [late_finding()],
            scope={"LATE_NOTICE"},
            source=FlagSource.SWEEP,
            as_of=date(2024, 7, 2),
        ).flag_ids[0]
        workflow.claim(session, who, other)
        workflow.resolve(session, who, other, Outcome.VIOLATION_CONFIRMED, "Ja.")
    (rescored,) = flags_of(sweep_db.engine, nid, BELOW)
    assert rescored.risk_breakdown["employer_history"]["confirmed_violations"] == 1
    assert rescored.risk_score == expected_score(flag, confirmed=1) > flag.risk_score
    assert rescored.risk_computed_at is not None
    assert flag.risk_computed_at is not None
    assert rescored.risk_computed_at > flag.risk_computed_at
    after_confirm = stamps(sweep_db)
    rerun = sweep(sweep_db, date(2024, 7, 2))
    assert rerun.counts.get("flags_written", 0) == 0
    assert stamps(sweep_db) == after_confirm


def late_finding() -> Finding:
    return Finding(
        code="LATE_NOTICE",
        severity=Severity.MEDIUM,
        rule_version="1.0.0",
        legal_basis="test basis",
        message_nl="te laat gemeld",
        message_en="notified late",
    )


def expected_score(flag: Flag, *, confirmed: int) -> int:
    score, _ = risk.score(
        severity=flag.severity,
        workers_affected=flag.workers_affected,
        confirmed_violations=confirmed,
        sbi_code=flag.risk_breakdown["sector"]["sbi_code"],
    )
    return score
