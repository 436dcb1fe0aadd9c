"""CSV export of a filtered queue: streamed, in queue order, no personal data, audited."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today
from meldplicht.flags.models import Flag
from meldplicht.inspection import export
from meldplicht.inspection.queue import QueueFilter
from meldplicht.inspection.schemas import QueueSort
from meldplicht.rules.facts import Severity
from tests.conftest import EmployerWithKey, make_employer
from tests.factories import VALID_BSNS
from tests.inspection.conftest import (
    INSPECTION,
    StaffWithKey,
    late_body,
    notify,
    synthetic_flag,
    underpaid_body,
)

CSV_URL = f"{INSPECTION}/flags.csv"


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_in_queue_order_without_personal_data(
    api: TestClient,
    supervisor: StaffWithKey,
    session: Session,
    employer: EmployerWithKey,
) -> None:
    late_id = notify(api, employer.headers, late_body(bsn=VALID_BSNS[0]))
    wage_id = notify(api, employer.headers, underpaid_body(bsn=VALID_BSNS[1]))
    response = api.get(CSV_URL, headers=supervisor.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="flags-')
    text = response.text
    header = text.splitlines()[0].split(",")
    assert tuple(header) == export.HEADER
    personal = ("bsn", "worker_", "given_names", "surname", "birth", "person", "subject_id")
    assert not [column for column in header if column.startswith(personal)]
    for bsn in VALID_BSNS[:2]:
        assert bsn not in text
        assert bsn[-3:] not in {cell for row in rows(text) for cell in row.values()}
    assert "Kovalenko" not in text
    got = rows(text)
    assert [r["notification_id"] for r in got] == [wage_id, late_id]  # highest risk first
    assert [r["rule_code"] for r in got] == ["BELOW_MINIMUM_WAGE", "LATE_NOTICE"]
    assert got[0]["employer_kvk"] == "12345678"
    assert got[0]["receipt_number"].startswith("MP")
    assert got[0]["status"] == "open"
    assert got[0]["condition_present"] == "true"


def test_export_uses_the_queue_filters_and_is_audited(
    api: TestClient,
    supervisor: StaffWithKey,
    session: Session,
    employer: EmployerWithKey,
) -> None:
    synthetic_flag(session, employer.employer, rule="LATE_NOTICE")
    wage = synthetic_flag(session, employer.employer, rule="BELOW_MINIMUM_WAGE")
    response = api.get(
        CSV_URL, params={"rule": "BELOW_MINIMUM_WAGE", "sort": "age"}, headers=supervisor.headers
    )
    assert [r["flag_id"] for r in rows(response.text)] == [str(wage.id)]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "flags.exported")).one()
    assert event.actor_id == f"user:{supervisor.id}"
    assert event.details["filters"]["rules"] == ["BELOW_MINIMUM_WAGE"]
    assert event.details["sort"] == "age"


def test_export_refuses_bad_filters_before_streaming(
    api: TestClient, supervisor: StaffWithKey
) -> None:
    response = api.get(CSV_URL, params={"province": "Atlantis"}, headers=supervisor.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_spreadsheet_formulas_are_defused(
    api: TestClient, supervisor: StaffWithKey, session: Session
) -> None:
    sly = make_employer(session, "24681357", name='=HYPERLINK("http://evil","klik")')
    synthetic_flag(session, sly.employer)
    got = rows(api.get(CSV_URL, headers=supervisor.headers).text)
    assert got[0]["employer_name"] == "'" + '=HYPERLINK("http://evil","klik")'


def test_pages_through_the_whole_queue_in_small_batches(
    session: Session, employer: EmployerWithKey
) -> None:
    made = [
        synthetic_flag(session, employer.employer, severity=s, workers=1 + i % 3)
        for i, s in enumerate([Severity.HIGH, Severity.MEDIUM, Severity.LOW] * 4)
    ]

    @contextmanager
    def sessions() -> Iterator[Session]:
        yield session

    chunks = list(
        export.csv_lines(sessions, QueueFilter(), sort=QueueSort.RISK, today=today(), batch=5)
    )
    assert len(chunks) == 1 + 3  # header, then 5 + 5 + 2 rows
    got = rows("".join(chunks))
    assert len(got) == len({r["flag_id"] for r in got}) == len(made)
    keys = [(int(r["risk_score"]), uuid.UUID(r["flag_id"])) for r in got]
    assert keys == sorted(keys, reverse=True)
    stored = session.exec(select(Flag.id)).all()
    assert {str(i) for i in stored} == {r["flag_id"] for r in got}


def test_empty_queue_is_just_the_header(api: TestClient, supervisor: StaffWithKey) -> None:
    text = api.get(CSV_URL, headers=supervisor.headers).text
    assert text == ",".join(export.HEADER) + "\r\n"
