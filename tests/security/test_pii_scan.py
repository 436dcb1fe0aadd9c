"""Planted clear BSNs and document numbers must not appear anywhere but the audited views.

Clear values go in through every intake path (API, bulk CSV, payroll import, and requests
that fail validation); then every answer an employer or inspector can get (lists, details,
pages, the CSV export, error answers) and every log line written is scanned for them. Only
the inspector's audited personal-data view and the data-subject export may show them, and do.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from meldplicht.core.config import Settings
from meldplicht.core.logging import configure_logging
from tests.factories import day, notification_body, with_worker
from tests.security.conftest import Actor, client_as
from tests.web.conftest import csv_upload, form_values

API_BSN = "999996356"
BULK_BSN = "999993653"
PAYROLL_BSN = "999990019"
REJECTED_BSN = "200000044"  # valid, in a notice refused for another field
INVALID_BSN = "999996357"  # fails the 11-test
API_DOC = "OX5550001"
BULK_DOC = "OX5550002"
PLANTED = (API_BSN, BULK_BSN, PAYROLL_BSN, REJECTED_BSN, INVALID_BSN, API_DOC, BULK_DOC)


@pytest.fixture
def logs(app: FastAPI, settings: Settings) -> Iterator[io.StringIO]:
    """Every log line written while the test runs (after the redactor, as production)."""
    buffer = io.StringIO()
    configure_logging(settings, stream=buffer)
    yield buffer
    configure_logging(settings)


def _leaks(text: str) -> list[str]:
    return [value for value in PLANTED if value in text]


def _clean(response: Response, what: str) -> None:
    assert response.status_code < 500, (what, response.text[:300])
    leaked = _leaks(response.text) + _leaks(json.dumps(dict(response.headers)))
    assert not leaked, f"{what} shows {leaked}"


def _plant(api: TestClient, settings: Settings, actors: dict[str, Actor]) -> list[Response]:
    """Send the planted values in; returns the intake answers (scanned too)."""
    employer = client_as(api, settings, actors["employer"])
    answers: list[Response] = []
    # A late notice, so a flag (and a queue row, an export line) exists for the person.
    late = with_worker(notification_body(), bsn=API_BSN, document_number=API_DOC)
    late["start_date"] = day(-39)
    late["end_date"] = None
    answers.append(employer.post("/api/v1/notifications", json=late))
    assert answers[-1].status_code == 201, answers[-1].text
    rows = [form_values(worker_bsn=BULK_BSN, worker_document_number=BULK_DOC)]
    rows.append(form_values(worker_bsn=INVALID_BSN, start_date="not a date"))
    answers.append(
        employer.post(
            "/api/v1/notifications/bulk",
            content=csv_upload(rows),
            headers={"Content-Type": "text/csv"},
        )
    )
    assert answers[-1].json()["accepted"] == 1, answers[-1].text
    refused = with_worker(notification_body(), bsn=REJECTED_BSN)
    refused["job_title"] = "x" * 500
    answers.append(employer.post("/api/v1/notifications", json=refused))
    assert answers[-1].status_code == 422
    answers.append(
        employer.post(
            "/api/v1/notifications", json=with_worker(notification_body(), bsn=INVALID_BSN)
        )
    )
    assert answers[-1].status_code == 422
    answers.append(
        employer.get("/api/v1/notifications", params={"worker_bsn": INVALID_BSN + "0" * 12})
    )
    partner = client_as(api, settings, actors["data_partner"])
    delivery = (
        "loonheffingennummer,bsn,period_start,period_end,hours_paid,gross_wage,"
        "includes_holiday_allowance,birth_date,nationality,document_type,reference\n"
        f"123456782L01,{PAYROLL_BSN},2025-03-01,2025-03-31,152,2508.00,false,1995-03-14,UKR,"
        "o_document,row-1\n"
        f"123456782L01,{REJECTED_BSN},2025-03-01,2025-02-01,152,abc,false,1995-03-14,UKR,"
        "o_document,row-2\n"
    )
    answers.append(
        partner.post(
            "/api/v1/payroll/imports", content=delivery, headers={"Content-Type": "text/csv"}
        )
    )
    assert answers[-1].status_code == 201, answers[-1].text
    return answers


def test_no_clear_bsn_outside_the_audited_views(
    api: TestClient, settings: Settings, actors: dict[str, Actor], logs: io.StringIO
) -> None:
    for answer in _plant(api, settings, actors):
        _clean(answer, f"intake answer {answer.request.url.path}")

    employer = client_as(api, settings, actors["employer"])
    listing = employer.get("/api/v1/notifications")
    _clean(listing, "employer list")
    ids = [item["id"] for item in listing.json()["items"]]
    assert len(ids) == 2
    assert all(
        item["worker"]["bsn_masked"].startswith("******") for item in listing.json()["items"]
    )
    _clean(employer.get("/api/v1/notifications", params={"worker_bsn": API_BSN}), "search")
    for notification_id in ids:
        _clean(employer.get(f"/api/v1/notifications/{notification_id}"), "employer detail")
        for page in ("", "/receipt", "/change"):
            _clean(employer.get(f"/employer/notifications/{notification_id}{page}"), "page")
    _clean(employer.get("/employer/"), "employer dashboard")

    inspector = client_as(api, settings, actors["supervisor"])
    flags = inspector.get("/api/v1/inspection/flags", params={"limit": 200})
    _clean(flags, "queue")
    flag_ids = [f["id"] for f in flags.json()["items"]]
    assert flag_ids, "the late notice should have raised a flag"
    for flag_id in flag_ids:
        _clean(inspector.get(f"/api/v1/inspection/flags/{flag_id}"), "flag detail")
        _clean(inspector.get(f"/inspector/flags/{flag_id}"), "flag page")
    export = inspector.get("/api/v1/inspection/flags.csv")
    assert export.status_code == 200
    _clean(export, "CSV export")
    _clean(inspector.get("/api/v1/inspection/employers/12345678"), "employer view")
    _clean(inspector.get("/api/v1/inspection/health"), "queue health")
    _clean(inspector.get(f"/api/v1/inspection/flags/{uuid.uuid4()}"), "404 answer")

    # The audited views show the BSN (and only with a reason).
    person_flag = next(
        f["id"] for f in flags.json()["items"] if f["subject_type"] == "notification"
    )
    view = inspector.get(
        f"/api/v1/inspection/flags/{person_flag}/personal-data", params={"reason": "case 42"}
    )
    assert view.status_code == 200
    assert API_BSN in view.text
    assert view.headers["cache-control"] == "no-store"
    export_one = inspector.post(
        "/api/v1/privacy/subjects", json={"bsn": API_BSN, "reason": "request 7"}
    )
    assert export_one.status_code == 200
    assert API_BSN in export_one.text
    assert API_DOC in export_one.text

    written = logs.getvalue()
    assert written.strip(), "no log lines were captured"
    assert not _leaks(written), f"the logs show {_leaks(written)}"
