"""Request sessions: SQLite's write turn is taken at the first write, not the first read;
`commit_request` commits in the caller's thread; `insert_together` writes several tables."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Uuid, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from meldplicht.core.db import (
    POOL_SIZE,
    REQUEST_TURN,
    WRITE_TURN,
    WriteTurn,
    commit_request,
    create_db_engine,
    insert_together,
)

_meta = MetaData()
_parent = Table(
    "t_together_parent",
    _meta,
    Column("id", Uuid, primary_key=True),
    Column("name", String(20), nullable=False),
)
_child = Table(
    "t_together_child",
    _meta,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Uuid, ForeignKey("t_together_parent.id"), nullable=False),
    Column("position", Integer, nullable=False),
)


def _request_session(tmp_path: Path) -> tuple[Session, WriteTurn, threading.Lock]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'turn.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    queue = threading.Lock()
    turn = WriteTurn(queue)
    session = Session(engine.execution_options(**{WRITE_TURN: turn}), expire_on_commit=False)
    session.info[REQUEST_TURN] = turn
    session.begin()
    return session, turn, queue


def test_sqlite_reads_take_no_write_turn_and_the_first_write_does(tmp_path: Path) -> None:
    session, turn, queue = _request_session(tmp_path)
    assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    assert not turn.held
    assert not queue.locked()
    # The read held no lock: another connection writes meanwhile without waiting.
    other = create_db_engine(str(session.get_bind().url))
    with other.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t (v) VALUES ('other')")
    other.dispose()
    session.execute(text("INSERT INTO t (v) VALUES ('mine')"))
    assert turn.held
    assert queue.locked()
    commit_request(session)  # commits and gives the turn back at once
    assert not turn.held
    assert not queue.locked()
    assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    session.close()


def test_sqlite_select_for_update_is_read_in_the_write_transaction(tmp_path: Path) -> None:
    session, turn, queue = _request_session(tmp_path)
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", String))
    session.execute(select(table.c.id).with_for_update()).all()
    assert turn.held
    assert queue.locked()
    session.rollback()
    turn.give_back()
    assert not queue.locked()
    session.close()


def test_commit_request_leaves_other_sessions_to_their_owner(session: Session) -> None:
    # A test's session joined to its outer transaction: nothing is committed.
    session.execute(text("SELECT 1"))
    commit_request(session)
    assert session.in_transaction()


def test_insert_together_writes_parents_and_children(session: Session) -> None:
    _meta.create_all(session.connection())  # rolled back with the test's transaction
    parent = uuid.uuid4()
    insert_together(
        session,
        [
            (_parent, [{"id": parent, "name": "one"}]),
            (_child, [{"id": 1, "parent_id": parent, "position": 0}]),
            (_child, []),
            (_child, [{"id": 2, "parent_id": parent, "position": 1}]),
        ],
    )
    rows = session.execute(select(_child.c.position).order_by(_child.c.id)).scalars().all()
    assert rows == [0, 1]
    with pytest.raises(IntegrityError), session.begin_nested():
        insert_together(
            session,
            [
                (_parent, [{"id": uuid.uuid4(), "name": "two"}]),
                (_child, [{"id": 1, "parent_id": parent, "position": 2}]),  # a duplicate
            ],
        )
    assert session.execute(select(_parent.c.name)).scalars().all() == ["one"]


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_keeps_sqlalchemys_own_pool(url: str) -> None:
    engine = create_db_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    engine.dispose()


def test_a_database_file_gets_a_pool_above_the_load_of_one_process(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    assert isinstance(engine.pool, QueuePool)
    assert engine.pool.size() == POOL_SIZE
    engine.dispose()
