"""Real OS processes: two sweeps at once make one run; a sweep killed mid-run and rerun ends
where an uninterrupted run ends. `python -m meldplicht sweep` against a committed database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from meldplicht.core.db import create_db_engine
from meldplicht.sweeps.models import SweepRun
from meldplicht.sweeps.sweep import SweepStatus, run_sweep
from tests.sweeps.conftest import (
    SweepDb,
    add_employer,
    body_for,
    clone_database,
    drop_database,
    flags,
    notify,
    settings_for,
    valid_bsns,
)

AS_OF = date(2024, 7, 1)
pytestmark = pytest.mark.slow


def seed(db: SweepDb, count: int) -> None:
    with db.session() as session, session.begin():
        employer_id = add_employer(session, "12345678").id
    for i, bsn in enumerate(valid_bsns(count, 500000000)):
        wage = "13.50" if i % 2 else "15.00"  # half below the minimum from 1 July 2024
        body = body_for(start=date(2024, 6, 10), wage=wage, bsn=bsn, hours=str(20 + i % 30))
        notify(db, employer_id, body, date(2024, 5, 27))


def start_sweep(url: str, batch_size: int, pause: float) -> subprocess.Popen[str]:
    """A sweep process that pauses `pause` seconds after each batch (an injected hook)."""
    env = {**os.environ, "MELDPLICHT_ENVIRONMENT": "test"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.sweeps.paused_sweep",
            url,
            AS_OF.isoformat(),
            str(batch_size),
            str(pause),
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def runs(db: SweepDb) -> list[SweepRun]:
    with Session(db.engine) as session:
        return list(session.exec(select(SweepRun).order_by(SweepRun.started_at)))


def test_two_concurrent_sweeps_make_one_run(sweep_db: SweepDb) -> None:
    seed(sweep_db, 40)
    sweep_db.engine.dispose()
    # Both start together; the pause keeps the winner busy (8 batches x 0.5 s) long after
    # the loser has tried the lock, whichever process wins.
    first = start_sweep(sweep_db.url, 5, pause=0.5)
    second = start_sweep(sweep_db.url, 5, pause=0.5)
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    said = [out for out, _ in outputs if "another sweep is running" in out]
    assert len(said) == 1, outputs
    assert "started at 20" in said[0]
    assert "holder " in said[0]
    recorded = runs(sweep_db)
    assert [r.status for r in recorded] == [SweepStatus.SUCCEEDED]
    assert recorded[0].counts["evaluated"] == 40


def test_killed_sweep_rerun_ends_like_a_clean_run(sweep_db: SweepDb, tmp_path: Path) -> None:
    seed(sweep_db, 30)
    # Last night's run succeeded; tonight's is killed after its first batch.
    run_sweep(sweep_db.engine, date(2024, 6, 30), settings=sweep_db.settings)
    sweep_db.engine.dispose()
    clean_url = clone_database(sweep_db.url, tmp_path)
    clean = SweepDb(clean_url, create_db_engine(clean_url), settings_for(clean_url), "")
    try:
        victim = start_sweep(sweep_db.url, 4, pause=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # Killed once the first batch is committed (the checkpoint is in its transaction).
            if any(r.checkpoint and r.status == SweepStatus.RUNNING for r in runs(sweep_db)):
                break
            assert victim.poll() is None, victim.communicate()
            time.sleep(0.1)
        else:
            pytest.fail("the first batch was never committed")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)  # reaped, so its pid no longer exists
        dead = runs(sweep_db)[-1]
        assert dead.status == SweepStatus.RUNNING
        assert 0 < dead.counts["evaluated"] < 30

        rerun = run_sweep(sweep_db.engine, AS_OF, settings=sweep_db.settings, batch_size=4)
        reference = run_sweep(clean.engine, AS_OF, settings=clean.settings, batch_size=4)
        assert rerun.status == reference.status == SweepStatus.SUCCEEDED
        assert [r.status for r in runs(sweep_db)] == [
            SweepStatus.SUCCEEDED,
            SweepStatus.INTERRUPTED,
            SweepStatus.SUCCEEDED,
        ]
        state = flags(sweep_db.engine)
        assert state == flags(clean.engine)
        assert sum(1 for _, status, _, _ in state.values() if status == "open") >= 15
        # The work the dead run committed is not redone by the incremental rerun.
        assert rerun.counts["evaluated"] == 30 - dead.counts["evaluated"]
    finally:
        clean.engine.dispose()
        drop_database(clean_url)
