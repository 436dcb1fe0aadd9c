"""One sweep at a time across processes and machines: a database lock held for the whole run.

PostgreSQL: `pg_try_advisory_lock` on a connection kept open for the run; the server releases
it when that connection ends, so a killed process never leaves it behind. SQLite (and any
other backend): the `sweep_lock` row, claimed with one atomic UPDATE that succeeds only when
the row is free or its lease expired, and kept alive by `heartbeat()`. A lease held by a
process on this machine that no longer exists is taken over at once instead of waiting out
the expiry. On both backends the row says who holds the lock and since when, for the message
a second sweep prints.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from meldplicht.core.clock import utcnow
from meldplicht.sweeps.models import SweepLock

log = logging.getLogger("meldplicht.sweeps")

LOCK_NAME = "sweep"
# A stable 64-bit key for pg_try_advisory_lock, derived from the lock name.
ADVISORY_KEY = 0x6D656C64_00000000 | zlib.crc32(LOCK_NAME.encode())
DEFAULT_LEASE = timedelta(minutes=15)
# How long (x 0.1 s) a refused sweep waits for the holder's name on PostgreSQL.
HOLDER_WAIT_STEPS = 20
# How long (x 0.2 s) to wait for the server to free the lock of a dead process on this host.
DEAD_HOLDER_WAIT_STEPS = 50


class SweepAlreadyRunning(Exception):
    """Another process holds the sweep lock; nothing was started."""

    def __init__(self, holder: str | None, acquired_at: datetime | None) -> None:
        self.holder = holder
        self.acquired_at = acquired_at
        started = acquired_at.isoformat(timespec="seconds") if acquired_at else "unknown"
        super().__init__(
            f"another sweep is running (started at {started}, holder {holder or 'unknown'})"
        )


class SweepLockLost(Exception):
    """The lease expired and another process claimed the lock; this run must stop."""


def make_holder() -> str:
    """host:pid:token, so a stale lease on this host can be recognised as a dead process."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead_here(holder: str) -> bool:
    """True only when the holder ran on this machine and its process no longer exists."""
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    if parts[0] != socket.gethostname()[:80]:
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


@dataclass(slots=True)
class LockHandle:
    """The held lock: call `heartbeat()` between batches so the lease does not run out."""

    engine: Engine
    holder: str
    lease: timedelta
    connection: Connection | None = None  # PostgreSQL: the connection that holds the lock

    def heartbeat(self) -> None:
        if self.connection is not None:
            return  # the advisory lock lives as long as its connection
        now = utcnow()
        with Session(self.engine) as session, session.begin():
            result = session.execute(
                update(SweepLock)
                .where(col(SweepLock.name) == LOCK_NAME, col(SweepLock.holder) == self.holder)
                .values(expires_at=now + self.lease)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult at runtime
                raise SweepLockLost(f"the sweep lock held by {self.holder} was taken over")


def _ensure_row(session: Session) -> None:
    table = SQLModel.metadata.tables[SweepLock.__tablename__]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(table).values(name=LOCK_NAME).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(table).values(name=LOCK_NAME).on_conflict_do_nothing())


def _current(session: Session) -> SweepLock | None:
    return session.exec(select(SweepLock).where(SweepLock.name == LOCK_NAME)).first()


def _claim_row(engine: Engine, holder: str, lease: timedelta) -> None:
    """Atomically take the lock row, or raise SweepAlreadyRunning naming the holder."""
    now = utcnow()
    with Session(engine) as session, session.begin():
        _ensure_row(session)
        row = _current(session)
        free = row is None or row.holder is None or row.expires_at is None or row.expires_at < now
        stale_holder = None
        if not free and row is not None and row.holder and _holder_is_dead_here(row.holder):
            stale_holder = row.holder
            log.warning("taking over the sweep lock from %s: that process has ended", row.holder)
        claimable = (
            col(SweepLock.holder).is_(None)
            | col(SweepLock.expires_at).is_(None)
            | (col(SweepLock.expires_at) < now)
        )
        if stale_holder is not None:
            claimable = claimable | (col(SweepLock.holder) == stale_holder)
        result = session.execute(
            update(SweepLock)
            .where(col(SweepLock.name) == LOCK_NAME, claimable)
            .values(holder=holder, acquired_at=now, expires_at=now + lease)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]  # CursorResult at runtime
            return
        session.rollback()
    with Session(engine) as session:
        row = _current(session)
        raise SweepAlreadyRunning(row.holder if row else None, row.acquired_at if row else None)


def _release_row(engine: Engine, holder: str) -> None:
    with Session(engine) as session, session.begin():
        session.execute(
            update(SweepLock)
            .where(col(SweepLock.name) == LOCK_NAME, col(SweepLock.holder) == holder)
            .values(holder=None, expires_at=None)
        )


def _record_pg_holder(engine: Engine, holder: str) -> None:
    """On PostgreSQL the row is only informational: the advisory lock decides."""
    now = utcnow()
    with Session(engine) as session, session.begin():
        _ensure_row(session)
        session.execute(
            update(SweepLock)
            .where(col(SweepLock.name) == LOCK_NAME)
            .values(holder=holder, acquired_at=now, expires_at=None)
        )


def _pg_try_lock(engine: Engine, conn: Connection) -> bool:
    """Try the advisory lock; while its recorded holder is a dead process on this machine,
    keep trying briefly (the server frees a killed client's lock once it notices the closed
    connection, which can take a moment)."""
    for _ in range(DEAD_HOLDER_WAIT_STEPS):
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
        ).scalar_one()
        if got:
            return True
        with Session(engine) as session:
            row = _current(session)
        if row is None or row.holder is None or not _holder_is_dead_here(row.holder):
            return False
        time.sleep(0.2)
    return False


def _pg_holder(engine: Engine) -> tuple[str | None, datetime | None]:
    """Who holds the advisory lock, as its holder wrote it down (a moment after taking it)."""
    for _ in range(HOLDER_WAIT_STEPS):
        with Session(engine) as session:
            row = _current(session)
            if row is not None and row.holder is not None:
                return row.holder, row.acquired_at
        time.sleep(0.1)
    return None, None


@contextmanager
def sweep_lock(
    engine: Engine, *, holder: str | None = None, lease: timedelta = DEFAULT_LEASE
) -> Iterator[LockHandle]:
    """Hold the sweep lock for the body of the `with`; raise SweepAlreadyRunning if taken."""
    holder = holder or make_holder()
    if engine.dialect.name == "postgresql":
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            if not _pg_try_lock(engine, conn):
                holder_now, since = _pg_holder(engine)
                raise SweepAlreadyRunning(holder_now, since)
            _record_pg_holder(engine, holder)
            try:
                yield LockHandle(engine, holder, lease, connection=conn)
            finally:
                _release_row(engine, holder)
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        finally:
            conn.close()
        return
    _claim_row(engine, holder, lease)
    try:
        yield LockHandle(engine, holder, lease)
    finally:
        _release_row(engine, holder)
