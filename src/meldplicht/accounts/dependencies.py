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
from starlette.concurrency import run_in_threadpool

from meldplicht.accounts.models import Role
from meldplicht.accounts.ratelimit import is_intake, limiter_for
from meldplicht.accounts.service import KeyCache, authenticate_token
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import Forbidden, Unauthorized
from meldplicht.core.security import Principal

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer mpk_...`")


async def current_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized(
            "Send an API key as `Authorization: Bearer mpk_...`.",
            headers={"WWW-Authenticate": 'Bearer realm="meldplicht"'},
        )
    # A key checked a moment ago is answered on the event loop; otherwise the database is
    # asked in a worker thread (and the answer kept for a few seconds: KeyCache).
    token = credentials.credentials
    cache = key_cache_for(request)
    principal = cache.get(token)
    if principal is None:
        principal = await run_in_threadpool(authenticate_token, session, token)
        cache.put(token, principal)
    if is_intake(request.method, request.url.path):
        limiter_for(request.app.state).check_intake(principal.actor_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def key_cache_for(request: Request) -> KeyCache:
    """The application's KeyCache (`app.state.key_cache`), made on first use."""
    state = request.app.state
    cache = getattr(state, "key_cache", None)
    if not isinstance(cache, KeyCache):
        cache = state.key_cache = KeyCache(state.settings.api_key_cache_seconds)
    return cache


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
