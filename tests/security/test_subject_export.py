"""The data-subject export: everything about one BSN, for inspectors, audited with a reason."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for
from tests.conftest import make_employer
from tests.factories import day, notification_body, with_worker
from tests.security.conftest import Actor, client_as

BSN = "200000007"
OTHER = "200000019"
URL = "/api/v1/privacy/subjects"


def test_export_holds_everything_about_the_person_and_nothing_else(
    api: TestClient, settings: Settings, actors: dict[str, Actor], session: Session
) -> None:
    employer = client_as(api, settings, actors["employer"])
    late = with_worker(notification_body(start_date=day(-39), end_date=None), bsn=BSN)
    first = employer.post("/api/v1/notifications", json=late)
    assert first.status_code == 201, first.text
    changed = employer.post(
        f"/api/v1/notifications/{first.json()['id']}/changes",
        json={"job_title": "Teamleider", "effective_date": day(-30)},
    )
    assert changed.status_code in (200, 422), changed.text
    employer.post(
        "/api/v1/notifications", json=with_worker(notification_body(), bsn=OTHER, surname="Other")
    )
    second_employer = make_employer(session, "87654321", "Schoonmaak Snel B.V.")
    response = api.post(
        "/api/v1/notifications",
        json=with_worker(notification_body(), bsn=BSN),
        headers={"Authorization": f"Bearer {second_employer.token}"},
    )
    assert response.status_code == 201
    partner = client_as(api, settings, actors["data_partner"])
    delivery = (
        "loonheffingennummer,bsn,period_start,period_end,hours_paid,gross_wage\n"
        f"123456782L01,{BSN},2025-03-01,2025-03-31,152,2508.00\n"
        f"123456782L01,{OTHER},2025-03-01,2025-03-31,152,2508.00\n"
    )
    imported = partner.post(
        "/api/v1/payroll/imports", content=delivery, headers={"Content-Type": "text/csv"}
    )
    assert imported.status_code == 201, imported.text
    inspector = client_as(api, settings, actors["inspector"])
    flag_id = next(
        f["id"]
        for f in inspector.get("/api/v1/inspection/flags").json()["items"]
        if f["notification_id"] == first.json()["id"]
    )
    inspector.post(f"/api/v1/inspection/flags/{flag_id}/notes", json={"body": "Called employer"})

    response = inspector.post(
        URL, json={"bsn": f" {BSN[:4]} {BSN[4:]} ", "reason": "AVG-verzoek 12"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["bsn"] == BSN
    assert {w["employer_kvk_number"] for w in data["workers"]} == {"12345678", "87654321"}
    assert all(w["surname"] == "Kovalenko" for w in data["workers"])
    assert all(w["document_number"] == "OX1234567" for w in data["workers"])
    history = [n["history"] for w in data["workers"] for n in w["notifications"]]
    assert all(h and h[0]["kind"] == "initial" for h in history)
    assert [p["gross_wage"] for p in data["payroll_records"]] == ["2508.00"]
    assert any(
        f["id"] == flag_id and f["notes"][0]["body"] == "Called employer" for f in data["flags"]
    )
    assert OTHER not in response.text
    assert "Other" not in {w["surname"] for w in data["workers"]}

    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == "personal_data.exported")
    ).one()
    assert event.details["reason"] == "AVG-verzoek 12"
    assert event.subject_id == cipher_for(settings).keyed_hash(BSN)
    assert BSN not in str(event.details)
    assert event.actor_id == f"user:{actors['inspector'].user.id}"  # type: ignore[union-attr]


def test_nothing_held_is_an_empty_export(
    api: TestClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    supervisor = client_as(api, settings, actors["supervisor"])
    response = supervisor.post(URL, json={"bsn": BSN, "reason": "check"})
    assert response.status_code == 200
    assert response.json()["workers"] == []


def test_refusals(api: TestClient, settings: Settings, actors: dict[str, Actor]) -> None:
    inspector = client_as(api, settings, actors["inspector"])
    no_reason = inspector.post(URL, json={"bsn": BSN})
    assert no_reason.status_code == 422
    bad = inspector.post(URL, json={"bsn": "200000008", "reason": "check"})
    assert bad.status_code == 422
    assert "200000008" not in bad.text
    extra = inspector.post(URL, json={"bsn": BSN, "reason": "check", "x": 1})
    assert extra.status_code == 422
    for role in ("employer", "data_partner", "admin"):
        client = client_as(api, settings, actors[role])
        assert client.post(URL, json={"bsn": BSN, "reason": "check"}).status_code == 403
    assert client_as(api, settings, actors["anonymous"]).post(URL, json={}).status_code == 401
    # Never by URL: there is no GET.
    assert inspector.get(URL, params={"bsn": BSN}).status_code == 405
