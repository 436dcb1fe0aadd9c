"""The nightly job: registered once, at 02:00 Amsterdam time, coalesced, one instance; a
locked or already-done night is a log line, not a second run."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import Session, select

from meldplicht.core.clock import today
from meldplicht.sweeps.lock import sweep_lock
from meldplicht.sweeps.models import SweepRun
from meldplicht.sweeps.scheduler import JOB_ID, configure, nightly_sweep, start_in_app
from meldplicht.sweeps.sweep import SweepStatus
from tests.sweeps.conftest import SweepDb

AMS = ZoneInfo("Europe/Amsterdam")


def test_job_runs_at_two_in_amsterdam(sweep_db: SweepDb) -> None:
    scheduler = BackgroundScheduler(timezone=AMS)
    scheduler.start(paused=True)
    try:
        configure(scheduler, sweep_db.engine, sweep_db.settings)
        configure(scheduler, sweep_db.engine, sweep_db.settings)  # replaces, no second job
        (job,) = scheduler.get_jobs()
    finally:
        scheduler.shutdown(wait=False)
    assert job.id == JOB_ID
    assert job.coalesce is True
    assert job.max_instances == 1
    after = datetime(2025, 6, 30, 12, 0, tzinfo=AMS)
    assert job.trigger.get_next_fire_time(None, after) == datetime(2025, 7, 1, 2, 0, tzinfo=AMS)
    # Spring forward: 02:00 does not exist on 30 March 2025; the job still runs that night.
    spring = job.trigger.get_next_fire_time(None, datetime(2025, 3, 29, 12, 0, tzinfo=AMS))
    assert spring is not None
    assert spring.date().isoformat() == "2025-03-30"


def test_disabled_by_default(sweep_db: SweepDb) -> None:
    assert sweep_db.settings.scheduler_enabled is False
    assert start_in_app(sweep_db.settings, sweep_db.engine) is None


def test_started_in_the_app_when_enabled(sweep_db: SweepDb) -> None:
    settings = sweep_db.settings.model_copy(update={"scheduler_enabled": True})
    scheduler = start_in_app(settings, sweep_db.engine)
    assert scheduler is not None
    try:
        assert scheduler.running
        assert scheduler.get_job(JOB_ID) is not None
    finally:
        scheduler.shutdown(wait=False)


def test_nightly_job_once_per_day_and_a_log_line_when_locked(
    sweep_db: SweepDb, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="meldplicht.sweeps")
    with sweep_lock(sweep_db.engine, holder="other:1:abcd"):
        nightly_sweep(sweep_db.engine, sweep_db.settings)
    assert "another sweep is running" in caplog.text
    assert "other:1:abcd" in caplog.text
    nightly_sweep(sweep_db.engine, sweep_db.settings)
    nightly_sweep(sweep_db.engine, sweep_db.settings)
    assert "already done by a scheduler" in caplog.text
    with Session(sweep_db.engine) as session:
        runs = session.exec(select(SweepRun)).all()
    assert [(r.as_of, r.trigger, r.status) for r in runs] == [
        (today(), "scheduler", SweepStatus.SUCCEEDED)
    ]
