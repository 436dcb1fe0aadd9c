"""The nightly sweep on APScheduler 3: one cron job, in `serve` or in its own process.

APScheduler 3 cannot coordinate several schedulers, so the jobs live in memory and the
database decides: `run_sweep` takes the sweep lock, and a day already swept successfully by
a scheduler is not swept again (several web workers each starting a scheduler then cost one
log line each, not a second sweep).
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from meldplicht.core.clock import utcnow
from meldplicht.core.config import Settings
from meldplicht.sweeps.lock import SweepAlreadyRunning
from meldplicht.sweeps.models import SweepRun
from meldplicht.sweeps.sweep import SweepMode, SweepStatus, SweepTrigger, run_sweep

log = logging.getLogger("meldplicht.sweeps")

JOB_ID = "nightly-sweep"
# A run missed by up to this many seconds (the process was down at 02:00) still happens.
MISFIRE_GRACE_SECONDS = 6 * 3600


def nightly_sweep(engine: Engine, settings: Settings) -> None:
    """The job: an incremental sweep as of today's date in the legal calendar."""
    as_of = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
    with Session(engine) as session:
        done = session.exec(
            select(func.count())
            .select_from(SweepRun)
            .where(
                SweepRun.as_of == as_of,
                SweepRun.trigger == SweepTrigger.SCHEDULER,
                SweepRun.status == SweepStatus.SUCCEEDED,
            )
        ).one()
    if done:
        log.info("nightly sweep as of %s: already done by a scheduler, skipped", as_of)
        return
    try:
        run = run_sweep(
            engine,
            as_of,
            mode=SweepMode.INCREMENTAL,
            trigger=SweepTrigger.SCHEDULER,
            settings=settings,
        )
    except SweepAlreadyRunning as exc:
        log.info("nightly sweep as of %s not started: %s", as_of, exc)
        return
    except Exception:
        # The scheduler must survive a failed night; the run row (if any) says what happened.
        log.exception("nightly sweep as of %s failed", as_of)
        return
    log.info("nightly sweep %s as of %s: %s %s", run.id, as_of, run.status, run.counts)


def configure(scheduler: BaseScheduler, engine: Engine, settings: Settings) -> None:
    """Register the nightly job (idempotent: a stable id replaces an earlier registration)."""
    scheduler.add_job(
        nightly_sweep,
        CronTrigger.from_crontab(settings.sweep_cron, timezone=ZoneInfo(settings.timezone)),
        args=(engine, settings),
        id=JOB_ID,
        name="nightly sweep",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
    )


def blocking_scheduler(engine: Engine, settings: Settings) -> BlockingScheduler:
    """For `meldplicht scheduler`: call `.start()`, which blocks until shutdown."""
    scheduler = BlockingScheduler(timezone=ZoneInfo(settings.timezone))
    configure(scheduler, engine, settings)
    return scheduler


def start_in_app(settings: Settings, engine: Engine) -> BackgroundScheduler | None:
    """For `serve`: start a background scheduler when `scheduler_enabled`, else None.

    Call `.shutdown(wait=False)` on the result when the app stops.
    """
    if not settings.scheduler_enabled:
        return None
    scheduler = BackgroundScheduler(timezone=ZoneInfo(settings.timezone))
    configure(scheduler, engine, settings)
    scheduler.start()
    job = scheduler.get_job(JOB_ID)
    log.info("sweep scheduler started; next run at %s", job.next_run_time if job else None)
    return scheduler
