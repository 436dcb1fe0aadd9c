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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlmodel import Session, col, func, select

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
from meldplicht.core.errors import FieldError, InvalidRequest, NotFound

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


TARGET_MAX = 500


def target_errors(channel: AlertChannel, target: str) -> list[FieldError]:
    """What is wrong with a subscription's address (one definition, for the API and the pages):
    a webhook needs an http(s) URL with a host, e-mail an address with an @ and no spaces."""
    if not target:
        return [
            FieldError(
                field="target",
                code="missing",
                message="Give the address to send alerts to.",
                message_nl="Geef het adres op waar de waarschuwingen heen moeten.",
            )
        ]
    if len(target) > TARGET_MAX:
        return [
            FieldError(
                field="target",
                code="too_long",
                message=f"The address is longer than {TARGET_MAX} characters.",
                message_nl=f"Het adres is langer dan {TARGET_MAX} tekens.",
            )
        ]
    if channel == AlertChannel.WEBHOOK:
        scheme, _, rest = target.partition("://")
        ok = scheme in ("https", "http") and bool(rest.split("/", 1)[0]) and " " not in target
    else:
        local, at, domain = target.rpartition("@")
        ok = bool(at and local and domain) and " " not in target
    if ok:
        return []
    return [
        FieldError(
            field="target",
            code="invalid_target",
            message="Give an http(s) URL for a webhook, an e-mail address for e-mail.",
            message_nl="Geef een http(s)-adres voor een webhook, een e-mailadres voor e-mail.",
        )
    ]


def subscribe(
    session: Session, settings: Settings, employer_id: uuid.UUID, channel: AlertChannel, target: str
) -> tuple[AlertSubscription, str | None]:
    """A new subscription; a webhook's signing secret is returned once, here. A bad address
    is an InvalidRequest naming the field `target`."""
    errors = target_errors(channel, target)
    if errors:
        raise InvalidRequest(errors=errors)
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


def subscriptions_of(
    session: Session, employer_id: uuid.UUID, active_only: bool = False
) -> list[AlertSubscription]:
    """The employer's subscriptions, oldest first (with `active_only`, not the removed ones)."""
    query = select(AlertSubscription).where(AlertSubscription.employer_id == employer_id)
    if active_only:
        query = query.where(col(AlertSubscription.active).is_(True))
    return list(session.exec(query.order_by(col(AlertSubscription.created_at))).all())


def unsubscribe(
    session: Session, employer_id: uuid.UUID, subscription_id: uuid.UUID
) -> AlertSubscription:
    """Stop a subscription of this employer: nothing new is queued for it and what it still
    had waiting is cancelled; its delivery log stays. Another employer's is NotFound."""
    subscription = session.get(AlertSubscription, subscription_id)
    if subscription is None or subscription.employer_id != employer_id:
        raise NotFound("No such alert subscription.")
    if subscription.active:
        subscription.active = False
        session.add(subscription)
        for delivery in session.exec(
            select(AlertDelivery).where(
                AlertDelivery.subscription_id == subscription.id,
                col(AlertDelivery.status) == DeliveryStatus.PENDING,
            )
        ):
            delivery.status = DeliveryStatus.CANCELLED
            delivery.last_error = "subscription removed"
            session.add(delivery)
        session.flush()
    return subscription


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    """One subscription's deliveries in numbers, and its last attempt."""

    delivered: int = 0
    pending: int = 0
    failed: int = 0
    cancelled: int = 0
    last_attempt_at: datetime | None = None
    last_ok: bool | None = None
    last_error: str | None = None


def delivery_summaries(
    session: Session, employer_id: uuid.UUID
) -> dict[uuid.UUID, DeliverySummary]:
    """Per subscription of this employer: deliveries by status, and the newest attempt."""
    counts: dict[uuid.UUID, dict[str, int]] = {}
    rows = session.exec(
        select(AlertDelivery.subscription_id, AlertDelivery.status, func.count())
        .where(AlertDelivery.employer_id == employer_id)
        .group_by(col(AlertDelivery.subscription_id), col(AlertDelivery.status))
    ).all()
    for subscription_id, status, n in rows:
        counts.setdefault(subscription_id, {})[str(status)] = int(n)
    last: dict[uuid.UUID, AlertAttempt] = {}
    for subscription_id in counts:  # an employer has a few subscriptions: one look-up each
        newest = session.exec(
            select(AlertAttempt)
            .join(AlertDelivery, col(AlertDelivery.id) == col(AlertAttempt.delivery_id))
            .where(AlertDelivery.subscription_id == subscription_id)
            .order_by(col(AlertAttempt.attempted_at).desc())
            .limit(1)
        ).first()
        if newest is not None:
            last[subscription_id] = newest
    out: dict[uuid.UUID, DeliverySummary] = {}
    for subscription_id in counts:
        by_status = counts.get(subscription_id, {})
        newest = last.get(subscription_id)
        out[subscription_id] = DeliverySummary(
            delivered=by_status.get(DeliveryStatus.DELIVERED, 0),
            pending=by_status.get(DeliveryStatus.PENDING, 0),
            failed=by_status.get(DeliveryStatus.FAILED, 0),
            cancelled=by_status.get(DeliveryStatus.CANCELLED, 0),
            last_attempt_at=newest.attempted_at if newest else None,
            last_ok=newest.ok if newest else None,
            last_error=newest.error if newest else None,
        )
    return out


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
