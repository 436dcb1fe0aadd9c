"""A verification code per receipt, behind the receipt's QR link (/verify/<code>).

The code is random (100 bits, Crockford base32), stored, and unique; it is never derived
from the receipt number, so a third party can confirm one receipt it was shown without
being able to find any other. Existing notifications get a fresh code each.

Revision ID: 0013
Revises: 0012
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in meldplicht.notifications.models (a migration keeps its own copy: the code may move).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20


def _code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def upgrade() -> None:
    # On SQLite a batch operation copies the table, which its referencing rows (versions, flags)
    # refuse while foreign keys are on: add the column in place and make it unique by an index.
    op.add_column("notification", sa.Column("verification_code", sa.String(length=32)))
    notification = sa.table(
        "notification", sa.column("id", sa.Uuid()), sa.column("verification_code", sa.String())
    )
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.select(notification.c.id))]
    if ids:
        connection.execute(
            notification.update()
            .where(notification.c.id == sa.bindparam("row_id"))
            .values(verification_code=sa.bindparam("code")),
            [{"row_id": row_id, "code": _code()} for row_id in ids],
        )
    op.create_index(
        op.f("uq_notification_verification_code"),
        "notification",
        ["verification_code"],
        unique=True,
    )
    if not _sqlite():  # SQLite cannot make an added column NOT NULL in place; the model fills it
        op.alter_column(
            "notification", "verification_code", existing_type=sa.String(length=32), nullable=False
        )


def downgrade() -> None:
    op.drop_index(op.f("uq_notification_verification_code"), table_name="notification")
    if _sqlite():
        op.execute(sa.text('ALTER TABLE "notification" DROP COLUMN "verification_code"'))
    else:
        op.drop_column("notification", "verification_code")
