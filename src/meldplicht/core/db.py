"""The database engine (SQLite or PostgreSQL), sessions, and the migration-level check."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, MetaData, create_engine, event, insert
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, SQLModel

# Stable constraint names: Alembic batch mode on SQLite needs them to alter tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Take transaction control away from the sqlite3 module (legacy mode breaks SAVEPOINT);
    # SQLAlchemy's "begin" hook below emits BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue on busy_timeout instead of
    # one failing with "database is locked" when it upgrades a read lock mid-transaction.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,  # error messages never carry bound values (names, BSN hashes)
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=10,
    )


def session_from_request(request: Request) -> Iterator[Session]:
    """One session and one transaction per request: commit on success, roll back on error.

    Declared with scope="function" so the commit happens before the response is sent.
    """
    engine: Engine = request.app.state.engine
    queue: threading.Lock | None = getattr(request.app.state, "sqlite_write_queue", None)
    if queue is None:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
        return
    # SQLite has one writer at a time. Left to itself, each waiting connection polls with
    # growing sleeps (busy_timeout), so under 16 concurrent writers the slowest waits seconds;
    # queueing the requests in the process first gives every one a fair, short wait.
    with queue, Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Insert append-only rows (versions, findings, audit entries, new flags) with one
    executemany, skipping the ORM's per-object bookkeeping on the hot intake path.

    Column defaults (ids, timestamps) still apply; the rows are not in the identity map, so
    read them back with a query if needed.
    """
    if rows:
        session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]


SessionDep = Annotated[Session, Depends(session_from_request, scope="function")]
