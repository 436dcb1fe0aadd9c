"""The figures of the inspector's dashboard that the queue's health does not give: flags per
week, active flags per rule/sector/province, and the latest sweeps. Read-only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from meldplicht.core.clock import LEGAL_TZ
from meldplicht.flags.models import ACTIVE_STATUSES, Flag
from meldplicht.sweeps.models import SweepRun


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_counts(session: Session, on: date, weeks: int) -> list[tuple[date, int, int]]:
    """Flags first seen and flags resolved per week (Monday to Sunday, Dutch time), oldest
    first, in two queries whatever the number of flags (one conditional sum per week)."""
    starts = [_monday(on) - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    bounds = [datetime.combine(s, time.min, tzinfo=LEGAL_TZ) for s in starts]
    bounds.append(bounds[-1] + timedelta(weeks=1))

    def per_week(column: Any) -> list[int]:
        sums = [
            func.sum(case(((column >= bounds[i]) & (column < bounds[i + 1]), 1), else_=0))
            for i in range(weeks)
        ]
        row = session.execute(sa.select(*sums).where(column >= bounds[0])).one()
        return [int(v or 0) for v in row]

    opened = per_week(col(Flag.first_seen_at))
    resolved = per_week(col(Flag.resolved_at))
    return list(zip(starts, opened, resolved, strict=True))


GROUPINGS: dict[str, Any] = {
    "rule": col(Flag.rule_code),
    "sector": col(Flag.sector),
    "province": col(Flag.province),
}


def active_counts(session: Session, by: str) -> list[tuple[str | None, int]]:
    """Active flags (open, claimed, investigating) per rule, sector or province, largest first."""
    column = GROUPINGS[by]
    rows = session.execute(
        sa.select(column, func.count())
        .where(col(Flag.status).in_(ACTIVE_STATUSES))
        .group_by(column)
    ).all()
    return sorted(((r[0], int(r[1])) for r in rows), key=lambda r: (-r[1], str(r[0] or "")))


def recent_sweeps(session: Session, limit: int) -> list[SweepRun]:
    """The latest sweep runs, newest first."""
    return list(
        session.exec(select(SweepRun).order_by(col(SweepRun.started_at).desc()).limit(limit))
    )
