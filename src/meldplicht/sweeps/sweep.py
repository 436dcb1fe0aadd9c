"""The sweep: re-check every active notification, each person and each employer as of one day.

One function, `run_sweep`, serves the CLI, the scheduler and the tests. It takes the sweep lock,
marks runs left "running" by a dead process as interrupted, settles the mode and what an
incremental run selects, then runs the phases (`sweeps/phases/`), each a module with one entry
function taking the run's state (`sweeps/state.py`): retention, notifications, persons,
employers, payroll, the business register and the admission register. Each phase works in
batches, one transaction per batch; the verdicts come from the same rule code as intake and
reach the queue through the set-based flag writes (`sweeps/flag_writes.py`), which are
idempotent by fingerprint, so a batch redone after a crash changes nothing twice.

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

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import ColumnElement, Engine
from sqlmodel import Session

from meldplicht.alerts.hooks import after_sweep
from meldplicht.core import metrics
from meldplicht.core.clock import LEGAL_TZ, utcnow
from meldplicht.core.config import Settings, get_settings
from meldplicht.inspection import cases
from meldplicht.models import import_all_models
from meldplicht.rules.checks import payroll as payroll_rules
from meldplicht.rules.checks.schedule import parameter_change_dates
from meldplicht.rules.params import get_parameters
from meldplicht.sweeps import dirty
from meldplicht.sweeps.lock import DEFAULT_LEASE, LockHandle, SweepLockLost, sweep_lock
from meldplicht.sweeps.models import SweepRun
from meldplicht.sweeps.phases import admissions, employers, notifications, payroll, persons
from meldplicht.sweeps.phases import cases as case_figures
from meldplicht.sweeps.phases import registers as business_register
from meldplicht.sweeps.phases.employers import EMPLOYER_SCOPE, LATE_HORIZON_DAYS
from meldplicht.sweeps.phases.notifications import NEVER, TERMINATED_GRACE_DAYS
from meldplicht.sweeps.phases.persons import PERSON_SCOPE
from meldplicht.sweeps.state import (
    MAX_STORED_ERRORS,
    AfterBatch,
    ProgressCallback,
    RunState,
    SweepMode,
    SweepStatus,
    SweepTrigger,
)

__all__ = [
    "BATCH_SIZE",
    "EMPLOYER_SCOPE",
    "LATE_HORIZON_DAYS",
    "MAX_STORED_ERRORS",
    "NEVER",
    "PAYROLL_SCOPE",
    "PERSON_SCOPE",
    "TERMINATED_GRACE_DAYS",
    "AfterBatch",
    "ProgressCallback",
    "SweepMode",
    "SweepStatus",
    "SweepTrigger",
    "run_sweep",
]

log = logging.getLogger("meldplicht.sweeps")

BATCH_SIZE = 500
# Above this many re-declared workers an incremental run is no cheaper: it runs in full.
MAX_TOUCHED_WORKERS = 5000
PAYROLL_SCOPE = payroll_rules.PAID_PERIOD_RULES | payroll_rules.NOTIFICATION_RULES


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


class _Sweep(RunState):
    """The runner: the run's state, the incremental selection, and the phases in order."""

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
        super().__init__(
            engine,
            as_of,
            mode,
            trigger,
            batch_size,
            progress,
            settings,
            lock,
            get_parameters(),
            after_batch,
        )

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> SweepRun:
        changed_since, touched_workers = dirty.prepare(self)
        status = SweepStatus.FAILED
        try:
            # Retention first: nothing past its legal keeping period is evaluated again.
            dirty.retention(self)
            case_figures.uncomputed(self)
            # Flags join their cases as they are written; each case's figures are recomputed
            # once, after the last phase, not after every batch that touches it.
            with cases.figures_deferred():
                notifications.run(self, changed_since, touched_workers)
                if self.cross_incremental:
                    dirty.collect_dirty(self)
                persons.run(self)
                employers.run(self, dirty.can_be_late(self.engine))
                payroll.run(self)
                business_register.run(self)
                admissions.run(self)
            dirty.advance_dates(self)
            case_figures.due(self)
            status = SweepStatus.SUCCEEDED
        except SweepLockLost as exc:
            log.error("sweep %s stopped: %s", self.run_id, exc)
            self.record_error("run", None, exc)
        except Exception as exc:
            log.exception("sweep %s failed", self.run_id)
            self.record_error("run", None, exc)
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

    def _in_scope(self) -> ColumnElement[bool]:
        return notifications.in_scope(self.as_of)

    # The selection's methods (above and below) still use the state's earlier private names.
    _save_progress = RunState.save_progress
    _after_batch = RunState.after_batch

    # --- what an incremental run must judge beyond the notifications -----------------------
