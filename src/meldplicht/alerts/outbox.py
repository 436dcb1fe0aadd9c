"""The alert outbox: after a sweep, each new action becomes one delivery per subscription;
a worker (after the sweep, or `meldplicht alerts deliver`) sends the due ones, never inline.

A webhook gets the action as JSON, signed: header `Meldplicht-Signature: t=<unix>,v1=<hex>`
where hex is HMAC-SHA256 over "<unix>.<body>" with the subscription's secret. A failed
delivery is retried after `alerts_backoff_seconds`, doubled after each failure, at most
`alerts_max_attempts` times; every attempt is logged for the employer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import uuid
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlmodel import Session, col, select

from meldplicht.alerts.actions import ActionOut, list_actions
from meldplicht.alerts.models import (
    AlertAttempt,
    AlertChannel,
    AlertDelivery,
    AlertSubscription,
    DeliveryStatus,
)
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for

log = logging.getLogger("meldplicht.alerts")
SIGNATURE_HEADER = "Meldplicht-Signature"
TIMEOUT = httpx.Timeout(10.0)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` (seconds since the epoch)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _event_key(action: ActionOut) -> str:
    return f"{action.code}:{action.notification_id}:{action.due_date or ''}"


def enqueue(session: Session, as_of: date) -> int:
    """One pending delivery per (subscription, new action); an action told once is not told
    again. Returns how many deliveries were made."""
    made = 0
    subscriptions = session.exec(
        select(AlertSubscription).where(col(AlertSubscription.active).is_(True))
    ).all()
    for subscription in subscriptions:
        known = set(
            session.exec(
                select(AlertDelivery.event_key).where(
                    AlertDelivery.subscription_id == subscription.id
                )
            ).all()
        )
        for action in list_actions(session, subscription.employer_id, as_of).items:
            key = _event_key(action)
            if key in known:
                continue
            known.add(key)
            session.add(
                AlertDelivery(
                    subscription_id=subscription.id,
                    employer_id=subscription.employer_id,
                    event_key=key,
                    payload={
                        "type": "action_needed",
                        "as_of": as_of.isoformat(),
                        "action": action.model_dump(mode="json"),
                    },
                )
            )
            made += 1
    session.flush()
    return made


def _send_webhook(
    subscription: AlertSubscription, body: bytes, settings: Settings, now: datetime
) -> int:
    assert subscription.secret_encrypted is not None
    secret = cipher_for(settings).decrypt(subscription.secret_encrypted)
    response = httpx.post(
        subscription.target,
        content=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, int(now.timestamp()), body),
        },
        timeout=TIMEOUT,
    )
    if response.status_code >= 300:
        raise DeliveryFailed(f"HTTP {response.status_code}", response.status_code)
    return response.status_code


def _send_email(
    subscription: AlertSubscription, payload: dict[str, Any], settings: Settings
) -> None:
    action = payload["action"]
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = subscription.target
    message["Subject"] = f"Actie nodig / Action needed: {action['receipt_number']}"
    message.set_content(
        f"{action['message_nl']}\n\n{action['message_en']}\n\n"
        f"Grondslag / Legal basis: {action['legal_basis']}\n"
    )
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


class DeliveryFailed(Exception):
    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def deliver_due(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """Try every pending delivery due at `now` once; the caller commits."""
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    due = session.exec(
        select(AlertDelivery, AlertSubscription)
        .join(AlertSubscription, col(AlertSubscription.id) == col(AlertDelivery.subscription_id))
        .where(
            col(AlertDelivery.status) == DeliveryStatus.PENDING,
            col(AlertDelivery.next_attempt_at) <= now,
        )
        .order_by(col(AlertDelivery.next_attempt_at))
    ).all()
    for delivery, subscription in due:
        status_code: int | None = None
        error: str | None = None
        try:
            if subscription.channel == AlertChannel.WEBHOOK:
                body = json.dumps(delivery.payload, sort_keys=True).encode()
                status_code = _send_webhook(subscription, body, settings, now)
            elif settings.alerts_email_enabled:
                _send_email(subscription, delivery.payload, settings)
            else:
                error = "e-mail alerts are switched off"
        except DeliveryFailed as exc:
            error, status_code = str(exc), exc.status_code
        except (httpx.HTTPError, OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        delivery.attempts += 1
        session.add(
            AlertAttempt(
                delivery_id=delivery.id,
                attempted_at=now,
                ok=error is None,
                status_code=status_code,
                error=error,
            )
        )
        if error is None:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            counts["delivered"] += 1
        elif delivery.attempts >= settings.alerts_max_attempts:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = error
            counts["failed"] += 1
        else:
            delay = settings.alerts_backoff_seconds * 2 ** (delivery.attempts - 1)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            delivery.last_error = error
            counts["retry"] += 1
            log.info("alert %s failed (%s), retry in %ss", delivery.id, error, delay)
        session.add(delivery)
    session.flush()
    return counts


def subscribe(
    session: Session, settings: Settings, employer_id: uuid.UUID, channel: AlertChannel, target: str
) -> tuple[AlertSubscription, str | None]:
    """A new subscription; a webhook's signing secret is returned once, here."""
    secret = new_secret() if channel == AlertChannel.WEBHOOK else None
    subscription = AlertSubscription(
        employer_id=employer_id,
        channel=channel,
        target=target,
        secret_encrypted=cipher_for(settings).encrypt(secret) if secret else None,
    )
    session.add(subscription)
    session.flush()
    return subscription, secret


def subscriptions_of(session: Session, employer_id: uuid.UUID) -> list[AlertSubscription]:
    """The employer's subscriptions, oldest first."""
    return list(
        session.exec(
            select(AlertSubscription)
            .where(AlertSubscription.employer_id == employer_id)
            .order_by(col(AlertSubscription.created_at))
        ).all()
    )


def delivery_log(
    session: Session, employer_id: uuid.UUID, limit: int = 50
) -> list[tuple[AlertDelivery, list[AlertAttempt]]]:
    """The employer's newest deliveries, each with its attempts in order."""
    rows = session.exec(
        select(AlertDelivery)
        .where(AlertDelivery.employer_id == employer_id)
        .order_by(col(AlertDelivery.created_at).desc())
        .limit(limit)
    ).all()
    attempts: dict[uuid.UUID, list[AlertAttempt]] = {}
    if rows:
        for a in session.exec(
            select(AlertAttempt)
            .where(col(AlertAttempt.delivery_id).in_([r.id for r in rows]))
            .order_by(col(AlertAttempt.attempted_at))
        ):
            attempts.setdefault(a.delivery_id, []).append(a)
    return [(r, attempts.get(r.id, [])) for r in rows]
