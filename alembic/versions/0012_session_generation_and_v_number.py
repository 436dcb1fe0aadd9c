"""Revocable page sessions; the V-number encrypted like the document number.

`user_account.session_generation`: a page session carries the number it was signed in under;
sign-out, a new password and disabling raise it, ending every copy of the cookie.

`worker.v_number` (clear text) becomes `worker.v_number_encrypted` (Fernet, the keys of the
document number: MELDPLICHT_PII_ENCRYPTION_KEYS, or derived from MELDPLICHT_SECRET_KEY), so
run this upgrade with the service's own keys set. The V-number is also taken out of the stored
declarations of the version history, as the BSN and the document number always were. No
query looks a worker up by V-number, so no keyed hash is needed for it.

The downgrade decrypts the column back; the declarations keep no V-number.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa

from alembic import op
from meldplicht.core.config import get_settings
from meldplicht.core.crypto import cipher_for

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BATCH = 500

worker = sa.table(
    "worker",
    sa.column("id", sa.Uuid()),
    sa.column("v_number", sa.String(12)),
    sa.column("v_number_encrypted", sa.String(255)),
)
version = sa.table(
    "notification_version",
    sa.column("id", sa.Uuid()),
    sa.column("declaration", sa.JSON()),
)


def _copy(source: str, target: str, convert: Callable[[str], str]) -> None:
    """Fill `target` from `source` for every worker that has one, in batches by id."""
    connection = op.get_bind()
    src, dst = worker.c[source], worker.c[target]
    last = None
    while True:
        query = sa.select(worker.c.id, src).where(src.is_not(None)).order_by(worker.c.id)
        if last is not None:
            query = query.where(worker.c.id > last)
        rows = connection.execute(query.limit(BATCH)).all()
        if not rows:
            return
        for row_id, value in rows:
            connection.execute(
                sa.update(worker).where(worker.c.id == row_id).values({target: convert(value)})
            )
        last = rows[-1][0]


def _strip_declarations() -> None:
    connection = op.get_bind()
    last = None
    while True:
        query = sa.select(version.c.id, version.c.declaration).order_by(version.c.id)
        if last is not None:
            query = query.where(version.c.id > last)
        rows = connection.execute(query.limit(BATCH)).all()
        if not rows:
            return
        for row_id, declaration in rows:
            person = declaration.get("worker") if isinstance(declaration, dict) else None
            if isinstance(person, dict) and "v_number" in person:
                person.pop("v_number")
                connection.execute(
                    sa.update(version).where(version.c.id == row_id).values(declaration=declaration)
                )
        last = rows[-1][0]


def _drop(table: str, column: str) -> None:
    # SQLite drops a plain column in place (3.35+); a batch "move and copy" would drop the
    # table itself, which rows of other tables point at.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(sa.text(f'ALTER TABLE "{table}" DROP COLUMN "{column}"'))
    else:
        op.drop_column(table, column)


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("worker") as batch:
        batch.add_column(sa.Column("v_number_encrypted", sa.String(255), nullable=True))
    cipher = cipher_for(get_settings())
    _copy("v_number", "v_number_encrypted", cipher.encrypt)
    _drop("worker", "v_number")
    _strip_declarations()


def downgrade() -> None:
    with op.batch_alter_table("worker") as batch:
        batch.add_column(sa.Column("v_number", sa.String(12), nullable=True))
    cipher = cipher_for(get_settings())
    _copy("v_number_encrypted", "v_number", cipher.decrypt)
    _drop("worker", "v_number_encrypted")
    _drop("user_account", "session_generation")
