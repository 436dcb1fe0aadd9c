"""FastAPI dependencies that say who the caller is and what they may reach.

Every API route that needs a key passes through `current_principal`, so the intake rate limit
(per API key, accounts/ratelimit.py) is enforced there: after authentication, so nobody can
spend another key's allowance by sending its prefix with a wrong secret.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from meldplicht.accounts.models import Role
from meldplicht.accounts.ratelimit import is_intake, limiter_for
from meldplicht.accounts.service import authenticate_token
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import Forbidden, Unauthorized
from meldplicht.core.security import Principal

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer mpk_...`")


def current_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized(
            "Send an API key as `Authorization: Bearer mpk_...`.",
            headers={"WWW-Authenticate": 'Bearer realm="meldplicht"'},
        )
    principal = authenticate_token(session, credentials.credentials)
    if is_intake(request.method, request.url.path):
        limiter_for(request.app.state).check_intake(principal.actor_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> object:
    allowed = {r.value for r in roles}

    async def dependency(principal: CurrentPrincipal) -> Principal:  # no I/O: on the loop
        if principal.role not in allowed:
            raise Forbidden("This credential's role may not use this endpoint.")
        return principal

    return Depends(dependency)


async def current_employer_id(principal: CurrentPrincipal) -> uuid.UUID:
    # async (it does no I/O): runs on the event loop, not in a worker thread of its own.
    if principal.role != Role.EMPLOYER or principal.employer_id is None:
        raise Forbidden("Only an employer's API key may use this endpoint.")
    return principal.employer_id


CurrentEmployerId = Annotated[uuid.UUID, Depends(current_employer_id)]
