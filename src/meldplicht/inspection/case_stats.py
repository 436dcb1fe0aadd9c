"""The dashboard's case figures: active cases by severity, due status, sector and province.

Every figure is the count the case queue shows for the matching filter (`case_views.href`),
because it is computed with the queue's own conditions (`case_queue.count_cases`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, func

from meldplicht.inspection import case_queue, case_views
from meldplicht.inspection.models import ACTIVE_CASE_STATUSES, Case


@dataclass(frozen=True, slots=True)
class CaseCount:
    key: str | None  # None: the cases without a sector or province (no queue filter for it)
    count: int
    href: str | None


def _count(session: Session, values: dict[str, str], on: date) -> int:
    flt = case_views.to_filter(values, on)
    return case_queue.count_cases(session, flt)


def by_filter(session: Session, name: str, keys: tuple[str, ...], on: date) -> list[CaseCount]:
    """One count per value of a queue filter (severity, due), in the given order."""
    return [
        CaseCount(key=k, count=_count(session, {name: k}, on), href=case_views.href({name: k}))
        for k in keys
    ]


def by_column(session: Session, name: str) -> list[CaseCount]:
    """Active cases grouped by `sector` or `province`, largest first."""
    column = col(getattr(Case, name))
    rows = session.execute(
        sa.select(column, func.count())
        .where(col(Case.status).in_(ACTIVE_CASE_STATUSES))
        .group_by(column)
    ).all()
    ordered = sorted(((r[0], int(r[1])) for r in rows), key=lambda r: (-r[1], str(r[0] or "")))
    return [
        CaseCount(key=k, count=n, href=case_views.href({name: k}) if k else None)
        for k, n in ordered
    ]
