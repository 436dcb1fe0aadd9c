"""Writing audit events; there is deliberately no function that edits or deletes one."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import utcnow
from meldplicht.core.context import request_id_var
from meldplicht.core.db import insert_rows
from meldplicht.core.security import Principal


def entry(
    actor: Principal,
    action: str,
    subject_type: str,
    subject_id: object,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """One audit row as values, for `record_many`."""
    return {
        "at": utcnow(),
        "actor_role": actor.role,
        "actor_id": actor.actor_id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "request_id": request_id or request_id_var.get(),
        "details": details or {},
    }


def record(
    session: Session,
    actor: Principal,
    action: str,
    subject_type: str,
    subject_id: object,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    record_many(session, [entry(actor, action, subject_type, subject_id, details, request_id)])


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    insert_rows(session, AuditEvent, entries)
