"""Reading the recorded sweep runs (the API): newest first, keyset-paginated."""

from __future__ import annotations

import uuid

from sqlmodel import Session, and_, col, or_, select

from meldplicht.core.errors import NotFound
from meldplicht.notifications.service import decode_cursor, encode_cursor
from meldplicht.sweeps.models import SweepRun


class SweepRunNotFound(NotFound):
    code = "sweep_run_not_found"
    title = "Sweep run not found"


def list_runs(
    session: Session, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[SweepRun], str | None]:
    """Newest first, keyset-paginated on (started_at, id)."""
    query = select(SweepRun)
    if cursor is not None:
        at, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                col(SweepRun.started_at) < at,
                and_(col(SweepRun.started_at) == at, col(SweepRun.id) < ident),
            )
        )
    query = query.order_by(col(SweepRun.started_at).desc(), col(SweepRun.id).desc())
    rows = list(session.exec(query.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].started_at, rows[-1].id)
    return rows, next_cursor


def get_run(session: Session, run_id: uuid.UUID) -> SweepRun:
    run = session.get(SweepRun, run_id)
    if run is None:
        raise SweepRunNotFound()
    return run
