"""Reading the case queue: filters, sorts (risk, back pay, age) and keyset pages.

Each status in the filter is read as its own range of the matching `ix_case_queue_*` index
(status, key, id), newest key first (oldest condition first for age), and the few rows per
status are merged: no OFFSET. The result count is one COUNT over the same filter.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, exists, func, tuple_, union_all
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from meldplicht.core import keyset
from meldplicht.core.clock import today
from meldplicht.core.errors import InvalidRequest
from meldplicht.core.keyset import InvalidCursor as InvalidCursor
from meldplicht.employers.models import Employer
from meldplicht.inspection.models import (
    ACTIVE_CASE_STATUSES,
    Case,
    CaseRule,
    CaseStatus,
)


class CaseSort(enum.StrEnum):
    RISK = "risk"  # risk score, highest first
    BACK_PAY = "back_pay"  # estimated back pay, highest first
    AGE = "age"  # the oldest active condition first


class DueStatus(enum.StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"  # within DUE_SOON_DAYS
    ON_TIME = "on_time"
    NONE = "none"  # no due date (no active flags) or closed


SORTS = tuple(CaseSort)
DUE_SOON_DAYS = 2


@dataclass(frozen=True, slots=True)
class CaseFilter:
    statuses: tuple[CaseStatus, ...] = ACTIVE_CASE_STATUSES
    rules: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    sector: str | None = None
    province: str | None = None
    employer_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    match_nothing: bool = False
    unverified_signals: bool = False  # only cases with signals from outside still to check
    due: DueStatus | None = None  # read against `as_of` (the day the queue is read)
    as_of: date | None = None

    def digest(self) -> str:
        """A short fingerprint, so a cursor cannot be replayed against other filters."""
        return keyset.digest(
            "cases",
            {
                "statuses": list(self.statuses),
                "rules": list(self.rules),
                "severities": list(self.severities),
                "sector": self.sector,
                "province": self.province,
                "employer_id": str(self.employer_id) if self.employer_id else None,
                "assignee_id": str(self.assignee_id) if self.assignee_id else None,
                "unassigned": self.unassigned,
                "match_nothing": self.match_nothing,
                "unverified_signals": self.unverified_signals,
                "due": self.due,
                "as_of": self.as_of.isoformat() if self.as_of else None,
            },
        )


def _key(sort: str) -> Any:
    if sort == CaseSort.BACK_PAY:
        return col(Case.back_pay)
    if sort == CaseSort.AGE:
        return col(Case.condition_since)
    return col(Case.risk_score)


def _conditions(flt: CaseFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if flt.sector is not None:
        conds.append(col(Case.sector) == flt.sector)
    if flt.province is not None:
        conds.append(col(Case.province) == flt.province)
    if flt.employer_id is not None:
        conds.append(col(Case.employer_id) == flt.employer_id)
    if flt.assignee_id is not None:
        conds.append(col(Case.assignee_id) == flt.assignee_id)
    if flt.unassigned:
        conds.append(col(Case.assignee_id).is_(None))
    if flt.unverified_signals:
        conds.append(col(Case.signals_unverified) > 0)
    if flt.severities:
        columns = {"high": Case.flags_high, "medium": Case.flags_medium, "low": Case.flags_low}
        conds.append(sa.or_(*(col(columns[s]) > 0 for s in flt.severities if s in columns)))
    if flt.due is not None:
        conds.append(_due_condition(flt.due, flt.as_of or today()))
    if flt.rules:
        # "Has an active flag of one of these rules", read from case_rule (one row per rule a
        # case has active flags of: cases.refresh_rules).
        conds.append(
            exists().where(
                col(CaseRule.case_id) == col(Case.id), col(CaseRule.rule_code).in_(flt.rules)
            )
        )
    return conds


def _only_rules(flt: CaseFilter) -> bool:
    """Whether the rule is the only filter besides the statuses (the count then reads
    case_rule alone)."""
    return bool(flt.rules) and flt == CaseFilter(
        statuses=flt.statuses, rules=flt.rules, as_of=flt.as_of
    )


def _count(session: Session, flt: CaseFilter, conds: list[ColumnElement[bool]]) -> int:
    """How many cases match `conds` (the filter's, and the age sort's own): with the rule
    as the only condition, from `ix_case_rule_count` alone (the case's status is on the
    row); otherwise over the cases."""
    if _only_rules(flt) and len(conds) == 1:
        rule_rows = sa.select(
            func.count(sa.distinct(col(CaseRule.case_id)))
            if len(set(flt.rules)) > 1
            else func.count()
        ).where(col(CaseRule.rule_code).in_(flt.rules), col(CaseRule.case_status).in_(flt.statuses))
        return int(session.execute(rule_rows).scalar_one())
    return int(
        session.execute(
            sa.select(func.count())
            .select_from(Case)
            .where(col(Case.status).in_(flt.statuses), *conds)
        ).scalar_one()
    )


def _due_condition(due: DueStatus, on: date) -> ColumnElement[bool]:
    """The SQL form of `due_status` (below): the same four answers for the same case."""
    due_on = col(Case.due_on)
    not_closed = col(Case.status) != CaseStatus.CLOSED
    soon = on + timedelta(days=DUE_SOON_DAYS)
    if due == DueStatus.OVERDUE:
        return sa.and_(not_closed, due_on < on)
    if due == DueStatus.DUE_SOON:
        return sa.and_(not_closed, due_on >= on, due_on <= soon)
    if due == DueStatus.ON_TIME:
        return sa.and_(not_closed, due_on > soon)
    return sa.or_(due_on.is_(None), col(Case.status) == CaseStatus.CLOSED)


def encode_cursor(sort: str, flt: CaseFilter, key: Any, ident: uuid.UUID) -> str:
    return keyset.encode(sort, flt.digest(), key, ident)


_KEY_PARSERS: dict[str, Any] = {
    CaseSort.RISK: keyset.int32_key,
    CaseSort.BACK_PAY: keyset.decimal_key,
    CaseSort.AGE: keyset.day_key,
}


def decode_cursor(cursor: str, sort: str, flt: CaseFilter) -> tuple[Any, uuid.UUID]:
    return keyset.decode(cursor, sort, flt.digest(), _KEY_PARSERS[sort])


class InvalidCaseSort(InvalidRequest):
    code = "invalid_sort"
    title = "Unknown sort order"


def list_cases(
    session: Session,
    flt: CaseFilter,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[Case, Employer | None]], str | None, int]:
    """One page of cases in `sort` order, the next cursor, and the result count."""
    if sort not in SORTS:
        raise InvalidCaseSort(f"Sort by one of: {', '.join(SORTS)}.")
    if flt.match_nothing or not flt.statuses:
        return [], None, 0
    key_col = _key(sort)
    ascending = sort == CaseSort.AGE
    conds = _conditions(flt)
    if sort == CaseSort.AGE:
        conds.append(key_col.is_not(None))
    page_conds = list(conds)
    if cursor:
        after = decode_cursor(cursor, sort, flt)
        page_conds.append(
            tuple_(key_col, col(Case.id)) > after
            if ascending
            else tuple_(key_col, col(Case.id)) < after
        )
    order = (
        (key_col.asc(), col(Case.id).asc()) if ascending else (key_col.desc(), col(Case.id).desc())
    )

    def one_range(status: CaseStatus) -> Select[Any]:
        return (
            sa.select(col(Case.id).label("id"), key_col.label("k"))
            .where(col(Case.status) == status, *page_conds)
            .order_by(*order)
            .limit(limit + 1)
        )

    ranges = [one_range(s) for s in sorted(set(flt.statuses))]
    stmt: Select[Any]
    if len(ranges) == 1:
        stmt = ranges[0]
    else:
        merged = union_all(*(sa.select(r.subquery()) for r in ranges)).subquery()
        merged_order = (
            (merged.c.k.asc(), merged.c.id.asc())
            if ascending
            else (merged.c.k.desc(), merged.c.id.desc())
        )
        stmt = sa.select(merged.c.id, merged.c.k).order_by(*merged_order).limit(limit + 1)
    positions = list(session.execute(stmt))
    next_cursor = None
    if len(positions) > limit:
        positions = positions[:limit]
        next_cursor = encode_cursor(sort, flt, positions[-1].k, positions[-1].id)
    ids = [p.id for p in positions]
    rows: dict[uuid.UUID, tuple[Case, Employer | None]] = {}
    if ids:
        for case, employer in session.exec(
            select(Case, Employer)
            .outerjoin(Employer, col(Employer.id) == col(Case.employer_id))
            .where(col(Case.id).in_(ids))
        ):
            rows[case.id] = (case, employer)
    total = _count(session, flt, conds)
    return [rows[i] for i in ids if i in rows], next_cursor, total


def count_cases(session: Session, flt: CaseFilter) -> int:
    """How many cases match the filter (the count `list_cases` gives with a page)."""
    if flt.match_nothing or not flt.statuses:
        return 0
    return _count(session, flt, _conditions(flt))


def due_status(case: Case, today: date) -> str:
    """overdue, due_soon (within two days), on_time, or none (no active flags)."""
    if case.due_on is None or case.status == CaseStatus.CLOSED:
        return DueStatus.NONE.value
    if case.due_on < today:
        return DueStatus.OVERDUE.value
    if (case.due_on - today).days <= DUE_SOON_DAYS:
        return DueStatus.DUE_SOON.value
    return DueStatus.ON_TIME.value


def age_days(case: Case, today: date) -> int | None:
    """Days since the oldest active condition of the case began."""
    if case.condition_since is None:
        return None
    return max(0, (today - case.condition_since).days)
