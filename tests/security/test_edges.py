"""Inputs at the edges of their domain get a 4xx answer (problem+json on the API), never a 500.

Each case is one the probe of issue 16 found answering 500 (or closing the connection); they
run on both databases because the overflow surfaced in different places on each.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from meldplicht.core.config import Settings
from meldplicht.inspection import queue
from tests.conftest import EmployerWithKey
from tests.factories import notification_body, with_worker
from tests.security.conftest import CSRF_TOKEN, Actor, client_as

FLAGS = "/api/v1/inspection/flags"
EXPORT = "/api/v1/inspection/flags.csv"
PAYROLL = "/api/v1/payroll/imports"
NOTIFICATIONS = "/api/v1/notifications"
FAR_DATES = ("0001-01-01", "9999-12-31", "1899-12-31", "2100-01-01")


def problem(response: Response, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"].removeprefix("query.") for e in body.get("errors", [])}


def cursor(key: object, sort: str = "risk") -> str:
    # The digest of the default filters, so that only the key is wrong.
    digest = queue.QueueFilter().digest()
    raw = json.dumps({"s": sort, "f": digest, "k": key, "i": str(uuid.uuid4())})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


class TestQueueDateFilters:
    @pytest.mark.parametrize("day", FAR_DATES)
    @pytest.mark.parametrize("name", ["first_seen_from", "first_seen_to"])
    def test_api_refuses_a_far_date_with_a_field_error(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor], name: str, day: str
    ) -> None:
        client = client_as(api, settings, actors["inspector"])
        body = problem(client.get(FLAGS, params={name: day}))
        assert fields(body) == {name}

    def test_both_far_dates_are_reported_at_once(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        client = client_as(api, settings, actors["inspector"])
        params = {"first_seen_from": "0001-01-01", "first_seen_to": "9999-12-31"}
        assert fields(problem(client.get(FLAGS, params=params))) == set(params)

    @pytest.mark.parametrize("day", FAR_DATES)
    def test_csv_export_refuses_before_it_starts_streaming(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor], day: str
    ) -> None:
        client = client_as(api, settings, actors["supervisor"])
        body = problem(client.get(EXPORT, params={"first_seen_to": day}))
        assert fields(body) == {"first_seen_to"}

    def test_the_bounds_themselves_are_accepted(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        client = client_as(api, settings, actors["supervisor"])
        params = {"first_seen_from": "2000-01-01", "first_seen_to": "2099-12-31"}
        assert client.get(FLAGS, params=params).status_code == 200
        assert client.get(EXPORT, params=params).status_code == 200

    @pytest.mark.parametrize("day", FAR_DATES)
    def test_page_shows_the_field_error_and_a_queue(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor], day: str
    ) -> None:
        client = client_as(api, settings, actors["inspector"])
        for name in ("first_seen_from", "first_seen_to"):
            response = client.get("/inspector/", params={name: day})
            assert response.status_code < 500, response.text
            assert "2000-01-01" in response.text  # the error names the range


class TestCursors:
    @pytest.mark.parametrize(
        "key",
        [
            "2026-01-01T00:00:00",  # naive
            "0001-01-01T00:00:00+23:59",  # before year 1 in UTC
            "9999-12-31T23:59:59-23:59",  # after year 9999 in UTC
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59+00:00",
        ],
    )
    def test_age_cursor_with_an_impossible_instant(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor], key: str
    ) -> None:
        client = client_as(api, settings, actors["inspector"])
        body = problem(client.get(FLAGS, params={"sort": "age", "cursor": cursor(key, "age")}))
        assert fields(body) == {"cursor"}

    @pytest.mark.parametrize("key", [2**63, -(2**63) - 1, 10**30, 2**31])
    def test_risk_cursor_with_an_oversize_integer(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor], key: int
    ) -> None:
        client = client_as(api, settings, actors["inspector"])
        body = problem(client.get(FLAGS, params={"cursor": cursor(key)}))
        assert fields(body) == {"cursor"}

    @pytest.mark.parametrize("key", ["2026-01-01T00:00:00", "0001-01-01T00:00:00+23:59", 2**63])
    def test_page_with_a_forged_cursor_starts_again(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor], key: object
    ) -> None:
        client = client_as(api, settings, actors["inspector"])
        sort = "risk" if isinstance(key, int) else "age"
        for param in ("cursor", "before"):
            response = client.get("/inspector/", params={"sort": sort, param: cursor(key, sort)})
            assert response.status_code == 200, response.text


class TestPayrollDates:
    @pytest.mark.parametrize(
        ("start", "end"),
        [
            ("0001-01-01", "0001-01-31"),
            ("0001-01-01", "2025-03-31"),
            ("9999-12-01", "9999-12-31"),
            ("2025-03-01", "9999-12-31"),
        ],
    )
    def test_period_in_a_far_year_is_a_row_error(
        self, api: TestClient, actors: dict[str, Actor], start: str, end: str
    ) -> None:
        csv = (
            "loonheffingennummer,bsn,period_start,period_end,hours_paid,gross_wage\n"
            f"123456782L01,111222333,{start},{end},152,2508.00\n"
        )
        response = api.post(
            PAYROLL,
            content=csv.encode(),
            headers={
                "Authorization": f"Bearer {actors['data_partner'].token}",
                "Content-Type": "text/csv",
            },
        )
        assert response.status_code < 500, response.text
        report = response.json()
        assert report["rejected"] == 1, report
        errors = report["rejected_rows"][0]["errors"]
        assert {e["code"] for e in errors} & {"date_out_of_range"}, errors

    def test_birth_date_in_year_one(self, api: TestClient, actors: dict[str, Actor]) -> None:
        csv = (
            "loonheffingennummer,bsn,period_start,period_end,hours_paid,gross_wage,birth_date\n"
            "123456782L01,111222333,2025-03-01,2025-03-31,152,2508.00,0001-01-01\n"
        )
        response = api.post(
            PAYROLL,
            content=csv.encode(),
            headers={
                "Authorization": f"Bearer {actors['data_partner'].token}",
                "Content-Type": "text/csv",
            },
        )
        assert response.status_code < 500, response.text
        assert response.json()["rejected"] == 1


class TestNotificationDates:
    @pytest.mark.parametrize("day", FAR_DATES)
    def test_every_far_date_is_refused_with_all_field_errors(
        self, client: TestClient, employer: EmployerWithKey, day: str
    ) -> None:
        body = with_worker(notification_body(), document_valid_until=day, birth_date=day)
        body["end_date"] = day
        response = client.post(NOTIFICATIONS, json=body, headers=employer.headers)
        assert fields(problem(response)) >= {
            "worker.document_valid_until",
            "worker.birth_date",
            "end_date",
        }
        body = notification_body(start_date=day, end_date=None)
        response = client.post(NOTIFICATIONS, json=body, headers=employer.headers)
        error = next(e for e in problem(response)["errors"] if e["field"] == "start_date")
        assert error["code"] == "date_out_of_range"
        assert "2000-01-01" in error["message"]
        assert "2000-01-01" in error["message_nl"]


class TestBulkCsv:
    def test_a_field_over_the_csv_limit_is_a_file_error(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        client = client_as(api, settings, actors["employer"])
        from meldplicht.notifications import csv_format

        header, example = csv_format.template_csv().splitlines()[:2]
        data = f'{header}\n"{"x" * 140_000}"{example[example.index(",") :]}\n'.encode()
        response = client.post(
            "/employer/bulk",
            data={"csrf_token": CSRF_TOKEN},
            files={"file": ("big.csv", data, "text/csv")},
        )
        assert response.status_code == 422, response.text


SPOOFS = {
    "rlo": "Kovalenko\u202eokne",
    "isolate": "Kovalenko\u2066x\u2069",
    "zero-width space": "Kova\u200blenko",
    "zero-width joiner": "Kova\u200dlenko",
    "bom": "\ufeffKovalenko",
    "bell": "Kovalenko\x07",
    "c1": "Kova\x85lenko",  # in the middle: at an end it is stripped as a line end
}


class TestFreeText:
    @pytest.mark.parametrize("text", SPOOFS.values(), ids=SPOOFS.keys())
    @pytest.mark.parametrize("where", ["surname", "given_names_original", "job_title"])
    def test_spoofing_characters_are_a_field_error(
        self, client: TestClient, employer: EmployerWithKey, text: str, where: str
    ) -> None:
        body = notification_body()
        if where == "job_title":
            body["job_title"] = text
        else:
            body["worker"][where] = text
        response = client.post(NOTIFICATIONS, json=body, headers=employer.headers)
        errors = problem(response)["errors"]
        field = where if where == "job_title" else f"worker.{where}"
        assert [e["field"] for e in errors] == [field]
        assert errors[0]["code"] in {"invisible_characters", "control_characters"}
        assert errors[0]["message_nl"]

    def test_names_are_nfc_and_otherwise_byte_exact(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        body = with_worker(
            notification_body(),
            given_names="Jose\u0301 Mari\u0301a",  # decomposed accents, as some keyboards type
            given_names_original="Олена-Ївга",
            surname_original="Ґонта",
        )
        body["job_title"] = "Ст. оператор / Operator"
        response = client.post(NOTIFICATIONS, json=body, headers=employer.headers)
        assert response.status_code == 201, response.text
        stored = response.json()
        assert stored["worker"]["given_names"] == "Jos\u00e9 Mar\u00eda"
        assert stored["worker"]["given_names_original"].encode() == "Олена-Ївга".encode()
        assert stored["worker"]["surname_original"] == "Ґонта"
        assert stored["job_title"] == "Ст. оператор / Operator"

    @pytest.mark.parametrize(
        ("note", "code"),
        [
            ("\u200b", "invisible_characters"),
            ("\x07", "control_characters"),
            ("ok\u202e", "invisible_characters"),
            ("\u2800\u3164", "no_visible_content"),
            ("\u0301", "no_visible_content"),
        ],
    )
    def test_a_resolve_note_needs_visible_content(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor], note: str, code: str
    ) -> None:
        client = client_as(api, settings, actors["inspector"])
        url = f"{FLAGS}/{uuid.uuid4()}/resolve"
        response = client.post(url, json={"outcome": "no_violation", "note": note})
        errors = problem(response)["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("note", code)]
        # A visible note passes validation (and then meets the unknown flag).
        assert (
            client.post(url, json={"outcome": "no_violation", "note": "Checked"}).status_code == 404
        )
