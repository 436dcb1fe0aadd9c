"""Signals from outside: reports about an employer from the worker page and partners.

`signal` holds only what the form asks (employer name and/or KvK number, place, what
happened, optional contact, language, source) and its place in a case; no sender address,
browser details or personal numbers. `inspection_case.employer_id` becomes nullable: a
signal that matches no employer opens a case of its own, named by the reported name and KvK
number (`reported_*`). `signals_unverified` counts a case's signals still to be checked.

Revision ID: 0016
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from meldplicht.core.types import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_CLOSED = "status <> 'closed'"


def _case_employer_index() -> None:
    op.create_index(
        "ux_case_employer_active",
        "inspection_case",
        ["employer_id"],
        unique=True,
        postgresql_where=sa.text(_NOT_CLOSED),
        sqlite_where=sa.text(_NOT_CLOSED),
    )


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds the case table (copy, drop, rename) while flags, notes and back-pay
    rows point at it. With foreign keys on, the drop would fail (or the rename rewrite their
    references), and the setting only changes outside a transaction: so it is switched off
    around the rebuild, and every reference is checked before it is switched on again."""
    if op.get_bind().dialect.name != "sqlite":
        return
    if on:
        broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
    with op.get_context().autocommit_block():
        raw = op.get_bind().connection.driver_connection
        if raw.in_transaction:  # the engine's BEGIN IMMEDIATE hook began one (nothing in it)
            raw.commit()
        raw.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
        assert raw.execute("PRAGMA foreign_keys").fetchone() == (int(on),)


def upgrade() -> None:
    _sqlite_foreign_keys(on=False)
    # The partial unique index is made again by hand (SQLite's rebuild would lose its WHERE).
    op.drop_index("ux_case_employer_active", table_name="inspection_case")
    with op.batch_alter_table("inspection_case") as batch:
        batch.alter_column("employer_id", existing_type=sa.Uuid(), nullable=True)
        batch.add_column(sa.Column("reported_name", AutoString(length=200), nullable=True))
        batch.add_column(sa.Column("reported_kvk_number", AutoString(length=8), nullable=True))
        batch.add_column(sa.Column("reported_name_key", AutoString(length=200), nullable=True))
        batch.add_column(
            sa.Column("signals_unverified", sa.Integer(), nullable=False, server_default="0")
        )
    _case_employer_index()
    _sqlite_foreign_keys(on=True)
    op.create_index(
        "ix_inspection_case_reported_name_key", "inspection_case", ["reported_name_key"]
    )
    op.create_table(
        "signal",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey("inspection_case.id"), nullable=False),
        sa.Column("employer_id", sa.Uuid(), sa.ForeignKey("employer.id"), nullable=True),
        sa.Column("matched_by", AutoString(length=8), nullable=False),
        sa.Column("employer_name", AutoString(length=200), nullable=True),
        sa.Column("kvk_number", AutoString(length=8), nullable=True),
        sa.Column("place", AutoString(length=100), nullable=False),
        sa.Column("what_happened", AutoString(length=4000), nullable=False),
        sa.Column("contact", AutoString(length=200), nullable=True),
        sa.Column("language", AutoString(length=2), nullable=True),
        sa.Column("source", AutoString(length=12), nullable=False),
        sa.Column("status", AutoString(length=10), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), sa.ForeignKey("user_account.id"), nullable=True),
    )
    op.create_index("ix_signal_case_id", "signal", ["case_id"])
    op.create_index("ix_signal_employer_id", "signal", ["employer_id"])


def downgrade() -> None:
    op.drop_table("signal")
    unmatched = "SELECT id FROM inspection_case WHERE employer_id IS NULL"
    op.execute(f"DELETE FROM case_note WHERE case_id IN ({unmatched})")
    op.execute("DELETE FROM inspection_case WHERE employer_id IS NULL")
    op.drop_index("ix_inspection_case_reported_name_key", table_name="inspection_case")
    op.drop_index("ux_case_employer_active", table_name="inspection_case")
    _sqlite_foreign_keys(on=False)
    with op.batch_alter_table("inspection_case") as batch:
        batch.drop_column("signals_unverified")
        batch.drop_column("reported_name_key")
        batch.drop_column("reported_kvk_number")
        batch.drop_column("reported_name")
        batch.alter_column("employer_id", existing_type=sa.Uuid(), nullable=False)
    _case_employer_index()
    _sqlite_foreign_keys(on=True)
