"""An index-driven ordinary day: stored next dates, the since-window and retention by date.

- `notification.next_cross_date`: the next day on which a person's or an employer's
  cross-notification verdict can move because of this notification (a start, an end, a notice
  entering or leaving a policy window); `notification.next_payroll_date`: the same for the
  payroll verdicts (a notice counted from its date, the weeks after a start after which
  missing payroll counts). Both are computed by rules/checks/schedule.py (the one schedule of
  verdict-moving dates) and indexed, so an ordinary night selects `<= as_of` instead of
  scanning every notification for date-window crossings. Left NULL here: NULL means "check"
  (the next sweep judges the notification's people, employers and payroll and stores the
  dates). No backfill in SQL, since that would be a second encoding of the law.
- `notification.updated_at` indexed: the notifications changed since the last run.
- `sweep_run.changes_through`: the instant up to which a run took the changes; the next run
  takes those after it (exclusive). NULL for runs before this revision.
- Retention by date: partial indexes over the notifications not yet anonymised (their end
  date; by status and when last touched, for the withdrawn ones), and `payroll_record.period_end`.

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEPT = "signatory_name <> ''"


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("next_cross_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("next_payroll_date", sa.Date(), nullable=True))
    with op.batch_alter_table("sweep_run") as batch:
        batch.add_column(sa.Column("changes_through", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_notification_next_cross_date", "notification", ["next_cross_date"])
    op.create_index("ix_notification_next_payroll_date", "notification", ["next_payroll_date"])
    op.create_index("ix_notification_updated_at", "notification", ["updated_at"])
    op.create_index(
        "ix_notification_retention_end",
        "notification",
        ["end_date"],
        sqlite_where=sa.text(_KEPT),
        postgresql_where=sa.text(_KEPT),
    )
    op.create_index(
        "ix_notification_retention_withdrawn",
        "notification",
        ["status", "updated_at"],
        sqlite_where=sa.text(_KEPT),
        postgresql_where=sa.text(_KEPT),
    )
    op.create_index("ix_payroll_record_period_end", "payroll_record", ["period_end"])


def downgrade() -> None:
    op.drop_index("ix_payroll_record_period_end", table_name="payroll_record")
    op.drop_index("ix_notification_retention_withdrawn", table_name="notification")
    op.drop_index("ix_notification_retention_end", table_name="notification")
    op.drop_index("ix_notification_updated_at", table_name="notification")
    op.drop_index("ix_notification_next_payroll_date", table_name="notification")
    op.drop_index("ix_notification_next_cross_date", table_name="notification")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a plain column in place (3.35+); a batch rebuild would drop the table
        # that versions, locations and flags point at while foreign keys are enforced.
        op.execute("ALTER TABLE sweep_run DROP COLUMN changes_through")
        op.execute("ALTER TABLE notification DROP COLUMN next_payroll_date")
        op.execute("ALTER TABLE notification DROP COLUMN next_cross_date")
        return
    op.drop_column("sweep_run", "changes_through")
    op.drop_column("notification", "next_payroll_date")
    op.drop_column("notification", "next_cross_date")
