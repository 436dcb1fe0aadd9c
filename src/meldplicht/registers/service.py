"""Employer enrichment from the KvK business register, and the register checks as flags.

`enrich_employer` asks the register once and stores what it said on the employer (status,
registration date, active, SBI codes; sector and SBI code when the employer gave none). A
failed or offline look-up stores nothing: the last good answer stays, and the returned
`Lookup` says what went wrong. `check_employer` judges the stored answer with the pure rules in
`rules/checks/register.py` and keeps the employer's flags current. `refresh_registers` does
both for every employer, in keyset batches, resumable like the payroll reconciliation.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from meldplicht.audit import service as audit
from meldplicht.core.clock import legal_date, utcnow
from meldplicht.employers.models import Employer
from meldplicht.flags import risk
from meldplicht.flags.models import FlagSource, SubjectType
from meldplicht.flags.sync import (
    Subject,
    SyncCounts,
    SyncItem,
    forget_cached_facts,
    system_actor,
)
from meldplicht.notifications.models import Notification, NotificationStatus, Worker
from meldplicht.registers.kvk import BusinessRegister, Lookup, LookupStatus
from meldplicht.rules.checks import register as rules
from meldplicht.rules.params import Parameters, get_parameters
from meldplicht.rules.sql import counted
from meldplicht.sweeps import flag_writes

log = logging.getLogger("meldplicht.registers")

BATCH_SIZE = 100
# A register answer older than this is asked again by `refresh_registers`.
STALE_AFTER = timedelta(days=30)
MAX_STORED_ERRORS = 200


def enrich_employer(
    session: Session, employer: Employer, register: BusinessRegister, *, now: datetime | None = None
) -> Lookup:
    """Look the employer up and store the answer; never raises for a register problem."""
    now = now or utcnow()
    lookup = register.basisprofiel(employer.kvk_number)
    before = (employer.register_status, employer.registered_on, employer.register_active)
    if lookup.status is LookupStatus.FOUND:
        profile = lookup.profile
        assert profile is not None
        # formeleRegistratiedatum is documented both as the registration date and as the
        # latest change; the enterprise's start (datumAanvang) bounds it, so take the earlier.
        dates = [d for d in (profile.registered_on, profile.started_on) if d is not None]
        employer.register_status = LookupStatus.FOUND.value
        employer.registered_on = min(dates) if dates else None
        employer.register_active = profile.active_on(legal_date(now))
        codes = list(profile.sbi_codes)
        if profile.waadi_indicator:
            codes.append(rules.WAADI_MARKER)
        employer.register_sbi_codes = codes
        main = profile.main_sbi_code
        if main and not employer.sbi_code:
            employer.sbi_code = main[:6]
        if main and not employer.sector:
            employer.sector = risk.load_sector_table().weight_for(main)[1]
    elif lookup.status is LookupStatus.NOT_FOUND:
        employer.register_status = LookupStatus.NOT_FOUND.value
        employer.registered_on = None
        employer.register_active = None
        employer.register_sbi_codes = None
    else:
        return lookup
    employer.register_checked_at = now
    session.add(employer)
    after = (employer.register_status, employer.registered_on, employer.register_active)
    if after != before:
        audit.record(
            session,
            system_actor(FlagSource.REGISTER),
            "employer.register_changed",
            "employer",
            employer.id,
            {"status": employer.register_status, "active": employer.register_active},
        )
    session.flush()
    return lookup


def register_facts(employer: Employer) -> rules.RegisterFacts | None:
    """What the last successful look-up stored, or None when there was none."""
    if employer.register_checked_at is None or employer.register_status is None:
        return None
    codes = tuple(employer.register_sbi_codes or ())
    return rules.RegisterFacts(
        kvk_number=employer.kvk_number,
        found=employer.register_status == LookupStatus.FOUND.value,
        checked_on=legal_date(employer.register_checked_at),
        registered_on=employer.registered_on,
        active=employer.register_active,
        sbi_codes=tuple(c for c in codes if c != rules.WAADI_MARKER),
        waadi_indicator=rules.WAADI_MARKER in codes,
    )


def employer_activity(
    session: Session, employer: Employer, as_of: date, params: Parameters | None = None
) -> rules.EmployerActivity:
    window_start, _, _, _ = rules.policy_window(as_of, params)
    active = session.exec(
        select(func.count())
        .select_from(Notification)
        .where(
            col(Notification.employer_id) == employer.id,
            col(Notification.status) == NotificationStatus.ACTIVE,
            col(Notification.notice_date) <= as_of,
            (col(Notification.end_date).is_(None)) | (col(Notification.end_date) >= as_of),
        )
    ).one()
    workers = session.exec(
        select(func.count(func.distinct(Worker.bsn_hash)))
        .select_from(Notification)
        .join(Worker, col(Worker.id) == col(Notification.worker_id))
        .where(
            col(Notification.employer_id) == employer.id,
            counted(col(Notification.status)),
            col(Notification.notice_date) >= window_start,
            col(Notification.notice_date) <= as_of,
        )
    ).one()
    return rules.EmployerActivity(
        is_staffing_agency=employer.is_staffing_agency,
        active_notifications=int(active),
        workers_notified_in_window=int(workers),
    )


def check_employer(
    session: Session,
    employer: Employer,
    as_of: date,
    *,
    params: Parameters | None = None,
    now: datetime | None = None,
) -> SyncCounts:
    """Judge the stored register answer; without one, the employer's flags are left alone."""
    facts = register_facts(employer)
    if facts is None:
        return SyncCounts()
    activity = employer_activity(session, employer, as_of, params)
    findings = rules.check_register(facts, activity, as_of=as_of, params=params)
    subject = Subject(
        type=SubjectType.EMPLOYER,
        id=str(employer.id),
        employer_id=employer.id,
        postcode=employer.postcode,
        workers_affected=max(1, activity.active_notifications),
    )
    # Set-based: an unchanged flag is not rewritten (a second run for a day changes nothing).
    counts, _ = flag_writes.sync_batch(
        session,
        [SyncItem(subject, findings)],
        scope=rules.REGISTER_RULES,
        source=FlagSource.REGISTER,
        as_of=as_of,
        now=now or utcnow(),
    )
    return counts


@dataclass(slots=True)
class RegisterCounts:
    employers: int = 0
    looked_up: int = 0
    lookups: dict[str, int] = field(default_factory=dict)  # by LookupStatus value
    opened: int = 0
    refreshed: int = 0
    cleared: int = 0
    reopened: int = 0
    errors: int = 0
    error_items: list[dict[str, Any]] = field(default_factory=list)
    cursor: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "register_employers": self.employers,
            "register_looked_up": self.looked_up,
            "register_lookups": dict(self.lookups),
            "opened": self.opened,
            "refreshed": self.refreshed,
            "cleared": self.cleared,
            "reopened": self.reopened,
            "errors": self.errors,
        }


def refresh_registers(
    session: Session,
    register: BusinessRegister,
    as_of: date,
    *,
    cursor: str | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    stale_after: timedelta = STALE_AFTER,
    now: datetime | None = None,
    only_answered: bool = False,
) -> RegisterCounts:
    """Look up employers whose register answer is missing or stale, then judge every employer.

    Flushes only. `cursor` / `max_batches` as for `payroll.reconcile.reconcile`: the returned
    `cursor` is None when every employer has been done. `only_answered=True` (the register
    is offline, so no look-up can succeed) skips employers without a stored answer: there is
    nothing to look up and nothing to judge, so the outcome is the same.
    """
    now = now or utcnow()
    params = get_parameters()
    counts = RegisterCounts()
    last = uuid.UUID(cursor) if cursor else None
    batches = 0
    while max_batches is None or batches < max_batches:
        query = select(Employer)
        if only_answered:
            query = query.where(
                col(Employer.register_checked_at).is_not(None),
                col(Employer.register_status).is_not(None),
            )
        if last is not None:
            query = query.where(col(Employer.id) > last)
        employers = list(session.exec(query.order_by(col(Employer.id)).limit(batch_size)))
        if not employers:
            counts.cursor = None
            return counts
        for employer in employers:
            try:
                with session.begin_nested():
                    checked = employer.register_checked_at
                    if checked is None or now - checked >= stale_after:
                        lookup = enrich_employer(session, employer, register, now=now)
                        counts.looked_up += 1
                        key = lookup.status.value
                        counts.lookups[key] = counts.lookups.get(key, 0) + 1
                    synced = check_employer(session, employer, as_of, params=params, now=now)
            except Exception as exc:
                log.error("register check of employer %s failed", employer.id, exc_info=exc)
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
        forget_cached_facts(session)
        batches += 1
    counts.cursor = str(last) if last else None
    return counts
