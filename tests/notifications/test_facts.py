"""What the rules see of a stored notification is the same read as ORM objects or as plain rows
(the sweep's persons and employers phases read plain rows)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from meldplicht.core.config import Settings
from meldplicht.notifications.facts import fact_columns, facts_of, facts_of_row
from meldplicht.notifications.models import Notification, Worker
from tests.conftest import make_employer
from tests.payroll.helpers import notify, terminate


def test_facts_of_a_row_are_the_facts_of_the_objects(session: Session, settings: Settings) -> None:
    employer = make_employer(session, "12345670").employer
    notify(
        session,
        settings,
        employer,
        bsn="111222333",
        received=date(2025, 1, 6),
        start=date(2025, 1, 8),
    )
    ended = notify(
        session,
        settings,
        employer,
        bsn="123456782",
        received=date(2025, 1, 6),
        start=date(2025, 1, 6),
        wage="11.20",
        birth_date="2008-02-29",
    )
    terminate(session, settings, employer, ended, end=date(2025, 3, 1), received=date(2025, 2, 20))
    session.flush()
    objects = {
        n.id: facts_of(n, w)
        for n, w in session.exec(
            select(Notification, Worker).join(Worker, col(Worker.id) == col(Notification.worker_id))
        )
    }
    rows = {
        row.id: facts_of_row(row)
        for row in session.execute(
            sa_select(col(Notification.id), *fact_columns()).join(
                Worker, col(Worker.id) == col(Notification.worker_id)
            )
        )
    }
    assert len(objects) == 2
    assert rows == objects
    assert any(f.terminated for f in rows.values())
