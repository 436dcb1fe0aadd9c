"""The employers phase: an employer's repeated lateness over its notices in a policy window.

Set-based, as the notifications phase: a batch's employers and their notices that can be late
are read as plain rows (only the columns the rules read), judged, and their flags compared
with the stored ones; only the differences are written (`sweeps/flag_writes.py`).
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from meldplicht.employers.models import Employer
from meldplicht.flags.models import SubjectType
from meldplicht.flags.sync import Subject, forget_cached_facts
from meldplicht.notifications.facts import fact_columns, facts_of_row
from meldplicht.notifications.models import Notification, Worker
from meldplicht.rules.checks import check_repeatedly_late
from meldplicht.rules.checks import cross as cross_rules
from meldplicht.rules.facts import Finding, NotificationRecord
from meldplicht.rules.sql import counted
from meldplicht.sweeps.phases import cross
from meldplicht.sweeps.state import RunState

EMPLOYER_SCOPE = frozenset({cross_rules.REPEATEDLY_LATE.code})
# Late and retroactive notices start within two working days of the notice date; a start this
# many calendar days after the notice can never be late, so it is left out of the records the
# repeated-lateness check receives (a pre-selection for memory; the verdict is the rule's).
LATE_HORIZON_DAYS = 14


def run(state: RunState, can_be_late: ColumnElement[bool]) -> None:
    """Judge every employer with enough notices in the window or a present flag (in
    incremental mode: the dirty ones among them). `can_be_late` is the SQL condition
    `start_date - notice_date <= LATE_HORIZON_DAYS` in the database's date arithmetic."""
    policy = state.params.at("policy_repeatedly_late", state.as_of).value
    window_start = state.as_of - timedelta(days=int(policy["window_days"]) - 1)
    in_window = and_(
        counted(col(Notification.status)),
        col(Notification.notice_date) >= window_start,
        col(Notification.notice_date) <= state.as_of,
    )

    def candidates(keys: list[uuid.UUID] | None) -> Any:
        several: Select[Any] = (
            select(col(Notification.employer_id).label("key"))
            .where(in_window)
            .group_by(col(Notification.employer_id))
            .having(func.count(col(Notification.id)) >= int(policy["threshold"]))
        )
        return cross.candidates(
            several, col(Notification.employer_id), SubjectType.EMPLOYER, EMPLOYER_SCOPE, keys
        )

    for ids in cross.batches(state, candidates, state.dirty_employers):
        with Session(state.engine, expire_on_commit=False) as session:
            employers, records = _records(session, ids, in_window, can_be_late)
            verdicts = [
                (
                    ident,
                    functools.partial(_verdict, state, ident, employers.get(ident), records[ident]),
                )
                for ident in ids
            ]
            state.tally.employers += cross.sync_cross(
                state, session, "employer", verdicts, EMPLOYER_SCOPE
            )
            state.save_progress(session, None)
            session.commit()
            forget_cached_facts(session)
        state.report("employers", state.tally.employers, None)
        state.after_batch("employers")


@dataclass(frozen=True, slots=True)
class _Employer:
    kvk_number: str
    postcode: str | None


def _records(
    session: Session,
    ids: list[uuid.UUID],
    in_window: ColumnElement[bool],
    can_be_late: ColumnElement[bool],
) -> tuple[dict[uuid.UUID, _Employer], dict[uuid.UUID, list[NotificationRecord]]]:
    """A batch's employers and their notices in the window, in two queries of plain rows
    (only the columns the rules read: no ORM objects per notification)."""
    employers = {
        row.id: _Employer(row.kvk_number, row.postcode)
        for row in session.execute(
            sa_select(col(Employer.id), col(Employer.kvk_number), col(Employer.postcode)).where(
                col(Employer.id).in_(ids)
            )
        )
    }
    records: dict[uuid.UUID, list[NotificationRecord]] = defaultdict(list)
    for row in session.execute(
        sa_select(
            col(Notification.id).label("notification_id"),
            col(Notification.employer_id),
            col(Worker.bsn_hash),
            *fact_columns(),
        )
        .join(Worker, col(Worker.id) == col(Notification.worker_id))
        .where(col(Notification.employer_id).in_(ids), in_window, can_be_late)
        .order_by(col(Notification.id))
    ):
        if (row.start_date - row.notice_date).days > LATE_HORIZON_DAYS:
            continue
        employer = employers.get(row.employer_id)
        records[row.employer_id].append(
            NotificationRecord(
                notification_id=str(row.notification_id),
                employer_key=(
                    employer.kvk_number if employer is not None else str(row.employer_id)
                ),
                person_key=row.bsn_hash,
                facts=facts_of_row(row),
            )
        )
    return employers, records


def _verdict(
    state: RunState,
    employer_id: uuid.UUID,
    employer: _Employer | None,
    records: list[NotificationRecord],
) -> tuple[Subject, list[Finding]]:
    findings = check_repeatedly_late(records, state.as_of, params=state.params)
    late = max((len(f.evidence.get("notification_ids", [])) for f in findings), default=1)
    subject = Subject(
        type=SubjectType.EMPLOYER,
        id=str(employer_id),
        employer_id=employer_id,
        postcode=employer.postcode if employer is not None else None,
        workers_affected=max(late, 1),
    )
    return subject, findings
