"""The payroll phase: paid periods against the notifications and back (payroll.reconcile)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_
from sqlmodel import Session, col, select

from meldplicht.employers.models import Employer
from meldplicht.notifications.models import Notification, Worker
from meldplicht.payroll.models import PayrollRecord
from meldplicht.payroll.reconcile import reconcile
from meldplicht.sweeps.state import RunState


def run(state: RunState) -> None:
    """Reconcile everything (full), or what can have moved since the last run (incremental)."""

    def phase(
        records: ColumnElement[bool] | None, notifications: ColumnElement[bool] | None
    ) -> None:
        narrowed = records is not None or notifications is not None

        def step(session: Session, cursor: str | None) -> Any:
            return reconcile(
                session,
                state.as_of,
                cursor=cursor,
                batch_size=state.batch_size,
                # A narrowed phase is bounded by its chunk of keys: one transaction, and
                # its selection found once.
                max_batches=None if narrowed else 1,
                record_filter=records,
                notification_filter=notifications,
            )

        state.batched("payroll", step)

    if not state.cross_incremental:
        phase(None, None)
        return
    # Incremental: the records and notifications of people whose payroll verdicts can have
    # moved (parameters are unchanged), then what arrived since the last run:
    # records imported or updated, and employers registered (their records are now known).
    for chunk in state.chunks(state.dirty_payers):
        phase(col(PayrollRecord.bsn_hash).in_(chunk), col(Worker.bsn_hash).in_(chunk))
    since = state.changed_since
    assert since is not None
    # Found first, as values, so that each selection below is an index look-up rather
    # than a pass over every record or notification (a handful of keys on most days).
    with Session(state.engine) as session:
        new_lhns = {
            lhn
            for lhn in session.exec(
                select(Employer.loonheffingennummer).where(col(Employer.created_at) > since)
            )
            if lhn
        }
        paid_since = select(PayrollRecord.employer_lhn).where(col(PayrollRecord.updated_at) > since)
        moved_employers = set(
            session.exec(
                select(Employer.id).where(
                    or_(
                        col(Employer.created_at) > since,
                        col(Employer.loonheffingennummer).in_(paid_since),
                    )
                )
            )
        )
    nothing = false()
    for i, lhns in enumerate(list(state.chunks(new_lhns)) or [[]]):
        registered = col(PayrollRecord.employer_lhn).in_(lhns)
        phase(
            or_(col(PayrollRecord.updated_at) > since, registered) if i == 0 else registered,
            nothing,
        )
    for employers in state.chunks(moved_employers):
        phase(nothing, col(Notification.employer_id).in_(employers))
