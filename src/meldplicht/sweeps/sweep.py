"""The sweep: re-check every active notification, each person and each employer as of one day.

One function, `run_sweep`, serves the CLI, the scheduler and the tests. It takes the sweep lock,
marks runs left "running" by a dead process as interrupted, then works in keyset batches over
notification ids, one transaction per batch: the verdicts come from the same rule code as
intake (`judge(..., evaluation=SWEEP)`, only anomalies explained) and reach the queue through
`sync_flags`, which is idempotent by fingerprint, so a batch redone after a crash changes
nothing twice. The cross-notification checks (a person's total hours, many employers, an
employer's repeated lateness) follow, on candidates pre-selected in SQL.

Incremental mode re-evaluates only the notifications whose verdict can have changed: those
never evaluated, those whose `next_check_date` (from `next_change_date`) has come, and those
declared or re-declared since the last successful run. The person, employer and payroll
phases then judge only the people and employers those notifications belong to, plus those of
notifications changed since or crossing a date that moves a cross-notification or payroll
verdict (a start, an end, a notice entering or leaving a policy window, the weeks after a
start after which missing payroll counts), and payroll delivered since; on a day a parameter
changes they run in full. Full mode re-evaluates every one. Both leave the same flags
(tests/sweeps/test_incremental.py proves it on generated data, payroll included).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, false, func, or_, union, update
from sqlmodel import Session, col, select

from meldplicht.alerts.hooks import after_sweep
from meldplicht.core import metrics
from meldplicht.core.clock import LEGAL_TZ, utcnow
from meldplicht.core.config import Settings, get_settings
from meldplicht.employers.models import Employer
from meldplicht.inspection.models import Flag, FlagSource, SubjectType
from meldplicht.inspection.service import (
    Subject,
    SyncCounts,
    SyncItem,
    first_postcodes,
    forget_cached_facts,
    notification_scope,
)
from meldplicht.models import import_all_models
from meldplicht.notifications.facts import facts_of
from meldplicht.notifications.models import (
    Notification,
    NotificationStatus,
    Worker,
)
from meldplicht.rules.checks import (
    check_many_employers,
    check_person_total_hours,
    check_repeatedly_late,
    judge,
    next_change_date,
)
from meldplicht.rules.checks import cross as cross_rules
from meldplicht.rules.checks import payroll as payroll_rules
from meldplicht.rules.checks.schedule import parameter_change_dates
from meldplicht.rules.facts import Evaluation, Finding, NotificationRecord, Severity
from meldplicht.rules.params import get_parameters
from meldplicht.rules.sql import counted
from meldplicht.sweeps import dirty, flag_writes
from meldplicht.sweeps.lock import DEFAULT_LEASE, LockHandle, SweepLockLost, sweep_lock
from meldplicht.sweeps.models import SweepRun

log = logging.getLogger("meldplicht.sweeps")

BATCH_SIZE = 500
# A terminated notification is still re-evaluated this many days after its end date, so the
# flags that no longer apply once the employment is over are settled even after missed nights.
TERMINATED_GRACE_DAYS = 31
# next_check_date for a notification whose verdict can no longer change (NULL means "never
# evaluated", which an incremental sweep always picks up).
NEVER = date(9999, 12, 31)
# The next-check date of an item that failed: none, so that every run selects it again.
RETRY: dict[str, Any] = {"next_check_date": None}
# At most this many failing items are kept on the run row; the count is always complete.
MAX_STORED_ERRORS = 200
# Above this many re-declared workers an incremental run is no cheaper: it runs in full.
MAX_TOUCHED_WORKERS = 5000
# Late and retroactive notices start within two working days of the notice date; a start this
# many calendar days after the notice can never be late, so it is left out of the records the
# repeated-lateness check receives (a pre-selection for memory; the verdict is the rule's).
LATE_HORIZON_DAYS = 14
# Flag.period_key holds 40 characters; longer keys (the total-hours check joins notification
# ids) are replaced by a digest so the flag fits on PostgreSQL too.
PERIOD_KEY_MAX = 40

SWEEP_SCOPE = notification_scope(Evaluation.SWEEP)
PERSON_SCOPE = frozenset(
    {
        cross_rules.TOTAL_EXCESSIVE.code,
        cross_rules.TOTAL_ABOVE_48.code,
        cross_rules.MANY_EMPLOYERS.code,
    }
)
EMPLOYER_SCOPE = frozenset({cross_rules.REPEATEDLY_LATE.code})
PAYROLL_SCOPE = payroll_rules.PAID_PERIOD_RULES | payroll_rules.NOTIFICATION_RULES


class SweepMode(enum.StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


class SweepTrigger(enum.StrEnum):
    CLI = "cli"
    SCHEDULER = "scheduler"
    API = "api"


class SweepStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


# (phase, done, total): phases are "notifications", "persons" and "employers".
ProgressCallback = Callable[[str, int, int | None], None]
# Called with the phase's name after each committed batch (tests: a pause, an interruption).
AfterBatch = Callable[[str], None]


@dataclass(slots=True)
class _Tally:
    selected: int = 0
    evaluated: int = 0
    persons: int = 0
    employers: int = 0
    opened: int = 0
    refreshed: int = 0
    cleared: int = 0
    reopened: int = 0
    errors: int = 0
    error_items: list[dict[str, Any]] = field(default_factory=list)
    requested_mode: str | None = None
    extra: dict[str, int] = field(default_factory=dict)  # payroll_* and register_* counts

    def add(self, counts: SyncCounts) -> None:
        self.opened += counts.opened
        self.refreshed += counts.refreshed
        self.cleared += counts.cleared
        self.reopened += counts.reopened

    def as_counts(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "selected": self.selected,
            "evaluated": self.evaluated,
            "persons": self.persons,
            "employers": self.employers,
            "opened": self.opened,
            "refreshed": self.refreshed,
            "cleared": self.cleared,
            "reopened": self.reopened,
            "errors": self.errors,
        }
        if self.requested_mode is not None:
            out["requested_mode"] = self.requested_mode
        out.update(self.extra)
        return out


def run_sweep(
    engine: Engine,
    as_of: date,
    *,
    mode: SweepMode = SweepMode.INCREMENTAL,
    trigger: SweepTrigger = SweepTrigger.CLI,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
    settings: Settings | None = None,
    lease: timedelta = DEFAULT_LEASE,
    after_batch: AfterBatch | None = None,
) -> SweepRun:
    """Sweep as of `as_of` and return the recorded run.

    Raises `SweepAlreadyRunning` (creating no run) when another process holds the lock.
    Per-item failures are logged, counted and stored on the run, which goes on; a failure of
    the run itself (the database gone) ends it with status "failed".
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    # Flags refer to user accounts and more: every table must be known before the ORM maps
    # them, also in a bare `meldplicht sweep` process that imported no router.
    import_all_models()
    settings = settings or get_settings()
    with sweep_lock(engine, lease=lease) as lock:
        run = _Sweep(
            engine, as_of, mode, trigger, batch_size, progress, settings, lock, after_batch
        ).run()
        after_sweep(engine, as_of, settings)
        return run


def _legal_midnight(day: date) -> datetime:
    return datetime.combine(day, clock_time(0), tzinfo=LEGAL_TZ).astimezone(UTC)


def _fit_period_key(finding: Finding) -> Finding:
    if len(finding.period_key) <= PERIOD_KEY_MAX:
        return finding
    digest = hashlib.sha256(finding.period_key.encode()).hexdigest()
    return replace(finding, period_key="h:" + digest[: PERIOD_KEY_MAX - 2])


class _Sweep:
    def __init__(
        self,
        engine: Engine,
        as_of: date,
        mode: SweepMode,
        trigger: SweepTrigger,
        batch_size: int,
        progress: ProgressCallback | None,
        settings: Settings,
        lock: LockHandle,
        after_batch: AfterBatch | None = None,
    ) -> None:
        self.engine = engine
        self.after_batch_hook = after_batch
        self.as_of = as_of
        self.mode = mode
        self.trigger = trigger
        self.batch_size = batch_size
        self.progress = progress
        self.settings = settings
        self.lock = lock
        self.tally = _Tally()
        self.params = get_parameters()
        self.run_id: uuid.UUID | None = None
        # Incremental mode: the day the last successful run saw, when changes count from, and
        # the people and employers whose cross-notification verdicts can have changed.
        self.last_as_of: date | None = None
        self.cross_in_full = False
        self.changed_since: datetime | None = None
        self.dirty_people: set[str] = set()
        self.dirty_employers: set[uuid.UUID] = set()
        self.dirty_payers: set[str] = set()  # people whose payroll verdicts can have moved
        # Persons and employers that failed in the last successful run: judged again.
        self.retry_people: set[str] = set()
        self.retry_employers: set[uuid.UUID] = set()

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> SweepRun:
        changed_since, touched_workers = dirty.prepare(self)
        status = SweepStatus.FAILED
        try:
            # Retention first: nothing past its legal keeping period is evaluated again.
            dirty.retention(self)
            self._notifications(changed_since, touched_workers)
            if self._cross_incremental:
                dirty.collect_dirty(self)
            self._persons()
            self._employers()
            self._payroll()
            self._registers()
            dirty.advance_dates(self)
            status = SweepStatus.SUCCEEDED
        except SweepLockLost as exc:
            log.error("sweep %s stopped: %s", self.run_id, exc)
            self._record_error("run", None, exc)
        except Exception as exc:
            log.exception("sweep %s failed", self.run_id)
            self._record_error("run", None, exc)
        except BaseException:
            self._finish(SweepStatus.INTERRUPTED)
            raise
        return self._finish(status)

    def _note_retries(self, last: SweepRun) -> bool:
        """Persons and employers whose verdict failed in the last successful run are judged
        again now, changed or not (their keys are in that run's stored errors). False when the
        stored errors do not hold every failure (more than the stored maximum): then the cross
        phases run in full, so no failing item escapes."""
        stored = last.errors or []
        if int((last.counts or {}).get("errors", 0)) > len(stored):
            return False
        for error in stored:
            ident = error.get("id")
            if not ident:
                continue
            if error.get("item") == "person":
                self.retry_people.add(str(ident))
            elif error.get("item") == "employer":
                try:
                    self.retry_employers.add(uuid.UUID(str(ident)))
                except ValueError:
                    return False
        return True

    @property
    def _cross_incremental(self) -> bool:
        """Persons, employers and payroll judged only where something moved."""
        return self.mode is SweepMode.INCREMENTAL and not self.cross_in_full

    def _parameter_change_since(self, last_as_of: date) -> date | None:
        """The first parameter change date after the last run's day, up to this run's."""
        dates = [d for d in parameter_change_dates(self.params) if last_as_of < d <= self.as_of]
        return min(dates) if dates else None

    def _finish(self, status: SweepStatus) -> SweepRun:
        now = utcnow()
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            run = session.get(SweepRun, self.run_id)
            assert run is not None
            run.status = status
            run.finished_at = now
            run.heartbeat_at = now
            run.counts = self.tally.as_counts()
            run.errors = list(self.tally.error_items)
            session.add(run)
        log.info("sweep %s as of %s %s: %s", run.id, run.as_of, status, run.counts)
        metrics.sweep_finished(status, (now - run.started_at).total_seconds(), run.counts)
        return run

    def _save_progress(self, session: Session, checkpoint: str | None) -> None:
        """Counts and checkpoint go in the batch's own transaction, so they match the work."""
        values: dict[str, Any] = {
            "counts": self.tally.as_counts(),
            "errors": list(self.tally.error_items),
            "heartbeat_at": utcnow(),
        }
        if checkpoint is not None:
            values["checkpoint"] = checkpoint
        session.execute(update(SweepRun).where(col(SweepRun.id) == self.run_id).values(**values))

    def _after_batch(self, phase: str) -> None:
        self.lock.heartbeat()
        if self.after_batch_hook is not None:
            self.after_batch_hook(phase)

    def _record_error(self, kind: str, ident: object, exc: BaseException) -> None:
        self.tally.errors += 1
        if len(self.tally.error_items) < MAX_STORED_ERRORS:
            self.tally.error_items.append(
                {
                    "item": kind,
                    "id": None if ident is None else str(ident),
                    "error": f"{type(exc).__name__}: {exc}"[:500],
                }
            )

    def _report(self, phase: str, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(phase, done, total)

    # --- notifications ---------------------------------------------------------------------

    def _in_scope(self) -> ColumnElement[bool]:
        """Notifications a sweep evaluates: active ones, and recently terminated ones."""
        grace = self.as_of - timedelta(days=TERMINATED_GRACE_DAYS)
        return or_(
            col(Notification.status) == NotificationStatus.ACTIVE,
            and_(
                col(Notification.status) == NotificationStatus.TERMINATED,
                col(Notification.end_date) >= grace,
            ),
        )

    def _notification_filter(
        self, changed_since: datetime | None, touched_workers: list[uuid.UUID] | None
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [self._in_scope()]
        if changed_since is not None:
            due: list[ColumnElement[bool]] = [
                col(Notification.next_check_date).is_(None),
                col(Notification.next_check_date) <= self.as_of,
                col(Notification.updated_at) > changed_since,
            ]
            if touched_workers:
                due.append(col(Notification.worker_id).in_(touched_workers))
            conditions.append(or_(*due))
        return conditions

    def _notifications(
        self, changed_since: datetime | None, touched_workers: list[uuid.UUID] | None
    ) -> None:
        conditions = self._notification_filter(changed_since, touched_workers)
        # An incremental run selects a small share: its ids are found in one pass, then read
        # by id. (Keyset pages over a sparse selection made PostgreSQL walk the primary key
        # from each page's start: one pass over the table per page.)
        selected: list[uuid.UUID] | None = None
        with Session(self.engine) as session:
            if changed_since is not None:
                selected = dirty.due_ids(self, changed_since, touched_workers or [])
                total = len(selected)
            else:
                total = session.exec(
                    select(func.count()).select_from(Notification).where(*conditions)
                ).one()
        self.tally.selected = int(total)
        self._report("notifications", 0, self.tally.selected)
        last_id: uuid.UUID | None = None
        done = 0
        while True:
            with Session(self.engine, expire_on_commit=False) as session:
                query = select(Notification, Worker).join(
                    Worker, col(Worker.id) == col(Notification.worker_id)
                )
                if selected is not None:
                    page = selected[done : done + self.batch_size]
                    if not page:
                        break
                    # Still judged by the selection's conditions: a row changed in between
                    # is left to the next run, exactly as a keyset page would leave it.
                    query = query.where(col(Notification.id).in_(page), *conditions)
                else:
                    query = query.where(*conditions)
                    if last_id is not None:
                        query = query.where(col(Notification.id) > last_id)
                    query = query.limit(self.batch_size).execution_options(
                        yield_per=self.batch_size
                    )
                rows = list(session.exec(query.order_by(col(Notification.id))))
                if not rows:
                    if selected is not None:
                        done += len(page)
                        continue
                    break
                now = utcnow()
                postcodes = first_postcodes(session, [n.id for n, _ in rows])
                items: list[SyncItem] = []
                next_checks: dict[str, dict[str, Any]] = {}
                if self._cross_incremental:
                    # (Their employers are found by _collect_dirty: lateness moves only with a
                    # change or a window crossing, never with a birthday or an expiry.)
                    self.dirty_people.update(worker.bsn_hash for _, worker in rows)
                for notification, worker in rows:
                    try:
                        item, next_check = self._evaluate_notification(
                            notification, worker, postcodes.get(notification.id)
                        )
                    except Exception as exc:
                        log.error("sweep: notification %s failed", notification.id, exc_info=exc)
                        self._record_error("notification", notification.id, exc)
                        # Due again on the next run (incremental too), until it can be judged:
                        # an item that fails is retried, never left to its old check date.
                        if notification.next_check_date is not None:
                            next_checks[str(notification.id)] = RETRY | {"id": notification.id}
                        continue
                    items.append(item)
                    if notification.next_check_date != next_check:
                        next_checks[item.subject.id] = {
                            "id": notification.id,
                            "next_check_date": next_check,
                        }
                failed = self._sync_batch(session, "notification", items, SWEEP_SCOPE, now)
                self.tally.evaluated += len(items) - len(failed)
                # A notification whose flags could not be synced is due again on the next run.
                for subject_id in failed:
                    next_checks[subject_id] = RETRY | {"id": uuid.UUID(subject_id)}
                changed = list(next_checks.values())
                if changed:
                    session.execute(update(Notification), changed)
                last_id = rows[-1][0].id
                self._save_progress(session, str(last_id))
                session.commit()
                forget_cached_facts(session)
            done += len(page) if selected is not None else len(rows)
            self._report("notifications", done, self.tally.selected)
            self._after_batch("notifications")

    def _evaluate_notification(
        self, notification: Notification, worker: Worker, postcode: str | None
    ) -> tuple[SyncItem, date]:
        """The notification's findings as of the sweep's day (pure: no database work), and the
        next day on which they can change."""
        facts = facts_of(notification, worker)
        judged = judge(facts, as_of=self.as_of, evaluation=Evaluation.SWEEP, params=self.params)
        # Verdict first: only anomalies become flags (informational verdicts are for the
        # employer's eyes, as in `sync_flags_many`), so only they are explained.
        findings = judged.explain(
            v for v in judged.verdicts if v.code in SWEEP_SCOPE and v.severity != Severity.INFO
        )
        subject = Subject(
            type=SubjectType.NOTIFICATION,
            id=str(notification.id),
            employer_id=notification.employer_id,
            notification_id=notification.id,
            person_hash=worker.bsn_hash,
            postcode=postcode,
        )
        next_check = next_change_date(facts, self.as_of, self.params) or NEVER
        return SyncItem(subject, findings), next_check

    # --- what an incremental run must judge beyond the notifications -----------------------

    def _chunks(self, keys: set[Any]) -> Iterator[list[Any]]:
        ordered = sorted(keys)
        for start in range(0, len(ordered), self.batch_size):
            yield ordered[start : start + self.batch_size]

    def _batches(
        self, candidates: Callable[[list[Any] | None], Any], dirty: set[Any]
    ) -> Iterator[list[Any]]:
        """Batches of keys to judge: the candidates the SQL pre-selects (`candidates(keys)`
        is a subquery with a `key` column, limited to `keys` unless None): in full mode all of
        them (keyset over the key), in incremental mode the dirty ones among them (a key that
        is no candidate has no findings and no present flag, so judging it changes nothing)."""
        if self._cross_incremental:
            for chunk in self._chunks(dirty):
                subquery = candidates(chunk)
                with Session(self.engine) as session:
                    keys = sorted(
                        session.exec(
                            select(subquery.c.key).where(subquery.c.key.is_not(None))
                        ).all()
                    )
                if keys:
                    yield keys
            return
        everyone = candidates(None)
        last: Any = None
        while True:
            with Session(self.engine) as session:
                query = select(everyone.c.key).where(everyone.c.key.is_not(None))
                if last is not None:
                    query = query.where(everyone.c.key > last)
                keys = list(session.exec(query.order_by(everyone.c.key).limit(self.batch_size)))
            if not keys:
                return
            yield keys
            last = keys[-1]

    # --- persons (one BSN across employers) -------------------------------------------------

    def _person_relevant(self) -> ColumnElement[bool]:
        policy = self.params.at("policy_many_employers", self.as_of).value
        window_start = self.as_of - timedelta(days=int(policy["window_days"]) - 1)
        return and_(
            counted(col(Notification.status)),
            or_(
                col(Notification.end_date).is_(None),
                col(Notification.end_date) >= self.as_of,
                col(Notification.notice_date) >= window_start,
            ),
        )

    def _persons(self) -> None:
        relevant = self._person_relevant()

        def candidates(keys: list[str] | None) -> Any:
            several: Select[Any] = (
                select(col(Worker.bsn_hash).label("key"))
                .join(Notification, col(Notification.worker_id) == col(Worker.id))
                .where(relevant)
                .group_by(col(Worker.bsn_hash))
                .having(func.count(col(Notification.id)) >= 2)
            )
            return _candidates(
                several, col(Worker.bsn_hash), SubjectType.PERSON, PERSON_SCOPE, keys
            )

        for keys in self._batches(candidates, self.dirty_people):
            with Session(self.engine, expire_on_commit=False) as session:
                records: dict[str, list[NotificationRecord]] = defaultdict(list)
                for notification, worker, kvk in session.exec(
                    select(Notification, Worker, Employer.kvk_number)
                    .join(Worker, col(Worker.id) == col(Notification.worker_id))
                    .join(Employer, col(Employer.id) == col(Notification.employer_id))
                    .where(col(Worker.bsn_hash).in_(keys), relevant)
                    .order_by(col(Notification.id))
                ):
                    records[worker.bsn_hash].append(
                        NotificationRecord(
                            notification_id=str(notification.id),
                            employer_key=kvk,
                            person_key=worker.bsn_hash,
                            facts=facts_of(notification, worker),
                        )
                    )
                verdicts = [
                    (key, functools.partial(self._person_verdict, key, records.get(key, [])))
                    for key in keys
                ]
                self.tally.persons += self._sync_cross(session, "person", verdicts, PERSON_SCOPE)
                self._save_progress(session, None)
                session.commit()
                forget_cached_facts(session)
            self._report("persons", self.tally.persons, None)
            self._after_batch("persons")

    def _person_verdict(
        self, key: str, records: Sequence[NotificationRecord]
    ) -> tuple[Subject, list[Finding]]:
        findings = [
            *check_person_total_hours(records, self.as_of, self.params),
            *check_many_employers(records, self.as_of, params=self.params),
        ]
        subject = Subject(type=SubjectType.PERSON, id=key, employer_id=None, person_hash=key)
        return subject, findings

    # --- retention, payroll reconciliation and the business register -----------------------

    def _phase(self, name: str, step: Callable[[Session, str | None], Any]) -> None:
        """Run a batched phase whose step flushes one batch and returns its counts + cursor."""
        cursor: str | None = None
        while True:
            with Session(self.engine, expire_on_commit=False) as session:
                counts = step(session, cursor)
                self.tally.opened += counts.opened
                self.tally.refreshed += counts.refreshed
                self.tally.cleared += counts.cleared
                self.tally.reopened += counts.reopened
                self.tally.errors += counts.errors
                room = MAX_STORED_ERRORS - len(self.tally.error_items)
                self.tally.error_items.extend(counts.error_items[: max(room, 0)])
                for key, value in counts.as_dict().items():
                    if key.startswith(name) and isinstance(value, int):
                        self.tally.extra[key] = self.tally.extra.get(key, 0) + value
                self._save_progress(session, None)
                session.commit()
                forget_cached_facts(session)
            self._report(name, 0, None)
            self._after_batch(name)
            cursor = counts.cursor
            if cursor is None:
                return

    def _payroll(self) -> None:
        from meldplicht.payroll.models import PayrollRecord
        from meldplicht.payroll.reconcile import reconcile

        def phase(
            records: ColumnElement[bool] | None, notifications: ColumnElement[bool] | None
        ) -> None:
            narrowed = records is not None or notifications is not None

            def step(session: Session, cursor: str | None) -> Any:
                return reconcile(
                    session,
                    self.as_of,
                    cursor=cursor,
                    batch_size=self.batch_size,
                    # A narrowed phase is bounded by its chunk of keys: one transaction, and
                    # its selection found once.
                    max_batches=None if narrowed else 1,
                    record_filter=records,
                    notification_filter=notifications,
                )

            self._phase("payroll", step)

        if not self._cross_incremental:
            phase(None, None)
            return
        # Incremental: the records and notifications of people whose payroll verdicts can have
        # moved (parameters are unchanged), then what arrived since the last run:
        # records imported or updated, and employers registered (their records are now known).
        for chunk in self._chunks(self.dirty_payers):
            phase(col(PayrollRecord.bsn_hash).in_(chunk), col(Worker.bsn_hash).in_(chunk))
        since = self.changed_since
        assert since is not None
        # Found first, as values, so that each selection below is an index look-up rather
        # than a pass over every record or notification (a handful of keys on most days).
        with Session(self.engine) as session:
            new_lhns = {
                lhn
                for lhn in session.exec(
                    select(Employer.loonheffingennummer).where(col(Employer.created_at) > since)
                )
                if lhn
            }
            paid_since = select(PayrollRecord.employer_lhn).where(
                col(PayrollRecord.updated_at) > since
            )
            moved_employers = set(
                session.exec(
                    select(Employer.id).where(
                        or_(
                            col(Employer.created_at) > since,
                            col(Employer.loonheffingennummer).in_(paid_since),
                        )
                    )
                )
            )
        nothing = false()
        for i, lhns in enumerate(list(self._chunks(new_lhns)) or [[]]):
            registered = col(PayrollRecord.employer_lhn).in_(lhns)
            phase(
                or_(col(PayrollRecord.updated_at) > since, registered) if i == 0 else registered,
                nothing,
            )
        for employers in self._chunks(moved_employers):
            phase(nothing, col(Notification.employer_id).in_(employers))

    def _registers(self) -> None:
        from meldplicht.registers.kvk import OfflineRegister, register_for
        from meldplicht.registers.service import refresh_registers

        register = register_for(self.settings)

        def step(session: Session, cursor: str | None) -> Any:
            return refresh_registers(
                session,
                register,
                self.as_of,
                cursor=cursor,
                batch_size=self.batch_size,
                max_batches=1,
                only_answered=isinstance(register, OfflineRegister),
            )

        self._phase("register", step)
        self._admissions()

    def _admissions(self) -> None:
        """LENDER_NOT_ADMITTED from the Wtta admission register; nothing when it is offline."""
        from meldplicht.registers.admission import refresh_admissions
        from meldplicht.registers.nau import OfflineAdmissionRegister, admission_register_for

        register = admission_register_for(self.settings)
        if isinstance(register, OfflineAdmissionRegister):
            return  # no answers, so no verdicts: the flags stay as they were

        def step(session: Session, cursor: str | None) -> Any:
            return refresh_admissions(
                session,
                register,
                self.as_of,
                cursor=cursor,
                batch_size=self.batch_size,
                max_batches=1,
            )

        self._phase("admission", step)

    # --- employers (repeated lateness) -----------------------------------------------------

    def _employers(self) -> None:
        policy = self.params.at("policy_repeatedly_late", self.as_of).value
        window_start = self.as_of - timedelta(days=int(policy["window_days"]) - 1)
        in_window = and_(
            counted(col(Notification.status)),
            col(Notification.notice_date) >= window_start,
            col(Notification.notice_date) <= self.as_of,
        )

        def candidates(keys: list[uuid.UUID] | None) -> Any:
            several: Select[Any] = (
                select(col(Notification.employer_id).label("key"))
                .where(in_window)
                .group_by(col(Notification.employer_id))
                .having(func.count(col(Notification.id)) >= int(policy["threshold"]))
            )
            return _candidates(
                several, col(Notification.employer_id), SubjectType.EMPLOYER, EMPLOYER_SCOPE, keys
            )

        for ids in self._batches(candidates, self.dirty_employers):
            with Session(self.engine, expire_on_commit=False) as session:
                employers, records = self._employer_records(session, ids, in_window)
                verdicts = [
                    (
                        ident,
                        functools.partial(
                            self._employer_verdict, ident, employers.get(ident), records[ident]
                        ),
                    )
                    for ident in ids
                ]
                self.tally.employers += self._sync_cross(
                    session, "employer", verdicts, EMPLOYER_SCOPE
                )
                self._save_progress(session, None)
                session.commit()
                forget_cached_facts(session)
            self._report("employers", self.tally.employers, None)
            self._after_batch("employers")

    def _employer_records(
        self, session: Session, ids: list[uuid.UUID], in_window: ColumnElement[bool]
    ) -> tuple[dict[uuid.UUID, Employer], dict[uuid.UUID, list[NotificationRecord]]]:
        """A batch's employers and their notices in the window, in two queries."""
        employers = {
            e.id: e for e in session.exec(select(Employer).where(col(Employer.id).in_(ids)))
        }
        records: dict[uuid.UUID, list[NotificationRecord]] = defaultdict(list)
        for notification, worker in session.exec(
            select(Notification, Worker)
            .join(Worker, col(Worker.id) == col(Notification.worker_id))
            .where(
                col(Notification.employer_id).in_(ids), in_window, dirty.can_be_late(self.engine)
            )
            .order_by(col(Notification.id))
        ):
            if (notification.start_date - notification.notice_date).days > LATE_HORIZON_DAYS:
                continue
            employer = employers.get(notification.employer_id)
            records[notification.employer_id].append(
                NotificationRecord(
                    notification_id=str(notification.id),
                    employer_key=(
                        employer.kvk_number
                        if employer is not None
                        else str(notification.employer_id)
                    ),
                    person_key=worker.bsn_hash,
                    facts=facts_of(notification, worker),
                )
            )
        return employers, records

    def _employer_verdict(
        self,
        employer_id: uuid.UUID,
        employer: Employer | None,
        records: list[NotificationRecord],
    ) -> tuple[Subject, list[Finding]]:
        findings = check_repeatedly_late(records, self.as_of, params=self.params)
        late = max((len(f.evidence.get("notification_ids", [])) for f in findings), default=1)
        subject = Subject(
            type=SubjectType.EMPLOYER,
            id=str(employer_id),
            employer_id=employer_id,
            postcode=employer.postcode if employer is not None else None,
            workers_affected=max(late, 1),
        )
        return subject, findings

    # --- shared ------------------------------------------------------------------------------

    def _sync_cross(
        self,
        session: Session,
        kind: str,
        verdicts: Sequence[tuple[object, Callable[[], tuple[Subject, list[Finding]]]]],
        scope: frozenset[str],
    ) -> int:
        """Judge a batch of persons or employers and sync their flags; a failure is that
        item's alone. Returns how many were judged."""
        items: list[SyncItem] = []
        for ident, verdict in verdicts:
            try:
                subject, findings = verdict()
            except Exception as exc:
                log.error("sweep: %s %s failed", kind, ident, exc_info=exc)
                self._record_error(kind, ident, exc)
                continue
            items.append(SyncItem(subject, [_fit_period_key(f) for f in findings]))
        failed = self._sync_batch(session, kind, items, scope, utcnow())
        return len(items) - len(failed)

    def _sync_batch(
        self,
        session: Session,
        kind: str,
        items: Sequence[SyncItem],
        scope: frozenset[str],
        now: datetime,
    ) -> set[str]:
        """Sync a batch's flags; returns the subject ids that failed (logged and recorded)."""
        counts, written, failed = flag_writes.sync_each_on_failure(
            session, items, scope=scope, source=FlagSource.SWEEP, as_of=self.as_of, now=now
        )
        self.tally.add(counts)
        self.tally.extra["flags_written"] = self.tally.extra.get("flags_written", 0) + written
        for item, exc in failed:
            log.error("sweep: %s %s failed", kind, item.subject.id, exc_info=exc)
            self._record_error(kind, item.subject.id, exc)
        return {item.subject.id for item, _ in failed}


def _candidates(
    several: Select[Any],
    several_key: Any,
    subject_type: SubjectType,
    scope: frozenset[str],
    keys: list[Any] | None,
) -> Any:
    """A cross phase's candidates as a subquery with a `key` column: those `several` selects
    (enough notices to be judged) and those with a present flag of the phase's rules; limited
    to `keys` unless None. A person's flag is keyed by subject id (the BSN hash), an
    employer's by its employer id."""
    flag_key = col(Flag.subject_id) if subject_type is SubjectType.PERSON else col(Flag.employer_id)
    flagged: Select[Any] = select(flag_key.label("key")).where(
        col(Flag.subject_type) == subject_type,
        col(Flag.rule_code).in_(scope),
        col(Flag.condition_present).is_(True),
    )
    if keys is not None:
        several = several.where(several_key.in_(keys))
        flagged = flagged.where(flag_key.in_(keys))
    return union(several, flagged).subquery()
