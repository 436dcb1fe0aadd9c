"""Payment in cash on a notification.

`paid_in_cash`: the employer declares the wage is paid in cash, not into an account in the
worker's name (Wet minimumloon en minimumvakantiebijslag art. 7a). None: not stated.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("paid_in_cash", sa.Boolean(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a plain column in place (3.35+); a batch rebuild would drop the table
        # that versions, locations and flags point at while foreign keys are enforced.
        op.execute("ALTER TABLE notification DROP COLUMN paid_in_cash")
        return
    op.drop_column("notification", "paid_in_cash")
