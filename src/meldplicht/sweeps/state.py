"""What one sweep run's phases share: its day and mode, its tally and errors, its hooks.

The runner (`sweeps/sweep.py`) makes one `RunState` per run, settles the mode and the
incremental selection on it, and hands it to each phase (`sweeps/phases/`). A phase reads the
state, works in batches of one transaction each, and reports through it: `save_progress` in
the batch's own transaction, then `after_batch` (the lock's heartbeat and the injected hook).
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from meldplicht.core.clock import utcnow
from meldplicht.core.config import Settings
from meldplicht.flags.models import FlagSource
from meldplicht.flags.sync import SyncCounts, SyncItem, forget_cached_facts
from meldplicht.rules.params import Parameters
from meldplicht.sweeps import flag_writes
from meldplicht.sweeps.lock import LockHandle
from meldplicht.sweeps.models import SweepRun

log = logging.getLogger("meldplicht.sweeps")

# At most this many failing items are kept on the run row; the count is always complete.
MAX_STORED_ERRORS = 200


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
class Tally:
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


class RunState:
    """One run's day, mode and settings, what it has counted, and where it reports."""

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
        params: Parameters,
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
        self.tally = Tally()
        self.params = params
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

    @property
    def cross_incremental(self) -> bool:
        """Persons, employers and payroll judged only where something moved."""
        return self.mode is SweepMode.INCREMENTAL and not self.cross_in_full

    def save_progress(self, session: Session, checkpoint: str | None) -> None:
        """Counts and checkpoint go in the batch's own transaction, so they match the work."""
        values: dict[str, Any] = {
            "counts": self.tally.as_counts(),
            "errors": list(self.tally.error_items),
            "heartbeat_at": utcnow(),
        }
        if checkpoint is not None:
            values["checkpoint"] = checkpoint
        session.execute(update(SweepRun).where(col(SweepRun.id) == self.run_id).values(**values))

    def after_batch(self, phase: str) -> None:
        self.lock.heartbeat()
        if self.after_batch_hook is not None:
            self.after_batch_hook(phase)

    def record_error(self, kind: str, ident: object, exc: BaseException) -> None:
        self.tally.errors += 1
        if len(self.tally.error_items) < MAX_STORED_ERRORS:
            self.tally.error_items.append(
                {
                    "item": kind,
                    "id": None if ident is None else str(ident),
                    "error": f"{type(exc).__name__}: {exc}"[:500],
                }
            )

    def report(self, phase: str, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(phase, done, total)

    def chunks(self, keys: set[Any]) -> Iterator[list[Any]]:
        ordered = sorted(keys)
        for start in range(0, len(ordered), self.batch_size):
            yield ordered[start : start + self.batch_size]

    def sync_batch(
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
            self.record_error(kind, item.subject.id, exc)
        return {item.subject.id for item, _ in failed}

    def batched(self, name: str, step: Callable[[Session, str | None], Any]) -> None:
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
                written = getattr(counts, "flags_written", 0)
                if written:
                    extra = self.tally.extra
                    extra["flags_written"] = extra.get("flags_written", 0) + written
                self.save_progress(session, None)
                session.commit()
                forget_cached_facts(session)
            self.report(name, 0, None)
            self.after_batch(name)
            cursor = counts.cursor
            if cursor is None:
                return
