"""LENDER_NOT_ADMITTED as employer flags: ask the admission register (Wtta) about lenders.

A lender here is an employer that lends its workers: marked as a staffing agency, or with an
active notification on a temporary-agency or payroll contract or naming a hirer. For each,
`check_lender` asks the register (the client caches its answers) and judges the answer with
the pure rule in `rules/checks/lender.py`. A failed or offline look-up judges nothing and
leaves the employer's LENDER_NOT_ADMITTED flag as it was, like a failed KvK look-up.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from meldplicht.core.clock import utcnow
from meldplicht.employers.models import Employer
from meldplicht.flags.models import FlagSource, SubjectType
from meldplicht.flags.sync import Subject, SyncCounts, SyncItem
from meldplicht.notifications.models import Notification, NotificationStatus
from meldplicht.registers.kvk import LookupStatus
from meldplicht.registers.nau import AdmissionRegister
from meldplicht.rules.checks import lender as rules
from meldplicht.rules.facts import ContractType, Finding
from meldplicht.rules.params import Parameters
from meldplicht.sweeps import flag_writes

LENDING_CONTRACTS = (ContractType.TEMPORARY_AGENCY.value, ContractType.PAYROLL.value)
SCOPE = frozenset({rules.LENDER_NOT_ADMITTED.code})
MAX_STORED_ERRORS = 200

log = logging.getLogger("meldplicht.registers.admission")


def _active_lending(session: Session, employer: Employer, as_of: date) -> list[Notification]:
    """The employer's active notifications on `as_of` that run through it as a lender."""
    rows = session.exec(
        select(Notification).where(
            col(Notification.employer_id) == employer.id,
            col(Notification.status) == NotificationStatus.ACTIVE,
            col(Notification.start_date) <= as_of,
            (col(Notification.end_date).is_(None)) | (col(Notification.end_date) >= as_of),
        )
    )
    return [
        n
        for n in rows
        if employer.is_staffing_agency
        or n.contract_type in LENDING_CONTRACTS
        or n.hirer_kvk_number
        or n.hirer_name
    ]


def check_lender(
    session: Session,
    employer: Employer,
    register: AdmissionRegister,
    as_of: date,
    *,
    params: Parameters | None = None,
    now: datetime | None = None,
) -> SyncCounts:
    """Look the lender up and keep its LENDER_NOT_ADMITTED flag current (flushes only)."""
    lending = _active_lending(session, employer, as_of)
    if not lending:
        return _sync(session, employer, [], 0, as_of, now)  # no longer lends: clear
    dates = rules.admission_dates(as_of, params)
    if dates is None or as_of < dates["register_online"]:
        return SyncCounts()  # the register cannot answer yet: ask nothing
    lookup = register.lender(employer.kvk_number)
    if lookup.status in (LookupStatus.FAILED, LookupStatus.OFFLINE):
        return SyncCounts()  # no answer: no verdict, flags as they were
    facts = lookup.as_facts(as_of)
    hirers = {(n.hirer_kvk_number, n.hirer_name) for n in lending if n.hirer_kvk_number}
    hirer_kvk, hirer_name = next(iter(hirers)) if len(hirers) == 1 else (None, None)
    work = rules.LenderWork(
        lender_kvk_number=employer.kvk_number,
        lender_name=employer.name,
        hirer_kvk_number=hirer_kvk,
        hirer_name=hirer_name,
    )
    findings = rules.check_lender_admission(facts, work, judged_on=as_of, params=params)
    return _sync(session, employer, findings, len(lending), as_of, now)


def _sync(
    session: Session,
    employer: Employer,
    findings: list[Finding],
    workers: int,
    as_of: date,
    now: datetime | None,
) -> SyncCounts:
    subject = Subject(
        type=SubjectType.EMPLOYER,
        id=str(employer.id),
        employer_id=employer.id,
        postcode=employer.postcode,
        workers_affected=max(1, workers),
    )
    # Set-based: an unchanged flag is not rewritten (a second run for a day changes nothing).
    counts, _ = flag_writes.sync_batch(
        session,
        [SyncItem(subject, findings)],
        scope=SCOPE,
        source=FlagSource.REGISTER,
        as_of=as_of,
        now=now or utcnow(),
    )
    return counts


@dataclass(slots=True)
class AdmissionCounts:
    employers: int = 0
    opened: int = 0
    refreshed: int = 0
    cleared: int = 0
    reopened: int = 0
    errors: int = 0
    error_items: list[dict[str, Any]] = field(default_factory=list)
    cursor: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "admission_employers": self.employers,
            "opened": self.opened,
            "refreshed": self.refreshed,
            "cleared": self.cleared,
            "reopened": self.reopened,
            "errors": self.errors,
        }


def refresh_admissions(
    session: Session,
    register: AdmissionRegister,
    as_of: date,
    *,
    cursor: str | None = None,
    batch_size: int = 100,
    max_batches: int | None = None,
    now: datetime | None = None,
) -> AdmissionCounts:
    """`check_lender` for every employer, in keyset batches (flushes only).

    `cursor` / `max_batches` as for `registers.service.refresh_registers`: the returned
    `cursor` is None when every employer has been done.
    """
    now = now or utcnow()
    counts = AdmissionCounts()
    last = uuid.UUID(cursor) if cursor else None
    batches = 0
    while max_batches is None or batches < max_batches:
        query = select(Employer).order_by(col(Employer.id)).limit(batch_size)
        if last is not None:
            query = query.where(col(Employer.id) > last)
        employers = list(session.exec(query))
        if not employers:
            counts.cursor = None
            return counts
        for employer in employers:
            try:
                with session.begin_nested():
                    synced = check_lender(session, employer, register, as_of, now=now)
            except Exception as exc:  # one employer's failure is its own
                log.error("admission check of employer %s failed", employer.id, exc_info=exc)
                counts.errors += 1
                if len(counts.error_items) < MAX_STORED_ERRORS:
                    counts.error_items.append(
                        {
                            "item": "employer",
                            "id": str(employer.id),
                            "error": f"{type(exc).__name__}: {exc}"[:500],
                        }
                    )
                continue
            counts.employers += 1
            counts.opened += synced.opened
            counts.refreshed += synced.refreshed
            counts.cleared += synced.cleared
            counts.reopened += synced.reopened
        last = employers[-1].id
        session.flush()
        batches += 1
    counts.cursor = str(last) if last else None
    return counts
