"""The API key is checked before any of the request body is read.

FastAPI reads (and parses) a route's body before it resolves the route's dependencies, and
the body-limit middleware collects a JSON body before the app runs, so without this gate a
caller with no key, or a wrong one, could make the service read and parse up to 20 MiB
before the 401. Every API request that may carry a body (POST, PUT, PATCH, DELETE) passes
here first: no usable `Authorization: Bearer` header, or a key that is unknown or revoked, is
answered 401 without taking a byte of the body. The one public write, a signal about an
employer (`PUBLIC_WRITES`), has its own small body limit and rate limit instead.

The check only reads: the route's own `current_principal` still does the rest (the cache,
last-used time, rate limit, roles). A key it checked a moment ago (KeyCache) is let through
without asking the database.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from meldplicht.accounts.dependencies import key_cache_for
from meldplicht.accounts.service import check_token, invalid_key
from meldplicht.core.context import request_id_var
from meldplicht.core.db import session_from_request
from meldplicht.core.errors import PROBLEM_JSON, DomainError, Unauthorized

GATED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The one write anyone may make: a signal about an employer (inspection/signals.py), with its
# own small body limit and rate limit.
PUBLIC_WRITES = frozenset({"/api/v1/signals"})


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            credentials = credentials.strip()
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None


def _check(app: FastAPI, token: str) -> None:
    # The session the routes get (a test's override joins its transaction); read only.
    override: Any = app.dependency_overrides.get(session_from_request)
    if override is not None and inspect.isgeneratorfunction(override):
        sessions = override()
        try:
            check_token(next(sessions), token)
        finally:
            sessions.close()
        return
    with Session(app.state.engine) as session:
        check_token(session, token)


def _is_a_route(scope: Scope) -> bool:
    app = scope.get("app")
    if not isinstance(app, FastAPI):  # pragma: no cover - always mounted on our app
        return True
    return any(route.matches(scope)[0] is Match.FULL for route in app.router.routes)


class ApiKeyGateMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in GATED_METHODS
            or not scope["path"].startswith("/api/")
            or scope["path"] in PUBLIC_WRITES
            or not _is_a_route(scope)
        ):
            # An unknown path or a wrong method keeps its 404 or 405 (it reads no body).
            await self.app(scope, receive, send)
            return
        try:
            await self._authenticate(scope)
        except DomainError as exc:
            problem = exc.problem(scope["path"], request_id_var.get())
            answer = JSONResponse(
                status_code=problem.status,
                content=problem.model_dump(mode="json", exclude_none=True),
                media_type=PROBLEM_JSON,
                headers=exc.headers,
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> None:
        token = bearer_token(scope)
        if token is None:
            raise Unauthorized(
                "Send an API key as `Authorization: Bearer mpk_...`.",
                headers={"WWW-Authenticate": 'Bearer realm="meldplicht"'},
            )
        request = Request(scope)
        if key_cache_for(request).get(token) is not None:
            return
        app = scope["app"]
        if not isinstance(app, FastAPI):  # pragma: no cover - always mounted on our app
            raise invalid_key()
        await run_in_threadpool(_check, app, token)
