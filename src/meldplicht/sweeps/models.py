"""Sweep runs (one row per run, with counts and errors) and the lock row used on SQLite."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from meldplicht.core.clock import utcnow
from meldplicht.core.types import UTCDateTime


class SweepRun(SQLModel, table=True):
    __tablename__ = "sweep_run"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    as_of: date = Field(index=True)
    mode: str = Field(max_length=12)  # full | incremental
    status: str = Field(max_length=12)  # running | succeeded | failed | interrupted
    trigger: str = Field(max_length=12)  # cli | scheduler | api
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Progress marker for resuming (the last notification id committed), and the counts.
    checkpoint: str | None = Field(default=None, max_length=64)
    # The instant up to which this run took the changed notifications and payroll: the next
    # incremental run takes those changed after it (None: a run before migration 0022).
    changes_through: datetime | None = Field(default=None, sa_type=UTCDateTime)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)


class SweepLock(SQLModel, table=True):
    """One row per lock name: who holds it and until when (used where advisory locks are not)."""

    __tablename__ = "sweep_lock"

    name: str = Field(primary_key=True, max_length=32)
    holder: str | None = Field(default=None, max_length=128)
    acquired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
