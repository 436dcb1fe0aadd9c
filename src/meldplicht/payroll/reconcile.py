"""Payroll reconciliation: every paid period against the notifications, and every notification
against the payroll, as of one day; findings reach the queue through the sweep's set-based
flag writes (`sweeps.flag_writes`: a flag whose content is unchanged is not rewritten).

`reconcile(session, as_of)` works in two phases, each in keyset batches over ids: payroll
records (subject: the record; rules: MISSING_NOTICE, PAID_AFTER_TERMINATION,
PAID_BELOW_MINIMUM_WAGE, PAID_WAGE_AGE_UNKNOWN, PAID_BELOW_DECLARED_WAGE,
HOURS_PAID_ABOVE_LIMIT), then notifications (subject: the notification; rule:
NO_PAYROLL_AFTER_START). It only flushes. Called with `max_batches=1` it does one batch and
returns a `cursor` to continue from (None when done), so a sweep can commit, heartbeat and
checkpoint between batches; a batch redone after a crash changes nothing twice, because
the flag writes are idempotent by fingerprint. A failing item is logged, counted and skipped.
"""

from __future__ import annotations

import bisect
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from meldplicht.core.clock import utcnow
from meldplicht.employers.models import Employer
from meldplicht.flags.models import Flag, FlagSource, SubjectType
from meldplicht.flags.sync import (
    Subject,
    SyncCounts,
    SyncItem,
    forget_cached_facts,
)
from meldplicht.notifications.flagging import first_postcodes
from meldplicht.notifications.models import Notification, NotificationStatus, Worker
from meldplicht.payroll.models import PayrollRecord
from meldplicht.rules.checks import payroll as rules
from meldplicht.rules.facts import Finding, WagePeriod, counts
from meldplicht.rules.params import Parameters, get_parameters
from meldplicht.rules.sql import counted
from meldplicht.sweeps import flag_writes

log = logging.getLogger("meldplicht.payroll")

BATCH_SIZE = 500
MAX_STORED_ERRORS = 200
RECORDS = "records"
NOTIFICATIONS = "notifications"
RECORD_SCOPE = rules.PAID_PERIOD_RULES
NOTIFICATION_SCOPE = rules.NOTIFICATION_RULES


@dataclass(slots=True)
class ReconcileCounts:
    records: int = 0
    notifications: int = 0
    opened: int = 0
    refreshed: int = 0
    cleared: int = 0
    reopened: int = 0
    errors: int = 0
    flags_written: int = 0  # rows inserted or updated: an unchanged flag is not rewritten
    error_items: list[dict[str, Any]] = field(default_factory=list)
    # Where to go on from; None when both phases are done.
    cursor: str | None = None

    def add(self, counts: SyncCounts) -> None:
        self.opened += counts.opened
        self.refreshed += counts.refreshed
        self.cleared += counts.cleared
        self.reopened += counts.reopened

    def as_dict(self) -> dict[str, Any]:
        return {
            "payroll_records": self.records,
            "payroll_notifications": self.notifications,
            "opened": self.opened,
            "refreshed": self.refreshed,
            "cleared": self.cleared,
            "reopened": self.reopened,
            "errors": self.errors,
        }

    def _error(self, kind: str, ident: object, exc: BaseException) -> None:
        self.errors += 1
        if len(self.error_items) < MAX_STORED_ERRORS:
            self.error_items.append(
                {"item": kind, "id": str(ident), "error": f"{type(exc).__name__}: {exc}"[:500]}
            )


def _parse_cursor(cursor: str | None) -> tuple[str, uuid.UUID | None]:
    if not cursor:
        return RECORDS, None
    phase, _, last = cursor.partition(":")
    if phase not in (RECORDS, NOTIFICATIONS):
        raise ValueError(f"not a reconciliation cursor: {cursor!r}")
    return phase, uuid.UUID(last) if last else None


def reconcile(
    session: Session,
    as_of: date,
    *,
    cursor: str | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    params: Parameters | None = None,
    now: datetime | None = None,
    record_filter: ColumnElement[bool] | None = None,
    notification_filter: ColumnElement[bool] | None = None,
) -> ReconcileCounts:
    """Reconcile payroll and notifications as of `as_of`; see the module docstring.

    `record_filter` (on PayrollRecord) and `notification_filter` (on Notification, Worker or
    Employer) narrow the two phases to what an incremental sweep must judge again.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    run = _Run(session, as_of, batch_size, params or get_parameters(), now or utcnow())
    run.record_filter = record_filter
    run.notification_filter = notification_filter
    phase, last = _parse_cursor(cursor)
    batches = 0
    while max_batches is None or batches < max_batches:
        if phase == RECORDS:
            last = run.record_batch(last)
            if last is None:
                phase = NOTIFICATIONS
                continue
        else:
            last = run.notification_batch(last)
            if last is None:
                run.counts.cursor = None
                return run.counts
        batches += 1
        forget_cached_facts(session)
    run.counts.cursor = f"{phase}:{last or ''}"
    return run.counts


@dataclass(slots=True)
class _Notices:
    """The notifications of a batch's people, by (employer id, BSN hash)."""

    by_key: dict[tuple[uuid.UUID, str], list[rules.NoticeSummary]]
    birth_dates: dict[tuple[uuid.UUID, str], date]


def summary_of(notification: Notification) -> rules.NoticeSummary:
    return rules.NoticeSummary(
        notification_id=str(notification.id),
        receipt_number=notification.receipt_number,
        notice_date=notification.notice_date,
        start_date=notification.start_date,
        end_date=notification.end_date,
        terminated=notification.status == NotificationStatus.TERMINATED,
        withdrawn=not counts(notification.status),
        hours_per_week=notification.hours_per_week,
        wage_amount=notification.wage_amount,
        wage_period=WagePeriod(notification.wage_period),
        wage_includes_holiday_allowance=notification.wage_includes_holiday_allowance,
        fulltime_hours_per_week=notification.fulltime_hours_per_week,
    )


class _Run:
    def __init__(
        self, session: Session, as_of: date, batch_size: int, params: Parameters, now: datetime
    ) -> None:
        self.session = session
        self.as_of = as_of
        self.batch_size = batch_size
        self.params = params
        self.now = now
        self.counts = ReconcileCounts()
        self.record_filter: ColumnElement[bool] | None = None
        self.notification_filter: ColumnElement[bool] | None = None
        self._selected: dict[str, list[uuid.UUID]] = {}

    def _page(self, kind: str, ids: Any, after: uuid.UUID | None) -> list[uuid.UUID]:
        """A narrowed run's next page of ids: the selection is found once, in one pass, and
        then read by id. (Keyset pages, ORDER BY id LIMIT n over a sparse selection, let
        PostgreSQL walk the primary key from each page's start.)"""
        selected = self._selected.get(kind)
        if selected is None:
            selected = self._selected[kind] = sorted(set(self.session.exec(ids)))
        start = 0 if after is None else bisect.bisect_right(selected, after)
        return selected[start : start + self.batch_size]

    # --- employers ---------------------------------------------------------------------------

    def _employers_by_lhn(self, numbers: set[str]) -> dict[str, list[Employer]]:
        found: dict[str, list[Employer]] = defaultdict(list)
        if numbers:
            for employer in self.session.exec(
                select(Employer).where(col(Employer.loonheffingennummer).in_(numbers))
            ):
                assert employer.loonheffingennummer is not None
                found[employer.loonheffingennummer].append(employer)
        return found

    def _notices(self, employer_ids: set[uuid.UUID], hashes: set[str]) -> _Notices:
        by_key: dict[tuple[uuid.UUID, str], list[rules.NoticeSummary]] = defaultdict(list)
        birth: dict[tuple[uuid.UUID, str], date] = {}
        if not hashes:
            return _Notices(by_key, birth)
        # Birth dates from any employer's notification of the person (the payroll may lack one).
        for employer_id, bsn_hash, birth_date in self.session.exec(
            select(col(Worker.employer_id), col(Worker.bsn_hash), col(Worker.birth_date)).where(
                col(Worker.bsn_hash).in_(hashes)
            )
        ):
            birth[(employer_id, bsn_hash)] = birth_date
        if employer_ids:
            # Plain columns, not ORM objects: a batch reads thousands of these.
            n = Notification
            for row in self.session.execute(
                sa_select(
                    col(n.employer_id),
                    col(Worker.bsn_hash),
                    col(n.id),
                    col(n.receipt_number),
                    col(n.notice_date),
                    col(n.start_date),
                    col(n.end_date),
                    col(n.status),
                    col(n.hours_per_week),
                    col(n.wage_amount),
                    col(n.wage_period),
                    col(n.wage_includes_holiday_allowance),
                    col(n.fulltime_hours_per_week),
                )
                .join(Worker, col(Worker.id) == col(n.worker_id))
                .where(
                    col(Worker.bsn_hash).in_(hashes),
                    col(n.employer_id).in_(employer_ids),
                    counted(col(n.status)),
                )
            ):
                by_key[(row[0], row[1])].append(
                    rules.NoticeSummary(
                        notification_id=str(row[2]),
                        receipt_number=row[3],
                        notice_date=row[4],
                        start_date=row[5],
                        end_date=row[6],
                        terminated=row[7] == NotificationStatus.TERMINATED,
                        hours_per_week=row[8],
                        wage_amount=row[9],
                        wage_period=WagePeriod(row[10]),
                        wage_includes_holiday_allowance=row[11],
                        fulltime_hours_per_week=row[12],
                    )
                )
        return _Notices(by_key, birth)

    # --- payroll records ---------------------------------------------------------------------

    def record_batch(self, after: uuid.UUID | None) -> uuid.UUID | None:
        query = select(PayrollRecord)
        page: list[uuid.UUID] = []
        if self.record_filter is not None:
            page = self._page("records", select(PayrollRecord.id).where(self.record_filter), after)
            if not page:
                return None
            query = query.where(col(PayrollRecord.id).in_(page), self.record_filter)
        else:
            if after is not None:
                query = query.where(col(PayrollRecord.id) > after)
            query = query.limit(self.batch_size)
        records = list(self.session.exec(query.order_by(col(PayrollRecord.id))))
        if not records:
            # A narrowed page whose records went in between: go on after it.
            return page[-1] if page else None
        employers = self._employers_by_lhn({r.employer_lhn for r in records})
        employer_ids = {e.id for group in employers.values() for e in group}
        notices = self._notices(employer_ids, {r.bsn_hash for r in records})
        flagged = self._flagged(SubjectType.PAYROLL, [str(r.id) for r in records], RECORD_SCOPE)
        items: list[SyncItem] = []
        judged = 0
        for record in records:
            try:
                item = self._record(record, employers.get(record.employer_lhn, []), notices)
            except Exception as exc:
                log.error("payroll reconciliation: record %s failed", record.id, exc_info=exc)
                self.counts._error("payroll_record", record.id, exc)
                continue
            judged += 1
            # A record without findings and without a present flag has nothing to sync.
            if item.findings or item.subject.id in flagged:
                items.append(item)
        failed = self._sync("payroll_record", items, RECORD_SCOPE)
        self.counts.records += judged - len(failed)
        self.session.flush()
        self.session.expunge_all()
        return page[-1] if page else records[-1].id

    def _flagged(
        self, subject_type: SubjectType, ids: list[str], scope: frozenset[str]
    ) -> set[str]:
        """Subjects of the batch with a flag whose condition is present (they may clear)."""
        if not ids:
            return set()
        return set(
            self.session.exec(
                select(Flag.subject_id).where(
                    col(Flag.subject_type) == subject_type,
                    col(Flag.subject_id).in_(ids),
                    col(Flag.rule_code).in_(scope),
                    col(Flag.condition_present).is_(True),
                )
            )
        )

    def _sync(self, kind: str, items: Sequence[SyncItem], scope: frozenset[str]) -> set[str]:
        """Sync a batch's flags; returns the subject ids that failed (logged and counted)."""
        counts, written, failed = flag_writes.sync_each_on_failure(
            self.session,
            items,
            scope=scope,
            source=FlagSource.PAYROLL,
            as_of=self.as_of,
            now=self.now,
        )
        self.counts.add(counts)
        self.counts.flags_written += written
        for item, exc in failed:
            log.error("payroll reconciliation: %s %s failed", kind, item.subject.id, exc_info=exc)
            self.counts._error(kind, item.subject.id, exc)
        return {item.subject.id for item, _ in failed}

    def _record(
        self, record: PayrollRecord, employers: list[Employer], notices: _Notices
    ) -> SyncItem:
        """The paid period's findings (pure: no database work)."""
        summaries: list[rules.NoticeSummary] = []
        birth_date, birth_source = record.birth_date, "payroll" if record.birth_date else None
        for employer in employers:
            summaries.extend(notices.by_key.get((employer.id, record.bsn_hash), []))
            if birth_date is None and (employer.id, record.bsn_hash) in notices.birth_dates:
                birth_date = notices.birth_dates[(employer.id, record.bsn_hash)]
                birth_source = "notification"
        if birth_date is None:
            others = [d for (_, h), d in notices.birth_dates.items() if h == record.bsn_hash]
            if others:
                birth_date, birth_source = others[0], "notification"
        paid = rules.PaidPeriod(
            record_id=str(record.id),
            employer_lhn=record.employer_lhn,
            period_start=record.period_start,
            period_end=record.period_end,
            hours_paid=record.hours_paid,
            gross_wage=record.gross_wage,
            includes_holiday_allowance=record.includes_holiday_allowance,
            birth_date=birth_date,
            birth_date_source=birth_source,
            nationality=record.nationality,
            document_type=record.document_type,
            paid_in_cash=record.paid_in_cash,
        )
        findings = rules.check_paid_period(
            paid,
            summaries,
            as_of=self.as_of,
            employer_registered=bool(employers),
            params=self.params,
        )
        first = employers[0] if employers else None
        covering = next(
            iter(
                rules.covering_notices(
                    record.period_start, record.period_end, summaries, self.as_of
                )
            ),
            None,
        )
        subject = Subject(
            type=SubjectType.PAYROLL,
            id=str(record.id),
            employer_id=first.id if first else record.employer_id,
            notification_id=uuid.UUID(covering.notification_id) if covering else None,
            person_hash=record.bsn_hash,
            postcode=first.postcode if first else None,
        )
        return SyncItem(subject, findings)

    # --- notifications -----------------------------------------------------------------------

    def notification_batch(self, after: uuid.UUID | None) -> uuid.UUID | None:
        """The next page of notifications judged or flagged for NO_PAYROLL_AFTER_START.

        A page is `batch_size` notifications in id order (a keyset over the primary key, or
        the narrowed selection), of which the judged-or-flagged ones are kept in Python with
        index look-ups for that page only (`_judged_or_flagged`): no page re-reads every
        payroll record or flag, so the phase grows with N, not N squared."""
        query = (
            select(Notification, Worker.bsn_hash, Employer.loonheffingennummer)
            .join(Worker, col(Worker.id) == col(Notification.worker_id))
            .join(Employer, col(Employer.id) == col(Notification.employer_id))
        )
        page: list[uuid.UUID] = []
        if self.notification_filter is None:
            if after is not None:
                query = query.where(col(Notification.id) > after)
            query = query.limit(self.batch_size)
        else:
            page = self._page(
                "notifications",
                select(Notification.id)
                .join(Worker, col(Worker.id) == col(Notification.worker_id))
                .join(Employer, col(Employer.id) == col(Notification.employer_id))
                .where(self.notification_filter),
                after,
            )
            if not page:
                return None
            query = query.where(col(Notification.id).in_(page), self.notification_filter)
        rows = list(self.session.exec(query.order_by(col(Notification.id))))
        if not rows:
            return page[-1] if page else None
        last: uuid.UUID = page[-1] if page else rows[-1][0].id
        flagged = self._flagged(
            SubjectType.NOTIFICATION, [str(n.id) for n, _, _ in rows], NOTIFICATION_SCOPE
        )
        rows = self._judged_or_flagged(rows, flagged)
        if not rows:
            self.session.expunge_all()
            return last
        numbers = {lhn for _, _, lhn in rows if lhn}
        hashes = {h for _, h, _ in rows}
        spans = self._spans(numbers)
        periods = self._periods(numbers, hashes)
        ids = [n.id for n, _, _ in rows]
        postcodes = first_postcodes(self.session, ids)
        items: list[SyncItem] = []
        judged = 0
        for notification, bsn_hash, lhn in rows:
            try:
                findings = self._notification(
                    notification, periods.get((lhn or "", bsn_hash), []), spans.get(lhn or "")
                )
            except Exception as exc:
                log.error(
                    "payroll reconciliation: notification %s failed", notification.id, exc_info=exc
                )
                self.counts._error("notification", notification.id, exc)
                continue
            judged += 1
            if not findings and str(notification.id) not in flagged:
                continue
            subject = Subject(
                type=SubjectType.NOTIFICATION,
                id=str(notification.id),
                employer_id=notification.employer_id,
                notification_id=notification.id,
                person_hash=bsn_hash,
                postcode=postcodes.get(notification.id),
            )
            items.append(SyncItem(subject, findings))
        failed = self._sync("notification", items, NOTIFICATION_SCOPE)
        self.counts.notifications += judged - len(failed)
        self.session.flush()
        self.session.expunge_all()
        return last

    def _judged_or_flagged(
        self, rows: list[tuple[Notification, str, str | None]], flagged: set[str]
    ) -> list[tuple[Notification, str, str | None]]:
        """The page's notifications that NO_PAYROLL_AFTER_START judges: not withdrawn, started
        at least the policy's weeks ago, at an employer with payroll delivered; and those with
        a present flag of the rule (they may clear)."""
        latest_start = rules.latest_start_due(self.as_of, self.params)
        paying = self._paying({lhn for n, _, lhn in rows if lhn and n.start_date <= latest_start})
        return [
            (n, h, lhn)
            for n, h, lhn in rows
            if str(n.id) in flagged
            or (counts(n.status) and n.start_date <= latest_start and lhn in paying)
        ]

    def _paying(self, numbers: set[str]) -> set[str]:
        """The loonheffingennummers among `numbers` with at least one payroll record: one
        probe of the unique key (employer_lhn first) per number, stopping at the first
        record, rather than a DISTINCT over all of an employer's records."""
        if not numbers:
            return set()
        lhn = col(Employer.loonheffingennummer)
        delivered = sa_select(col(PayrollRecord.id)).where(col(PayrollRecord.employer_lhn) == lhn)
        return {
            number
            for (number,) in self.session.execute(
                sa_select(lhn).where(lhn.in_(numbers), delivered.exists()).distinct()
            )
            if number
        }

    def _spans(self, numbers: set[str]) -> dict[str, tuple[date, date]]:
        if not numbers:
            return {}
        return {
            lhn: (first, last)
            for lhn, first, last in self.session.exec(
                select(
                    PayrollRecord.employer_lhn,
                    func.min(PayrollRecord.period_start),
                    func.max(PayrollRecord.period_end),
                )
                .where(col(PayrollRecord.employer_lhn).in_(numbers))
                .group_by(col(PayrollRecord.employer_lhn))
            )
        }

    def _periods(
        self, numbers: set[str], hashes: set[str]
    ) -> dict[tuple[str, str], list[tuple[date, date]]]:
        found: dict[tuple[str, str], list[tuple[date, date]]] = defaultdict(list)
        if not numbers or not hashes:
            return found
        for lhn, bsn_hash, start, end in self.session.exec(
            select(
                col(PayrollRecord.employer_lhn),
                col(PayrollRecord.bsn_hash),
                col(PayrollRecord.period_start),
                col(PayrollRecord.period_end),
            )
            .where(
                col(PayrollRecord.employer_lhn).in_(numbers),
                col(PayrollRecord.bsn_hash).in_(hashes),
            )
            .order_by(col(PayrollRecord.period_start))
        ):
            found[(lhn, bsn_hash)].append((start, end))
        return found

    def _notification(
        self,
        notification: Notification,
        periods: Sequence[tuple[date, date]],
        span: tuple[date, date] | None,
    ) -> list[Finding]:
        return rules.check_no_payroll_after_start(
            summary_of(notification), periods, span, as_of=self.as_of, params=self.params
        )
