"""Cases: one open case per employer gathers that employer's active flags.

`join_flags` is the one way flags enter cases; every flag sync ends in it (intake, sweep,
payroll, register: this module sets it as the flags package's case joiner on import), and
the flag workflow calls it when a flag changes status. It puts each active flag that is in
no open case into its employer's open case (opening one if there is none: a closed case
stays closed, a later flag opens a new one), then recomputes the aggregates of every open
case the batch touched: flags by severity, workers affected, risk score with its breakdown,
the due date, the day the oldest active condition began, and the estimated back pay (the sum
of its workers' estimates, `CaseWorker`, recomputed for the notifications of the batch's
wage flags). It also keeps `case_rule` (the rules each case has active flags of, for the
queue's rule filter) for those cases and for the closed cases the batch's flags left or were
worked in. Within the sweep (`figures_deferred`) the figures are left due and recomputed
once, at the sweep's end; `case_rule` is kept at once.

A closed case keeps the figures it had when it was closed (the file shows what was decided on).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from meldplicht.audit import service as audit
from meldplicht.core.clock import LEGAL_TZ, utcnow
from meldplicht.core.security import Principal
from meldplicht.employers.models import Employer
from meldplicht.flags import sync as flag_sync
from meldplicht.flags.models import ACTIVE_STATUSES, Flag, SubjectType
from meldplicht.inspection.models import (
    Case,
    CaseFiguresDue,
    CaseRule,
    CaseStatus,
    CaseWorker,
    CaseWorkerDue,
)
from meldplicht.notifications.models import (
    Notification,
    NotificationVersion,
    VersionKind,
    Worker,
)
from meldplicht.payroll.models import PayrollRecord
from meldplicht.rules.backpay import BackPay, Declared, Paid, back_pay
from meldplicht.rules.facts import WagePeriod, counts

# How many days a case may stay open from its most severe flag's first sighting; the same
# product-policy targets the flag queue's health report uses (docs/RULES.md).
SEVERITY_TARGET_DAYS: dict[str, int] = {"high": 5, "medium": 15, "low": 30}
SEVERITY_ORDER = ("high", "medium", "low")
# The rules whose condition is a wage below the statutory minimum: their notifications get a
# back-pay estimate in the case.
BACK_PAY_RULES = frozenset({"BELOW_MINIMUM_WAGE", "PAID_BELOW_MINIMUM_WAGE"})
_IN_CHUNK = 500
# Who joins a flag to a case when a person's flag transition moves it (the transition
# itself is audited in that person's name).
CASES_ACTOR = Principal(role="system", actor_id="system:cases", display_name="meldplicht")


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def case_reference(case_id: uuid.UUID, opened: datetime) -> str:
    return f"Z-{opened.astimezone(LEGAL_TZ).year}-{case_id.hex[:8].upper()}"


# --- joining --------------------------------------------------------------------------------


def _open_cases(session: Session, employer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    found: dict[uuid.UUID, uuid.UUID] = {}
    for chunk in _chunks(employer_ids):
        for employer_id, case_id in session.execute(
            sa_select(col(Case.employer_id), col(Case.id)).where(
                col(Case.employer_id).in_(chunk), col(Case.status) != CaseStatus.CLOSED
            )
        ):
            found[employer_id] = case_id
    return found


def _open_case(
    session: Session, employer_id: uuid.UUID, actor: Principal, now: datetime
) -> uuid.UUID:
    """A new open case for the employer, or the one a concurrent writer opened first."""
    employer = session.get(Employer, employer_id)
    case_id = uuid.uuid4()
    try:
        with session.begin_nested():
            session.add(
                Case(
                    id=case_id,
                    reference=case_reference(case_id, now),
                    employer_id=employer_id,
                    sector=employer.sector if employer else None,
                    opened_at=now,
                    updated_at=now,
                )
            )
            session.flush()
    except IntegrityError:
        # ux_case_employer_active: another transaction opened the employer's case first.
        existing = _open_cases(session, [employer_id])
        return existing[employer_id]
    audit.record(session, actor, "case.opened", "case", case_id, {"employer_id": str(employer_id)})
    return case_id


def open_case_of(session: Session, employer_id: uuid.UUID) -> uuid.UUID | None:
    """The employer's case that is not closed, if it has one."""
    return _open_cases(session, [employer_id]).get(employer_id)


def case_for_employer(
    session: Session, employer_id: uuid.UUID, actor: Principal, now: datetime
) -> uuid.UUID:
    """The employer's open case, opened the way a flag opens it when there is none."""
    found = _open_cases(session, [employer_id])
    if employer_id in found:
        return found[employer_id]
    return _open_case(session, employer_id, actor, now)


def case_for_unknown_employer(
    session: Session,
    *,
    name: str | None,
    kvk_number: str | None,
    name_key: str | None,
    actor: Principal,
    now: datetime,
) -> uuid.UUID:
    """The open case of an employer that is not registered here (no employer row), found by
    the reported KvK number or name; a new one of its own if none is open."""
    conds = []
    if kvk_number:
        conds.append(col(Case.reported_kvk_number) == kvk_number)
    if name_key:
        conds.append(col(Case.reported_name_key) == name_key)
    if conds:
        existing = session.execute(
            sa_select(col(Case.id))
            .where(
                col(Case.employer_id).is_(None),
                col(Case.status) != CaseStatus.CLOSED,
                or_(*conds),
            )
            .order_by(col(Case.opened_at))
            .limit(1)
        ).scalar()
        if existing is not None:
            return uuid.UUID(str(existing))
    case_id = uuid.uuid4()
    session.add(
        Case(
            id=case_id,
            reference=case_reference(case_id, now),
            employer_id=None,
            reported_name=name,
            reported_kvk_number=kvk_number,
            reported_name_key=name_key,
            opened_at=now,
            updated_at=now,
        )
    )
    session.flush()
    audit.record(session, actor, "case.opened", "case", case_id, {"employer_id": None})
    return case_id


def join_flags(
    session: Session,
    flag_ids: Iterable[uuid.UUID],
    *,
    employer_ids: Iterable[uuid.UUID | None] = (),
    actor: Principal,
    as_of: date,
    now: datetime | None = None,
) -> set[uuid.UUID]:
    """Put the active flags among `flag_ids` that are in no open case into their employer's
    open case, then refresh the open cases of those employers and of `employer_ids` (whose
    flags may have cleared). Returns the ids of the cases refreshed."""
    now = now or utcnow()
    ids = sorted(set(flag_ids))
    loose: dict[uuid.UUID, list[uuid.UUID]] = {}
    left: set[uuid.UUID] = set()  # closed cases whose active flags move to an open case
    wage_notifications: dict[uuid.UUID, set[uuid.UUID]] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            sa_select(
                col(Flag.id),
                col(Flag.employer_id),
                col(Flag.case_id),
                col(Case.status),
                col(Flag.rule_code),
                col(Flag.notification_id),
            )
            .outerjoin(Case, col(Case.id) == col(Flag.case_id))
            .where(
                col(Flag.id).in_(chunk),
                col(Flag.status).in_(ACTIVE_STATUSES),
                col(Flag.employer_id).is_not(None),
            )
        )
        for flag_id, employer_id, case_id, case_status, rule_code, notification_id in rows:
            if case_id is None or case_status == CaseStatus.CLOSED:
                loose.setdefault(employer_id, []).append(flag_id)
            if case_id is not None and case_status == CaseStatus.CLOSED:
                left.add(case_id)
            if rule_code in BACK_PAY_RULES and notification_id is not None:
                wage_notifications.setdefault(employer_id, set()).add(notification_id)
    employers = sorted({*loose, *(e for e in employer_ids if e is not None)})
    if not employers:
        return set()
    cases = _open_cases(session, employers)
    for employer_id in sorted(loose):
        if employer_id not in cases:
            cases[employer_id] = _open_case(session, employer_id, actor, now)
    joined: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    for employer_id, flags in loose.items():
        case_id = cases[employer_id]
        joined.extend({"id": f, "case_id": case_id} for f in flags)
        audit_rows.append(
            audit.entry(
                actor,
                "case.flags_joined",
                "case",
                case_id,
                {"flags": len(flags), "flag_ids": [str(f) for f in flags[:20]]},
            )
        )
    if joined:
        session.flush()
        session.execute(update(Flag), joined)
        _expire(session, Flag, {row["id"] for row in joined})
        _set_condition_since(session, [row["id"] for row in joined])
    audit.record_many(session, audit_rows)
    touched = {cases[e] for e in employers if e in cases}
    wages = {cases[e]: sorted(n) for e, n in wage_notifications.items() if e in cases}
    refresh_rules(session, sorted(touched | left | _closed_with_rules(session, employers)))
    if _deferring.get():
        _mark_due(session, touched, wages)
        return touched
    update_back_pay_many(session, wages, as_of, now)
    refresh(session, sorted(touched), now)
    return touched


# --- figures left due (the sweep) -----------------------------------------------------------

_deferring: ContextVar[bool] = ContextVar("case_figures_deferred", default=False)


@contextmanager
def figures_deferred() -> Iterator[None]:
    """Within this block `join_flags` still puts every flag into its case at once, but leaves
    the case's figures (its aggregates and its workers' back pay) due, to be recomputed by
    `recompute_due`. The sweep works in it: an employer's flags arrive over many batches of
    notifications and again in the payroll phase, and each case is then recomputed once, at
    the sweep's end, from the same inputs (the estimate depends on the declarations, the
    payroll and the day, never on the flags). What is due is stored with the batch, so a run
    killed before its end leaves it to the next run."""
    token = _deferring.set(True)
    try:
        yield
    finally:
        _deferring.reset(token)


def _insert_ignoring_known(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        statement: Any = postgresql.insert(table).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing()
    session.execute(statement, rows)


def _mark_due(
    session: Session, case_ids: set[uuid.UUID], wages: dict[uuid.UUID, list[uuid.UUID]]
) -> None:
    _insert_ignoring_known(
        session,
        CaseFiguresDue.__table__,  # type: ignore[attr-defined]
        [{"case_id": c} for c in sorted(case_ids)],
    )
    _insert_ignoring_known(
        session,
        CaseWorkerDue.__table__,  # type: ignore[attr-defined]
        [{"case_id": c, "notification_id": n} for c, ns in sorted(wages.items()) for n in ns],
    )


def figures_due(session: Session) -> int:
    """How many cases have figures left to recompute."""
    return int(session.execute(sa_select(func.count()).select_from(CaseFiguresDue)).scalar_one())


def recompute_due(
    session: Session, as_of: date, now: datetime | None = None, *, limit: int = 200
) -> int:
    """Recompute the figures of up to `limit` cases left due (lowest ids first) and clear
    them: the back pay of their due workers, then their aggregates. Returns how many cases
    were taken (0: none left). A case closed meanwhile keeps the figures it was closed with.
    The caller commits, and calls again until it returns 0."""
    now = now or utcnow()
    case_ids = list(
        session.execute(
            sa_select(col(CaseFiguresDue.case_id))
            .order_by(col(CaseFiguresDue.case_id))
            .limit(limit)
        ).scalars()
    )
    if not case_ids:
        return 0
    still_open = set(
        session.execute(
            sa_select(col(Case.id)).where(
                col(Case.id).in_(case_ids), col(Case.status) != CaseStatus.CLOSED
            )
        ).scalars()
    )
    wages: dict[uuid.UUID, list[uuid.UUID]] = {}
    for case_id, notification_id in session.execute(
        sa_select(col(CaseWorkerDue.case_id), col(CaseWorkerDue.notification_id))
        .where(col(CaseWorkerDue.case_id).in_(case_ids))
        .order_by(col(CaseWorkerDue.case_id), col(CaseWorkerDue.notification_id))
    ):
        if case_id in still_open:
            wages.setdefault(case_id, []).append(notification_id)
    update_back_pay_many(session, wages, as_of, now)
    refresh(session, sorted(still_open), now)
    session.execute(delete(CaseWorkerDue).where(col(CaseWorkerDue.case_id).in_(case_ids)))
    session.execute(delete(CaseFiguresDue).where(col(CaseFiguresDue.case_id).in_(case_ids)))
    return len(case_ids)


# Flags sit below cases and cannot import them: every flag sync ends in `join_flags` this way.
flag_sync.join_cases_with(join_flags)


def _expire(session: Session, model: type[Any], ids: set[uuid.UUID]) -> None:
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model) and obj.id in ids:
            session.expire(obj)


def _set_condition_since(session: Session, flag_ids: Sequence[uuid.UUID]) -> None:
    """The day each flag's condition began, where not yet known: the start of work of its
    notification, or the start of the payroll period, never after the flag was first seen."""
    values: list[dict[str, Any]] = []
    for chunk in _chunks(flag_ids):
        rows = session.execute(
            sa_select(
                col(Flag.id),
                col(Flag.first_seen_at),
                col(Flag.subject_type),
                col(Flag.subject_id),
                col(Notification.start_date),
            )
            .outerjoin(Notification, col(Notification.id) == col(Flag.notification_id))
            .where(col(Flag.id).in_(chunk), col(Flag.condition_since).is_(None))
        ).all()
        payroll_ids = []
        for row in rows:
            if row.subject_type == SubjectType.PAYROLL:
                try:
                    payroll_ids.append(uuid.UUID(row.subject_id))
                except ValueError:
                    continue
        periods = (
            dict(
                session.execute(
                    sa_select(col(PayrollRecord.id), col(PayrollRecord.period_start)).where(
                        col(PayrollRecord.id).in_(payroll_ids)
                    )
                ).all()
            )
            if payroll_ids
            else {}
        )
        for row in rows:
            seen = row.first_seen_at.astimezone(LEGAL_TZ).date()
            began: date | None = None
            if row.subject_type == SubjectType.PAYROLL:
                try:
                    began = periods.get(uuid.UUID(row.subject_id))
                except ValueError:
                    began = None
            if began is None:
                began = row.start_date
            values.append({"id": row.id, "condition_since": min(began or seen, seen)})
    if values:
        session.execute(update(Flag), values)
        _expire(session, Flag, {v["id"] for v in values})


# --- aggregates -----------------------------------------------------------------------------


@dataclass(slots=True)
class _RuleGroup:
    rule: str
    severity: str
    flags: int
    top_score: int
    first_seen: datetime
    condition_since: date | None


def risk_of(groups: Sequence[_RuleGroup]) -> tuple[int, dict[str, Any]]:
    """The case's risk: the highest flag score of each rule, added up.

    Many flags of one rule (one per worker) weigh as that rule's worst flag, whose score
    already counts the workers affected; each further rule adds its own. Product policy.
    """
    best: dict[str, _RuleGroup] = {}
    for g in groups:
        if g.rule not in best or g.top_score > best[g.rule].top_score:
            best[g.rule] = g
    counts: dict[str, int] = {}
    for g in groups:
        counts[g.rule] = counts.get(g.rule, 0) + g.flags
    parts = sorted(best.values(), key=lambda g: (-g.top_score, g.rule))
    total = sum(g.top_score for g in parts)
    return total, {
        "rules": [
            {
                "rule": g.rule,
                "severity": g.severity,
                "flags": counts[g.rule],
                "highest_flag_score": g.top_score,
            }
            for g in parts
        ],
        "formula": (" + ".join(str(g.top_score) for g in parts) or "0") + f" = {total}",
    }


def due_of(groups: Sequence[_RuleGroup]) -> date | None:
    """The target date of the most severe flag: its first sighting + the severity's days."""
    for severity in SEVERITY_ORDER:
        firsts = [g.first_seen for g in groups if g.severity == severity]
        if firsts:
            first = min(firsts).astimezone(LEGAL_TZ).date()
            return first + timedelta(days=SEVERITY_TARGET_DAYS[severity])
    return None


def refresh(session: Session, case_ids: Sequence[uuid.UUID], now: datetime | None = None) -> None:
    """Recompute the aggregates of the given open cases from their active flags."""
    now = now or utcnow()
    if not case_ids:
        return
    session.flush()
    groups: dict[uuid.UUID, list[_RuleGroup]] = {c: [] for c in case_ids}
    workers: dict[uuid.UUID, int] = {}
    provinces: dict[uuid.UUID, list[tuple[int, str]]] = {}
    back_pay_sum: dict[uuid.UUID, Decimal] = {}
    rescored: dict[uuid.UUID, datetime] = {}  # the latest a case's flag was scored
    active = col(Flag.status).in_(ACTIVE_STATUSES)
    for chunk in _chunks(list(case_ids)):
        for row in session.execute(
            sa_select(
                col(Flag.case_id),
                col(Flag.rule_code),
                col(Flag.severity),
                func.count(),
                func.max(col(Flag.risk_score)),
                func.min(col(Flag.first_seen_at)),
                func.min(col(Flag.condition_since)),
                func.max(col(Flag.risk_computed_at)),
            )
            .where(col(Flag.case_id).in_(chunk), active)
            .group_by(col(Flag.case_id), col(Flag.rule_code), col(Flag.severity))
        ):
            groups[row[0]].append(_RuleGroup(row[1], row[2], row[3], row[4], row[5], row[6]))
            if row[7] is not None:
                rescored[row[0]] = max(row[7], rescored.get(row[0], row[7]))
        for case_id, n in session.execute(
            sa_select(
                col(Flag.case_id),
                func.count(
                    func.distinct(func.coalesce(col(Flag.person_hash), col(Flag.subject_id)))
                ),
            )
            .where(col(Flag.case_id).in_(chunk), active)
            .group_by(col(Flag.case_id))
        ):
            workers[case_id] = int(n)
        for case_id, province, n in session.execute(
            sa_select(col(Flag.case_id), col(Flag.province), func.count())
            .where(col(Flag.case_id).in_(chunk), active, col(Flag.province).is_not(None))
            .group_by(col(Flag.case_id), col(Flag.province))
        ):
            provinces.setdefault(case_id, []).append((int(n), province))
        for case_id, total in session.execute(
            sa_select(col(CaseWorker.case_id), func.sum(col(CaseWorker.back_pay)))
            .where(col(CaseWorker.case_id).in_(chunk))
            .group_by(col(CaseWorker.case_id))
        ):
            back_pay_sum[case_id] = Decimal(total or 0).quantize(Decimal("0.01"))
    values: list[dict[str, Any]] = []
    for case_id, rule_groups in groups.items():
        score, breakdown = risk_of(rule_groups)
        by_severity = {
            s: sum(g.flags for g in rule_groups if g.severity == s) for s in SEVERITY_ORDER
        }
        since = [g.condition_since for g in rule_groups if g.condition_since is not None]
        values.append(
            {
                "id": case_id,
                "risk_score": score,
                "risk_breakdown": breakdown,
                "active_flags": sum(g.flags for g in rule_groups),
                "flags_high": by_severity["high"],
                "flags_medium": by_severity["medium"],
                "flags_low": by_severity["low"],
                "rules": sorted({g.rule for g in rule_groups}),
                "workers_affected": workers.get(case_id, 0),
                # The province most of the case's flags are in (ties: alphabetically first).
                "province": min(provinces[case_id], key=lambda p: (-p[0], p[1]))[1]
                if case_id in provinces
                else None,
                "back_pay": back_pay_sum.get(case_id, Decimal("0.00")),
                "condition_since": min(since) if since else None,
                "due_on": due_of(rule_groups),
                "updated_at": now,
            }
        )
    # Closed cases keep their figures: only open, claimed or investigating cases are updated.
    opened: dict[uuid.UUID, datetime] = {}
    stored: dict[uuid.UUID, tuple[Any, ...]] = {}
    for case_id, opened_at, score, breakdown, computed in session.execute(
        sa_select(
            col(Case.id),
            col(Case.opened_at),
            col(Case.risk_score),
            col(Case.risk_breakdown),
            col(Case.risk_computed_at),
        ).where(col(Case.id).in_(list(case_ids)), col(Case.status) != CaseStatus.CLOSED)
    ):
        opened[case_id] = opened_at
        stored[case_id] = (score, breakdown, computed)
    values = [v for v in values if v["id"] in opened]
    for v in values:
        # The score is stamped when it changed, or when a flag of the case was scored since
        # (a new flag, a confirmed violation, a snooze); a night that changed nothing leaves
        # the stamp where it was.
        score, breakdown, computed = stored[v["id"]]
        latest = rescored.get(v["id"])
        if (
            computed is None
            or (score, breakdown) != (v["risk_score"], v["risk_breakdown"])
            or (latest is not None and latest > computed)
        ):
            v["risk_computed_at"] = now
        # A case whose flags were all worked keeps an age: from the day it was opened.
        if v["condition_since"] is None:
            v["condition_since"] = opened[v["id"]].astimezone(LEGAL_TZ).date()
    if values:
        session.execute(update(Case), values)
        _expire(session, Case, {v["id"] for v in values})


# --- the case's rules -----------------------------------------------------------------------


def _closed_with_rules(session: Session, employer_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """The closed cases of these employers that still have active flags of some rule: a
    flag there may have been worked or cleared since."""
    found: set[uuid.UUID] = set()
    for chunk in _chunks(employer_ids):
        found.update(
            session.execute(
                sa_select(col(Case.id)).where(
                    col(Case.employer_id).in_(chunk),
                    col(Case.status) == CaseStatus.CLOSED,
                    sa_select(col(CaseRule.case_id))
                    .where(col(CaseRule.case_id) == col(Case.id))
                    .exists(),
                )
            ).scalars()
        )
    return found


def refresh_rules(session: Session, case_ids: Sequence[uuid.UUID]) -> None:
    """Make the `case_rule` rows of these cases (of any status) what their flags say: one row
    per rule with active flags, with their number and the case's status. Only the rows that
    differ are written."""
    if not case_ids:
        return
    session.flush()
    table = CaseRule.__table__  # type: ignore[attr-defined]
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[dict[str, Any]] = []
    for chunk in _chunks(list(case_ids)):
        wanted: dict[tuple[uuid.UUID, str], tuple[str, int]] = {
            (case_id, rule): (status, int(n))
            for case_id, rule, status, n in session.execute(
                sa_select(col(Flag.case_id), col(Flag.rule_code), col(Case.status), func.count())
                .join(Case, col(Case.id) == col(Flag.case_id))
                .where(col(Flag.case_id).in_(chunk), col(Flag.status).in_(ACTIVE_STATUSES))
                .group_by(col(Flag.case_id), col(Flag.rule_code), col(Case.status))
            )
        }
        stored: dict[tuple[uuid.UUID, str], tuple[str, int]] = {
            (case_id, rule): (status, n)
            for case_id, rule, status, n in session.execute(
                sa_select(
                    col(CaseRule.case_id),
                    col(CaseRule.rule_code),
                    col(CaseRule.case_status),
                    col(CaseRule.open_flags),
                ).where(col(CaseRule.case_id).in_(chunk))
            )
        }
        for (case_id, rule), (status, n) in wanted.items():
            row = {"b_case": case_id, "b_rule": rule, "b_status": status, "b_flags": n}
            if (case_id, rule) not in stored:
                inserts.append(
                    {"case_id": case_id, "rule_code": rule, "case_status": status, "open_flags": n}
                )
            elif stored[case_id, rule] != (status, n):
                updates.append(row)
        deletes.extend(
            {"b_case": case_id, "b_rule": rule} for case_id, rule in stored.keys() - wanted.keys()
        )
    this_row = (table.c.case_id == bindparam("b_case")) & (table.c.rule_code == bindparam("b_rule"))
    if deletes:
        session.execute(delete(table).where(this_row), deletes)
    if updates:
        session.execute(
            update(table)
            .where(this_row)
            .values(case_status=bindparam("b_status"), open_flags=bindparam("b_flags")),
            updates,
        )
    if inserts:
        # A row another transaction inserted meanwhile is overwritten, not a failed batch.
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(table)
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=["case_id", "rule_code"],
                set_={
                    "case_status": upsert.excluded.case_status,
                    "open_flags": upsert.excluded.open_flags,
                },
            ),
            inserts,
        )


def follow_case_status(session: Session, case_id: uuid.UUID, status: str) -> None:
    """The case's `case_rule` rows take its new status (every case transition calls this)."""
    session.execute(
        update(CaseRule)
        .where(col(CaseRule.case_id) == case_id, col(CaseRule.case_status) != status)
        .values(case_status=status)
    )


# --- back pay -------------------------------------------------------------------------------


def _declarations(
    notification: Notification, versions: Sequence[NotificationVersion]
) -> list[Declared]:
    """What was declared when: each version's wage from the day it took effect."""
    found: list[Declared] = []
    for v in sorted(versions, key=lambda v: v.version):
        if v.kind == VersionKind.WITHDRAWAL:
            continue
        data = v.declaration
        wage = data.get("wage") or {}
        if "amount" not in wage:
            continue
        if v.kind == VersionKind.INITIAL:
            effective = notification.start_date
        else:
            effective = v.effective_date or v.received_at.astimezone(LEGAL_TZ).date()
        hours = data.get("hours_per_week")
        fulltime = data.get("fulltime_hours_per_week")
        found.append(
            Declared(
                effective_from=effective,
                amount=Decimal(str(wage["amount"])),
                period=WagePeriod(wage["period"]),
                hours_per_week=Decimal(str(hours)) if hours is not None else None,
                includes_holiday_allowance=bool(wage.get("includes_holiday_allowance")),
                fulltime_hours_per_week=Decimal(str(fulltime)) if fulltime is not None else None,
            )
        )
    return found


def estimate(session: Session, notification: Notification, worker: Worker, as_of: date) -> BackPay:
    """The back-pay estimate of one notification up to `as_of` (from its versions and the
    payroll of the same person at the same employer)."""
    versions, payroll = _estimate_inputs(session, [(notification, worker)], as_of)
    return estimate_from(notification, worker, versions.get(notification.id, []), payroll, as_of)


def estimate_from(
    notification: Notification,
    worker: Worker,
    versions: Sequence[NotificationVersion],
    payroll: Sequence[PayrollRecord],
    as_of: date,
) -> BackPay:
    """The estimate from what it needs, read already: the notification's versions, and
    payroll records of which those of the same person at the same employer overlapping the
    employment count (the others are ignored)."""
    end = min(notification.end_date or as_of, as_of)
    start = notification.start_date
    if not counts(notification.status) or end < start:
        return BackPay(start=start, end=end, parts=())
    paid = [
        _clipped(r, start, end)
        for r in payroll
        if r.employer_id == notification.employer_id
        and r.bsn_hash == worker.bsn_hash
        and r.period_end >= start
        and r.period_start <= end
    ]
    return back_pay(
        birth_date=worker.birth_date,
        start=start,
        end=end,
        declarations=_declarations(notification, versions),
        payroll=paid,
        bbl_student=bool(notification.bbl_student),
    )


def _estimate_inputs(
    session: Session, rows: Sequence[tuple[Notification, Worker]], as_of: date
) -> tuple[dict[uuid.UUID, list[NotificationVersion]], list[PayrollRecord]]:
    """The versions of these notifications and the payroll of their people at their employers,
    in a few queries per chunk (not two per notification)."""
    versions: dict[uuid.UUID, list[NotificationVersion]] = {}
    payroll: list[PayrollRecord] = []
    for chunk in _chunks(list(rows)):
        ids = [n.id for n, _ in chunk]
        for version in session.exec(
            select(NotificationVersion).where(col(NotificationVersion.notification_id).in_(ids))
        ):
            versions.setdefault(version.notification_id, []).append(version)
        people = sorted({w.bsn_hash for _, w in chunk})
        employers = sorted({n.employer_id for n, _ in chunk})
        earliest = min(n.start_date for n, _ in chunk)
        payroll.extend(
            session.exec(
                select(PayrollRecord).where(
                    col(PayrollRecord.bsn_hash).in_(people),
                    col(PayrollRecord.employer_id).in_(employers),
                    col(PayrollRecord.period_end) >= earliest,
                    col(PayrollRecord.period_start) <= as_of,
                )
            )
        )
    return versions, payroll


def _clipped(record: PayrollRecord, start: date, end: date) -> Paid:
    """A payroll record reaching past the employment: its hours and wage pro rata the days
    inside it (the hourly wage is unchanged)."""
    paid = Paid(
        period_start=record.period_start,
        period_end=record.period_end,
        hours_paid=record.hours_paid,
        gross_wage=record.gross_wage,
        includes_holiday_allowance=record.includes_holiday_allowance,
    )
    if record.period_start >= start and record.period_end <= end:
        return paid
    days = (record.period_end - record.period_start).days + 1
    inside_start, inside_end = max(record.period_start, start), min(record.period_end, end)
    inside = (inside_end - inside_start).days + 1
    share = Decimal(inside) / Decimal(days)
    return Paid(
        period_start=inside_start,
        period_end=inside_end,
        hours_paid=record.hours_paid * share,
        gross_wage=record.gross_wage * share,
        includes_holiday_allowance=record.includes_holiday_allowance,
    )


def update_back_pay(
    session: Session,
    case_id: uuid.UUID,
    notification_ids: Sequence[uuid.UUID],
    as_of: date,
    now: datetime | None = None,
) -> None:
    """(Re)compute the back-pay estimate of these notifications in the case."""
    update_back_pay_many(session, {case_id: list(notification_ids)}, as_of, now)


def update_back_pay_many(
    session: Session,
    wages: dict[uuid.UUID, list[uuid.UUID]],
    as_of: date,
    now: datetime | None = None,
) -> None:
    """(Re)compute the back-pay estimates of these notifications, by case: the inputs read in
    a few queries per chunk, and only the estimates whose figures changed written."""
    now = now or utcnow()
    wanted = {n: c for c, ns in wages.items() for n in ns}
    if not wanted:
        return
    session.flush()
    ids = sorted(wanted)
    rows: list[tuple[Notification, Worker]] = []
    existing: dict[tuple[uuid.UUID, uuid.UUID], tuple[uuid.UUID, Decimal, Any, date]] = {}
    for chunk in _chunks(ids):
        rows.extend(
            session.exec(
                select(Notification, Worker)
                .join(Worker, col(Worker.id) == col(Notification.worker_id))
                .where(col(Notification.id).in_(chunk))
                .order_by(col(Notification.id))
            ).all()
        )
        for cw_id, case_id, notification_id, amount, calculation, computed_on in session.execute(
            sa_select(
                col(CaseWorker.id),
                col(CaseWorker.case_id),
                col(CaseWorker.notification_id),
                col(CaseWorker.back_pay),
                col(CaseWorker.calculation),
                col(CaseWorker.computed_on),
            ).where(col(CaseWorker.notification_id).in_(chunk))
        ):
            existing[(case_id, notification_id)] = (cw_id, amount, calculation, computed_on)
    versions, payroll = _estimate_inputs(session, rows, as_of)
    by_person: dict[tuple[uuid.UUID | None, str], list[PayrollRecord]] = {}
    for record in payroll:
        by_person.setdefault((record.employer_id, record.bsn_hash), []).append(record)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for notification, worker in rows:
        case_id = wanted[notification.id]
        result = estimate_from(
            notification,
            worker,
            versions.get(notification.id, []),
            by_person.get((notification.employer_id, worker.bsn_hash), []),
            as_of,
        )
        total, calculation = result.total, result.to_json()
        known = existing.get((case_id, notification.id))
        if known is None:
            inserts.append(
                {
                    "id": uuid.uuid4(),
                    "case_id": case_id,
                    "notification_id": notification.id,
                    "back_pay": total,
                    "calculation": calculation,
                    "computed_on": as_of,
                    "updated_at": now,
                }
            )
        elif (known[1], known[2], known[3]) != (total, calculation, as_of):
            updates.append(
                {
                    "id": known[0],
                    "back_pay": total,
                    "calculation": calculation,
                    "computed_on": as_of,
                    "updated_at": now,
                }
            )
    if inserts:
        session.execute(insert(CaseWorker.__table__), inserts)  # type: ignore[attr-defined]
    if updates:
        session.execute(update(CaseWorker), updates)
    if inserts or updates:
        _expire(session, CaseWorker, {r["id"] for r in inserts + updates})


def recompute_case(session: Session, case: Case, as_of: date, now: datetime | None = None) -> None:
    """Every worker's estimate of an open case again (payroll may have arrived since), and
    the day its flags' conditions began where that is not known yet."""
    if case.status == CaseStatus.CLOSED:
        return
    unknown_since = list(
        session.execute(
            sa_select(col(Flag.id)).where(
                col(Flag.case_id) == case.id, col(Flag.condition_since).is_(None)
            )
        ).scalars()
    )
    _set_condition_since(session, unknown_since)
    notification_ids = sorted(
        {
            n
            for n in session.execute(
                sa_select(col(Flag.notification_id)).where(
                    col(Flag.case_id) == case.id,
                    col(Flag.rule_code).in_(BACK_PAY_RULES),
                    or_(col(Flag.status).in_(ACTIVE_STATUSES), col(Flag.status) == "resolved"),
                    col(Flag.notification_id).is_not(None),
                )
            ).scalars()
            if n is not None
        }
    )
    update_back_pay(session, case.id, notification_ids, as_of, now)
    refresh(session, [case.id], now)


def uncomputed(session: Session, limit: int) -> list[Case]:
    """Open cases whose figures were never computed: opened outside `join_flags` (migration
    0011 opened one per employer in plain SQL; a signal opens one), `condition_since` empty
    (every computation sets it)."""
    return list(
        session.exec(
            select(Case)
            .where(col(Case.status) != CaseStatus.CLOSED, col(Case.condition_since).is_(None))
            .order_by(col(Case.id))
            .limit(limit)
        )
    )
