"""What the sweeps API returns: recorded runs with their counts and failing items."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from meldplicht.sweeps.models import SweepRun


class SweepCountsOut(BaseModel):
    selected: int = Field(0, description="Notifications chosen for re-evaluation.")
    evaluated: int = Field(0, description="Notifications re-evaluated without error.")
    persons: int = Field(0, description="Persons (one BSN across employers) checked.")
    employers: int = Field(0, description="Employers checked for repeated lateness.")
    opened: int = Field(0, description="Flags opened.")
    refreshed: int = Field(0, description="Flags whose condition was found again.")
    cleared: int = Field(0, description="Open flags whose condition disappeared.")
    reopened: int = Field(0, description="Cleared flags whose condition returned.")
    errors: int = Field(0, description="Items that failed (see errors).")
    requested_mode: str | None = Field(
        None, description="Set when an incremental run had to run in full (see the logs)."
    )


class SweepErrorOut(BaseModel):
    item: str = Field(description="notification, person, employer or run.")
    id: str | None = Field(None, description="The failing item's id (a person: BSN hash).")
    error: str


class SweepRunOut(BaseModel):
    id: uuid.UUID
    as_of: date
    mode: str = Field(description="full or incremental.")
    trigger: str = Field(description="cli, scheduler or api.")
    status: str = Field(description="running, succeeded, failed or interrupted.")
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime | None
    duration_seconds: float | None
    checkpoint: str | None = Field(description="The last notification id committed.")
    counts: SweepCountsOut
    errors: list[SweepErrorOut]

    @classmethod
    def of(cls, run: SweepRun) -> SweepRunOut:
        duration = (
            (run.finished_at - run.started_at).total_seconds()
            if run.finished_at is not None
            else None
        )
        return cls(
            id=run.id,
            as_of=run.as_of,
            mode=run.mode,
            trigger=run.trigger,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            heartbeat_at=run.heartbeat_at,
            duration_seconds=duration,
            checkpoint=run.checkpoint,
            counts=SweepCountsOut.model_validate(run.counts or {}),
            errors=[SweepErrorOut.model_validate(e) for e in run.errors or []],
        )


class SweepRunPage(BaseModel):
    items: list[SweepRunOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at end.")
