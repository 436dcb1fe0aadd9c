"""The audit log is append-only in the database too: UPDATE, DELETE and TRUNCATE are refused.

The application has no code path that edits or deletes an audit event; these triggers make
that hold for anyone with a database connection short of the table's owner dropping them
(docs/SECURITY.md: the production role also lacks UPDATE/DELETE on audit_event).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_UP = (
    """
    CREATE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_event is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_event_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
)
_PG_DOWN = (
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_no_update_or_delete ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
)
# SQLite (development and tests): the same refusal, so both backends behave alike.
_SQLITE_UP = (
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE is not allowed'); END
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE is not allowed'); END
    """,
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
)


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(_PG_UP)
    elif dialect == "sqlite":
        _run(_SQLITE_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(_PG_DOWN)
    elif dialect == "sqlite":
        _run(_SQLITE_DOWN)
