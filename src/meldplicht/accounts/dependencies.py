"""FastAPI dependencies that say who the caller is and what they may reach."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from meldplicht.accounts.models import Role
from meldplicht.accounts.service import authenticate_token
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import Forbidden, Unauthorized
from meldplicht.core.security import Principal

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer mpk_...`")


def current_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized(
            "Send an API key as `Authorization: Bearer mpk_...`.",
            headers={"WWW-Authenticate": 'Bearer realm="meldplicht"'},
        )
    return authenticate_token(session, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> object:
    allowed = {r.value for r in roles}

    def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden("This credential's role may not use this endpoint.")
        return principal

    return Depends(dependency)


def current_employer_id(principal: CurrentPrincipal) -> uuid.UUID:
    if principal.role != Role.EMPLOYER or principal.employer_id is None:
        raise Forbidden("Only an employer's API key may use this endpoint.")
    return principal.employer_id


CurrentEmployerId = Annotated[uuid.UUID, Depends(current_employer_id)]
