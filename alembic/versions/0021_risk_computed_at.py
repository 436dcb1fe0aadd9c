"""When a risk score was computed, on the flag and on the case.

`risk_computed_at`: the instant the score was last computed from its inputs (a flag opened
or its content changed, a violation confirmed or a confirmation withdrawn at the employer,
a snooze set or lifted, the case's flags changed). The queue shows it beside the score.
Existing rows get the best instant known: a flag's `last_seen_at` (its score was computed
each time its content was written) and a case's `updated_at` (its last recomputation).

Revision ID: 0021
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"flag": "last_seen_at", "inspection_case": "updated_at"}


def upgrade() -> None:
    for table, known in TABLES.items():
        # Added in place (nullable): a batch rebuild on SQLite would drop a table that other
        # tables point at while foreign keys are enforced.
        op.add_column(table, sa.Column("risk_computed_at", sa.DateTime(timezone=True)))
        op.execute(f"UPDATE {table} SET risk_computed_at = {known}")  # noqa: S608 - constants


def downgrade() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN risk_computed_at")
            continue
        op.drop_column(table, "risk_computed_at")
