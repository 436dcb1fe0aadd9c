"""Cases: one open case per employer gathers its active flags; back pay per worker.

`inspection_case` (one not-closed case per employer: a partial unique index), `case_note`,
`case_worker` (the back-pay estimate of one notification in a case), and on `flag` the case
it belongs to and the day its condition began. Existing active flags are gathered into one
open case per employer and the cases' figures computed (meldplicht.inspection.cases).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILTERS = ("sector", "province", "assignee_id")
_NOT_CLOSED = "status <> 'closed'"


def upgrade() -> None:
    op.create_table(
        "inspection_case",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("reference", sa.String(20), nullable=False, unique=True),
        sa.Column("employer_id", sa.Uuid(), sa.ForeignKey("employer.id"), nullable=False),
        sa.Column("status", sa.String(14), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("closing_note", sa.String(4000), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("sector", sa.String(100), nullable=True),
        sa.Column("province", sa.String(20), nullable=True),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("risk_breakdown", sa.JSON(), nullable=False),
        sa.Column("active_flags", sa.Integer(), nullable=False),
        sa.Column("flags_high", sa.Integer(), nullable=False),
        sa.Column("flags_medium", sa.Integer(), nullable=False),
        sa.Column("flags_low", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("workers_affected", sa.Integer(), nullable=False),
        sa.Column("back_pay", sa.Numeric(12, 2), nullable=False),
        sa.Column("condition_since", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_inspection_case_employer_id", "inspection_case", ["employer_id"])
    op.create_index(
        "ux_case_employer_active",
        "inspection_case",
        ["employer_id"],
        unique=True,
        postgresql_where=sa.text(_NOT_CLOSED),
        sqlite_where=sa.text(_NOT_CLOSED),
    )
    for name, key in (
        ("ix_case_queue_risk", "risk_score"),
        ("ix_case_queue_back_pay", "back_pay"),
        ("ix_case_queue_age", "condition_since"),
    ):
        op.create_index(name, "inspection_case", ["status", key, "id", *_FILTERS])
    op.create_table(
        "case_note",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("inspection_case.id"), nullable=False),
        sa.Column("author_id", sa.String(64), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("body", sa.String(4000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_note_case_id", "case_note", ["case_id"])
    op.create_table(
        "case_worker",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("inspection_case.id"), nullable=False),
        sa.Column("notification_id", sa.Uuid(), sa.ForeignKey("notification.id"), nullable=False),
        sa.Column("back_pay", sa.Numeric(12, 2), nullable=False),
        sa.Column("calculation", sa.JSON(), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_case_worker", "case_worker", ["case_id", "notification_id"], unique=True)
    op.create_index("ix_case_worker_notification_id", "case_worker", ["notification_id"])
    with op.batch_alter_table("flag") as batch:
        batch.add_column(sa.Column("case_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("condition_since", sa.Date(), nullable=True))
        batch.create_foreign_key("fk_flag_case_id", "inspection_case", ["case_id"], ["id"])
    op.create_index("ix_flag_case_id", "flag", ["case_id", "status"])
    _backfill()


def _backfill() -> None:
    """Gather the active flags into one open case per employer, as the service would."""
    from sqlmodel import Session

    from meldplicht.inspection import cases
    from meldplicht.core.clock import today

    bind = op.get_bind()
    session = Session(bind=bind)
    flag_ids = [
        row[0]
        for row in bind.execute(
            sa.text(
                "SELECT id FROM flag WHERE employer_id IS NOT NULL "
                "AND status IN ('open', 'claimed', 'investigating')"
            )
        )
    ]
    for start in range(0, len(flag_ids), 5000):
        cases.join_flags(
            session,
            flag_ids[start : start + 5000],
            actor=cases.CASES_ACTOR,
            as_of=today(),
        )
    session.flush()


def downgrade() -> None:
    op.drop_index("ix_flag_case_id", table_name="flag")
    with op.batch_alter_table("flag") as batch:
        batch.drop_constraint("fk_flag_case_id", type_="foreignkey")
        batch.drop_column("condition_since")
        batch.drop_column("case_id")
    op.drop_table("case_worker")
    op.drop_table("case_note")
    op.drop_table("inspection_case")
