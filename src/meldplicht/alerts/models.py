"""Alert subscriptions (webhook or e-mail), the outbox of deliveries, and each attempt."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from meldplicht.core.clock import utcnow
from meldplicht.core.types import UTCDateTime


class AlertChannel(enum.StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed
    CANCELLED = "cancelled"  # its subscription was removed before it was sent


class AlertSubscription(SQLModel, table=True):
    __tablename__ = "alert_subscription"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    employer_id: uuid.UUID = Field(foreign_key="employer.id", index=True)
    channel: str = Field(max_length=10)
    target: str = Field(max_length=500)  # the webhook URL or the e-mail address
    # The HMAC key, encrypted like personal data (it must be read back to sign).
    secret_encrypted: str | None = Field(default=None, max_length=500)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertDelivery(SQLModel, table=True):
    """One action told to one subscription: made after a sweep, sent by the outbox worker."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_key"),
        Index("ix_alert_delivery_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    subscription_id: uuid.UUID = Field(foreign_key="alert_subscription.id", index=True)
    employer_id: uuid.UUID = Field(foreign_key="employer.id", index=True)
    event_key: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(max_length=10, default=DeliveryStatus.PENDING)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertAttempt(SQLModel, table=True):
    """One try of a delivery, for the employer's delivery log."""

    __tablename__ = "alert_attempt"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    delivery_id: uuid.UUID = Field(foreign_key="alert_delivery.id", index=True)
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    ok: bool
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
