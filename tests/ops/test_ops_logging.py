"""Structured logs: JSON lines with the request id, and no personal data in any of them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from meldplicht.core.config import Settings
from meldplicht.core.logging import configure_logging, get_logger, scrub_text
from tests.conftest import EmployerWithKey, unique_key
from tests.factories import notification_body, with_worker
from tests.ops.servers import valid_bsns

CYRILLIC_NAMES = ["Олена", "Коваленко", "Богдан", "Шевченко"]


@pytest.fixture
def captured(settings: Settings) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging(settings, stream=buffer)
    yield buffer
    configure_logging(settings)


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


class TestScrub:
    @pytest.mark.parametrize(
        "text",
        ["bsn 111222333", "111222333", "1112.22.333", "id=123456782;", "x 999996356 y"],
    )
    def test_bsn_shaped_numbers_are_masked(self, text: str) -> None:
        assert not any(ch.isdigit() for ch in scrub_text(text).replace("*", ""))

    def test_longer_numbers_and_ordinary_hex_ids_survive(self) -> None:
        assert scrub_text("kvk 12345678 and 1234567890") == "kvk 12345678 and 1234567890"
        rid = "ab111111111cd"  # nine digits inside an id, failing the 11-test: kept
        assert scrub_text(rid) == rid

    def test_cyrillic_and_bound_parameters_go(self) -> None:
        text = "Коваленко\n[SQL: INSERT ...]\n[parameters: ('Olena', 'Kovalenko')]"
        out = scrub_text(text)
        assert "Коваленко" not in out
        assert "Kovalenko" not in out
        assert "[parameters: removed]" in out


def test_personal_keys_are_dropped_everywhere(captured: io.StringIO) -> None:
    get_logger("meldplicht.test").info(
        "worker seen",
        bsn="111222333",
        worker={"given_names": "Olena", "surname": "Kovalenko", "sex": "F"},
        birth_date="1995-03-14",
        rows=[{"document_number": "OX1234567"}],
    )
    out = captured.getvalue()
    for secret in ("111222333", "Olena", "Kovalenko", "1995-03-14", "OX1234567"):
        assert secret not in out
    event = lines(captured)[-1]
    assert event["worker"] == {"sex": "F"}
    assert event["event"] == "worker seen"
    assert event["level"] == "info"


def test_a_burst_of_notifications_logs_no_personal_data(
    app: FastAPI, client: TestClient, employer: EmployerWithKey, captured: io.StringIO
) -> None:
    bsns = valid_bsns(500_000_000)
    planted: list[str] = []
    for n in range(30):
        bsn = next(bsns)
        planted.append(bsn)
        body = with_worker(
            notification_body(),
            bsn=bsn,
            given_names_original=CYRILLIC_NAMES[n % 2],
            surname_original=CYRILLIC_NAMES[2 + n % 2],
        )
        headers = {**employer.headers, "Idempotency-Key": unique_key()}
        r = client.post("/api/v1/notifications", json=body, headers=headers)
        assert r.status_code in (201, 409), r.text  # 409: see the report (FK race elsewhere)
    # Invalid bodies, a search by BSN in the query string, and an unexpected error too.
    bad = with_worker(notification_body(), bsn="111222334", surname_original="Коваленко")
    assert client.post("/api/v1/notifications", json=bad, headers=employer.headers).status_code
    client.get(f"/api/v1/notifications?worker_bsn={planted[0]}", headers=employer.headers)

    def boom() -> None:
        raise ValueError(f"cannot handle worker {planted[1]} Коваленко")

    app.add_api_route("/boom", boom)
    assert client.get("/boom", headers={"X-Request-ID": "req-boom-1"}).status_code == 500

    out = captured.getvalue()
    assert out, "nothing was logged"
    assert not [bsn for bsn in [*planted, "111222334"] if bsn in out]
    assert not [name for name in CYRILLIC_NAMES if name in out]
    events = lines(captured)  # every line is JSON
    access = [e for e in events if e.get("logger") == "meldplicht.access"]
    assert {e["route"] for e in access} >= {"/api/v1/notifications", "/boom"}
    assert all(e["request_id"] and "duration_ms" in e and "status" in e for e in access)
    assert all("?" not in str(e["path"]) for e in access)  # never the query string
    crash = [e for e in events if e.get("request_id") == "req-boom-1" and "exception" in e]
    assert crash
    assert "ValueError" in str(crash[0]["exception"])


def test_uvicorn_access_log_is_off_and_stdlib_records_are_json(
    captured: io.StringIO,
) -> None:
    assert logging.getLogger("uvicorn.access").disabled
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    assert lines(captured)[-1]["event"] == "Started server process [42]"
