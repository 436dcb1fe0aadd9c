"""Reading the recorded sweep runs (the API): newest first, keyset-paginated."""

from __future__ import annotations

import uuid

from sqlmodel import Session, and_, col, or_, select

from meldplicht.core import keyset
from meldplicht.core.errors import NotFound
from meldplicht.sweeps.models import SweepRun

RUNS = keyset.digest("sweep_runs", {})  # the list of runs has no filters


class SweepRunNotFound(NotFound):
    code = "sweep_run_not_found"
    title = "Sweep run not found"


def list_runs(
    session: Session, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[SweepRun], str | None]:
    """Newest first, keyset-paginated on (started_at, id)."""
    query = select(SweepRun)
    if cursor is not None:
        at, ident = keyset.decode(cursor, "started", RUNS, keyset.instant_key)
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
        next_cursor = keyset.encode("started", RUNS, rows[-1].started_at, rows[-1].id)
    return rows, next_cursor


def get_run(session: Session, run_id: uuid.UUID) -> SweepRun:
    run = session.get(SweepRun, run_id)
    if run is None:
        raise SweepRunNotFound()
    return run
