"""Turning findings into flags: one flag per (rule, subject, period), whatever path finds it.

`sync_flags` is the single way flags are opened, refreshed, cleared and reopened; intake, the
sweep, payroll reconciliation and the registers all call it with the subject they judged and
the rules they evaluated (the scope), so a condition that is no longer found clears its flag,
and one that returns reopens it. The caller says what the subject is (`Subject`); nothing
here reads notifications. Every sync ends in `record_sync`: its audit entries, then the flags
found join their employer's case through the joiner the inspection package sets
(`join_cases_with`), so flags need not know cases.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from meldplicht.audit import service as audit
from meldplicht.core.clock import utcnow
from meldplicht.core.db import insert_rows
from meldplicht.core.security import Principal
from meldplicht.employers.models import Employer
from meldplicht.flags import geo, risk
from meldplicht.flags.models import (
    Flag,
    FlagSource,
    FlagStatus,
    Outcome,
    Snooze,
    SubjectType,
)
from meldplicht.rules.checks.base import REGISTRY
from meldplicht.rules.facts import Evaluation, Finding, Severity


class CaseJoiner(Protocol):
    """Gathers synced flags into their employers' cases (`inspection.cases.join_flags`)."""

    def __call__(
        self,
        session: Session,
        flag_ids: Iterable[uuid.UUID],
        *,
        employer_ids: Iterable[uuid.UUID | None] = (),
        actor: Principal,
        as_of: date,
        now: datetime | None = None,
    ) -> object: ...


_case_joiner: CaseJoiner | None = None


def join_cases_with(joiner: CaseJoiner) -> None:
    """Set who gathers the flags of every sync into cases. `meldplicht.inspection.cases` sets
    it when imported; the app, the command line and `import_all_models` (the sweep's first
    step) import it before anything syncs."""
    global _case_joiner  # the one hook, set once at import
    _case_joiner = joiner


def record_sync(
    session: Session,
    audit_rows: list[dict[str, Any]],
    *,
    flag_ids: Sequence[uuid.UUID],
    employer_ids: Iterable[uuid.UUID | None],
    actor: Principal,
    as_of: date,
    now: datetime,
) -> None:
    """The end of every sync, once its flag rows are written: its audit entries, then every
    flag found joins its employer's open case (one is opened if there is none) and the open
    cases of `employer_ids` (whose flags may have cleared) are refreshed."""
    if _case_joiner is None:
        # Never silently: a flag outside every case is missing from the case queue.
        raise RuntimeError(
            "flags synced with no case joiner set: import meldplicht.inspection.cases"
        )
    audit.record_many(session, audit_rows)
    _case_joiner(session, flag_ids, employer_ids=employer_ids, actor=actor, as_of=as_of, now=now)


def system_actor(source: FlagSource) -> Principal:
    return Principal(role="system", actor_id=f"system:{source}", display_name="meldplicht")


@dataclass(frozen=True, slots=True)
class Subject:
    """What a set of findings is about."""

    type: SubjectType
    id: str
    employer_id: uuid.UUID | None
    notification_id: uuid.UUID | None = None
    person_hash: str | None = None
    postcode: str | None = None
    workers_affected: int = 1


@dataclass(slots=True)
class SyncCounts:
    opened: int = 0
    refreshed: int = 0
    cleared: int = 0
    reopened: int = 0
    flag_ids: list[uuid.UUID] = field(default_factory=list)  # every flag found, new or not

    def add(self, other: SyncCounts) -> None:
        self.opened += other.opened
        self.refreshed += other.refreshed
        self.cleared += other.cleared
        self.reopened += other.reopened


# Values per IN (...) list: well under SQLite's and PostgreSQL's bind-parameter limits.
_IN_CHUNK = 500


def fingerprint(rule_code: str, subject_type: str, subject_id: str, period_key: str) -> str:
    return hashlib.sha256(
        f"{rule_code}|{subject_type}|{subject_id}|{period_key}".encode()
    ).hexdigest()


@functools.cache
def notification_scope(evaluation: Evaluation) -> frozenset[str]:
    """The per-notification rules evaluated at intake or in a sweep (cross-notification
    rules have no per-notification check and are left to the sweep)."""
    return frozenset(
        info.code
        for info, check in REGISTRY
        if check is not None and evaluation.value in info.applies_at
    )


@dataclass(slots=True)
class _EmployerFacts:
    sbi_code: str | None
    sector: str | None
    confirmed_violations: int
    snoozes: dict[str, date]


def condition_gone(
    flag_id: uuid.UUID,
    status: str,
    cleared_at: datetime | None,
    rule_code: str,
    counts: SyncCounts,
    audit_rows: list[dict[str, Any]],
    *,
    actor: Principal,
    source: FlagSource,
    as_of: date,
    now: datetime,
) -> dict[str, Any]:
    """The row values of a flag whose condition is no longer found: an open flag is cleared
    (counted and audited), one being worked keeps its status. One definition for the intake's
    sync and the sweep's set-based writes."""
    clear = status == FlagStatus.OPEN
    if clear:
        counts.cleared += 1
        audit_rows.append(
            audit.entry(
                actor, "flag.cleared", "flag", flag_id, {"rule": rule_code, "source": source}
            )
        )
    return {
        "id": flag_id,
        "condition_present": False,
        "last_evaluated_on": as_of,
        "updated_at": now,
        "status": FlagStatus.CLEARED if clear else status,
        "cleared_at": now if clear else cleared_at,
    }


def flag_content(
    finding: Finding, subject: Subject, employer: _EmployerFacts, province: str | None
) -> dict[str, Any]:
    """The content columns of one finding's flag, its risk score from the employer's facts
    included: one definition for the intake's sync and the sweep's set-based writes."""
    score, breakdown = risk.score(
        severity=finding.severity,
        workers_affected=subject.workers_affected,
        confirmed_violations=employer.confirmed_violations,
        sbi_code=employer.sbi_code,
    )
    return {
        "rule_version": finding.rule_version,
        "severity": finding.severity,
        "legal_basis": finding.legal_basis,
        "message_nl": finding.message_nl,
        "message_en": finding.message_en,
        "evidence": finding.evidence,
        "parameters": [p.to_json() for p in finding.parameters],
        "risk_score": score,
        "risk_breakdown": breakdown,
        "workers_affected": subject.workers_affected,
        "sector": employer.sector,
        "province": province,
        "condition_present": True,
        "snoozed_until": employer.snoozes.get(finding.code),
    }


def _employer_facts(session: Session, employer_id: uuid.UUID | None, as_of: date) -> _EmployerFacts:
    """Per-employer inputs of the risk score, cached for the life of the session's batch."""
    cache: dict[uuid.UUID | None, _EmployerFacts] = session.info.setdefault("employer_facts", {})
    cached = cache.get(employer_id)
    if cached is not None:
        return cached
    if employer_id is None:
        facts = _EmployerFacts(None, None, 0, {})
    else:
        employer = session.get(Employer, employer_id)
        confirmed = session.exec(
            select(func.count())
            .select_from(Flag)
            .where(
                Flag.employer_id == employer_id,
                col(Flag.status) == FlagStatus.RESOLVED,
                Flag.outcome == Outcome.VIOLATION_CONFIRMED,
            )
        ).one()
        snoozes: dict[str, date] = {}
        for s in session.exec(
            select(Snooze).where(
                Snooze.employer_id == employer_id,
                col(Snooze.lifted_at).is_(None),
                Snooze.until >= as_of,
            )
        ):
            # Two active snoozes of one rule: the later end wins.
            snoozes[s.rule_code] = max(s.until, snoozes.get(s.rule_code, s.until))
        facts = _EmployerFacts(
            employer.sbi_code if employer else None,
            employer.sector if employer else None,
            int(confirmed),
            snoozes,
        )
    cache[employer_id] = facts
    return facts


def forget_cached_facts(session: Session) -> None:
    session.info.pop("employer_facts", None)


@dataclass(frozen=True, slots=True)
class SyncItem:
    """One subject and what the rules found about it, for `sync_flags_many`."""

    subject: Subject
    findings: Sequence[Finding]


def prefetch_employer_facts(
    session: Session, employer_ids: Iterable[uuid.UUID | None], as_of: date
) -> None:
    """Load the risk inputs of many employers in three queries (per 500) into the session's
    cache, so a batch does not ask three questions per employer."""
    cache: dict[uuid.UUID | None, _EmployerFacts] = session.info.setdefault("employer_facts", {})
    employer_ids = set(employer_ids)
    if None in employer_ids and None not in cache:
        cache[None] = _EmployerFacts(None, None, 0, {})
    missing = sorted({e for e in employer_ids if e is not None and e not in cache})
    for start in range(0, len(missing), _IN_CHUNK):
        chunk = missing[start : start + _IN_CHUNK]
        known = {
            ident: (sbi, sector)
            for ident, sbi, sector in session.exec(
                select(Employer.id, Employer.sbi_code, Employer.sector).where(
                    col(Employer.id).in_(chunk)
                )
            )
        }
        confirmed: dict[uuid.UUID, int] = {
            ident: int(n)
            for ident, n in session.exec(
                select(Flag.employer_id, func.count())
                .where(
                    col(Flag.employer_id).in_(chunk),
                    # Only a resolved flag has an outcome (reopening clears it): the status
                    # keeps the look-up inside ix_flag_employer_status's resolved range.
                    col(Flag.status) == FlagStatus.RESOLVED,
                    Flag.outcome == Outcome.VIOLATION_CONFIRMED,
                )
                .group_by(col(Flag.employer_id))
            )
            if ident is not None
        }
        snoozes: dict[uuid.UUID, dict[str, date]] = {}
        for ident, rule_code, until in session.exec(
            select(col(Snooze.employer_id), col(Snooze.rule_code), col(Snooze.until)).where(
                col(Snooze.employer_id).in_(chunk),
                col(Snooze.lifted_at).is_(None),
                Snooze.until >= as_of,
            )
        ):
            by_rule = snoozes.setdefault(ident, {})
            # Two active snoozes of one rule: the later end wins.
            by_rule[rule_code] = max(until, by_rule.get(rule_code, until))
        for ident in chunk:
            sbi, sector = known.get(ident, (None, None))
            cache[ident] = _EmployerFacts(
                sbi, sector, confirmed.get(ident, 0), snoozes.get(ident, {})
            )


@dataclass(slots=True)
class _Known:
    """The columns of an existing flag that syncing reads (loaded without the ORM)."""

    id: uuid.UUID
    fingerprint: str
    rule_code: str
    status: str
    condition_present: bool
    cleared_at: datetime | None
    reopened_count: int


def _existing_flags(
    session: Session, subjects: Sequence[Subject], scope: frozenset[str]
) -> dict[tuple[str, str], list[_Known]]:
    """The subjects' flags for the rules in scope, by (subject type, subject id)."""
    found: dict[tuple[str, str], list[_Known]] = {}
    by_type: dict[str, list[str]] = {}
    for subject in subjects:
        by_type.setdefault(subject.type, []).append(subject.id)
    for subject_type, ids in by_type.items():
        unique = sorted(set(ids))
        for start in range(0, len(unique), _IN_CHUNK):
            for row in session.execute(
                sa_select(
                    col(Flag.subject_id),
                    col(Flag.id),
                    col(Flag.fingerprint),
                    col(Flag.rule_code),
                    col(Flag.status),
                    col(Flag.condition_present),
                    col(Flag.cleared_at),
                    col(Flag.reopened_count),
                ).where(
                    col(Flag.subject_type) == subject_type,
                    col(Flag.subject_id).in_(unique[start : start + _IN_CHUNK]),
                    col(Flag.rule_code).in_(scope),
                )
            ):
                found.setdefault((subject_type, row[0]), []).append(_Known(*row[1:]))
    return found


def sync_flags_many(
    session: Session,
    items: Sequence[SyncItem],
    *,
    scope: Iterable[str],
    source: FlagSource,
    as_of: date,
    now: datetime | None = None,
    new_subjects: bool = False,
) -> SyncCounts:
    """Open, refresh, clear or reopen the flags of many subjects for the rules in `scope`.

    One query finds the subjects' flags and three the employers' risk inputs; new flags,
    updates and audit entries are written with one executemany each, however many subjects
    the batch holds. `new_subjects=True` (notifications created in this transaction) skips
    looking for flags that cannot exist yet. Subjects must be distinct.
    """
    now = now or utcnow()
    scope = frozenset(scope)
    counts = SyncCounts()
    if not items:
        return counts
    actor = system_actor(source)
    if new_subjects:
        # A new subject has no flags to refresh or clear: only anomalies need any work (most
        # notices at intake have informational findings at most).
        items = [item for item in items if _anomalies(item.findings, scope)]
        if not items:
            return counts
    subjects = [item.subject for item in items]
    existing = {} if new_subjects else _existing_flags(session, subjects, scope)
    # Risk inputs are needed only where a flag is opened or refreshed.
    prefetch_employer_facts(
        session,
        {item.subject.employer_id for item in items if _anomalies(item.findings, scope)},
        as_of,
    )
    new_flags: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    clears: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    changed_employers: set[uuid.UUID | None] = set()  # whose open case needs a refresh
    for item in items:
        subject = item.subject
        known = {k.fingerprint: k for k in existing.get((subject.type, subject.id), [])}
        seen: set[str] = set()
        if _anomalies(item.findings, scope):
            changed_employers.add(subject.employer_id)
            employer = _employer_facts(session, subject.employer_id, as_of)
            province = geo.province_for_postcode(subject.postcode)
        for finding in item.findings:
            # Informational findings (e.g. "the wage table may be out of date") are for the
            # employer's eyes; they are not anomalies and never enter the queue.
            if finding.code not in scope or finding.severity == Severity.INFO:
                continue
            fp = fingerprint(finding.code, subject.type, subject.id, finding.period_key)
            if fp in seen:
                continue
            seen.add(fp)
            values: dict[str, Any] = flag_content(finding, subject, employer, province) | {
                "last_seen_at": now,
                "last_evaluated_on": as_of,
                "updated_at": now,
                "risk_computed_at": now,
            }
            flag = known.get(fp)
            if flag is None:
                # A new flag is an insert only (no ORM object): the hot path of every intake.
                flag_id = uuid.uuid4()
                values.update(
                    {
                        "id": flag_id,
                        "fingerprint": fp,
                        "rule_code": finding.code,
                        "subject_type": subject.type,
                        "subject_id": subject.id,
                        "period_key": finding.period_key,
                        "employer_id": subject.employer_id,
                        "notification_id": subject.notification_id,
                        "person_hash": subject.person_hash,
                        "status": FlagStatus.OPEN,
                        "source": source,
                        "first_seen_at": now,
                        "reopened_count": 0,
                    }
                )
                new_flags.append(values)
                counts.opened += 1
                counts.flag_ids.append(flag_id)
                audit_rows.append(
                    audit.entry(
                        actor,
                        "flag.opened",
                        "flag",
                        flag_id,
                        {"rule": finding.code, "source": source},
                    )
                )
                continue
            counts.refreshed += 1
            reopen = flag.status == FlagStatus.CLEARED
            if reopen:
                counts.reopened += 1
                audit_rows.append(
                    audit.entry(
                        actor,
                        "flag.reopened",
                        "flag",
                        flag.id,
                        {"rule": finding.code, "source": source},
                    )
                )
            values.update(
                {
                    "id": flag.id,
                    "status": FlagStatus.OPEN if reopen else flag.status,
                    "cleared_at": None if reopen else flag.cleared_at,
                    "reopened_count": flag.reopened_count + (1 if reopen else 0),
                }
            )
            updates.append(values)
            counts.flag_ids.append(flag.id)
        for fp, flag in known.items():
            if fp in seen or not flag.condition_present:
                continue
            clears.append(
                condition_gone(
                    flag.id, flag.status, flag.cleared_at, flag.rule_code, counts, audit_rows,
                    actor=actor, source=source, as_of=as_of, now=now,
                )
            )  # fmt: skip
            changed_employers.add(subject.employer_id)
    if updates or clears:
        # Pending ORM changes go first; ORM copies of the rows we rewrite are then stale.
        session.flush()
        for rows in (updates, clears):
            if rows:
                session.execute(update(Flag), rows)
        _expire_flags(session, {row["id"] for row in (*updates, *clears)})
    insert_rows(session, Flag, new_flags)
    record_sync(
        session,
        audit_rows,
        flag_ids=counts.flag_ids,
        employer_ids=changed_employers,
        actor=actor,
        as_of=as_of,
        now=now,
    )
    return counts


def _anomalies(findings: Sequence[Finding], scope: frozenset[str]) -> bool:
    return any(f.code in scope and f.severity != Severity.INFO for f in findings)


def sync_flags_each_on_failure(
    session: Session,
    items: Sequence[SyncItem],
    *,
    scope: Iterable[str],
    source: FlagSource,
    as_of: date,
    now: datetime,
) -> tuple[SyncCounts, list[tuple[SyncItem, Exception]]]:
    """`sync_flags_many` in one savepoint; if the batch fails, item by item, so a failure is
    that item's alone. Returns the counts of what was synced and the items that failed."""
    try:
        with session.begin_nested():
            return sync_flags_many(
                session, items, scope=scope, source=source, as_of=as_of, now=now
            ), []
    except Exception:  # noqa: S110 - retried item by item below, where each failure is reported
        pass
    counts = SyncCounts()
    failed: list[tuple[SyncItem, Exception]] = []
    for item in items:
        try:
            with session.begin_nested():
                one = sync_flags_many(
                    session, [item], scope=scope, source=source, as_of=as_of, now=now
                )
        except Exception as exc:
            failed.append((item, exc))
            continue
        counts.add(one)
    return counts, failed


def _expire_flags(session: Session, ids: set[uuid.UUID]) -> None:
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Flag) and obj.id in ids:
            session.expire(obj)


def sync_flags(
    session: Session,
    subject: Subject,
    findings: Sequence[Finding],
    *,
    scope: Iterable[str],
    source: FlagSource,
    as_of: date,
    now: datetime | None = None,
    new_subject: bool = False,
) -> SyncCounts:
    """Open, refresh, clear or reopen one subject's flags for the rules in `scope`.

    `new_subject=True` (a notification created in this transaction) skips looking for
    flags that cannot exist yet.
    """
    return sync_flags_many(
        session,
        [SyncItem(subject, findings)],
        scope=scope,
        source=source,
        as_of=as_of,
        now=now,
        new_subjects=new_subject,
    )
