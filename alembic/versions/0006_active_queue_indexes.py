"""Partial queue indexes per active status, for filters that walked far in `ix_flag_queue`.

At a million flags a queue page walks one status's range of `ix_flag_queue` (status,
risk_score, id, filters) in risk order until it has 50 matches (benchmarks/results.md):
- filtered on a rule and one more column it walked past every flag of a more severe rule
  first (the risk score follows the rule's severity): ~100,000 index entries for a medium
  rule with a sector, and every active flag when the rule's severity was not the one asked
  for (40 ms on PostgreSQL). A status's flags by rule, then risk, read only that rule's range.
- "unassigned" walked every claimed and investigating flag, and "assigned to X" every open
  one, where the workflow leaves none to find. Claimed or investigating flags without an
  assignee, and open flags with one, get an index of their own: (nearly) empty, so those
  statuses cost nothing, and still correct for any flag that is there.

Partial (WHERE status = ...) rather than over every flag: resolved and cleared flags, most of
the table and growing, are not in them; both SQLite and PostgreSQL use a partial index whose
WHERE the query's own `status = ...` (and `assignee_id ...`) terms imply.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERS = ["snoozed_until", "severity", "rule_code", "province", "sector", "assignee_id"]


def _after(*leading: str) -> list[str]:
    # Every column the queue's query names, status too: SQLite reads a page from the index
    # alone only then (PostgreSQL needs no status: the WHERE implies it).
    rest = [c for c in FILTERS if c not in leading]
    return [*leading, "risk_score", "id", *rest, "status"]


INDEXES: list[tuple[str, list[str], str]] = [
    *(
        (f"ix_flag_rule_queue_{status}", _after("rule_code"), f"status = '{status}'")
        for status in ("open", "claimed", "investigating")
    ),
    *(
        (
            f"ix_flag_unassigned_queue_{status}",
            _after(),
            f"status = '{status}' AND assignee_id IS NULL",
        )
        for status in ("claimed", "investigating")
    ),
    (
        "ix_flag_assigned_queue_open",
        _after("assignee_id"),
        "status = 'open' AND assignee_id IS NOT NULL",
    ),
]


def upgrade() -> None:
    for name, columns, where in INDEXES:
        op.create_index(
            name,
            "flag",
            columns,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade() -> None:
    for name, _, _ in INDEXES:
        op.drop_index(name, table_name="flag")
