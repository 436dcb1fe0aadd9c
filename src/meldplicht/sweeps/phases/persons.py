"""The persons phase: one BSN across employers (total hours, many employers at once).

Set-based, as the notifications phase: a batch's people and their relevant notifications are
read as plain rows (only the columns the rules read), judged, and their flags compared with
the stored ones; only the differences are written (`sweeps/flag_writes.py`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from meldplicht.employers.models import Employer
from meldplicht.flags.models import SubjectType
from meldplicht.flags.sync import Subject, forget_cached_facts
from meldplicht.notifications.facts import fact_columns, facts_of_row
from meldplicht.notifications.models import Notification, Worker
from meldplicht.rules.checks import check_many_employers, check_person_total_hours
from meldplicht.rules.checks import cross as cross_rules
from meldplicht.rules.facts import Finding, NotificationRecord
from meldplicht.rules.sql import counted
from meldplicht.sweeps.phases import cross
from meldplicht.sweeps.state import RunState

PERSON_SCOPE = frozenset(
    {
        cross_rules.TOTAL_EXCESSIVE.code,
        cross_rules.TOTAL_ABOVE_48.code,
        cross_rules.MANY_EMPLOYERS.code,
    }
)


def _relevant(state: RunState) -> ColumnElement[bool]:
    policy = state.params.at("policy_many_employers", state.as_of).value
    window_start = state.as_of - timedelta(days=int(policy["window_days"]) - 1)
    return and_(
        counted(col(Notification.status)),
        or_(
            col(Notification.end_date).is_(None),
            col(Notification.end_date) >= state.as_of,
            col(Notification.notice_date) >= window_start,
        ),
    )


def run(state: RunState) -> None:
    """Judge every person with two or more relevant notifications or a present flag (in
    incremental mode: the dirty ones among them)."""
    relevant = _relevant(state)

    def candidates(keys: list[str] | None) -> Any:
        several: Select[Any] = (
            select(col(Worker.bsn_hash).label("key"))
            .join(Notification, col(Notification.worker_id) == col(Worker.id))
            .where(relevant)
            .group_by(col(Worker.bsn_hash))
            .having(func.count(col(Notification.id)) >= 2)
        )
        return cross.candidates(
            several, col(Worker.bsn_hash), SubjectType.PERSON, PERSON_SCOPE, keys
        )

    for keys in cross.batches(state, candidates, state.dirty_people):
        with Session(state.engine, expire_on_commit=False) as session:
            # Plain rows, only the columns the rules read: no ORM objects per notification.
            records: dict[str, list[NotificationRecord]] = defaultdict(list)
            for row in session.execute(
                sa_select(
                    col(Notification.id).label("notification_id"),
                    col(Worker.bsn_hash),
                    col(Employer.kvk_number),
                    *fact_columns(),
                )
                .join(Worker, col(Worker.id) == col(Notification.worker_id))
                .join(Employer, col(Employer.id) == col(Notification.employer_id))
                .where(col(Worker.bsn_hash).in_(keys), relevant)
                .order_by(col(Notification.id))
            ):
                records[row.bsn_hash].append(
                    NotificationRecord(
                        notification_id=str(row.notification_id),
                        employer_key=row.kvk_number,
                        person_key=row.bsn_hash,
                        facts=facts_of_row(row),
                    )
                )
            verdicts = [
                (key, functools.partial(_verdict, state, key, records.get(key, []))) for key in keys
            ]
            state.tally.persons += cross.sync_cross(
                state, session, "person", verdicts, PERSON_SCOPE
            )
            state.save_progress(session, None)
            session.commit()
            forget_cached_facts(session)
        state.report("persons", state.tally.persons, None)
        state.after_batch("persons")


def _verdict(
    state: RunState, key: str, records: Sequence[NotificationRecord]
) -> tuple[Subject, list[Finding]]:
    findings = [
        *check_person_total_hours(records, state.as_of, state.params),
        *check_many_employers(records, state.as_of, params=state.params),
    ]
    subject = Subject(type=SubjectType.PERSON, id=key, employer_id=None, person_hash=key)
    return subject, findings
