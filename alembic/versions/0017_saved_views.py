"""Saved views of the case queue: an inspector's named filter and sort.

Revision ID: 0017
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from meldplicht.core.types import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_view",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("name", AutoString(length=80), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_case_view_user_name", "case_view", ["user_id", "name"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_case_view_user_name", table_name="case_view")
    op.drop_table("case_view")
