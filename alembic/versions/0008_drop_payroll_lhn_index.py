"""Drop ix_payroll_record_employer_lhn: the unique key (employer_lhn, bsn_hash, period_start,
period_end) begins with the same column and serves every look-up by employer number.

Each payroll record kept four randomly keyed indexes up to date; on SQLite that maintenance
was most of a bulk import's time (1M rows: 138 s against a 120 s target).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_payroll_record_employer_lhn", table_name="payroll_record")


def downgrade() -> None:
    op.create_index("ix_payroll_record_employer_lhn", "payroll_record", ["employer_lhn"])
