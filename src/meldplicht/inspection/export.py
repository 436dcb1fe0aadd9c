"""CSV export of a filtered queue, streamed page by page in flat memory.

The generator walks the queue with the same keyset pages as the API, each page in its own
short read (so a long download never holds a transaction, or SQLite's write lock, open).
No personal data leaves this way: no BSN, no name, not even the person's keyed hash.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from meldplicht.employers.models import Employer
from meldplicht.flags.models import Flag
from meldplicht.inspection import queue
from meldplicht.inspection.schemas import QueueSort
from meldplicht.notifications.models import Notification

SessionFactory = Callable[[], AbstractContextManager[Session]]
BATCH = 500

COLUMNS: tuple[tuple[str, Any], ...] = (
    ("flag_id", col(Flag.id)),
    ("rule_code", col(Flag.rule_code)),
    ("rule_version", col(Flag.rule_version)),
    ("severity", col(Flag.severity)),
    ("status", col(Flag.status)),
    ("risk_score", col(Flag.risk_score)),
    ("employer_id", col(Flag.employer_id)),
    ("employer_kvk", col(Employer.kvk_number)),
    ("employer_name", col(Employer.name)),
    ("sector", col(Flag.sector)),
    ("province", col(Flag.province)),
    ("subject_type", col(Flag.subject_type)),
    ("notification_id", col(Flag.notification_id)),
    ("receipt_number", col(Notification.receipt_number)),
    ("workers_affected", col(Flag.workers_affected)),
    ("assignee_id", col(Flag.assignee_id)),
    ("first_seen_at", col(Flag.first_seen_at)),
    ("last_seen_at", col(Flag.last_seen_at)),
    ("snoozed_until", col(Flag.snoozed_until)),
    ("condition_present", col(Flag.condition_present)),
    ("outcome", col(Flag.outcome)),
    ("resolved_at", col(Flag.resolved_at)),
    ("message_en", col(Flag.message_en)),
)
HEADER = tuple(name for name, _ in COLUMNS)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | uuid.UUID):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _rows(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Any, ...]]:
    stmt = (
        sa.select(*(column for _, column in COLUMNS))
        .select_from(Flag)
        .outerjoin(Employer, col(Employer.id) == col(Flag.employer_id))
        .outerjoin(Notification, col(Notification.id) == col(Flag.notification_id))
        .where(col(Flag.id).in_(ids))
    )
    return {row[0]: tuple(row) for row in session.execute(stmt)}


def csv_lines(
    sessions: SessionFactory,
    flt: queue.QueueFilter,
    *,
    sort: QueueSort,
    today: date,
    batch: int = BATCH,
) -> Iterator[str]:
    """The header, then one chunk of CSV text per page of the queue, in queue order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def drain() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(HEADER)
    yield drain()
    after: queue.Position | None = None
    while True:
        with sessions() as session:
            positions = queue.page_through(
                session, flt, sort=sort, after=after, batch=batch, today=today
            )
            rows = _rows(session, [p.id for p in positions]) if positions else {}
        for position in positions:
            row = rows.get(position.id)
            if row is not None:
                writer.writerow([_cell(v) for v in row])
        if positions:
            yield drain()
        if len(positions) < batch:
            return
        after = positions[-1]
