"""The queue indexes carry the filter columns, so a filtered page is read from the index alone.

At a million flags a page filtered on, say, rule and sector walked `ix_flag_queue` in risk
order but fetched every table row to test the filters: hundreds of milliseconds on SQLite
(benchmarks/results.md). With the filter columns in the index (after the sort key, so the
order and the keyset pagination are unchanged) the rows are tested in the index and only the
page's own rows are read.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERS = ["snoozed_until", "severity", "rule_code", "province", "sector", "assignee_id"]


def upgrade() -> None:
    op.drop_index("ix_flag_queue", table_name="flag")
    op.drop_index("ix_flag_queue_age", table_name="flag")
    op.create_index("ix_flag_queue", "flag", ["status", "risk_score", "id", *FILTERS])
    op.create_index("ix_flag_queue_age", "flag", ["status", "first_seen_at", "id", *FILTERS])


def downgrade() -> None:
    op.drop_index("ix_flag_queue", table_name="flag")
    op.drop_index("ix_flag_queue_age", table_name="flag")
    op.create_index("ix_flag_queue", "flag", ["status", "risk_score", "id"])
    op.create_index("ix_flag_queue_age", "flag", ["status", "first_seen_at", "id"])
