"""The public catalogue of rules and parameters, and a rule finding through the real API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from meldplicht.core.clock import today
from tests.conftest import EmployerWithKey
from tests.factories import notification_body, with_worker


def test_rules_catalogue_is_public(client: TestClient) -> None:
    response = client.get("/api/v1/rules")
    assert response.status_code == 200
    codes = {r["code"]: r for r in response.json()}
    for code in ("LATE_NOTICE", "BELOW_MINIMUM_WAGE", "EXCESSIVE_HOURS", "PAST_DECLARED_END"):
        assert code in codes
        assert codes[code]["legal_basis"]
    assert codes["PAST_DECLARED_END"]["applies_at"] == ["sweep"]


def test_parameter_with_dated_values(client: TestClient) -> None:
    names = client.get("/api/v1/parameters").json()
    assert "wml_hourly" in names
    wml = client.get("/api/v1/parameters/wml_hourly").json()
    by_date = {v["effective_from"]: v for v in wml["values"]}
    # Published adult hourly minimum from 1 January 2026 (legal-research.md §4.2).
    assert str(by_date["2026-01-01"]["value"]["21"]) == "14.71"
    assert by_date["2026-01-01"]["reference"]
    missing = client.get("/api/v1/parameters/nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "parameter_not_found"


def test_below_minimum_wage_finding_quotes_the_numbers(
    client: TestClient, employer: EmployerWithKey
) -> None:
    # Age 23 on the start date; hourly minimum for 21+ is EUR 14.71 from 1 January 2026 (the
    # newest published figure; later dates use it and say the table may be out of date).
    start = today() + timedelta(days=30)
    birth = start.replace(year=start.year - 23) - timedelta(days=10)
    body = with_worker(
        notification_body(start_date=start.isoformat(), end_date=None),
        birth_date=birth.isoformat(),
    )
    body["wage"] = {"amount": "12.00", "period": "hour", "includes_holiday_allowance": False}
    response = client.post("/api/v1/notifications", json=body, headers=employer.headers)
    assert response.status_code == 201
    finding = next(f for f in response.json()["findings"] if f["code"] == "BELOW_MINIMUM_WAGE")
    assert "12.00" in finding["message_en"]
    assert "14.71" in finding["message_en"]
    assert "23" in finding["message_en"]
    assert "12,00" in finding["message_nl"]
    assert finding["legal_basis"]
    assert finding["evidence"]["age"] == 23
    assert any(p["name"] == "wml_hourly" and p["reference"] for p in finding["parameters"])
