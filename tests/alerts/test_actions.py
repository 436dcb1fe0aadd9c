"""'Action needed' for the employer: open findings it can put right, documents about to expire."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from meldplicht.core.clock import today
from tests.conftest import EmployerWithKey
from tests.factories import day, notification_body, with_worker

URL = "/api/v1/actions"


def notify(client: TestClient, who: EmployerWithKey, body: dict[str, object]) -> str:
    response = client.post("/api/v1/notifications", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    nid: str = response.json()["id"]
    return nid


def test_document_expiring_within_30_days_warns_in_advance(
    client: TestClient, employer: EmployerWithKey, other_employer: EmployerWithKey
) -> None:
    soon = (today() + timedelta(days=20)).isoformat()
    later = (today() + timedelta(days=45)).isoformat()
    # Work that started already and runs on past the document's end.
    running = notification_body(start_date=today().isoformat(), end_date=day(200))
    nid = notify(client, employer, with_worker(running, document_valid_until=soon))
    notify(
        client,
        employer,
        with_worker(running, bsn="123456782", document_valid_until=later),
    )
    answer = client.get(URL, headers={**employer.headers, "Accept-Language": "nl"})
    assert answer.status_code == 200, answer.text
    items = [a for a in answer.json()["items"] if a["code"] == "DOCUMENT_EXPIRING"]
    assert [a["notification_id"] for a in items] == [nid]
    assert items[0]["due_date"] == soon
    assert "verlengingsbrief van de IND" in items[0]["message"]
    assert "6.5" in items[0]["legal_basis"]
    assert client.get(URL, headers=other_employer.headers).json()["items"] == []


def test_a_wage_below_the_minimum_is_an_action(
    client: TestClient, employer: EmployerWithKey
) -> None:
    body = notification_body(wage={"amount": "9.00", "period": "hour"})
    nid = notify(client, employer, body)
    items = client.get(URL, headers=employer.headers).json()["items"]
    assert ("BELOW_MINIMUM_WAGE", nid) in {(a["code"], a["notification_id"]) for a in items}


def test_needs_an_employer_key(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
