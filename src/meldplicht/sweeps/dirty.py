"""What an incremental sweep selects: its basis (since when changes count), the people,
employers and payroll whose verdicts can have moved, and retention before everything else.

Functions of the running sweep (`_Sweep` in sweeps/sweep.py), which calls them in order.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, and_, func, or_
from sqlmodel import Session, col, select

from meldplicht.core.clock import utcnow
from meldplicht.notifications.models import Notification, Worker
from meldplicht.rules.checks.schedule import crossing_offsets
from meldplicht.sweeps import sweep as sw
from meldplicht.sweeps.models import SweepRun

if TYPE_CHECKING:
    from meldplicht.sweeps.sweep import _Sweep


def prepare(sweep: _Sweep) -> tuple[datetime | None, list[uuid.UUID] | None]:
    """Close runs a dead process left open, settle the mode, and record the new run."""
    now = utcnow()
    with Session(sweep.engine, expire_on_commit=False) as session, session.begin():
        for stale in session.exec(
            select(SweepRun).where(SweepRun.status == sw.SweepStatus.RUNNING)
        ):
            sw.log.warning("sweep %s was left running: marking it interrupted", stale.id)
            stale.status = sw.SweepStatus.INTERRUPTED
            stale.finished_at = stale.heartbeat_at or now
            session.add(stale)
        changed_since, touched, reason = incremental_basis(sweep, session)
        if sweep.mode is sw.SweepMode.INCREMENTAL and reason is not None:
            sw.log.info("sweep as of %s runs in full: %s", sweep.as_of, reason)
            sweep.tally.requested_mode = sw.SweepMode.INCREMENTAL
            sweep.mode = sw.SweepMode.FULL
        run = SweepRun(
            as_of=sweep.as_of,
            mode=sweep.mode,
            status=sw.SweepStatus.RUNNING,
            trigger=sweep.trigger,
            started_at=now,
            heartbeat_at=now,
            counts=sweep.tally.as_counts(),
        )
        session.add(run)
        sweep.run_id = run.id
    sw.log.info(
        "sweep %s as of %s (%s, %s) started", sweep.run_id, sweep.as_of, sweep.mode, sweep.trigger
    )
    if sweep.mode is sw.SweepMode.FULL:
        return None, None
    sweep.changed_since = changed_since
    return changed_since, touched


def incremental_basis(
    sweep: _Sweep, session: Session
) -> tuple[datetime | None, list[uuid.UUID], str | None]:
    """Since when changes count, which workers were re-declared, or why to run in full."""
    if sweep.mode is sw.SweepMode.FULL:
        return None, [], None
    later = session.exec(
        select(func.count()).select_from(SweepRun).where(SweepRun.as_of > sweep.as_of)
    ).one()
    if later:
        # next_check_date was computed for a later day; it says nothing about earlier ones.
        return None, [], "an earlier run evaluated a later day"
    last = session.exec(
        select(SweepRun)
        .where(SweepRun.status == sw.SweepStatus.SUCCEEDED)
        .order_by(col(SweepRun.started_at).desc())
    ).first()
    if last is None:
        return None, [], "no earlier successful sweep"
    # On a day a parameter changes (1 January and 1 July above all) every cross-notification
    # and payroll verdict may move, so those phases run in full; the notifications due
    # that day are already selected by their next_check_date.
    sweep.cross_in_full = sweep._parameter_change_since(last.as_of) is not None
    if sweep.cross_in_full:
        sweep.tally.extra["cross_phases_in_full"] = 1
    sweep.last_as_of = last.as_of
    if not sweep.cross_in_full and not sweep._note_retries(last):
        sweep.cross_in_full = True
        sweep.tally.extra["cross_phases_in_full"] = 1
    # Declarations received from the start of the last run's day count as changed: a
    # nightly run catches the day's changes, and a replayed past day (received_at and
    # as_of in the past, started_at now) does too.
    since = min(sw._legal_midnight(last.as_of), last.started_at)
    touched = list(
        session.exec(
            select(Notification.worker_id)
            .where(
                sweep._in_scope(),
                or_(
                    col(Notification.updated_at) >= since,
                    col(Notification.next_check_date).is_(None),
                ),
            )
            .distinct()
        )
    )
    if len(touched) > sw.MAX_TOUCHED_WORKERS:
        return None, [], f"{len(touched)} workers were declared since the last sweep"
    return since, touched, None


def collect_dirty(sweep: _Sweep) -> None:
    """People and employers whose cross-notification or payroll verdicts can have changed
    since the last run: those of the notifications evaluated above (new, changed or due),
    of any notification changed since (withdrawals too), and of notifications crossing a
    date that moves such a verdict between the last run's day and this one: a start or
    end, a notice entering or leaving a policy window, the weeks after a start after which
    missing payroll counts. Parameters do not change in between (else the run is full)."""
    assert sweep.last_as_of is not None
    assert sweep.changed_since is not None
    lo, hi = sweep.last_as_of, sweep.as_of

    def crossing(column: Any, shift: int = 0) -> ColumnElement[bool]:
        # column + shift days falls in (lo, hi]
        return and_(column > lo - timedelta(days=shift), column <= hi - timedelta(days=shift))

    columns = {
        "notice_date": col(Notification.notice_date),
        "start_date": col(Notification.start_date),
        "end_date": col(Notification.end_date),
    }

    def crossings(rules: frozenset[str]) -> list[ColumnElement[bool]]:
        # From the one schedule of dates on which a verdict can change (rules/checks).
        return [
            crossing(columns[field], offset)
            for field, offset in crossing_offsets(rules, sweep.params)
        ]

    conditions: list[ColumnElement[bool]] = [
        col(Notification.updated_at) >= sweep.changed_since,
        *crossings(sw.PERSON_SCOPE),
    ]
    # An employer's repeated lateness counts only notices that can be late, in a window
    # over notice dates: it moves with a change, or with such a notice entering or leaving.
    employer_conditions = [
        col(Notification.updated_at) >= sweep.changed_since,
        and_(can_be_late(sweep.engine), or_(*crossings(sw.EMPLOYER_SCOPE))),
    ]
    with Session(sweep.engine) as session:
        for bsn_hash in session.exec(
            select(Worker.bsn_hash)
            .join(Notification, col(Worker.id) == col(Notification.worker_id))
            .where(or_(*conditions))
            .execution_options(yield_per=5000)
        ):
            sweep.dirty_people.add(bsn_hash)
        sweep.dirty_employers.update(
            session.exec(
                select(Notification.employer_id).where(or_(*employer_conditions)).distinct()
            )
        )
        # Payroll verdicts read a person's notices as of their notice date and judge
        # missing payroll some weeks after a start; ages are those of the paid periods.
        payroll_conditions = [
            col(Notification.updated_at) >= sweep.changed_since,
            *crossings(sw.PAYROLL_SCOPE),
        ]
        sweep.dirty_payers.update(
            session.exec(
                select(Worker.bsn_hash)
                .join(Notification, col(Worker.id) == col(Notification.worker_id))
                .where(or_(*payroll_conditions))
                .distinct()
            )
        )
    sweep.dirty_people |= sweep.retry_people
    sweep.dirty_employers |= sweep.retry_employers
    if sweep.retry_people or sweep.retry_employers:
        sweep.tally.extra["retried_cross_items"] = len(sweep.retry_people) + len(
            sweep.retry_employers
        )
    sweep.tally.extra["dirty_people"] = len(sweep.dirty_people)
    sweep.tally.extra["dirty_employers"] = len(sweep.dirty_employers)
    sweep.tally.extra["dirty_payers"] = len(sweep.dirty_payers)


def can_be_late(engine: Engine) -> ColumnElement[bool]:
    """start_date - notice_date <= LATE_HORIZON_DAYS, in the database's date arithmetic."""
    start, notice = col(Notification.start_date), col(Notification.notice_date)
    if engine.dialect.name == "postgresql":
        return (start - notice) <= sw.LATE_HORIZON_DAYS
    return (func.julianday(start) - func.julianday(notice)) <= sw.LATE_HORIZON_DAYS


def retention(sweep: _Sweep) -> None:
    from meldplicht.core.crypto import cipher_for
    from meldplicht.privacy.retention import purge

    with Session(sweep.engine, expire_on_commit=False) as session, session.begin():
        counts = purge(session, sweep.as_of, sweep.batch_size, cipher=cipher_for(sweep.settings))
        for key, value in counts.as_dict().items():
            sweep.tally.extra[f"retention_{key}"] = value
        sweep._save_progress(session, None)
    sweep._after_batch("retention")
