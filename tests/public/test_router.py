"""The public catalogue of rules and parameters, and a rule finding through the real API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from meldplicht.core.clock import today
from meldplicht.rules import wages
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
    # Age 23 on the start date; the start is 30 days from today, so the minimum is whatever
    # the table (or, past the newest table, the lower bound) gives for that day.
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
    expected = wages.minimum_hourly_wage(23, start).hourly
    assert f"EUR {expected}" in finding["message_en"]
    assert "23" in finding["message_en"]
    assert "12,00" in finding["message_nl"]
    assert finding["legal_basis"]
    assert finding["evidence"]["age"] == 23
    assert any(p["name"] == "wml_hourly" and p["reference"] for p in finding["parameters"])


def test_new_law_is_served_with_its_references(client: TestClient) -> None:
    def values(name: str) -> dict[str, dict[str, object]]:
        body = client.get(f"/api/v1/parameters/{name}").json()
        assert body["reference"]
        return {v["effective_from"]: v for v in body["values"]}

    hourly = values("wml_hourly")["2026-07-01"]
    assert hourly["value"]["21"] == "14.99"
    assert hourly["value"]["15"] == "4.50"
    assert "Staatscourant" in str(hourly["reference"])
    assert values("wml_reference_monthly")["2026-07-01"]["value"] == "2337.00"
    youth = values("wml_youth_percentages")["2027-01-01"]
    assert youth["value"]["20"] == "0.875"
    assert "rijksoverheid.nl" in str(youth["reference"])
    bbl = values("wml_youth_percentages_bbl")
    assert bbl["2017-07-01"]["value"]["19"] == "0.525"
    assert bbl["2027-01-01"]["value"] is None
    announced = client.get("/api/v1/parameters/housing_deduction_cap_announced").json()
    assert announced["status"] == "withdrawn"
    limits = values("working_time_limits")["2022-01-01"]
    assert limits["value"]["adult_four_week_average"] == "55"
    assert "BWBR0007195" in str(limits["reference"])
    protection = values("temporary_protection_end")["2025-07-15"]
    assert "2025/1460" in str(protection["reference"])
