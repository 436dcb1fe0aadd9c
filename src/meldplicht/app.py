"""The application factory: routers, error handlers, middleware, and the schema check."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meldplicht import __version__
from meldplicht.core.config import Settings, get_settings
from meldplicht.core.context import request_id_var
from meldplicht.core.db import create_db_engine
from meldplicht.core.errors import (
    PROBLEM_JSON,
    DomainError,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
)
from meldplicht.core.migrations import ensure_schema_current
from meldplicht.core.validation import field_errors_from_pydantic

log = logging.getLogger("meldplicht")


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=problem.status,
        content=problem.model_dump(mode="json", exclude_none=True),
        media_type=PROBLEM_JSON,
        headers=headers,
    )


class BodyLimitMiddleware:
    """Refuses bodies above the limit before they are read whole (413 problem+json)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def _limit(self, path: str) -> int:
        if path.endswith("/bulk") or path.endswith("/import") or "/uploads" in path:
            return self.settings.max_upload_bytes
        return self.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _problem_response(too_large.problem(scope["path"], request_id_var.get()))(
                scope, receive, send
            )
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large
            return message

        await self.app(scope, limited_receive, send)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if engine is None:
            app.state.engine.dispose()

    app = FastAPI(
        title="meldplicht",
        version=__version__,
        summary="Employer notifications for people under temporary protection from Ukraine.",
        description=(
            "Employers notify the employment of a person under temporary protection at least "
            "two working days before the work starts (Besluit uitvoering Wav 2022 art. 6.5, "
            "Regeling melding Wav art. 3(1)(d)). Every notification is checked against the "
            "conditions of salaried employment; errors follow RFC 9457 (problem+json)."
        ),
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine or create_db_engine(settings.database_url)

    @app.middleware("http")
    async def request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        response.headers["X-Request-ID"] = rid
        return response

    app.add_middleware(BodyLimitMiddleware, settings=settings)
    _install_error_handlers(app)
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from meldplicht.notifications.router import router as notifications_router
    from meldplicht.public.router import router as public_router

    app.include_router(notifications_router)
    app.include_router(public_router)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return _problem_response(
            exc.problem(request.url.path, request_id_var.get()), headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors_from_pydantic(exc.errors())
        problem = Problem(
            type="https://meldplicht.example/problems/validation_failed",
            title="The request has invalid fields",
            status=422,
            detail=f"{len(errors)} field(s) need attention; see errors.",
            instance=request.url.path,
            code="validation_failed",
            request_id=request_id_var.get(),
            errors=errors,
        )
        return _problem_response(problem)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            400: "malformed_request",
            404: "not_found",
            405: "method_not_allowed",
        }.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the methods of the one route it matched; a path served by
            # several routes (GET list, POST create) must list them all.
            headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        problem = Problem(
            title=str(exc.detail),
            status=exc.status_code,
            instance=request.url.path,
            code=code,
            request_id=request_id_var.get(),
        )
        return _problem_response(problem, headers=headers)

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", type(exc).__name__)
        err = ServiceUnavailable(
            "The database is unavailable; nothing was stored. Retry shortly.",
            headers={"Retry-After": "5"},
        )
        return _problem_response(err.problem(request.url.path, request_id_var.get()), err.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s", request.url.path, exc_info=exc)
        problem = Problem(
            title="Internal error",
            status=500,
            instance=request.url.path,
            code="internal_error",
            detail="Something went wrong on our side; nothing was stored.",
            request_id=request_id_var.get(),
        )
        return _problem_response(problem)


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    methods: set[str] = set()
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(path):
            methods |= route.methods or set()
    return sorted(methods)


def create_checked_app(settings: Settings | None = None) -> FastAPI:
    """The app `serve` runs: refuses to start on a database behind the newest migration."""
    settings = settings or get_settings()
    engine = create_db_engine(settings.database_url)
    ensure_schema_current(engine)
    return create_app(settings, engine)
