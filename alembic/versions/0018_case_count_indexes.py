"""Case queue counts: an index for the filtered COUNT, and the rule on the flag-case index.

A case-queue page counts the cases its filters match. `ix_case_count` (status, province,
sector, the severity counts, assignee) answers that count from the index alone, whichever of
those filters are set (SQLite skips over the few statuses and provinces). `ix_flag_case_id`
gains `rule_code`, so the rule filter's test "has an active flag of this rule" reads only the
index. Measured in benchmarks/results.md (case queue).

Revision ID: 0018
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNT_COLUMNS = [
    "status",
    "province",
    "sector",
    "flags_high",
    "flags_medium",
    "flags_low",
    "assignee_id",
]


def upgrade() -> None:
    op.create_index("ix_case_count", "inspection_case", _COUNT_COLUMNS)
    op.drop_index("ix_flag_case_id", table_name="flag")
    op.create_index("ix_flag_case_id", "flag", ["case_id", "status", "rule_code"])


def downgrade() -> None:
    op.drop_index("ix_flag_case_id", table_name="flag")
    op.create_index("ix_flag_case_id", "flag", ["case_id", "status"])
    op.drop_index("ix_case_count", table_name="inspection_case")
