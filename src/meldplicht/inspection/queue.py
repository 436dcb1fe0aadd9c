"""Reading the inspection queue: filters, keyset pages, a flag in full, an employer, health.

The queue stays fast at millions of flags because no page costs more than its own rows:
each status in the filter is read as its own range of the `ix_flag_queue` index (status,
risk_score, id), newest key first, and the few rows per status are merged. With a rule
filter each (status, rule) pair is its own range of that status's `ix_flag_rule_queue_*`
index (rule_code, risk_score, id) instead. There is no OFFSET and no COUNT of the table per
page; the cursor is the last row's sort key and id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, case, func, or_, true, tuple_, union_all
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core import keyset
from meldplicht.core.clock import LEGAL_TZ
from meldplicht.core.crypto import mask_bsn
from meldplicht.core.errors import FieldError, InvalidRequest, NotFound
from meldplicht.core.keyset import InvalidCursor as InvalidCursor
from meldplicht.employers.models import Employer
from meldplicht.employers.service import EmployerNotFound as EmployerNotFound
from meldplicht.flags.models import ACTIVE_STATUSES, Flag, FlagNote, FlagStatus, Outcome
from meldplicht.flags.models import Snooze as SnoozeRow
from meldplicht.inspection.schemas import (
    AuditEntryOut,
    EmployerSummary,
    EmployerView,
    FlagDetail,
    FlagOut,
    NoteOut,
    QueueHealth,
    QueueSort,
    ResolvedFlagOut,
    RuleGroup,
    RulePrecision,
    SnoozeOut,
)
from meldplicht.notifications import presenters
from meldplicht.notifications.models import Notification, NotificationStatus, Worker
from meldplicht.rules.identifiers import is_valid_kvk

# How many days a flag of each severity may stay active (open, claimed or investigating,
# counted from first_seen_at) before the health endpoint counts it as overdue. Product policy,
# not law: a plain constant rather than a setting, so every deployment reports against the
# same targets; the health response echoes them in `overdue_targets_days`.
SEVERITY_TARGET_DAYS: dict[str, int] = {"high": 5, "medium": 15, "low": 30}
# (label, older than N days, at most M days old) for the health endpoint's age histogram.
AGE_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("0-7", None, 7),
    ("8-30", 7, 30),
    ("31-90", 30, 90),
    ("91+", 90, None),
)
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3}
RELATED_LIMIT = 50
# Up to this many rules in a filter, a page reads each (status, rule) pair as its own range
# of the rule-first queue index; with more, one range per status tests the rules in the index.
RULE_RANGES_MAX = 8


class FlagNotFound(NotFound):
    code = "flag_not_found"
    title = "Flag not found"


class InvalidFilter(InvalidRequest):
    code = "invalid_filter"
    title = "A queue filter is invalid"


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What an inspector asked to see; every field narrows the queue."""

    statuses: tuple[FlagStatus, ...] = ACTIVE_STATUSES
    include_snoozed: bool = False
    rules: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    sector: str | None = None
    province: str | None = None
    employer_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    first_seen_from: date | None = None
    first_seen_to: date | None = None
    match_nothing: bool = False  # an employer KvK number nobody has

    def describe(self) -> dict[str, Any]:
        """The filters as JSON-safe data (for the audit log)."""
        return {
            "statuses": list(self.statuses),
            "include_snoozed": self.include_snoozed,
            "rules": list(self.rules),
            "severities": list(self.severities),
            "sector": self.sector,
            "province": self.province,
            "employer_id": str(self.employer_id) if self.employer_id else None,
            "assignee_id": str(self.assignee_id) if self.assignee_id else None,
            "unassigned": self.unassigned,
            "first_seen_from": self.first_seen_from.isoformat() if self.first_seen_from else None,
            "first_seen_to": self.first_seen_to.isoformat() if self.first_seen_to else None,
            "match_nothing": self.match_nothing,
        }

    def digest(self) -> str:
        """A short fingerprint, so a cursor cannot be replayed against other filters."""
        return keyset.digest("flags", self.describe())


def employer_by_reference(session: Session, reference: str) -> Employer | None:
    """An employer by id or by KvK number; None when no employer matches."""
    reference = reference.strip()
    try:
        return session.get(Employer, uuid.UUID(reference))
    except ValueError:
        pass
    compact = reference.replace(" ", "")
    if not is_valid_kvk(compact):
        raise InvalidFilter(
            errors=[
                FieldError(
                    field="employer",
                    code="invalid_employer_reference",
                    message="Give an employer id (UUID) or a KvK number (8 digits).",
                )
            ]
        )
    return session.exec(select(Employer).where(Employer.kvk_number == compact)).first()


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LEGAL_TZ)


def _conditions(
    flt: QueueFilter, today: date, *, with_rules: bool = True
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if not flt.include_snoozed:
        conds.append(or_(col(Flag.snoozed_until).is_(None), col(Flag.snoozed_until) < today))
    if flt.rules and with_rules:
        conds.append(col(Flag.rule_code).in_(flt.rules))
    if flt.severities:
        conds.append(col(Flag.severity).in_(flt.severities))
    if flt.sector is not None:
        conds.append(col(Flag.sector) == flt.sector)
    if flt.province is not None:
        conds.append(col(Flag.province) == flt.province)
    if flt.employer_id is not None:
        conds.append(col(Flag.employer_id) == flt.employer_id)
    if flt.assignee_id is not None:
        conds.append(col(Flag.assignee_id) == flt.assignee_id)
    if flt.unassigned:
        conds.append(col(Flag.assignee_id).is_(None))
    if flt.first_seen_from is not None:
        conds.append(col(Flag.first_seen_at) >= _start_of_day(flt.first_seen_from))
    if flt.first_seen_to is not None:
        conds.append(col(Flag.first_seen_at) < _start_of_day(flt.first_seen_to + timedelta(days=1)))
    return conds


# --- keyset pagination --------------------------------------------------------------------


SortKey = int | datetime


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the last row's sort key and id."""

    key: SortKey
    id: uuid.UUID


def encode_cursor(sort: QueueSort, flt: QueueFilter, position: Position) -> str:
    return keyset.encode(sort.value, flt.digest(), position.key, position.id)


def decode_cursor(cursor: str, sort: QueueSort, flt: QueueFilter) -> Position:
    # A risk score is a 32-bit integer column; a larger key would overflow the query.
    parse: Any = keyset.int32_key if sort is QueueSort.RISK else keyset.instant_key
    key, ident = keyset.decode(cursor, sort.value, flt.digest(), parse)
    return Position(key=key, id=ident)


def _page_positions(
    session: Session,
    flt: QueueFilter,
    sort: QueueSort,
    after: Position | None,
    limit: int,
    today: date,
) -> list[Position]:
    """The next `limit` (key, id) pairs in queue order, one index range per status.

    Sorted by risk and filtered on a few rules, one range per (active status, rule) pair: the
    risk score follows the rule's severity, so walking a status's flags in risk order to find
    one rule's reads past every flag of a more severe rule first (all of them when the other
    filters match nothing), while the rule's own range of `ix_flag_rule_queue_<status>` is in
    risk order already. Resolved and cleared flags have no such index: one range each.
    """
    if flt.match_nothing or not flt.statuses:
        return []
    key_col: Any = col(Flag.risk_score) if sort is QueueSort.RISK else col(Flag.first_seen_at)
    id_col = col(Flag.id)
    descending = sort is QueueSort.RISK
    per_rule = descending and 0 < len(flt.rules) <= RULE_RANGES_MAX
    conds = _conditions(flt, today, with_rules=False)
    if after is not None:
        boundary = (after.key, after.id)
        conds.append(
            tuple_(key_col, id_col) < boundary if descending else tuple_(key_col, id_col) > boundary
        )
    order = (key_col.desc(), id_col.desc()) if descending else (key_col.asc(), id_col.asc())

    def one_range(status: FlagStatus, rule: str | None) -> Select[Any]:
        where = [col(Flag.status) == status, *conds]
        if rule is not None:
            where.append(col(Flag.rule_code) == rule)
        elif flt.rules:
            where.append(col(Flag.rule_code).in_(flt.rules))
        return (
            sa.select(id_col.label("id"), key_col.label("k"))
            .where(*where)
            .order_by(*order)
            .limit(limit)
        )

    def rules_of(status: FlagStatus) -> list[str | None]:
        return list(flt.rules) if per_rule and status in ACTIVE_STATUSES else [None]

    ranges = [one_range(s, r) for s in sorted(set(flt.statuses)) for r in rules_of(s)]
    stmt: Select[Any]
    if len(ranges) == 1:
        stmt = ranges[0]
    else:
        # Each member is wrapped as a subquery: SQLite refuses ORDER BY/LIMIT inside UNION.
        merged = union_all(*(sa.select(r.subquery()) for r in ranges)).subquery()
        merged_order = (
            (merged.c.k.desc(), merged.c.id.desc())
            if descending
            else (merged.c.k.asc(), merged.c.id.asc())
        )
        stmt = sa.select(merged.c.id, merged.c.k).order_by(*merged_order).limit(limit)
    return [Position(key=row.k, id=row.id) for row in session.execute(stmt)]


def positions_before(
    session: Session,
    flt: QueueFilter,
    sort: QueueSort,
    before: Position,
    limit: int,
    on: date,
) -> list[Position]:
    """Up to `limit` positions just before `before` in queue order (the previous page).

    `list_flags` only walks forward; this is its mirror image (same index ranges per
    status, read in the other direction), so "previous" is keyset paging too.
    """
    if flt.match_nothing or not flt.statuses:
        return []
    key_col: Any = col(Flag.risk_score) if sort is QueueSort.RISK else col(Flag.first_seen_at)
    id_col = col(Flag.id)
    descending = sort is QueueSort.RISK  # the queue's order; read here the other way round
    conds = _conditions(flt, on)  # the queue's own filter semantics
    boundary = (before.key, before.id)
    conds.append(
        tuple_(key_col, id_col) > boundary if descending else tuple_(key_col, id_col) < boundary
    )
    order = (key_col.asc(), id_col.asc()) if descending else (key_col.desc(), id_col.desc())

    def per_status(status: FlagStatus) -> Select[Any]:
        return (
            sa.select(id_col.label("id"), key_col.label("k"))
            .where(col(Flag.status) == status, *conds)
            .order_by(*order)
            .limit(limit)
        )

    statuses = sorted(set(flt.statuses))
    if len(statuses) == 1:
        stmt = per_status(statuses[0])
    else:
        merged = union_all(*(sa.select(per_status(s).subquery()) for s in statuses)).subquery()
        merged_order = (
            (merged.c.k.asc(), merged.c.id.asc())
            if descending
            else (merged.c.k.desc(), merged.c.id.desc())
        )
        stmt = sa.select(merged.c.id, merged.c.k).order_by(*merged_order).limit(limit)
    rows = [Position(key=row.k, id=row.id) for row in session.execute(stmt)]
    rows.reverse()
    return rows


def flags_in_order(session: Session, ids: Sequence[uuid.UUID]) -> list[Flag]:
    """The flags with these ids, in the order of the ids (missing ones left out)."""
    if not ids:
        return []
    by_id = {f.id: f for f in session.exec(select(Flag).where(col(Flag.id).in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


def list_flags(
    session: Session,
    flt: QueueFilter,
    *,
    sort: QueueSort,
    cursor: str | None,
    limit: int,
    today: date,
) -> tuple[list[Flag], str | None]:
    after = decode_cursor(cursor, sort, flt) if cursor else None
    positions = _page_positions(session, flt, sort, after, limit + 1, today)
    next_cursor = None
    if len(positions) > limit:
        positions = positions[:limit]
        next_cursor = encode_cursor(sort, flt, positions[-1])
    return flags_in_order(session, [p.id for p in positions]), next_cursor


def page_through(
    session: Session,
    flt: QueueFilter,
    *,
    sort: QueueSort,
    after: Position | None,
    batch: int,
    today: date,
) -> list[Position]:
    """One batch of positions after `after` (the export walks the queue with this)."""
    return _page_positions(session, flt, sort, after, batch, today)


# --- presentation -------------------------------------------------------------------------


def flag_out(flag: Flag) -> FlagOut:
    return FlagOut(
        id=flag.id,
        rule_code=flag.rule_code,
        rule_version=flag.rule_version,
        severity=flag.severity,
        status=FlagStatus(flag.status),
        risk_score=flag.risk_score,
        risk_computed_at=flag.risk_computed_at,
        subject_type=flag.subject_type,
        subject_id=flag.subject_id,
        employer_id=flag.employer_id,
        notification_id=flag.notification_id,
        sector=flag.sector,
        province=flag.province,
        workers_affected=flag.workers_affected,
        assignee_id=flag.assignee_id,
        claimed_at=flag.claimed_at,
        outcome=Outcome(flag.outcome) if flag.outcome else None,
        resolved_at=flag.resolved_at,
        resolved_by=flag.resolved_by,
        condition_present=flag.condition_present,
        snoozed_until=flag.snoozed_until,
        first_seen_at=flag.first_seen_at,
        last_seen_at=flag.last_seen_at,
        cleared_at=flag.cleared_at,
        reopened_count=flag.reopened_count,
        message_en=flag.message_en,
        message_nl=flag.message_nl,
    )


def get_flag(session: Session, flag_id: uuid.UUID, *, for_update: bool = False) -> Flag:
    stmt = select(Flag).where(Flag.id == flag_id)
    if for_update:
        # PostgreSQL: a second writer waits here and then sees the first one's change.
        # SQLite: BEGIN IMMEDIATE already serialises writers.
        stmt = stmt.with_for_update()
    flag = session.exec(stmt).first()
    if flag is None:
        raise FlagNotFound(f"No flag with id {flag_id}.")
    return flag


def worker_of(session: Session, flag: Flag) -> Worker | None:
    """The declared worker the flag is about, if it is about one person."""
    if flag.notification_id is not None:
        return session.exec(
            select(Worker)
            .join(Notification, col(Notification.worker_id) == col(Worker.id))
            .where(Notification.id == flag.notification_id)
        ).first()
    if flag.person_hash is not None:
        return session.exec(
            select(Worker)
            .where(Worker.bsn_hash == flag.person_hash)
            .order_by(col(Worker.created_at))
        ).first()
    return None


def _related_employer(session: Session, flag: Flag) -> list[Flag]:
    if flag.employer_id is None:
        return []
    return list(
        session.exec(
            select(Flag)
            .where(
                Flag.employer_id == flag.employer_id,
                col(Flag.status).in_(ACTIVE_STATUSES),
                Flag.id != flag.id,
            )
            .order_by(col(Flag.risk_score).desc(), col(Flag.id).desc())
            .limit(RELATED_LIMIT)
        )
    )


def _related_person(session: Session, flag: Flag, person_hash: str | None) -> list[Flag]:
    if person_hash is None:
        return []
    # Notification flags do not carry the person's hash: reach them through the workers. Two
    # queries, each on its own index, merged here: an OR of the two makes PostgreSQL's planner
    # walk the whole queue in risk order at a million flags.
    notifications_of_person = (
        select(Notification.id)
        .join(Worker, col(Worker.id) == col(Notification.worker_id))
        .where(Worker.bsn_hash == person_hash)
    )
    found: dict[uuid.UUID, Flag] = {}
    for match in (
        col(Flag.person_hash) == person_hash,
        col(Flag.notification_id).in_(notifications_of_person),
    ):
        for related in session.exec(
            select(Flag)
            .where(match, col(Flag.status).in_(ACTIVE_STATUSES), Flag.id != flag.id)
            .order_by(col(Flag.risk_score).desc(), col(Flag.id).desc())
            .limit(RELATED_LIMIT)
        ):
            found[related.id] = related
    ordered = sorted(found.values(), key=lambda f: (f.risk_score, f.id), reverse=True)
    return ordered[:RELATED_LIMIT]


def audit_trail(session: Session, flag_id: uuid.UUID) -> list[AuditEntryOut]:
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "flag", AuditEvent.subject_id == str(flag_id))
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    return [
        AuditEntryOut(
            at=e.at,
            actor_role=e.actor_role,
            actor_id=e.actor_id,
            action=e.action,
            details=e.details,
        )
        for e in events
    ]


def flag_detail(session: Session, flag_id: uuid.UUID, lang: str = "en") -> FlagDetail:
    flag = get_flag(session, flag_id)
    worker = worker_of(session, flag)
    notification = session.get(Notification, flag.notification_id) if flag.notification_id else None
    notes = session.exec(
        select(FlagNote)
        .where(FlagNote.flag_id == flag.id)
        .order_by(col(FlagNote.created_at), col(FlagNote.id))
    )
    person_hash = flag.person_hash or (worker.bsn_hash if worker else None)
    return FlagDetail(
        **flag_out(flag).model_dump(),
        legal_basis=flag.legal_basis,
        evidence=flag.evidence,
        parameters=flag.parameters,
        risk_breakdown=flag.risk_breakdown,
        resolution_note=flag.resolution_note,
        worker_bsn_masked=mask_bsn("000000" + worker.bsn_last3) if worker else None,
        notification=(
            presenters.present_detail(session, notification, lang) if notification else None
        ),
        related_employer_flags=[flag_out(f) for f in _related_employer(session, flag)],
        related_person_flags=[flag_out(f) for f in _related_person(session, flag, person_hash)],
        notes=[
            NoteOut(
                id=n.id,
                author_id=n.author_id,
                author_name=n.author_name,
                body=n.body,
                created_at=n.created_at,
            )
            for n in notes
        ],
        audit=audit_trail(session, flag.id),
    )


def snooze_out(snooze: SnoozeRow, flags_affected: int | None = None) -> SnoozeOut:
    return SnoozeOut(
        id=snooze.id,
        employer_id=snooze.employer_id,
        rule_code=snooze.rule_code,
        until=snooze.until,
        reason=snooze.reason,
        created_by=snooze.created_by,
        created_at=snooze.created_at,
        lifted_at=snooze.lifted_at,
        flags_affected=flags_affected,
    )


def list_snoozes(
    session: Session, *, employer_id: uuid.UUID | None, include_lifted: bool, today: date
) -> list[SnoozeRow]:
    stmt = select(SnoozeRow)
    if employer_id is not None:
        stmt = stmt.where(SnoozeRow.employer_id == employer_id)
    if not include_lifted:
        stmt = stmt.where(col(SnoozeRow.lifted_at).is_(None), SnoozeRow.until >= today)
    return list(session.exec(stmt.order_by(col(SnoozeRow.created_at).desc()).limit(500)))


# --- the employer view --------------------------------------------------------------------


def employer_view(session: Session, reference: str, today: date) -> EmployerView:
    """Everything open about one employer: an inspection visits an employer, not a row."""
    employer = employer_by_reference(session, reference)
    if employer is None:
        raise EmployerNotFound(f"No employer {reference}.")
    active = col(Flag.status).in_(ACTIVE_STATUSES)
    person = func.coalesce(col(Worker.bsn_hash), col(Flag.person_hash))
    grouped = session.execute(
        sa.select(
            col(Flag.rule_code),
            col(Flag.status),
            col(Flag.severity),
            func.count().label("n"),
            func.max(col(Flag.risk_score)).label("max_risk"),
        )
        .where(col(Flag.employer_id) == employer.id, active)
        .group_by(col(Flag.rule_code), col(Flag.status), col(Flag.severity))
    ).all()
    workers = dict(
        session.execute(
            select(col(Flag.rule_code), func.count(func.distinct(person)))
            .select_from(Flag)
            .outerjoin(Notification, col(Notification.id) == col(Flag.notification_id))
            .outerjoin(Worker, col(Worker.id) == col(Notification.worker_id))
            .where(Flag.employer_id == employer.id, active)
            .group_by(col(Flag.rule_code))
        ).all()
    )
    groups: dict[str, RuleGroup] = {}
    for row in grouped:
        group = groups.setdefault(
            row.rule_code,
            RuleGroup(
                rule_code=row.rule_code,
                flags=0,
                workers_affected=int(workers.get(row.rule_code, 0)),
                by_status={},
                max_risk_score=0,
                severity=row.severity,
                flag_ids=[],
            ),
        )
        group.flags += int(row.n)
        group.by_status[row.status] = group.by_status.get(row.status, 0) + int(row.n)
        group.max_risk_score = max(group.max_risk_score, int(row.max_risk))
        if SEVERITY_RANK.get(row.severity, 0) > SEVERITY_RANK.get(group.severity, 0):
            group.severity = row.severity
    for group in groups.values():
        group.flag_ids = list(
            session.exec(
                select(Flag.id)
                .where(Flag.employer_id == employer.id, active, Flag.rule_code == group.rule_code)
                .order_by(col(Flag.risk_score).desc(), col(Flag.id).desc())
                .limit(100)
            )
        )
    notification_counts = dict(
        session.execute(
            select(col(Notification.status), func.count())
            .where(Notification.employer_id == employer.id)
            .group_by(col(Notification.status))
        ).all()
    )
    outcomes = dict(
        session.execute(
            select(col(Flag.outcome), func.count())
            .where(Flag.employer_id == employer.id, Flag.status == FlagStatus.RESOLVED)
            .group_by(col(Flag.outcome))
        ).all()
    )
    recent = session.exec(
        select(Flag)
        .where(Flag.employer_id == employer.id, Flag.status == FlagStatus.RESOLVED)
        .order_by(col(Flag.resolved_at).desc(), col(Flag.id).desc())
        .limit(50)
    )
    snoozes = session.exec(
        select(SnoozeRow)
        .where(
            SnoozeRow.employer_id == employer.id,
            col(SnoozeRow.lifted_at).is_(None),
            SnoozeRow.until >= today,
        )
        .order_by(col(SnoozeRow.created_at))
    )
    ordered = sorted(groups.values(), key=lambda g: (-g.max_risk_score, g.rule_code))
    return EmployerView(
        employer=EmployerSummary(
            id=employer.id,
            kvk_number=employer.kvk_number,
            name=employer.name,
            sector=employer.sector,
            sbi_code=employer.sbi_code,
            city=employer.city,
            postcode=employer.postcode,
            is_staffing_agency=employer.is_staffing_agency,
        ),
        active_flags=sum(g.flags for g in ordered),
        rules=ordered,
        notifications=sum(int(n) for n in notification_counts.values()),
        active_notifications=int(notification_counts.get(NotificationStatus.ACTIVE, 0)),
        outcomes={str(k): int(v) for k, v in outcomes.items() if k is not None},
        recent_resolutions=[
            ResolvedFlagOut(
                id=f.id,
                rule_code=f.rule_code,
                outcome=Outcome(f.outcome) if f.outcome else None,
                resolved_at=f.resolved_at,
                resolved_by=f.resolved_by,
            )
            for f in recent
        ],
        active_snoozes=[snooze_out(s) for s in snoozes],
    )


# --- queue health ---------------------------------------------------------------------------


def queue_health(session: Session, now: datetime, today: date) -> QueueHealth:
    """Counts by status and age, overdue flags per severity target, precision per rule.

    Snoozed flags are parked on purpose: they are counted apart and neither age nor overdue.
    """
    by_status = {
        str(status): int(n)
        for status, n in session.execute(
            select(col(Flag.status), func.count()).group_by(col(Flag.status))
        )
    }
    active = col(Flag.status).in_(ACTIVE_STATUSES)
    awake = or_(col(Flag.snoozed_until).is_(None), col(Flag.snoozed_until) < today)
    snoozed = session.execute(
        select(func.count()).select_from(Flag).where(active, ~awake)
    ).scalar_one()

    def older_than(days: int) -> ColumnElement[bool]:
        return col(Flag.first_seen_at) < now - timedelta(days=days)

    bucket_columns = []
    for index, (_, older, at_most) in enumerate(AGE_BUCKETS):
        cond: ColumnElement[bool] = older_than(older) if older is not None else true()
        if at_most is not None:
            cond = and_(cond, ~older_than(at_most))
        bucket_columns.append(func.sum(case((cond, 1), else_=0)).label(f"b{index}"))
    buckets = session.execute(select(*bucket_columns).where(active, awake)).one()
    overdue_rows = session.execute(
        select(col(Flag.severity), func.count())
        .where(
            active,
            awake,
            or_(
                *(
                    and_(col(Flag.severity) == severity, older_than(days))
                    for severity, days in SEVERITY_TARGET_DAYS.items()
                )
            ),
        )
        .group_by(col(Flag.severity))
    )
    overdue = dict.fromkeys(SEVERITY_TARGET_DAYS, 0)
    overdue.update({str(s): int(n) for s, n in overdue_rows})
    confirmed = func.sum(case((col(Flag.outcome) == Outcome.VIOLATION_CONFIRMED, 1), else_=0))
    precision_rows = session.execute(
        select(col(Flag.rule_code), func.count(), confirmed)
        .where(Flag.status == FlagStatus.RESOLVED)
        .group_by(col(Flag.rule_code))
        .order_by(col(Flag.rule_code))
    )
    precision = [
        RulePrecision(
            rule_code=rule,
            resolved=int(resolved),
            violation_confirmed=int(hits or 0),
            precision=round(int(hits or 0) / int(resolved), 4) if resolved else None,
        )
        for rule, resolved, hits in precision_rows
    ]
    return QueueHealth(
        as_of=now,
        by_status={str(s): by_status.get(str(s), 0) for s in FlagStatus},
        active_by_age={
            label: int(buckets[index] or 0) for index, (label, _, _) in enumerate(AGE_BUCKETS)
        },
        snoozed=int(snoozed),
        overdue_targets_days=dict(SEVERITY_TARGET_DAYS),
        overdue_by_severity=overdue,
        overdue_total=sum(overdue.values()),
        precision_by_rule=precision,
    )
