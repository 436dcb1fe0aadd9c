"""What an ordinary (incremental) night selects, each through an index: since when changes
count, the notifications due, the people, employers and payroll whose verdicts can have moved,
and retention before everything else.

A notification is due when its `next_check_date` has come, when it changed since the last run
or was never judged. A person's, an employer's or a payroll verdict can move because of a
notification on the dates rules/checks/schedule.py names (a start, an end, a notice entering
or leaving a policy window, the weeks after a start after which missing payroll counts): the
sweep stores the next of them as `next_cross_date` and `next_payroll_date`, selects the
notifications whose date has come (or is unknown: NULL, as intake leaves it), and stores the
next one at the end of a successful run, so that a run that dies leaves them to the next.

Changes count from the last successful run's `changes_through` (exclusive): the latest change
it could see, never later than its start less IN_FLIGHT_MARGIN.

Functions of the running sweep (`_Sweep` in sweeps/sweep.py), which calls them in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from meldplicht.core.clock import utcnow
from meldplicht.notifications.models import Notification, NotificationStatus, Worker
from meldplicht.rules.checks.schedule import (
    crossing_dates,
    crossing_offsets,
    next_crossing_date,
)
from meldplicht.sweeps import sweep as sw
from meldplicht.sweeps.models import SweepRun
from meldplicht.sweeps.phases.employers import EMPLOYER_SCOPE, LATE_HORIZON_DAYS
from meldplicht.sweeps.phases.notifications import NEVER
from meldplicht.sweeps.phases.persons import PERSON_SCOPE

if TYPE_CHECKING:
    from meldplicht.sweeps.sweep import _Sweep

# A run takes the changes stamped after the last run's `changes_through`, and records as its
# own the latest stamp it can see, but never later than its start less this margin: a change
# stamped shortly before a run and committed after its selection (a long upload) is taken by
# the next run. Within the margin a change may be taken twice, which changes nothing.
IN_FLIGHT_MARGIN = timedelta(hours=1)
# Statuses a sweep can evaluate (the grace of a terminated notification is checked after).
_SWEPT_STATUSES = (NotificationStatus.ACTIVE, NotificationStatus.TERMINATED)
# The dates stored per notification, and the verdicts each one moves.
_CROSS = "next_cross_date"
_PAYROLL = "next_payroll_date"


def _scopes() -> dict[str, frozenset[str]]:
    return {_CROSS: PERSON_SCOPE | EMPLOYER_SCOPE, _PAYROLL: sw.PAYROLL_SCOPE}


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
            changes_through=changes_through(session, now),
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


def changes_through(session: Session, now: datetime) -> datetime:
    """The instant up to which this run takes the changes (read before it selects any)."""
    latest = session.exec(select(func.max(Notification.updated_at))).one()
    bound = now - IN_FLIGHT_MARGIN
    return bound if latest is None else min(latest, bound)


def last_cutoff(last: SweepRun) -> datetime:
    """The instant up to which the last successful run took the changes. A run recorded
    before `changes_through` existed took them from the start of its day (or its start)."""
    if last.changes_through is not None:
        return last.changes_through
    return min(sw._legal_midnight(last.as_of), last.started_at)


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
    if not sweep.cross_in_full and _many_unknown(session):
        # After migration 0022 (or a mass change) the stored dates are unknown for many: the
        # cross phases run in full once, and the run stores the dates.
        sweep.cross_in_full = True
        sweep.tally.extra["cross_phases_in_full"] = 1
    since = last_cutoff(last)
    touched: set[uuid.UUID] = set()
    for condition in (
        col(Notification.updated_at) > since,
        col(Notification.next_check_date).is_(None),
    ):
        # No DISTINCT in SQL: SQLite would walk ix_notification_worker_id for it (the whole
        # table) instead of the condition's index; the set drops the repeats.
        touched.update(
            session.exec(
                select(Notification.worker_id).where(_swept_status(), condition, sweep._in_scope())
            )
        )
    if len(touched) > sw.MAX_TOUCHED_WORKERS:
        return None, [], f"{len(touched)} workers were declared since the last sweep"
    return since, sorted(touched), None


def _swept_status() -> ColumnElement[bool]:
    # A plain IN on the first column of ix_notification_status_next_check, so each selection
    # below is an index range per status (the scope's OR is applied to the rows found).
    return col(Notification.status).in_(_SWEPT_STATUSES)


def _many_unknown(session: Session) -> bool:
    """More notifications with an unknown stored date than an incremental run takes."""
    for column in (col(Notification.next_cross_date), col(Notification.next_payroll_date)):
        found = session.exec(
            select(func.count()).select_from(
                select(Notification.id)
                .where(column.is_(None))
                .limit(sw.MAX_TOUCHED_WORKERS + 1)
                .subquery()
            )
        ).one()
        if found > sw.MAX_TOUCHED_WORKERS:
            return True
    return False


def due_ids(
    sweep: _Sweep, changed_since: datetime, touched_workers: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """The notifications an incremental run evaluates, each part found through an index:
    those never judged, those whose next_check_date has come, those changed since the last
    run, and those of the workers re-declared since."""
    touched = list(touched_workers)
    parts: list[ColumnElement[bool]] = [
        col(Notification.next_check_date).is_(None),
        col(Notification.next_check_date) <= sweep.as_of,
        col(Notification.updated_at) > changed_since,
    ]
    found: set[uuid.UUID] = set()
    with Session(sweep.engine) as session:
        for part in parts:
            found.update(
                session.exec(
                    select(Notification.id).where(_swept_status(), part, sweep._in_scope())
                )
            )
        for chunk in sweep.chunks(set(touched)):
            found.update(
                session.exec(
                    select(Notification.id).where(
                        col(Notification.worker_id).in_(chunk), sweep._in_scope()
                    )
                )
            )
    return sorted(found)


def collect_dirty(sweep: _Sweep) -> None:
    """People and employers whose cross-notification or payroll verdicts can have changed
    since the last run: those of the notifications evaluated above (new, changed or due),
    of any notification changed since (withdrawals too), and of notifications whose stored
    next cross-notification or payroll date has come (or is unknown). Parameters do not
    change in between (else those phases run in full). In full mode nothing is collected."""
    if not sweep.cross_incremental:
        return
    assert sweep.last_as_of is not None
    assert sweep.changed_since is not None
    hi = sweep.as_of
    with Session(sweep.engine) as session:
        for bsn_hash, employer_id in session.exec(
            select(Worker.bsn_hash, Notification.employer_id)
            .join(Notification, col(Worker.id) == col(Notification.worker_id))
            .where(col(Notification.updated_at) > sweep.changed_since)
        ):
            sweep.dirty_people.add(bsn_hash)
            sweep.dirty_employers.add(employer_id)
            sweep.dirty_payers.add(bsn_hash)
        employer_rules = EMPLOYER_SCOPE
        employer_offsets = crossing_offsets(employer_rules, sweep.params)
        for row in _crossing_rows(session, hi):
            days = _days(row)
            crossed = row.next_cross_date
            if crossed is None or crossed <= hi:
                sweep.dirty_people.add(row.bsn_hash)
                # An employer's repeated lateness counts only notices that can be late, and
                # moves only on an employer trigger's date: in [stored date, this run's day].
                if _can_be_late(row) and (
                    crossed is None
                    or any(
                        crossed <= d <= hi
                        for d in crossing_dates(
                            days, employer_rules, sweep.params, employer_offsets
                        )
                    )
                ):
                    sweep.dirty_employers.add(row.employer_id)
            paid = row.next_payroll_date
            if paid is None or paid <= hi:
                sweep.dirty_payers.add(row.bsn_hash)
    sweep.dirty_people |= sweep.retry_people
    sweep.dirty_employers |= sweep.retry_employers
    if sweep.retry_people or sweep.retry_employers:
        sweep.tally.extra["retried_cross_items"] = len(sweep.retry_people) + len(
            sweep.retry_employers
        )
    sweep.tally.extra["dirty_people"] = len(sweep.dirty_people)
    sweep.tally.extra["dirty_employers"] = len(sweep.dirty_employers)
    sweep.tally.extra["dirty_payers"] = len(sweep.dirty_payers)


def advance_dates(sweep: _Sweep) -> None:
    """Store, for every notification whose next cross-notification or payroll date has come
    or is unknown, the next one after this run's day. Last in a successful run: a run that
    stops before leaves the dates (and what they select) to the next. A row once written has
    both dates after this day, so each batch is the next one found through the index (no
    list of ids held: after migration 0022 that is every notification)."""
    hi = sweep.as_of
    scopes = {
        name: (rules, crossing_offsets(rules, sweep.params)) for name, rules in _scopes().items()
    }
    advanced = 0
    for condition in _come_or_unknown(hi):
        while True:
            with Session(sweep.engine) as session:
                rows = list(session.execute(_row_query().where(condition).limit(sweep.batch_size)))
                if not rows:
                    break
                values: list[dict[str, Any]] = []
                for row in rows:
                    days = _days(row)
                    value: dict[str, Any] = {"id": row.id}
                    for name, (rules, offsets) in scopes.items():
                        stored = getattr(row, name)
                        if stored is None or stored <= hi:
                            found = next_crossing_date(days, hi, rules, sweep.params, offsets)
                            stored = found or NEVER
                        value[name] = stored
                    values.append(value)
                session.execute(update(Notification), values)
                sweep._save_progress(session, None)
                session.commit()
            advanced += len(values)
            sweep._after_batch("dates")
    sweep.tally.extra["dates_advanced"] = advanced


def _row_query() -> Any:
    return sa_select(
        col(Notification.id),
        col(Notification.employer_id),
        col(Notification.notice_date),
        col(Notification.start_date),
        col(Notification.end_date),
        col(Notification.next_cross_date),
        col(Notification.next_payroll_date),
        col(Worker.bsn_hash),
        col(Worker.document_valid_until),
    ).join(Worker, col(Worker.id) == col(Notification.worker_id))


def _come_or_unknown(hi: date) -> list[ColumnElement[bool]]:
    """A stored next cross-notification or payroll date that has come by `hi` or is unknown,
    as one condition per index range (a closed notice still leaves a policy window, so
    every status counts)."""
    return [
        condition
        for column in (col(Notification.next_cross_date), col(Notification.next_payroll_date))
        for condition in (column.is_(None), column <= hi)
    ]


def _crossing_rows(session: Session, hi: date) -> list[Any]:
    rows: dict[uuid.UUID, Any] = {}
    for condition in _come_or_unknown(hi):
        for row in session.execute(_row_query().where(condition)):
            rows[row.id] = row
    return list(rows.values())


def _days(row: Any) -> dict[str, date | None]:
    return {
        "notice_date": row.notice_date,
        "start_date": row.start_date,
        "end_date": row.end_date,
        "document_valid_until": row.document_valid_until,
    }


def _can_be_late(row: Any) -> bool:
    """start_date - notice_date <= LATE_HORIZON_DAYS (as `can_be_late` says in SQL)."""
    return bool((row.start_date - row.notice_date).days <= LATE_HORIZON_DAYS)


def can_be_late(engine: Engine) -> ColumnElement[bool]:
    """start_date - notice_date <= LATE_HORIZON_DAYS, in the database's date arithmetic."""
    start, notice = col(Notification.start_date), col(Notification.notice_date)
    if engine.dialect.name == "postgresql":
        return (start - notice) <= LATE_HORIZON_DAYS
    return (func.julianday(start) - func.julianday(notice)) <= LATE_HORIZON_DAYS


def retention(sweep: _Sweep) -> None:
    from meldplicht.core.crypto import cipher_for
    from meldplicht.privacy.retention import purge

    with Session(sweep.engine, expire_on_commit=False) as session, session.begin():
        counts = purge(session, sweep.as_of, sweep.batch_size, cipher=cipher_for(sweep.settings))
        for key, value in counts.as_dict().items():
            sweep.tally.extra[f"retention_{key}"] = value
        sweep._save_progress(session, None)
    sweep._after_batch("retention")
