"""The audit log is append-only: no code path edits it, and the database refuses to."""

from __future__ import annotations

import inspect
import uuid

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from meldplicht.audit import service
from meldplicht.audit.models import AuditEvent
from meldplicht.core.security import Principal

ACTOR = Principal(role="inspector", actor_id="user:test")


def test_the_service_only_inserts() -> None:
    functions = [name for name, _ in inspect.getmembers(service, inspect.isfunction)]
    own = [n for n in functions if getattr(service, n).__module__ == service.__name__]
    assert set(own) <= {"entry", "record", "record_many"}, own
    source = inspect.getsource(service)
    for verb in ("delete(", "update(", ".merge(", "execute(", "DELETE", "UPDATE"):
        assert verb not in source, verb


def _committed_event(engine: Engine) -> int:
    subject = uuid.uuid4().hex
    with Session(engine) as session, session.begin():
        service.record(session, ACTOR, "test.appended", "test", subject, {"n": 1})
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.subject_id == subject)).one()
        assert event.id is not None
        return event.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'forged' WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
    ],
)
def test_the_database_refuses_update_and_delete(engine: Engine, statement: str) -> None:
    event_id = _committed_event(engine)
    with engine.connect() as conn:
        trans = conn.begin()
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement), {"id": event_id})
        trans.rollback()
    with Session(engine) as session:
        event = session.get(AuditEvent, event_id)
        assert event is not None
        assert event.action == "test.appended"


def test_the_orm_cannot_edit_an_entry(engine: Engine) -> None:
    event_id = _committed_event(engine)
    with Session(engine) as session:
        event = session.get(AuditEvent, event_id)
        assert event is not None
        event.action = "forged"
        session.add(event)
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()


def test_postgres_refuses_truncate(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    _committed_event(engine)
    with engine.connect() as conn:
        trans = conn.begin()
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("TRUNCATE audit_event"))
        trans.rollback()
