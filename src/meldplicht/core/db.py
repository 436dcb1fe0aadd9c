"""The database engine (SQLite or PostgreSQL), sessions, and the migration-level check."""

from __future__ import annotations

import operator
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    MetaData,
    Table,
    create_engine,
    event,
    insert,
    make_url,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
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
# Connections a process keeps open, and how many more it may open for a burst. Kept above the
# requests one process serves at once under load (16 clients in the intake benchmark): an
# overflow connection is opened and closed per request, and a PostgreSQL connection starts a
# server process each time (the pool at 10 spent about a tenth of intake's CPU on that).
POOL_SIZE = 20
POOL_OVERFLOW = 20
_M = TypeVar("_M", bound=SQLModel)


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
# session.info key of a session made by session_from_request (see commit_request).
REQUEST_TURN = "meldplicht_request_turn"


class WriteTurn:
    """One request's turn at the SQLite write lock: taken just before the request's first
    write (not when it arrives, nor at its first read), given back when its transaction is
    over (commit_request, or session_from_request at the end).

    Until then the request's reads (its API key, an idempotency record) run as SQLite's
    autocommit reads, each seeing the newest committed data, as every statement does under
    PostgreSQL's READ COMMITTED: they neither wait for nor hold up the writer.
    """

    __slots__ = ("_queue", "held", "pending")

    def __init__(self, queue: threading.Lock) -> None:
        self._queue = queue
        self.held = False
        # The session is in a transaction on which no BEGIN has been sent yet.
        self.pending = False

    def take(self) -> None:
        if not self.held:
            self._queue.acquire()
            self.held = True

    def give_back(self) -> None:
        self.pending = False
        if self.held:
            self.held = False
            self._queue.release()


def _sqlite_on_begin(conn: Any) -> None:
    turn: WriteTurn | None = conn.get_execution_options().get(WRITE_TURN)
    if turn is not None:
        # A request's transaction starts at its first write (_sqlite_before_write).
        turn.pending = True
        return
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue on busy_timeout instead of
    # one failing with "database is locked" when it upgrades a read lock mid-transaction.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _is_plain_read(statement: str, context: Any) -> bool:
    if statement.lstrip()[:6].upper() != "SELECT":
        return False
    # SELECT ... FOR UPDATE (which SQLite's compiler leaves out) means "I am about to write
    # this row": it is read inside the write transaction, so nobody changes it in between.
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is None


def _sqlite_before_write(
    conn: Any,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    """A request's first write (or SAVEPOINT, or SELECT ... FOR UPDATE) takes the write turn
    and begins the transaction: BEGIN IMMEDIATE, before the statement runs."""
    turn: WriteTurn | None = conn.get_execution_options().get(WRITE_TURN)
    if turn is not None and turn.pending and not _is_plain_read(statement, context):
        _begin_write(conn, turn)


def _begin_write(conn: Any, turn: WriteTurn) -> None:
    turn.pending = False
    turn.take()
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE")


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A file: a queue pool like PostgreSQL's; in memory, SQLAlchemy's own choice.
        file_pool: dict[str, Any] = (
            {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
            if make_url(url).database not in (None, "", ":memory:")
            else {}
        )
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,  # error messages never carry bound values (names, BSN hashes)
            connect_args={"check_same_thread": False, "timeout": 30},
            **file_pool,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_before_write)
        return engine
    return create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=10,
    )


async def session_from_request(request: Request) -> AsyncIterator[Session]:
    """One session and one transaction per request: commit on success, roll back on error.

    Declared with scope="function" so the commit happens before the response is sent. The
    session is made here on the event loop (that needs no connection yet); the commit or
    rollback runs in a worker thread of its own, shielded, like FastAPI's own handling of a
    generator dependency (so it never waits for the threadpool, nor is cut short). A handler
    may commit earlier, in its own thread, with `commit_request`.
    """
    engine: Engine = request.app.state.engine
    queue: threading.Lock | None = getattr(request.app.state, "sqlite_write_queue", None)
    # SQLite has one writer at a time. Left to itself, each waiting connection polls with
    # growing sleeps (busy_timeout), so under 16 concurrent writers the slowest waits seconds;
    # queueing the requests in the process first gives every one a fair, short wait. The turn
    # is taken at the request's first write (its BEGIN IMMEDIATE) and kept until the commit
    # or rollback is done.
    turn = WriteTurn(queue) if queue is not None else None
    bind = engine if turn is None else engine.execution_options(**{WRITE_TURN: turn})
    session = Session(bind, expire_on_commit=False)
    session.info[REQUEST_TURN] = turn
    session.begin()
    try:
        yield session
    except BaseException:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(
                _end_request_session, session, turn, False, limiter=CapacityLimiter(1)
            )
        raise
    if not session.in_transaction() and (turn is None or not turn.held):
        # Committed by the handler (commit_request) and not used since: the connection is
        # back in the pool, so closing does no I/O and needs no worker thread.
        session.close()
        return
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


def commit_request(session: Session) -> None:
    """Commit a request's session now, in the caller's thread, and give back its SQLite
    write turn at once: the answer is then built, and the next writer let in, without waiting
    for the request's end (session_from_request, one more hop to a worker thread) to do it.

    Only for a session session_from_request made: any other (a test's session joined to its
    outer transaction, a command's own) is left to whoever made it.
    """
    if REQUEST_TURN not in session.info:
        return
    session.commit()
    turn: WriteTurn | None = session.info[REQUEST_TURN]
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
    connection = _write_connection(session)
    dialect = connection.dialect
    values = _row_values(table, tuple(columns), dialect)
    target = _target(table, columns, dialect)
    driver = connection.connection.driver_connection
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        statement = f"COPY {target} FROM STDIN"
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(values(row))
        except dialect.loaded_dbapi.Error as exc:
            raise _wrapped(statement, exc, dialect) from exc
        return
    _executemany(driver, dialect, _insert_sql(target, dialect, columns), rows, values)


def insert_together(
    session: Session, batches: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]
) -> None:
    """Insert rows into several tables at once, in the session's transaction: parents before
    children (foreign keys are checked at the end, as for one statement). All rows of one
    table give the same columns, every column they need: no column defaults apply, and the
    values pass through the columns' bind processors as in `insert_plain_rows`.

    On PostgreSQL this is one statement (INSERTs in a WITH), so one round trip for all of
    them; on SQLite, which has no round trips to save, one driver executemany per table,
    without SQLAlchemy's per-statement work.
    """
    batches = [(table, rows) for table, rows in batches if rows]
    if not batches:
        return
    connection = _write_connection(session)
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    shaped = []
    for table, rows in batches:
        columns = tuple(rows[0])
        shaped.append((table, rows, columns, _row_values(table, columns, dialect)))
    if dialect.name != "postgresql":
        for table, rows, columns, values in shaped:
            statement = _insert_sql(_target(table, columns, dialect), dialect, columns)
            _executemany(driver, dialect, statement, rows, values)
        return
    inserts = []
    params: list[Any] = []
    for table, rows, columns, values in shaped:
        row_marks = f"({_marks(dialect, columns)})"
        inserts.append(
            f"INSERT INTO {_target(table, columns, dialect)} VALUES "  # noqa: S608
            + ", ".join([row_marks] * len(rows))
        )
        for row in rows:
            params.extend(values(row))
    *first, last = inserts
    statement = (
        "WITH " + ", ".join(f"i{n} AS ({sql})" for n, sql in enumerate(first)) + " " + last
        if first
        else last
    )
    try:
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(statement, params)
    except dialect.loaded_dbapi.Error as exc:
        raise _wrapped(statement, exc, dialect) from exc


def persistent_from_row(session: Session, model: type[_M], row: Mapping[str, Any]) -> _M:
    """The ORM object of a row just inserted plainly (every column in `row`), added to the
    session as persistent and loaded, as if read back: made the way a query makes one, not
    by the constructor (whose per-attribute events cost more than the insert)."""
    obj: _M = manager_of_class(model).new_instance()
    obj.__dict__.update(row)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def upsert_row(
    session: Session,
    table: Table,
    row: Mapping[str, Any],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
    returning: str,
) -> Any:
    """INSERT `row` (every column it needs), or on a clash of the unique `conflict` columns
    set the `update` columns of the existing row to the row's; give back the stored row's
    `returning` column. One statement at the driver (the same SQL on SQLite and PostgreSQL),
    in the session's transaction: the ORM's objects are not brought up to date."""
    connection = _write_connection(session)
    dialect = connection.dialect
    columns = tuple(row)
    key = (dialect.name, table.name, columns, tuple(conflict), tuple(update), returning)
    prepared = _UPSERTS.get(key)
    if prepared is None:
        quote = dialect.identifier_preparer.quote
        statement = (
            _insert_sql(_target(table, columns, dialect), dialect, columns)
            + f" ON CONFLICT ({', '.join(map(quote, conflict))}) DO UPDATE SET "
            + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in update)
            + f" RETURNING {quote(returning)}"
        )
        result: Callable[[Any], Any] | None = (
            table.c[returning].type.dialect_impl(dialect).result_processor(dialect, None)
        )
        prepared = _UPSERTS[key] = (statement, result)
    statement, result = prepared
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement, _row_values(table, columns, dialect)(row))
        value = cursor.fetchone()[0]
    except dialect.loaded_dbapi.Error as exc:
        raise _wrapped(statement, exc, dialect) from exc
    finally:
        cursor.close()
    return result(value) if result is not None else value


_UPSERTS: dict[tuple[Any, ...], tuple[str, Callable[[Any], Any] | None]] = {}


def _write_connection(session: Session) -> Connection:
    connection = session.connection()
    turn: WriteTurn | None = connection.get_execution_options().get(WRITE_TURN)
    if turn is not None and turn.pending:
        _begin_write(connection, turn)  # the driver's own statements pass no SQLAlchemy event
    return connection


_ROW_VALUES: dict[
    tuple[str, str, tuple[str, ...]], Callable[[Mapping[str, Any]], Sequence[Any]]
] = {}


def _row_values(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """A row's values in `columns` order, as the columns' bind processors give them."""
    key = (dialect.name, table.name, columns)
    cached = _ROW_VALUES.get(key)
    if cached is not None:
        return cached
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

    _ROW_VALUES[key] = values
    return values


def _target(table: Table, columns: Sequence[str], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    return f"{dialect.identifier_preparer.format_table(table)} ({', '.join(map(quote, columns))})"


def _insert_sql(target: str, dialect: Dialect, columns: Sequence[str]) -> str:
    return f"INSERT INTO {target} VALUES ({_marks(dialect, columns)})"  # noqa: S608 - names from the model


def _marks(dialect: Dialect, columns: Sequence[str]) -> str:
    return ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(columns))


def _wrapped(statement: str, exc: Exception, dialect: Dialect) -> StatementError:
    dbapi = dialect.loaded_dbapi
    return DBAPIError.instance(
        statement, None, exc, dbapi.Error, hide_parameters=True, dialect=dialect
    )


def _executemany(
    driver: Any,
    dialect: Dialect,
    statement: str,
    rows: Sequence[Mapping[str, Any]],
    values: Callable[[Mapping[str, Any]], Sequence[Any]],
) -> None:
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, map(values, rows))  # no second copy of the batch
    except dialect.loaded_dbapi.Error as exc:
        raise _wrapped(statement, exc, dialect) from exc
    finally:
        cursor.close()


def update_rows_where_seen(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    key: str,
    version: str,
    seen: str,
) -> int:
    """For every row, UPDATE `table` SET `columns` to the row's values WHERE `key` is the
    row's and `version` is still what the row says was read (`row[seen]`); returns how many
    rows matched (fewer than given: someone changed a row in between). In the session's
    transaction (and savepoint); the ORM's objects are not brought up to date.

    On PostgreSQL (psycopg) the rows are copied (COPY) into a temporary table and applied by
    one UPDATE ... FROM: a few round trips however many rows. Elsewhere one driver
    executemany (SQLite sums the rows it changed into the cursor's rowcount). Every row
    gives every column of `columns`, passed through the columns' bind processors first.
    """
    if not rows:
        return 0
    connection = _write_connection(session)
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    names = (key, *columns)
    values = _row_values(table, names, dialect)
    seen_value: Callable[[Any], Any] = table.c[version].type.dialect_impl(dialect).bind_processor(
        dialect
    ) or (lambda value: value)
    driver = connection.connection.driver_connection
    target = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        scratch = quote(f"meldplicht_changes_{table.name}")
        marker = quote("meldplicht_seen")
        statements = (
            f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS SELECT {quote(key)}, "  # noqa: S608 - names from the model
            f"{quote(version)} AS {marker}, {', '.join(map(quote, columns))} "
            f"FROM {target} WITH NO DATA",
            f"COPY {scratch} ({quote(key)}, {marker}, {', '.join(map(quote, columns))}) FROM STDIN",
            f"ANALYZE {scratch}",
            f"UPDATE {target} AS t SET "  # noqa: S608 - names from the model
            + ", ".join(f"{quote(c)} = s.{quote(c)}" for c in columns)
            + f" FROM {scratch} AS s WHERE t.{quote(key)} = s.{quote(key)}"
            f" AND t.{quote(version)} = s.{marker}",
            f"DROP TABLE {scratch}",
        )
        create, copy_sql, analyze, apply, drop = statements
        statement = create
        try:
            with driver.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(create)
                statement = copy_sql
                with cursor.copy(copy_sql) as copy:
                    for row in rows:
                        first, *rest = values(row)
                        copy.write_row((first, seen_value(row[seen]), *rest))
                statement = analyze
                cursor.execute(analyze)
                statement = apply
                cursor.execute(apply)
                matched = int(cursor.rowcount)
                statement = drop
                cursor.execute(drop)
        except dialect.loaded_dbapi.Error as exc:
            raise _wrapped(statement, exc, dialect) from exc
        return matched
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"UPDATE {target} SET "  # noqa: S608 - names from the model
        + ", ".join(f"{quote(c)} = {mark}" for c in columns)
        + f" WHERE {quote(key)} = {mark} AND {quote(version)} = {mark}"
    )

    def params(row: Mapping[str, Any]) -> Sequence[Any]:
        first, *rest = values(row)
        return (*rest, first, seen_value(row[seen]))

    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, map(params, rows))
        return int(cursor.rowcount)
    except dialect.loaded_dbapi.Error as exc:
        raise _wrapped(statement, exc, dialect) from exc
    finally:
        cursor.close()


def insert_rows_skipping(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: str,
    returning: str,
) -> list[Any]:
    """INSERT the rows ... ON CONFLICT (`conflict`) DO NOTHING: a row whose unique
    `conflict` value is already stored (someone else inserted it first) is left out, not an
    error. Returns the `returning` column of the rows inserted. In the session's transaction.

    All rows give the same columns (every column they need: no column defaults apply on
    PostgreSQL). On PostgreSQL (psycopg) they are copied (COPY) into a temporary table and
    inserted from it by one INSERT ... SELECT; elsewhere one executemany with RETURNING.
    """
    if not rows:
        return []
    connection = _write_connection(session)
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        quote = dialect.identifier_preparer.quote
        columns = tuple(rows[0])
        values = _row_values(table, columns, dialect)
        names = ", ".join(map(quote, columns))
        target = dialect.identifier_preparer.format_table(table)
        scratch = quote(f"meldplicht_new_{table.name}")
        statements = (
            f"CREATE TEMPORARY TABLE {scratch} ON COMMIT DROP AS SELECT {names} "  # noqa: S608 - names from the model
            f"FROM {target} WITH NO DATA",
            f"COPY {scratch} ({names}) FROM STDIN",
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {scratch} "  # noqa: S608 - names from the model
            f"ON CONFLICT ({quote(conflict)}) DO NOTHING RETURNING {quote(returning)}",
            f"DROP TABLE {scratch}",
        )
        create, copy_sql, insert_sql, drop = statements
        statement = create
        result: Callable[[Any], Any] | None = (
            table.c[returning].type.dialect_impl(dialect).result_processor(dialect, None)
        )
        try:
            with driver_cursor(connection) as cursor:
                cursor.execute(create)
                statement = copy_sql
                with cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(values(row))
                statement = insert_sql
                cursor.execute(insert_sql)
                found = [row[0] for row in cursor.fetchall()]
                statement = drop
                cursor.execute(drop)
        except dialect.loaded_dbapi.Error as exc:
            raise _wrapped(statement, exc, dialect) from exc
        return [result(v) for v in found] if result is not None else found
    statement_sa = (
        sqlite_insert(table)
        .on_conflict_do_nothing(index_elements=[table.c[conflict]])
        .returning(table.c[returning])
    )
    return list(session.execute(statement_sa, list(rows)).scalars())


def driver_cursor(connection: Connection) -> Any:
    """A cursor of the driver's own connection (psycopg, sqlite3) under SQLAlchemy's."""
    return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
