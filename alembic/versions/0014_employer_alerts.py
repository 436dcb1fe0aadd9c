"""Employer alerts: subscriptions (webhook or e-mail), the delivery outbox and its attempts.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from meldplicht.core.types import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_subscription",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("employer_id", sa.Uuid(), sa.ForeignKey("employer.id"), nullable=False),
        sa.Column("channel", AutoString(length=10), nullable=False),
        sa.Column("target", AutoString(length=500), nullable=False),
        sa.Column("secret_encrypted", AutoString(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alert_subscription_employer_id", "alert_subscription", ["employer_id"])
    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "subscription_id", sa.Uuid(), sa.ForeignKey("alert_subscription.id"), nullable=False
        ),
        sa.Column("employer_id", sa.Uuid(), sa.ForeignKey("employer.id"), nullable=False),
        sa.Column("event_key", AutoString(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", AutoString(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", AutoString(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("subscription_id", "event_key"),
    )
    op.create_index("ix_alert_delivery_due", "alert_delivery", ["status", "next_attempt_at"])
    op.create_index("ix_alert_delivery_subscription_id", "alert_delivery", ["subscription_id"])
    op.create_index("ix_alert_delivery_employer_id", "alert_delivery", ["employer_id"])
    op.create_table(
        "alert_attempt",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("delivery_id", sa.Uuid(), sa.ForeignKey("alert_delivery.id"), nullable=False),
        sa.Column("attempted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", AutoString(length=500), nullable=True),
    )
    op.create_index("ix_alert_attempt_delivery_id", "alert_attempt", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("alert_attempt")
    op.drop_table("alert_delivery")
    op.drop_table("alert_subscription")
