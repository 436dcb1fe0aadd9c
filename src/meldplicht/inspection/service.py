"""Turning findings into flags: one flag per (rule, subject, period), whatever path finds it.

`sync_flags` is the single way flags are opened, refreshed, cleared and reopened; intake, the
sweep and payroll reconciliation all call it with the rules they evaluated (the scope), so a
condition that is no longer found clears its flag, and one that returns reopens it.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from meldplicht.audit import service as audit
from meldplicht.core.clock import utcnow
from meldplicht.core.db import insert_rows
from meldplicht.core.security import Principal
from meldplicht.employers.models import Employer
from meldplicht.inspection import geo, risk
from meldplicht.inspection.models import (
    Flag,
    FlagSource,
    FlagStatus,
    Outcome,
    Snooze,
    SubjectType,
)
from meldplicht.notifications.models import Notification, Worker, WorkLocation
from meldplicht.rules.checks.base import REGISTRY
from meldplicht.rules.facts import Evaluation, Finding, Severity


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
    existing_flags: Sequence[Flag] | None = None,
) -> SyncCounts:
    """Open, refresh, clear or reopen the subject's flags for the rules in `scope`.

    `new_subject=True` (a notification created in this transaction) skips looking for
    flags that cannot exist yet.
    """
    now = now or utcnow()
    scope = frozenset(scope)
    counts = SyncCounts()
    actor = system_actor(source)
    existing: dict[str, Flag] = {}
    if existing_flags is not None:
        # Prefetched by a batch caller (the sweep): the subject's flags for these rules.
        existing = {f.fingerprint: f for f in existing_flags if f.rule_code in scope}
    elif not new_subject:
        existing = {
            f.fingerprint: f
            for f in session.exec(
                select(Flag).where(
                    Flag.subject_type == subject.type,
                    Flag.subject_id == subject.id,
                    col(Flag.rule_code).in_(scope),
                )
            )
        }
    employer = _employer_facts(session, subject.employer_id, as_of)
    province = geo.province_for_postcode(subject.postcode)
    new_flags: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for finding in findings:
        # Informational findings (e.g. "the wage table may be out of date") are for the
        # employer's eyes; they are not anomalies and never enter the queue.
        if finding.code not in scope or finding.severity == Severity.INFO:
            continue
        fp = fingerprint(finding.code, subject.type, subject.id, finding.period_key)
        seen.add(fp)
        score, breakdown = risk.score(
            severity=finding.severity,
            workers_affected=subject.workers_affected,
            confirmed_violations=employer.confirmed_violations,
            sbi_code=employer.sbi_code,
        )
        flag = existing.get(fp)
        if flag is None:
            # A new flag is an insert only (no ORM object): the hot path of every intake.
            flag_id = uuid.uuid4()
            new_flags.append(
                {
                    "id": flag_id,
                    "fingerprint": fp,
                    "rule_code": finding.code,
                    "rule_version": finding.rule_version,
                    "subject_type": subject.type,
                    "subject_id": subject.id,
                    "period_key": finding.period_key,
                    "employer_id": subject.employer_id,
                    "notification_id": subject.notification_id,
                    "person_hash": subject.person_hash,
                    "severity": finding.severity,
                    "status": FlagStatus.OPEN,
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
                    "source": source,
                    "condition_present": True,
                    "snoozed_until": employer.snoozes.get(finding.code),
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "last_evaluated_on": as_of,
                    "updated_at": now,
                    "reopened_count": 0,
                }
            )
            counts.opened += 1
            counts.flag_ids.append(flag_id)
            audit_rows.append(
                audit.entry(
                    actor, "flag.opened", "flag", flag_id, {"rule": finding.code, "source": source}
                )
            )
            continue
        else:
            counts.refreshed += 1
            if flag.status == FlagStatus.CLEARED:
                flag.status = FlagStatus.OPEN
                flag.cleared_at = None
                flag.reopened_count += 1
                counts.reopened += 1
                audit.record(
                    session,
                    actor,
                    "flag.reopened",
                    "flag",
                    flag.id,
                    {"rule": finding.code, "source": source},
                )
        flag.rule_version = finding.rule_version
        flag.severity = finding.severity
        flag.message_nl = finding.message_nl
        flag.message_en = finding.message_en
        flag.legal_basis = finding.legal_basis
        flag.evidence = finding.evidence
        flag.parameters = [p.to_json() for p in finding.parameters]
        flag.risk_score = score
        flag.risk_breakdown = breakdown
        flag.workers_affected = subject.workers_affected
        flag.sector = employer.sector
        flag.province = province
        flag.condition_present = True
        flag.snoozed_until = employer.snoozes.get(finding.code)
        flag.last_seen_at = now
        flag.last_evaluated_on = as_of
        flag.updated_at = now
        session.add(flag)
        counts.flag_ids.append(flag.id)
    for fp, flag in existing.items():
        if fp in seen or not flag.condition_present:
            continue
        flag.condition_present = False
        flag.last_evaluated_on = as_of
        flag.updated_at = now
        if flag.status == FlagStatus.OPEN:
            flag.status = FlagStatus.CLEARED
            flag.cleared_at = now
            counts.cleared += 1
            audit.record(
                session,
                actor,
                "flag.cleared",
                "flag",
                flag.id,
                {"rule": flag.rule_code, "source": source},
            )
        session.add(flag)
    insert_rows(session, Flag, new_flags)
    audit.record_many(session, audit_rows)
    session.flush()
    return counts


def notification_subject(
    session: Session,
    notification: Notification,
    first_postcode: str | None = None,
    person_hash: str | None = None,
) -> Subject:
    first_location = (
        first_postcode
        or session.exec(
            select(WorkLocation.postcode)
            .where(WorkLocation.notification_id == notification.id)
            .order_by(col(WorkLocation.position))
        ).first()
    )
    return Subject(
        type=SubjectType.NOTIFICATION,
        id=str(notification.id),
        employer_id=notification.employer_id,
        notification_id=notification.id,
        person_hash=person_hash
        or session.exec(select(Worker.bsn_hash).where(Worker.id == notification.worker_id)).one(),
        postcode=first_location,
    )


def raise_new_notification_flags(
    session: Session,
    notification_id: uuid.UUID,
    employer_id: uuid.UUID,
    postcode: str | None,
    person_hash: str,
    findings: Sequence[Finding],
    as_of: date,
) -> None:
    """Flags of a notification created in this transaction (bulk intake: no look-ups)."""
    if not any(f.severity != Severity.INFO for f in findings):
        return
    sync_flags(
        session,
        Subject(
            type=SubjectType.NOTIFICATION,
            id=str(notification_id),
            employer_id=employer_id,
            notification_id=notification_id,
            person_hash=person_hash,
            postcode=postcode,
        ),
        findings,
        scope=notification_scope(Evaluation.INTAKE),
        source=FlagSource.INTAKE,
        as_of=as_of,
        new_subject=True,
    )


def raise_flags_at_intake(
    session: Session,
    notification: Notification,
    findings: Sequence[Finding],
    as_of: date,
    evaluation: Evaluation,
    *,
    first_postcode: str | None = None,
    person_hash: str | None = None,
) -> None:
    """Every intake (new notice, change, termination, withdrawal) keeps the flags current."""
    sync_flags(
        session,
        notification_subject(session, notification, first_postcode, person_hash),
        findings,
        scope=notification_scope(evaluation),
        source=FlagSource.INTAKE,
        as_of=as_of,
        new_subject=notification.version == 1,
    )
