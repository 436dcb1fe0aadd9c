"""The database engine (SQLite or PostgreSQL), sessions, and the migration-level check."""

from __future__ import annotations

import operator
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy import Engine, MetaData, Table, create_engine, event, insert
from sqlalchemy.exc import DBAPIError
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


# The execution option that carries a request's place in the process's SQLite write queue.
WRITE_TURN = "meldplicht_write_turn"


class WriteTurn:
    """One request's turn at the SQLite write lock: taken when its session first begins a
    transaction (not when the request arrives), given back when the request's transaction
    is over (session_from_request)."""

    __slots__ = ("_queue", "held")

    def __init__(self, queue: threading.Lock) -> None:
        self._queue = queue
        self.held = False

    def take(self) -> None:
        if not self.held:
            self._queue.acquire()
            self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self._queue.release()


def _sqlite_on_begin(conn: Any) -> None:
    turn: WriteTurn | None = conn.get_execution_options().get(WRITE_TURN)
    if turn is not None:
        turn.take()
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


async def session_from_request(request: Request) -> AsyncIterator[Session]:
    """One session and one transaction per request: commit on success, roll back on error.

    Declared with scope="function" so the commit happens before the response is sent. The
    session is made here on the event loop (that needs no connection yet); the commit or
    rollback runs in a worker thread of its own, shielded, like FastAPI's own handling of a
    generator dependency (so it never waits for the threadpool, nor is cut short).
    """
    engine: Engine = request.app.state.engine
    queue: threading.Lock | None = getattr(request.app.state, "sqlite_write_queue", None)
    # SQLite has one writer at a time. Left to itself, each waiting connection polls with
    # growing sleeps (busy_timeout), so under 16 concurrent writers the slowest waits seconds;
    # queueing the requests in the process first gives every one a fair, short wait. The turn
    # is taken at the session's first statement (its BEGIN IMMEDIATE) and kept until the
    # commit or rollback is done.
    turn = WriteTurn(queue) if queue is not None else None
    bind = engine if turn is None else engine.execution_options(**{WRITE_TURN: turn})
    session = Session(bind, expire_on_commit=False)
    session.begin()
    try:
        yield session
    except BaseException:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(
                _end_request_session, session, turn, False, limiter=CapacityLimiter(1)
            )
        raise
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(
            _end_request_session, session, turn, True, limiter=CapacityLimiter(1)
        )


def _end_request_session(session: Session, turn: WriteTurn | None, commit: bool) -> None:
    try:
        if commit:
            session.commit()
    finally:
        try:
            session.close()  # rolls back what was not committed
        finally:
            if turn is not None:
                turn.give_back()


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Insert append-only rows (versions, findings, audit entries, new flags) with one
    executemany, skipping the ORM's per-object bookkeeping on the hot intake path.

    Column defaults (ids, timestamps) still apply; the rows are not in the identity map, so
    read them back with a query if needed.
    """
    if rows:
        session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]


SessionDep = Annotated[Session, Depends(session_from_request, scope="function")]


def insert_plain_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> None:
    """Insert many rows at the driver's own speed: COPY on PostgreSQL (psycopg), one DBAPI
    executemany elsewhere; in the session's transaction (and savepoint), like `insert_rows`.

    Every row gives every column of `columns` (None for NULL): no column defaults apply. The
    values pass through the columns' own bind processors first, so they are stored exactly as
    `insert(table)` stores them. A driver error is raised as SQLAlchemy's (an
    `IntegrityError` for a duplicate key).
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    processors = [
        (i, p)
        for i, name in enumerate(columns)
        if (p := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    pick = operator.itemgetter(*columns)

    def values(row: Mapping[str, Any]) -> Sequence[Any]:
        picked = pick(row)
        if len(columns) == 1:
            picked = (picked,)
        if not processors:
            return picked  # type: ignore[no-any-return]
        out = list(picked)
        for i, process in processors:
            out[i] = process(out[i])
        return out

    quote = dialect.identifier_preparer.quote
    target = f"{dialect.identifier_preparer.format_table(table)} ({', '.join(map(quote, columns))})"
    driver = connection.connection.driver_connection
    dbapi = dialect.loaded_dbapi
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        statement = f"COPY {target} FROM STDIN"
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(values(row))
        except dbapi.Error as exc:
            raise DBAPIError.instance(
                statement, None, exc, dbapi.Error, hide_parameters=True, dialect=dialect
            ) from exc
        return
    marks = ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(columns))
    statement = f"INSERT INTO {target} VALUES ({marks})"  # noqa: S608 - names from the model
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, map(values, rows))  # no second copy of the batch
    except dbapi.Error as exc:
        raise DBAPIError.instance(
            statement, None, exc, dbapi.Error, hide_parameters=True, dialect=dialect
        ) from exc
    finally:
        cursor.close()
