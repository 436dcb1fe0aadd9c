"""Alert subscriptions on the employer's pages, on SQLite and PostgreSQL: add a webhook (its
signing secret shown once) or an e-mail address, refused input in the error summary, what
was sent to each, and removal (with CSRF, Post/Redirect/Get, never another employer's)."""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from meldplicht.alerts import outbox
from meldplicht.alerts.models import AlertDelivery, AlertSubscription, DeliveryStatus
from meldplicht.core.clock import today, utcnow
from meldplicht.core.config import Environment, Settings
from meldplicht.core.crypto import cipher_for
from tests.web.conftest import Web, csrf_from, form_values
from tests.web.test_employer import submit_notification

ALERTS = "/employer/alerts"
ADD = "/employer/alerts/subscriptions"


def settings_of(web: Web) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=web.engine.url.render_as_string(hide_password=False),
        _env_file=None,  # type: ignore[call-arg]
    )


def add(web: Web, channel: str, name: str, target: str) -> Any:
    token = csrf_from(web.client.get(ALERTS).text)
    return web.client.post(
        ADD,
        data={"channel": channel, name: target, "csrf_token": token},
        follow_redirects=False,
    )


def subscriptions(web: Web) -> list[AlertSubscription]:
    with Session(web.engine) as session:
        return list(session.exec(select(AlertSubscription)))


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def test_a_webhook_is_added_and_its_secret_shown_once(web_any_db: Web) -> None:
    web = web_any_db
    web.login()
    response = add(web, "webhook", "webhook_url", "https://hooks.example/meldplicht")
    assert response.status_code == 303
    assert response.headers["location"] == f"{ALERTS}?done=added"
    page = web.client.get(response.headers["location"]).text
    assert "Het adres is toegevoegd." in page
    shown = re.search(r'<code class="secret" id="signing-secret">([^<]+)</code>', page)
    assert shown, page
    (stored,) = subscriptions(web)
    assert stored.target == "https://hooks.example/meldplicht"
    assert stored.secret_encrypted
    assert cipher_for(settings_of(web)).decrypt(stored.secret_encrypted) == shown.group(1)
    assert shown.group(1) not in web.client.get(ALERTS).text  # once: gone on reload
    # The API lists the same subscription: one service behind both.
    api = web.client.get(
        "/api/v1/alert-subscriptions",
        headers={"Authorization": f"Bearer {web.accounts.api_token}"},
    ).json()
    assert [s["target"] for s in api] == ["https://hooks.example/meldplicht"]
    assert api[0]["secret"] is None


def test_an_email_address_is_added_and_listed(web_any_db: Web) -> None:
    web = web_any_db
    web.login()
    assert add(web, "email", "email_address", "hr@tuin.example").status_code == 303
    page = web.client.get(f"{ALERTS}?lang=en").text
    assert "hr@tuin.example" in page
    assert "Nothing sent yet." in page
    assert 'class="secret"' not in page  # an e-mail address has no secret


def test_refused_addresses_are_in_the_linked_error_summary(web_any_db: Web) -> None:
    web = web_any_db
    web.login()
    bad = add(web, "webhook", "webhook_url", "ftp://files.example")
    assert bad.status_code == 422
    summary = bad.text.split('class="error-summary"')[1].split("</div>")[0]
    assert 'href="#webhook_url"' in summary
    assert "Adres van de webhook (URL)" in summary
    assert "http(s)-adres" in summary
    assert 'id="webhook_url" name="webhook_url" type="text" value="ftp://files.example"' in bad.text
    assert 'aria-invalid="true"' in bad.text
    empty = add(web, "email", "email_address", "  ")
    assert empty.status_code == 422
    assert 'href="#email_address"' in empty.text
    assert "Geef het adres op" in empty.text
    spaced = add(web, "email", "email_address", "hr @tuin.example")
    assert spaced.status_code == 422
    assert subscriptions(web) == []


def test_without_the_form_token_nothing_is_added_or_removed(web_any_db: Web) -> None:
    web = web_any_db
    web.login()
    refused = web.client.post(ADD, data={"channel": "email", "email_address": "hr@tuin.example"})
    assert refused.status_code == 403
    assert subscriptions(web) == []
    assert add(web, "email", "email_address", "hr@tuin.example").status_code == 303
    (stored,) = subscriptions(web)
    gone = web.client.post(f"{ADD}/{stored.id}/delete", data={})
    assert gone.status_code == 403
    assert subscriptions(web)[0].active


def test_what_was_sent_and_removal(web_any_db: Web) -> None:
    web = web_any_db
    web.login()
    submit_notification(web, form_values(wage_amount="9.00"))  # below the minimum: an action
    target = f"http://127.0.0.1:{closed_port()}/hook"
    assert add(web, "webhook", "webhook_url", target).status_code == 303
    settings = settings_of(web)
    with Session(web.engine) as session, session.begin():
        assert outbox.enqueue(session, today()) >= 1
        counts = outbox.deliver_due(session, settings, utcnow() + timedelta(seconds=1))
    assert counts["retry"] >= 1  # nothing listens: the attempt fails and is retried later
    page = web.client.get(ALERTS).text
    row = page.split('class="table subscriptions"')[1].split("</table>")[0]
    assert target in row
    assert "0 afgeleverd, 1 wachtend, 0 mislukt" in row
    assert "Laatste poging" in row
    assert "ConnectError" in row

    (stored,) = subscriptions(web)
    token = csrf_from(page)
    removed = web.client.post(
        f"{ADD}/{stored.id}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    after = web.client.get(removed.headers["location"]).text
    assert "Het adres is weggehaald." in after
    assert "U heeft nog geen adres opgegeven." in after
    assert "niet verzonden (adres weggehaald)" in after  # the log stays
    with Session(web.engine) as session:
        (delivery,) = session.exec(select(AlertDelivery)).all()
        assert delivery.status == DeliveryStatus.CANCELLED
        assert outbox.deliver_due(session, settings, utcnow() + timedelta(days=1)) == {
            "delivered": 0,
            "retry": 0,
            "failed": 0,
        }


def test_another_employers_subscription_cannot_be_removed(web_any_db: Web) -> None:
    web = web_any_db
    web.login()
    assert add(web, "email", "email_address", "hr@tuin.example").status_code == 303
    (stored,) = subscriptions(web)
    web.client.post("/logout", data={"csrf_token": web.csrf("/employer/")})
    web.client.cookies.clear()
    web.login("snel")
    assert "hr@tuin.example" not in web.client.get(ALERTS).text
    token = csrf_from(web.client.get(ALERTS).text)
    refused = web.client.post(f"{ADD}/{stored.id}/delete", data={"csrf_token": token})
    assert refused.status_code == 404
    assert subscriptions(web)[0].active
