"""Case figures due: the cases, and the workers' back-pay estimates, a sweep still has to
recompute. The nightly sweep gathers them as it goes and recomputes each case once, at its
end, instead of after every batch; a run killed before then leaves them for the next run.

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_figures_due",
        sa.Column(
            "case_id",
            sa.Uuid(),
            sa.ForeignKey("inspection_case.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "case_worker_due",
        sa.Column(
            "case_id",
            sa.Uuid(),
            sa.ForeignKey("inspection_case.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("notification_id", sa.Uuid(), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("case_worker_due")
    op.drop_table("case_figures_due")
