"""Housing conditions and the bbl (work-study) flag on a notification.

`housing_certified`: the housing meets the quality requirement of Besluit minimumloon art. 2a
(None: not stated). `bbl_student`: the worker follows the beroepsbegeleidende leerweg, for
which a lower youth minimum applied until 31 December 2026 (None: not stated).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("housing_certified", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("bbl_student", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("bbl_student")
        batch.drop_column("housing_certified")
