"""Issue 17 (3): POST /api/v1/notifications/check answers the findings a notification would
get, and stores nothing (no notification, flag, audit entry or Idempotency-Key record).
On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.idempotency import IdempotencyRecord
from meldplicht.flags.models import Flag
from meldplicht.notifications.models import Notification, NotificationFinding, Worker
from tests.conftest import EmployerWithKey, unique_key
from tests.factories import day, notification_body

URL = "/api/v1/notifications"


def counts(session: Session) -> dict[str, int]:
    models: list[Any] = [
        Notification,
        Worker,
        NotificationFinding,
        AuditEvent,
        Flag,
        IdempotencyRecord,
    ]
    return {
        m.__name__: int(session.exec(select(func.count()).select_from(m)).one()) for m in models
    }


def flagged_body() -> dict[str, Any]:
    """Paid below the minimum and housing deducted without written consent: findings."""
    body = notification_body(
        housing={
            "provided": True,
            "address": {
                "street": "Dorpsstraat",
                "house_number": "5",
                "postcode": "2671 CD",
                "city": "Naaldwijk",
            },
            "monthly_deduction": "400.00",
        }
    )
    body["wage"]["amount"] = "5.00"
    return body


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_check_then_post_give_equal_findings(
    client: TestClient, employer: EmployerWithKey, session: Session, lang: str
) -> None:
    headers = {**employer.headers, "Accept-Language": lang}
    before = counts(session)
    checked = client.post(f"{URL}/check", json=flagged_body(), headers=headers)
    assert checked.status_code == 200, checked.text
    answer = checked.json()
    assert answer["stored"] is False
    assert "receipt_number" not in answer
    codes = {f["code"] for f in answer["findings"]}
    assert {"BELOW_MINIMUM_WAGE", "HOUSING_DEDUCTION_CONDITIONS"} <= codes
    assert counts(session) == before  # nothing stored, no flag, no audit entry

    sent = client.post(URL, json=flagged_body(), headers=headers)
    assert sent.status_code == 201, sent.text
    assert sent.json()["findings"] == answer["findings"]
    assert answer["notice_date"] == sent.json()["notice_date"]
    assert answer["notice_deadline"] == sent.json()["notice_deadline"]


def test_check_writes_no_idempotency_record(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    key = unique_key()
    headers = {**employer.headers, "Idempotency-Key": key}
    before = counts(session)
    assert client.post(f"{URL}/check", json=flagged_body(), headers=headers).status_code == 200
    assert counts(session) == before
    # The key is still free: a real notification with it is stored, not replayed.
    sent = client.post(URL, json=flagged_body(), headers=headers)
    assert sent.status_code == 201
    assert "Idempotent-Replayed" not in sent.headers


def test_check_refuses_what_post_refuses_with_every_problem(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    body = notification_body(contract_type="self_employed", end_date=day(-2))
    body["worker"]["bsn"] = "123456789"
    checked = client.post(f"{URL}/check", json=body, headers=employer.headers)
    sent = client.post(URL, json=body, headers=employer.headers)
    assert checked.status_code == sent.status_code == 422
    assert checked.json()["errors"] == sent.json()["errors"]
    assert {e["code"] for e in checked.json()["errors"]} == {
        "invalid_bsn",
        "not_an_employment_contract",
        "end_before_start",
    }
    # Refused only for the refusals that span fields (no field error): the same again.
    only_cross = notification_body(end_date=day(-2))
    a = client.post(f"{URL}/check", json=only_cross, headers=employer.headers)
    b = client.post(URL, json=only_cross, headers=employer.headers)
    assert a.status_code == b.status_code == 422
    assert a.json()["errors"] == b.json()["errors"]


def test_check_needs_an_employer_key(client: TestClient) -> None:
    assert client.post(f"{URL}/check", json=notification_body()).status_code == 401
