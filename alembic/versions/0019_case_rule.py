"""Case rules: one row per rule a case has active flags of, for the case queue's rule filter.

`case_rule` (case, rule, the case's status, how many active flags) is kept by
`inspection.cases.refresh_rules` whenever a case's flags join, clear or are worked, and its
status by every case transition. The queue's exact count of the cases of a rule then reads
`ix_case_rule_count` (rule, status, case) alone, where it tested every case for an active
flag of the rule (0.45-1.5 s at 100,000 cases on SQLite). Backfilled in SQL from the flags.
`ix_case_age_count` (status, where the case has a condition day) answers the age sort's
count from a small index (PostgreSQL read the whole case table for it). Measured in
benchmarks/results.md (case queue).

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DATED = "condition_since IS NOT NULL"
_BACKFILL = """
INSERT INTO case_rule (case_id, rule_code, case_status, open_flags)
SELECT flag.case_id, flag.rule_code, inspection_case.status, COUNT(*)
FROM flag JOIN inspection_case ON inspection_case.id = flag.case_id
WHERE flag.status IN ('open', 'claimed', 'investigating')
GROUP BY flag.case_id, flag.rule_code, inspection_case.status
"""


def upgrade() -> None:
    op.create_table(
        "case_rule",
        sa.Column(
            "case_id",
            sa.Uuid(),
            sa.ForeignKey("inspection_case.id"),
            primary_key=True,
            nullable=False,
        ),
        sa.Column("rule_code", sa.String(40), primary_key=True, nullable=False),
        sa.Column("case_status", sa.String(14), nullable=False),
        sa.Column("open_flags", sa.Integer(), nullable=False),
    )
    op.execute(_BACKFILL)
    op.create_index("ix_case_rule_count", "case_rule", ["rule_code", "case_status", "case_id"])
    op.create_index(
        "ix_case_age_count",
        "inspection_case",
        ["status"],
        postgresql_where=sa.text(_DATED),
        sqlite_where=sa.text(_DATED),
    )


def downgrade() -> None:
    op.drop_index("ix_case_age_count", table_name="inspection_case")
    op.drop_index("ix_case_rule_count", table_name="case_rule")
    op.drop_table("case_rule")
