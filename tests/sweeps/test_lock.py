"""The sweep lock on both backends: one holder, a clear refusal, expiry, dead holders."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from meldplicht.core.clock import utcnow
from meldplicht.sweeps.lock import (
    LOCK_NAME,
    SweepAlreadyRunning,
    SweepLockLost,
    make_holder,
    sweep_lock,
)
from meldplicht.sweeps.models import SweepLock, SweepRun
from meldplicht.sweeps.sweep import run_sweep
from tests.sweeps.conftest import SweepDb


def test_second_holder_is_refused_with_who_and_since(sweep_db: SweepDb) -> None:
    with sweep_lock(sweep_db.engine, holder="host-a:1:aaaa") as held:
        with (
            pytest.raises(SweepAlreadyRunning) as refused,
            sweep_lock(sweep_db.engine, holder="host-b:2:bbbb"),
        ):
            pass
        assert refused.value.holder == held.holder
        assert refused.value.acquired_at is not None
        text = str(refused.value)
        assert text.startswith("another sweep is running (started at 20")
        assert "holder host-a:1:aaaa" in text
        # run_sweep creates no run while the lock is held.
        with pytest.raises(SweepAlreadyRunning):
            run_sweep(sweep_db.engine, date(2024, 7, 1), settings=sweep_db.settings)
    with Session(sweep_db.engine) as session:
        assert session.exec(select(SweepRun)).all() == []
    with sweep_lock(sweep_db.engine):  # released: free again
        pass


def test_lock_row_released_and_reusable(sweep_db: SweepDb) -> None:
    for _ in range(3):
        with sweep_lock(sweep_db.engine) as held:
            held.heartbeat()
    with Session(sweep_db.engine) as session:
        row = session.get(SweepLock, LOCK_NAME)
        assert row is not None
        assert row.holder is None


@pytest.fixture
def sqlite_only(sweep_db: SweepDb) -> SweepDb:
    if sweep_db.backend != "sqlite":
        pytest.skip("the lease row decides only where there are no advisory locks")
    return sweep_db


def _set_lease(db: SweepDb, holder: str, expires_in: timedelta) -> None:
    now = utcnow()
    with Session(db.engine) as session, session.begin():
        session.merge(
            SweepLock(name=LOCK_NAME, holder=holder, acquired_at=now, expires_at=now + expires_in)
        )


def test_expired_lease_is_taken_over(sqlite_only: SweepDb) -> None:
    _set_lease(sqlite_only, "elsewhere:123:dead", timedelta(seconds=-1))
    with sweep_lock(sqlite_only.engine, holder="me:1:x"):
        pass


def test_live_lease_elsewhere_is_respected(sqlite_only: SweepDb) -> None:
    _set_lease(sqlite_only, "other-machine:1:abcd", timedelta(minutes=5))
    with (
        pytest.raises(SweepAlreadyRunning, match="other-machine:1:abcd"),
        sweep_lock(sqlite_only.engine),
    ):
        pass


def test_lease_of_a_dead_process_on_this_machine_is_taken_over(sqlite_only: SweepDb) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    _set_lease(
        sqlite_only, f"{socket.gethostname()}:{gone.stdout.strip()}:abcd", timedelta(minutes=5)
    )
    with sweep_lock(sqlite_only.engine):
        pass


def test_heartbeat_notices_a_lost_lease(sqlite_only: SweepDb) -> None:
    with sweep_lock(sqlite_only.engine, holder=make_holder()) as held:
        with Session(sqlite_only.engine) as session, session.begin():
            session.execute(
                update(SweepLock).where(col(SweepLock.name) == LOCK_NAME).values(holder="thief")
            )
        with pytest.raises(SweepLockLost):
            held.heartbeat()
