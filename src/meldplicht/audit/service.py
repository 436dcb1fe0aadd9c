"""Writing audit events; there is deliberately no function that edits or deletes one."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from meldplicht.audit.models import AuditEvent
from meldplicht.core.context import request_id_var
from meldplicht.core.security import Principal


def record(
    session: Session,
    actor: Principal,
    action: str,
    subject_type: str,
    subject_id: object,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_role=actor.role,
        actor_id=actor.actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        request_id=request_id or request_id_var.get(),
        details=details or {},
    )
    session.add(event)
    return event
