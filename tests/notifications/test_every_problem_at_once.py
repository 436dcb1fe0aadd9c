"""Issue 17 (1): the API's 422 names every problem at once, in the caller's language.

Before the fix a body with a field error left out the refusals that span fields (self-employed
work, an end before the start): they came only in a second round, once the field errors were
fixed. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from meldplicht.notifications.models import Notification
from tests.conftest import EmployerWithKey
from tests.factories import day, notification_body

URL = "/api/v1/notifications"


def problems(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e for e in response.json()["errors"]}


def spoiled() -> dict[str, Any]:
    """Self-employed, ending before it starts, and two plain field errors."""
    body = notification_body(contract_type="self_employed", end_date=day(-3))
    body["worker"]["bsn"] = "123456789"
    del body["job_title"]
    return body


def test_field_errors_and_refusals_in_one_answer(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    errors = problems(client.post(URL, json=spoiled(), headers=employer.headers))
    assert {f: e["code"] for f, e in errors.items()} == {
        "worker.bsn": "invalid_bsn",
        "job_title": "missing",
        "contract_type": "not_an_employment_contract",
        "end_date": "end_before_start",
    }
    assert session.exec(select(func.count()).select_from(Notification)).one() == 0


def test_in_the_callers_language(client: TestClient, employer: EmployerWithKey) -> None:
    nl = problems(
        client.post(URL, json=spoiled(), headers={**employer.headers, "Accept-Language": "nl"})
    )
    assert nl["end_date"]["message"] == "De einddatum ligt voor de startdatum."
    assert nl["end_date"]["message_en"] == "The end date lies before the start date."
    assert nl["job_title"]["message"] == "Dit veld is verplicht."
    assert "arbeidsovereenkomst" in nl["contract_type"]["message"]
    en = problems(
        client.post(URL, json=spoiled(), headers={**employer.headers, "Accept-Language": "en"})
    )
    assert en["end_date"]["message"] == "The end date lies before the start date."
    assert en["end_date"]["message_nl"] == "De einddatum ligt voor de startdatum."


def test_a_refusal_alone_is_also_in_the_callers_language(
    client: TestClient, employer: EmployerWithKey
) -> None:
    body = notification_body(end_date=day(-1))
    errors = problems(
        client.post(URL, json=body, headers={**employer.headers, "Accept-Language": "nl"})
    )
    assert errors["end_date"]["message"] == "De einddatum ligt voor de startdatum."


def test_a_malformed_part_is_not_read_for_the_cross_field_checks(
    client: TestClient, employer: EmployerWithKey
) -> None:
    # The end date is no date: only its format error, no guess at "end before start".
    body = notification_body(end_date="gisteren", contract_type="zzp")
    errors = problems(client.post(URL, json=body, headers=employer.headers))
    assert {f: e["code"] for f, e in errors.items()} == {
        "end_date": "date_format",
        "contract_type": "enum",
    }


def test_agency_work_without_hirer_beside_a_field_error(
    client: TestClient, employer: EmployerWithKey
) -> None:
    body = notification_body(contract_type="temporary_agency", hours_per_week="veel")
    errors = problems(client.post(URL, json=body, headers=employer.headers))
    assert errors["hirer"]["code"] == "hirer_required"
    assert errors["hours_per_week"]["code"] == "decimal_parsing"
