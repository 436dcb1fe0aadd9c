"""Cases: one open case per employer gathers its active flags; back pay per worker.

`inspection_case` (one not-closed case per employer: a partial unique index), `case_note`,
`case_worker` (the back-pay estimate of one notification in a case), and on `flag` the case
it belongs to and the day its condition began. Existing active flags are gathered into one
open case per employer in plain SQL; their figures are left to the application (`_backfill`).

Revision ID: 0011
Revises: 0010
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILTERS = ("sector", "province", "assignee_id")
_NOT_CLOSED = "status <> 'closed'"
# The tables as this revision knows them, for the backfill (never the application's models).
_employer = sa.table("employer", sa.column("id", sa.Uuid()), sa.column("sector", sa.String()))
_flag = sa.table(
    "flag",
    sa.column("id", sa.Uuid()),
    sa.column("employer_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("case_id", sa.Uuid()),
)
_case = sa.table(
    "inspection_case",
    *(
        sa.column(name, type_)
        for name, type_ in (
            ("id", sa.Uuid()),
            ("reference", sa.String()),
            ("employer_id", sa.Uuid()),
            ("status", sa.String()),
            ("sector", sa.String()),
            ("risk_score", sa.Integer()),
            ("risk_breakdown", sa.JSON()),
            ("active_flags", sa.Integer()),
            ("flags_high", sa.Integer()),
            ("flags_medium", sa.Integer()),
            ("flags_low", sa.Integer()),
            ("rules", sa.JSON()),
            ("workers_affected", sa.Integer()),
            ("back_pay", sa.Numeric(12, 2)),
            ("opened_at", sa.DateTime(timezone=True)),
            ("updated_at", sa.DateTime(timezone=True)),
        )
    ),
)
_audit = sa.table(
    "audit_event",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_role", sa.String()),
    sa.column("actor_id", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.String()),
    sa.column("details", sa.JSON()),
)


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
    """Gather the active flags into one open case per employer, in plain SQL.

    Self-contained (no application code): one open case per employer with active flags is
    opened (audited as `case.opened`, by the migration) and those flags are put in it. The
    figures (risk, flags by severity, workers, back pay, due date, the day each condition
    began) are the application's to compute: the case is left with none, and `condition_since`
    left empty marks it as never computed. The sweep computes such cases right after its
    retention step (`cases.uncomputed`, `cases.recompute_case`), and opening the case does too.
    """
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    now = datetime.now(UTC)
    stored_now = now.replace(tzinfo=None) if sqlite else now
    year = now.astimezone(ZoneInfo("Europe/Amsterdam")).year
    active = sa.text("flag.status IN ('open', 'claimed', 'investigating')")
    employers = bind.execute(
        sa.select(_employer.c.id, _employer.c.sector)
        .where(
            _employer.c.id.in_(
                sa.select(_flag.c.employer_id)
                .where(_flag.c.employer_id.is_not(None), active)
                .distinct()
            )
        )
        .order_by(_employer.c.id)
    ).all()
    cases = []
    audits = []
    for employer_id, sector in employers:
        case_id = uuid.uuid4()
        cases.append(
            {
                "id": case_id,
                "reference": f"Z-{year}-{case_id.hex[:8].upper()}",
                "employer_id": employer_id,
                "status": "open",
                "sector": sector,
                "risk_score": 0,
                "risk_breakdown": {},
                "active_flags": 0,
                "flags_high": 0,
                "flags_medium": 0,
                "flags_low": 0,
                "rules": [],
                "workers_affected": 0,
                "back_pay": Decimal("0.00"),
                "opened_at": stored_now,
                "updated_at": stored_now,
            }
        )
        audits.append(
            {
                "at": stored_now,
                "actor_role": "system",
                "actor_id": "system:migration",
                "action": "case.opened",
                "subject_type": "case",
                "subject_id": str(case_id),
                "details": {"employer_id": str(employer_id), "by": "migration 0011"},
            }
        )
    for start in range(0, len(cases), 1000):
        bind.execute(_case.insert(), cases[start : start + 1000])
        bind.execute(_audit.insert(), audits[start : start + 1000])
    if cases:
        open_case = (
            sa.select(_case.c.id)
            .where(_case.c.employer_id == _flag.c.employer_id, _case.c.status != "closed")
            .scalar_subquery()
        )
        bind.execute(
            _flag.update()
            .where(_flag.c.employer_id.is_not(None), _flag.c.case_id.is_(None), active)
            .values(case_id=open_case)
        )


def downgrade() -> None:
    op.drop_index("ix_flag_case_id", table_name="flag")
    with op.batch_alter_table("flag") as batch:
        batch.drop_constraint("fk_flag_case_id", type_="foreignkey")
        batch.drop_column("condition_since")
        batch.drop_column("case_id")
    op.drop_table("case_worker")
    op.drop_table("case_note")
    op.drop_table("inspection_case")
