"""The notifications phase: every selected notification judged again, in keyset batches.

The verdicts come from the same rule code as intake (`judge(..., evaluation=SWEEP)`, only
anomalies explained) and reach the queue through the set-based flag writes, which are
idempotent by fingerprint, so a batch redone after a crash changes nothing twice. Each
notification's `next_check_date` (from `next_change_date`) says when an incremental run must
judge it again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlmodel import Session, col, select

from meldplicht.core.clock import utcnow
from meldplicht.flags.models import SubjectType
from meldplicht.flags.sync import (
    Subject,
    SyncItem,
    forget_cached_facts,
    notification_scope,
)
from meldplicht.notifications.facts import facts_of
from meldplicht.notifications.flagging import first_postcodes
from meldplicht.notifications.models import Notification, NotificationStatus, Worker
from meldplicht.rules.checks import judge, next_change_date
from meldplicht.rules.facts import Evaluation, Severity
from meldplicht.sweeps.state import RunState

log = logging.getLogger("meldplicht.sweeps")

# A terminated notification is still re-evaluated this many days after its end date, so the
# flags that no longer apply once the employment is over are settled even after missed nights.
TERMINATED_GRACE_DAYS = 31
# next_check_date for a notification whose verdict can no longer change (NULL means "never
# evaluated", which an incremental sweep always picks up).
NEVER = date(9999, 12, 31)
# The next-check date of an item that failed: none, so that every run selects it again.
RETRY: dict[str, Any] = {"next_check_date": None}

SWEEP_SCOPE = notification_scope(Evaluation.SWEEP)


def in_scope(as_of: date) -> ColumnElement[bool]:
    """Notifications a sweep evaluates: active ones, and recently terminated ones."""
    grace = as_of - timedelta(days=TERMINATED_GRACE_DAYS)
    return or_(
        col(Notification.status) == NotificationStatus.ACTIVE,
        and_(
            col(Notification.status) == NotificationStatus.TERMINATED,
            col(Notification.end_date) >= grace,
        ),
    )


def _filter(
    state: RunState, changed_since: datetime | None, touched_workers: list[uuid.UUID] | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [in_scope(state.as_of)]
    if changed_since is not None:
        due: list[ColumnElement[bool]] = [
            col(Notification.next_check_date).is_(None),
            col(Notification.next_check_date) <= state.as_of,
            col(Notification.updated_at) > changed_since,
        ]
        if touched_workers:
            due.append(col(Notification.worker_id).in_(touched_workers))
        conditions.append(or_(*due))
    return conditions


def run(
    state: RunState, changed_since: datetime | None, touched_workers: list[uuid.UUID] | None
) -> None:
    """Judge the selected notifications (all in scope when `changed_since` is None)."""
    conditions = _filter(state, changed_since, touched_workers)
    # An incremental run selects a small share: its ids are found in one pass, then read
    # by id. (Keyset pages over a sparse selection made PostgreSQL walk the primary key
    # from each page's start: one pass over the table per page.)
    selected: list[uuid.UUID] | None = None
    with Session(state.engine) as session:
        if changed_since is not None:
            from meldplicht.sweeps import dirty  # (the runner's selection; it imports us)

            selected = dirty.due_ids(state, changed_since, touched_workers or [])  # type: ignore[arg-type]
            total = len(selected)
        else:
            total = session.exec(
                select(func.count()).select_from(Notification).where(*conditions)
            ).one()
    state.tally.selected = int(total)
    state.report("notifications", 0, state.tally.selected)
    last_id: uuid.UUID | None = None
    done = 0
    while True:
        with Session(state.engine, expire_on_commit=False) as session:
            query = select(Notification, Worker).join(
                Worker, col(Worker.id) == col(Notification.worker_id)
            )
            if selected is not None:
                page = selected[done : done + state.batch_size]
                if not page:
                    break
                # Still judged by the selection's conditions: a row changed in between
                # is left to the next run, exactly as a keyset page would leave it.
                query = query.where(col(Notification.id).in_(page), *conditions)
            else:
                query = query.where(*conditions)
                if last_id is not None:
                    query = query.where(col(Notification.id) > last_id)
                query = query.limit(state.batch_size).execution_options(yield_per=state.batch_size)
            rows = list(session.exec(query.order_by(col(Notification.id))))
            if not rows:
                if selected is not None:
                    done += len(page)
                    continue
                break
            now = utcnow()
            postcodes = first_postcodes(session, [n.id for n, _ in rows])
            items: list[SyncItem] = []
            next_checks: dict[str, dict[str, Any]] = {}
            if state.cross_incremental:
                # (Their employers are found by _collect_dirty: lateness moves only with a
                # change or a window crossing, never with a birthday or an expiry.)
                state.dirty_people.update(worker.bsn_hash for _, worker in rows)
            for notification, worker in rows:
                try:
                    item, next_check = _evaluate(
                        state, notification, worker, postcodes.get(notification.id)
                    )
                except Exception as exc:
                    log.error("sweep: notification %s failed", notification.id, exc_info=exc)
                    state.record_error("notification", notification.id, exc)
                    # Due again on the next run (incremental too), until it can be judged:
                    # an item that fails is retried, never left to its old check date.
                    if notification.next_check_date is not None:
                        next_checks[str(notification.id)] = RETRY | {"id": notification.id}
                    continue
                items.append(item)
                if notification.next_check_date != next_check:
                    next_checks[item.subject.id] = {
                        "id": notification.id,
                        "next_check_date": next_check,
                    }
            failed = state.sync_batch(session, "notification", items, SWEEP_SCOPE, now)
            state.tally.evaluated += len(items) - len(failed)
            # A notification whose flags could not be synced is due again on the next run.
            for subject_id in failed:
                next_checks[subject_id] = RETRY | {"id": uuid.UUID(subject_id)}
            changed = list(next_checks.values())
            if changed:
                session.execute(update(Notification), changed)
            last_id = rows[-1][0].id
            state.save_progress(session, str(last_id))
            session.commit()
            forget_cached_facts(session)
        done += len(page) if selected is not None else len(rows)
        state.report("notifications", done, state.tally.selected)
        state.after_batch("notifications")


def _evaluate(
    state: RunState, notification: Notification, worker: Worker, postcode: str | None
) -> tuple[SyncItem, date]:
    """The notification's findings as of the sweep's day (pure: no database work), and the
    next day on which they can change."""
    facts = facts_of(notification, worker)
    judged = judge(facts, as_of=state.as_of, evaluation=Evaluation.SWEEP, params=state.params)
    # Verdict first: only anomalies become flags (informational verdicts are for the
    # employer's eyes, as in `sync_flags_many`), so only they are explained.
    findings = judged.explain(
        v for v in judged.verdicts if v.code in SWEEP_SCOPE and v.severity != Severity.INFO
    )
    subject = Subject(
        type=SubjectType.NOTIFICATION,
        id=str(notification.id),
        employer_id=notification.employer_id,
        notification_id=notification.id,
        person_hash=worker.bsn_hash,
        postcode=postcode,
    )
    next_check = next_change_date(facts, state.as_of, state.params) or NEVER
    return SyncItem(subject, findings), next_check
