"""Retention: anonymise notifications and payroll records once their legal term has passed.

The term (`retention_years`, default 5) follows Wav art. 15(4): the employer keeps the copy of
the worker's identity document "tot tenminste vijf jaren na het einde van het kalenderjaar
waarin de arbeid door de vreemdeling is beëindigd"; the payroll administration has the same
five years from the end of the calendar year the employment ended (docs/SECURITY.md). A record
whose employment ended in year Y is therefore anonymised from 1 January of Y + years + 1.

Notifications are anonymised; payroll records are deleted (without the person they are of no
use, and reconciliation would read an anonymous one as pay without a notice). Anonymising keeps
what statistics and the inspection's own files need (dates, hours, wages,
job titles, work locations, sector, the flags and their outcomes) and drops what identifies the
person: names, birth day (the year is kept), the encrypted BSN and document number, the BSN's
keyed hash (so a later notice no longer matches), housing address, signatory and free text.
Audit events are never touched. Answers kept for Idempotency-Key retries (whole responses with
names) are deleted after `idempotency_days`.

Signals from outside (rule of 2026-12-04, docs/SECURITY.md) are kept as their case is: the
optional contact is erased `signal_contact_months` (6) after the case was closed (it is only
there to ask the sender more while the case is worked), and what happened (free text that may
name people) from 1 January of the year `retention_years` after the year the case was closed,
the same horizon as the records the case was built from. The signal itself (source, place,
dates, verdict) stays for the file and statistics; each erasure is audited without content.

`purge` works in batches inside the caller's transaction (flush, then forget the rows), is
idempotent (an anonymised row is recognised and skipped) and returns counts for the sweep.
"""

from __future__ import annotations

import calendar
import copy
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import delete, literal_column, update
from sqlmodel import Session, col, select

from meldplicht.audit import service as audit
from meldplicht.core.config import get_settings
from meldplicht.core.crypto import PersonalDataCipher, cipher_for
from meldplicht.core.idempotency import IdempotencyRecord
from meldplicht.core.security import Principal
from meldplicht.flags.models import Flag, SubjectType
from meldplicht.inspection.models import Case, CaseStatus, Signal
from meldplicht.notifications.models import (
    Notification,
    NotificationFinding,
    NotificationStatus,
    NotificationVersion,
    Worker,
)
from meldplicht.payroll.models import PayrollRecord

DEFAULT_BATCH_SIZE = 500
# A keyed hash replaced by this prefix and a random id: unique, and never a person's hash.
ANONYMISED_PREFIX = "anonymised:"
# Keys dropped wherever they appear in stored declarations, changes and evidence.
PERSONAL_KEYS = frozenset(
    {
        "given_names",
        "surname",
        "given_names_original",
        "surname_original",
        "birth_date",
        "bsn",
        "bsn_masked",
        "document_number",
        "v_number",
        "document_valid_until",
        "signatory_name",
        "address",
        "housing_address",
        "termination_reason",
        "job_description",
        "reason",
        "external_reference",
    }
)
SYSTEM = Principal(role="system", actor_id="system:retention", display_name="Retention")


class RetentionSettings(BaseSettings):
    """Environment: MELDPLICHT_RETENTION_YEARS, MELDPLICHT_IDEMPOTENCY_DAYS."""

    model_config = SettingsConfigDict(env_prefix="MELDPLICHT_", env_file=".env", extra="ignore")

    retention_years: int = Field(
        5,
        ge=5,
        description="Years after the end of the calendar year in which the work ended "
        "(Wav art. 15(4)); never fewer than the statutory five.",
    )
    idempotency_days: int = Field(
        30, ge=1, description="Days an answer is kept for Idempotency-Key retries."
    )
    signal_contact_months: int = Field(
        6,
        ge=1,
        description="Months after its case was closed that a signal's contact is erased "
        "(rule of 2026-12-04; the text follows retention_years).",
    )


@dataclass(slots=True)
class RetentionCounts:
    notifications: int = 0
    workers: int = 0
    payroll_records: int = 0  # deleted
    flags_unlinked: int = 0
    idempotency_records: int = 0
    signal_contacts: int = 0  # erased
    signal_texts: int = 0  # erased

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def cutoff(as_of: date, years: int) -> date:
    """Employment that ended before this day is past its retention period on `as_of`."""
    return date(as_of.year - years, 1, 1)


def scrub(value: Any) -> Any:
    """A copy of a stored JSON value without any personal key (nested, dotted names too)."""
    if isinstance(value, dict):
        return {
            k: scrub(v)
            for k, v in value.items()
            if not (isinstance(k, str) and k.rsplit(".", 1)[-1] in PERSONAL_KEYS)
        }
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return copy.deepcopy(value)


def _anonymous_hash() -> str:
    return ANONYMISED_PREFIX + uuid.uuid4().hex


def purge(
    session: Session,
    as_of: date,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    settings: RetentionSettings | None = None,
    cipher: PersonalDataCipher | None = None,
) -> RetentionCounts:
    """Anonymise everything past its retention period on `as_of`; returns what was done."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    s = settings or RetentionSettings()
    # Anonymised rows keep a valid token of the empty string, so every reader that decrypts
    # (the audited personal-data view, key rotation) keeps working.
    empty = (cipher or cipher_for(get_settings())).encrypt("")
    limit = cutoff(as_of, s.retention_years)
    counts = RetentionCounts()
    _notifications(session, limit, batch_size, empty, counts)
    _payroll(session, limit, batch_size, counts)
    counts.idempotency_records = _idempotency(session, as_of, s.idempotency_days)
    _signals(session, as_of, limit, s.signal_contact_months, batch_size, counts)
    if any(counts.as_dict().values()):
        audit.record(
            session,
            SYSTEM,
            "retention.purged",
            "retention",
            as_of.isoformat(),
            {"cutoff": limit.isoformat(), **counts.as_dict()},
        )
        session.flush()
    return counts


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _expired_notifications(limit: date) -> list[Any]:
    """The notifications past their term, as two selections driven by a date: those whose
    employment ended before `limit` (ix_notification_retention_end) and the withdrawn ones
    (ix_notification_retention_withdrawn), both last touched before it. Each index holds only
    the notifications not yet anonymised, so a night reads the ones due, never the history;
    the conditions are written as the indexes' own (literal '' and 'withdrawn'), so that both
    databases see that a partial index answers them."""
    kept = col(Notification.signatory_name) != literal_column("''")
    last_touched = col(Notification.updated_at) < _midnight(limit)
    withdrawn = col(Notification.status) == literal_column(f"'{NotificationStatus.WITHDRAWN}'")
    return [
        kept & (col(Notification.end_date) < limit) & last_touched,
        kept & withdrawn & last_touched,
    ]


def expired_batch(condition: Any, batch_size: int) -> Any:
    """The next batch past its term. In no order: a row anonymised leaves the index, so the
    next batch is the next one found, and an ORDER BY id would walk the primary key instead."""
    return select(Notification).where(condition).limit(batch_size)


def payroll_batch(limit: date, batch_size: int) -> Any:
    """The next payroll records past their term, through ix_payroll_record_period_end (in no
    order, as `expired_batch`: a deleted record is gone)."""
    return select(PayrollRecord.id).where(col(PayrollRecord.period_end) < limit).limit(batch_size)


def _notifications(
    session: Session, limit: date, batch_size: int, empty: str, counts: RetentionCounts
) -> None:
    for condition in _expired_notifications(limit):
        _anonymise_notifications(session, condition, batch_size, empty, counts)


def _anonymise_notifications(
    session: Session, condition: Any, batch_size: int, empty: str, counts: RetentionCounts
) -> None:
    while True:
        batch = list(session.exec(expired_batch(condition, batch_size)))
        if not batch:
            return
        ids = [n.id for n in batch]
        worker_ids = {n.worker_id for n in batch}
        for n in batch:
            n.signatory_name = ""
            n.housing_address = None
            n.termination_reason = None
            n.job_description = None
            n.external_reference = None
            session.add(n)
        for v in session.exec(
            select(NotificationVersion).where(col(NotificationVersion.notification_id).in_(ids))
        ):
            v.declaration = scrub(v.declaration)
            v.changes = scrub(v.changes)
            v.reason = None
            session.add(v)
        for f in session.exec(
            select(NotificationFinding).where(col(NotificationFinding.notification_id).in_(ids))
        ):
            f.evidence = scrub(f.evidence)
            session.add(f)
        result = session.execute(
            update(Flag)
            .where(col(Flag.notification_id).in_(ids), col(Flag.person_hash).is_not(None))
            .values(person_hash=None)
        )
        counts.flags_unlinked += _rowcount(result)
        counts.notifications += len(batch)
        session.flush()
        counts.workers += _workers(session, worker_ids, empty)
        session.flush()
        session.expunge_all()


def _workers(session: Session, worker_ids: set[uuid.UUID], empty: str) -> int:
    """Anonymise the workers none of whose notifications is still within its term."""
    still_kept = set(
        session.exec(
            select(Notification.worker_id)
            .where(col(Notification.worker_id).in_(worker_ids), Notification.signatory_name != "")
            .distinct()
        )
    )
    done = 0
    for worker in session.exec(select(Worker).where(col(Worker.id).in_(worker_ids - still_kept))):
        if worker.bsn_hash.startswith(ANONYMISED_PREFIX):
            continue
        worker.given_names = ""
        worker.surname = ""
        worker.given_names_original = None
        worker.surname_original = None
        worker.birth_date = date(worker.birth_date.year, 1, 1)
        worker.bsn_hash = _anonymous_hash()
        worker.bsn_encrypted = empty
        worker.bsn_last3 = ""
        worker.v_number_encrypted = None
        worker.document_number_encrypted = None
        worker.document_valid_until = None
        session.add(worker)
        done += 1
    return done


def _payroll(session: Session, limit: date, batch_size: int, counts: RetentionCounts) -> None:
    # Deleted rather than anonymised: a payroll record without its person is no use to anyone,
    # and reconciliation would read a kept one as "paid without a notice".
    while True:
        ids = list(session.exec(payroll_batch(limit, batch_size)))
        if not ids:
            return
        unlinked = session.execute(
            update(Flag)
            .where(
                col(Flag.subject_type) == SubjectType.PAYROLL,
                col(Flag.subject_id).in_([str(i) for i in ids]),
                col(Flag.person_hash).is_not(None),
            )
            .values(person_hash=None)
        )
        counts.flags_unlinked += _rowcount(unlinked)
        session.execute(delete(PayrollRecord).where(col(PayrollRecord.id).in_(ids)))
        counts.payroll_records += len(ids)
        session.flush()


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _idempotency(session: Session, as_of: date, days: int) -> int:
    before = _midnight(as_of - timedelta(days=days))
    result = session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < before)
    )
    return _rowcount(result)


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day where it has fewer days)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _signals(
    session: Session,
    as_of: date,
    limit: date,
    contact_months: int,
    batch_size: int,
    counts: RetentionCounts,
) -> None:
    """Erase the contact, then the text, of signals in cases closed long enough ago."""

    def closed_before(day: date) -> Any:
        return col(Signal.case_id).in_(
            select(Case.id).where(
                col(Case.status) == CaseStatus.CLOSED,
                col(Case.closed_at) < _midnight(day),
            )
        )

    # The contact goes no later than the text, whatever the months are set to.
    contact_before = max(months_before(as_of, contact_months), limit)
    steps = (
        ("contact", col(Signal.contact).is_not(None), contact_before),
        ("what_happened", col(Signal.what_happened) != "", limit),
    )
    for field, present, before in steps:
        while True:
            rows = session.exec(
                select(Signal.id, Signal.case_id)
                .where(present, closed_before(before))
                .order_by(col(Signal.id))
                .limit(batch_size)
            ).all()
            if not rows:
                break
            ids = [r[0] for r in rows]
            values: dict[str, Any] = {field: None if field == "contact" else ""}
            session.execute(update(Signal).where(col(Signal.id).in_(ids)).values(**values))
            audit.record_many(
                session,
                [
                    audit.entry(
                        SYSTEM,
                        "signal.erased",
                        "signal",
                        signal_id,
                        {"case_id": str(case_id), "erased": sorted(values)},
                    )
                    for signal_id, case_id in rows
                ],
            )
            if field == "contact":
                counts.signal_contacts += len(ids)
            else:
                counts.signal_texts += len(ids)
            session.flush()
