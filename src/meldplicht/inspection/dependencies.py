"""Who may work the inspection queue: inspector and supervisor keys bound to a user account.

An API key says its role; an inspection key must also be bound to a `UserAccount` (`user_id`)
of the same role, so every claim, note and resolution names a person, and "assigned to me"
means something. Employer and data-partner keys are refused (403), a missing key is 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from meldplicht.accounts.dependencies import CurrentPrincipal
from meldplicht.accounts.models import Role, UserAccount
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import Forbidden
from meldplicht.core.security import Principal
from meldplicht.inspection.export import SessionFactory
from meldplicht.inspection.workflow import Staff

INSPECTION_ROLES = frozenset({Role.INSPECTOR.value, Role.SUPERVISOR.value})


def _key_prefix(principal: Principal) -> str:
    return principal.actor_id.partition(":")[2]


def current_staff(session: SessionDep, principal: CurrentPrincipal) -> Staff:
    if principal.role not in INSPECTION_ROLES:
        raise Forbidden("Only an inspector's or supervisor's API key may use the inspection API.")
    if principal.user_id is None:
        raise Forbidden("This inspection key is not bound to a user account.")
    user = session.get(UserAccount, principal.user_id)
    if user is None or user.disabled:
        raise Forbidden("The user account behind this key is missing or disabled.")
    if user.role != principal.role:
        # A supervisor key on an inspector account would be a silent escalation.
        raise Forbidden("The key's role does not match its user account's role.")
    return Staff(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        key_prefix=_key_prefix(principal),
    )


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def current_supervisor(staff: CurrentStaff) -> Staff:
    if not staff.is_supervisor:
        raise Forbidden("Only a supervisor may do this.")
    return staff


CurrentSupervisor = Annotated[Staff, Depends(current_supervisor)]


def stream_sessions(request: Request) -> SessionFactory:
    """Sessions for work that outlives the request's own session (a streamed export).

    The request's session commits and closes before the body streams, so the generator opens
    its own read-only session; tests override this to read inside their transaction.
    """
    engine: Engine = request.app.state.engine

    @contextmanager
    def open_session() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session

    return open_session


StreamSessions = Annotated[SessionFactory, Depends(stream_sessions)]
