"""Alert deliveries end to end: a local HTTP receiver (signed webhook, retries with backoff
after it fails) and a local SMTP server (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session

from meldplicht.alerts import outbox
from meldplicht.alerts.models import AlertChannel
from meldplicht.core.clock import today, utcnow
from meldplicht.core.config import Settings
from meldplicht.sweeps.sweep import SweepMode, run_sweep
from tests.conftest import EmployerWithKey
from tests.factories import notification_body
from tests.sweeps.conftest import (  # noqa: F401 - fixtures
    SweepDb,
    add_employer,
    body_for,
    notify,
    sweep_db,
    sweep_template,
)


class Receiver:
    """A webhook endpoint that fails the first `fail` requests with 503."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = 503 if len(receiver.requests) <= receiver.fail else 204
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail=2)
    yield r
    r.server.shutdown()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _below_minimum(client: TestClient, who: EmployerWithKey) -> str:
    body = notification_body(wage={"amount": "9.00", "period": "hour"})
    response = client.post("/api/v1/notifications", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    nid: str = response.json()["id"]
    return nid


def test_webhook_signed_retried_with_backoff_and_logged(
    client: TestClient,
    employer: EmployerWithKey,
    session: Session,
    settings: Settings,
    receiver: Receiver,
) -> None:
    subscribed = client.post(
        "/api/v1/alert-subscriptions",
        json={"channel": "webhook", "target": receiver.url},
        headers=employer.headers,
    )
    assert subscribed.status_code == 201, subscribed.text
    secret = subscribed.json()["secret"]
    assert secret
    nid = _below_minimum(client, employer)
    assert outbox.enqueue(session, today()) == 1
    assert outbox.enqueue(session, today()) == 0  # told once
    assert receiver.requests == []  # never inline: only the worker sends
    now = utcnow()
    first = outbox.deliver_due(session, settings, now)
    assert first == {"delivered": 0, "retry": 1, "failed": 0}
    # Not due again before the backoff has passed.
    assert outbox.deliver_due(session, settings, now + timedelta(seconds=30))["retry"] == 0
    later = now + timedelta(seconds=settings.alerts_backoff_seconds)
    assert outbox.deliver_due(session, settings, later)["retry"] == 1
    # The second failure doubles the delay.
    assert outbox.deliver_due(session, settings, later + timedelta(seconds=61))["retry"] == 0
    last = later + timedelta(seconds=2 * settings.alerts_backoff_seconds)
    assert outbox.deliver_due(session, settings, last)["delivered"] == 1
    assert len(receiver.requests) == 3
    headers, body = receiver.requests[-1]
    timestamp, mac = (
        dict(p.split("=", 1) for p in headers["Meldplicht-Signature"].split(","))["t"],
        headers["Meldplicht-Signature"].split("v1=")[1],
    )
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(mac, expected.hexdigest())
    payload = json.loads(body)
    assert payload["action"]["code"] == "BELOW_MINIMUM_WAGE"
    assert payload["action"]["notification_id"] == nid
    log = client.get("/api/v1/alert-deliveries", headers=employer.headers).json()
    assert [d["status"] for d in log] == ["delivered"]
    assert [a["ok"] for a in log[0]["log"]] == [False, False, True]
    assert log[0]["log"][0]["status_code"] == 503


def test_gives_up_after_the_last_attempt(
    client: TestClient,
    employer: EmployerWithKey,
    session: Session,
    settings: Settings,
) -> None:
    r = Receiver(fail=100)
    try:
        client.post(
            "/api/v1/alert-subscriptions",
            json={"channel": "webhook", "target": r.url},
            headers=employer.headers,
        )
        _below_minimum(client, employer)
        outbox.enqueue(session, today())
        now = utcnow()
        for _ in range(settings.alerts_max_attempts):
            outbox.deliver_due(session, settings, now)
            now += timedelta(days=1)
        log = client.get("/api/v1/alert-deliveries", headers=employer.headers).json()
        assert log[0]["status"] == "failed"
        assert log[0]["attempts"] == settings.alerts_max_attempts
        assert outbox.deliver_due(session, settings, now + timedelta(days=9))["retry"] == 0
    finally:
        r.server.shutdown()


def test_email_through_a_local_smtp_server_only_when_switched_on(
    client: TestClient,
    employer: EmployerWithKey,
    other_employer: EmployerWithKey,
    session: Session,
    settings: Settings,
) -> None:
    mailbox = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        answer = client.post(
            "/api/v1/alert-subscriptions",
            json={"channel": "email", "target": "hr@tuin.example"},
            headers=employer.headers,
        )
        assert answer.status_code == 201
        assert answer.json()["secret"] is None
        _below_minimum(client, employer)
        outbox.enqueue(session, today())
        off = outbox.deliver_due(session, settings, utcnow())
        assert off["retry"] == 1  # off by default: nothing is sent
        assert mailbox.messages == []
        on = settings.model_copy(
            update={"alerts_email_enabled": True, "smtp_host": "127.0.0.1", "smtp_port": port}
        )
        sent = outbox.deliver_due(session, on, utcnow() + timedelta(hours=1))
        assert sent["delivered"] == 1
        (message,) = mailbox.messages
        assert message.rcpt_tos == ["hr@tuin.example"]
        text = message.content.decode()
        assert "Actie nodig" in text
        assert "minimumloon" in text.lower()
        # Another employer sees none of it.
        assert client.get("/api/v1/alert-deliveries", headers=other_employer.headers).json() == []
    finally:
        controller.stop()


def test_a_bad_target_is_a_clear_422(client: TestClient, employer: EmployerWithKey) -> None:
    answer = client.post(
        "/api/v1/alert-subscriptions",
        json={"channel": "webhook", "target": "ftp://x"},
        headers=employer.headers,
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "invalid_target"


def test_the_sweep_queues_and_sends_a_new_minimum_above_the_declared_wage(
    sweep_db: SweepDb,  # noqa: F811
) -> None:
    """14.80 an hour meets the adult minimum of 1 January 2026 (14.71) but not that of 1 July
    2026 (14.99): the sweep of 2 July opens the finding and the employer is told at once."""
    r = Receiver(fail=0)
    try:
        with sweep_db.session() as session, session.begin():
            employer_id = add_employer(session, "12345678").id
            outbox.subscribe(session, sweep_db.settings, employer_id, AlertChannel.WEBHOOK, r.url)
        body = body_for(start=date(2026, 3, 2), end=date(2026, 12, 31), wage="14.80")
        notify(sweep_db, employer_id, body, date(2026, 2, 20))
        run_sweep(
            sweep_db.engine, date(2026, 6, 15), mode=SweepMode.FULL, settings=sweep_db.settings
        )
        before = [json.loads(b)["action"]["code"] for _, b in r.requests]
        run_sweep(
            sweep_db.engine, date(2026, 7, 2), mode=SweepMode.FULL, settings=sweep_db.settings
        )
        after = [json.loads(b)["action"]["code"] for _, b in r.requests]
        assert "BELOW_MINIMUM_WAGE" not in before
        assert "BELOW_MINIMUM_WAGE" in after
    finally:
        r.server.shutdown()


def test_a_subscription_is_removed_through_the_api_only_by_its_employer(
    client: TestClient, employer: EmployerWithKey, other_employer: EmployerWithKey
) -> None:
    made = client.post(
        "/api/v1/alert-subscriptions",
        json={"channel": "email", "target": "hr@tuin.example"},
        headers=employer.headers,
    ).json()
    path = f"/api/v1/alert-subscriptions/{made['id']}"
    assert client.delete(path, headers=other_employer.headers).status_code == 404
    assert client.delete(path, headers=employer.headers).status_code == 204
    listed = client.get("/api/v1/alert-subscriptions", headers=employer.headers).json()
    assert [s["active"] for s in listed] == [False]
    assert client.delete(path, headers=employer.headers).status_code == 204  # already stopped
