"""The application factory: routers, error handlers, middleware, and the schema check."""

from __future__ import annotations

import gc
import json
import re
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import meldplicht.inspection.cases  # noqa: F401 - sets the case joiner every flag sync ends in
from meldplicht import __version__
from meldplicht.accounts.gate import ApiKeyGateMiddleware
from meldplicht.core.config import Settings, get_settings
from meldplicht.core.context import request_id_var
from meldplicht.core.db import create_db_engine
from meldplicht.core.errors import (
    PROBLEM_JSON,
    Conflict,
    DomainError,
    FieldError,
    InvalidRequest,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from meldplicht.core.logging import get_logger
from meldplicht.core.migrations import ensure_schema_current
from meldplicht.core.validation import (
    body_check_for,
    field_errors_from_pydantic,
    request_language,
)
from meldplicht.inspection import signals
from meldplicht.ops import mount_ops
from meldplicht.web import _mount_web

log = get_logger("meldplicht")


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


class _KeepConnectionAfterError:
    """Outermost ASGI layer: an exception that escapes after its 500 was sent ends here.

    Starlette's ServerErrorMiddleware sends the 500 problem and then re-raises, so that the
    server logs it; uvicorn, seeing an exception once the response has started, closes the
    connection, and a keep-alive client's next request on it is reset. Our handler has
    logged the error already, so a finished response needs nothing more. An exception before
    any response (or during a streamed one) still goes up: only the server can end that.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        finished = False

        async def watch(message: Message) -> None:
            nonlocal finished
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if not finished:
                raise


class _App(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        return _KeepConnectionAfterError(super().build_middleware_stack())


def _problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=problem.status,
        content=problem.model_dump(mode="json", exclude_none=True),
        media_type=PROBLEM_JSON,
        headers=headers,
    )


# Deeper nesting than any of our bodies needs; far below what would exhaust the JSON parser.
MAX_JSON_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_TOKENS = re.compile(rb'[\[\]{}"\\]')


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media in ("application/json", "application/x-ndjson", "application/jsonl") or (
        media.startswith("application/") and media.endswith("+json")
    )


def _is_upload(path: str) -> bool:
    return path.endswith(("/bulk", "/import", "/imports")) or "/uploads" in path


class JsonDepthScanner:
    """Follows the nesting depth of JSON text chunk by chunk, without parsing or keeping it."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped = False  # the previous chunk ended on a backslash inside a string

    def feed(self, chunk: bytes, *, last: bool = False) -> bool:
        """False as soon as the depth passes the limit. `last`: no chunk follows this one."""
        # A whole body (the usual case) that opens no more arrays and objects than the limit
        # cannot nest deeper than it: two counts at C speed instead of the scan.
        whole = last and self.depth == 0 and not self.in_string and not self.escaped
        if whole and chunk.count(b"[") + chunk.count(b"{") <= self.limit:
            return True
        skip = 0 if self.escaped else -1
        self.escaped = False
        for match in _JSON_TOKENS.finditer(chunk):
            i = match.start()
            if i == skip:
                continue
            c = chunk[i]
            if self.in_string:
                if c == 0x5C:  # backslash: the next byte is escaped
                    if i + 1 < len(chunk):
                        skip = i + 1
                    else:
                        self.escaped = True
                elif c == 0x22:
                    self.in_string = False
            elif c == 0x22:
                self.in_string = True
            elif c in (0x5B, 0x7B):
                self.depth += 1
                if self.depth > self.limit:
                    return False
            elif c in (0x5D, 0x7D):
                self.depth -= 1
        return True


def _too_deep() -> InvalidRequest:
    message = f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels."
    return InvalidRequest(
        message,
        errors=[
            FieldError(
                field="body",
                code="json_too_deep",
                message=message,
                message_nl=f"De JSON is dieper genest dan {MAX_JSON_DEPTH} niveaus.",
            )
        ],
    )


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return obj


def duplicate_key(body: bytes) -> str | None:
    """The first key that appears twice in one object of the JSON `body`, if any (None also
    for text that is not JSON: the route's own parser reports that)."""
    try:
        json.loads(body, object_pairs_hook=_refuse_duplicates)
    except DuplicateKey as exc:
        return exc.key
    except ValueError:  # not JSON (json.JSONDecodeError, or bytes in no Unicode encoding)
        return None
    return None


def _duplicate(key: str) -> InvalidRequest:
    shown = key if len(key) <= 80 else key[:80] + "…"
    return InvalidRequest(
        f"The key {shown!r} appears twice in one JSON object.",
        errors=[
            FieldError(
                field="body",
                code="json_duplicate_key",
                message=f"The key {shown!r} appears twice in one object; send it once.",
                message_nl=f"De sleutel {shown!r} staat twee keer in één object; stuur hem "
                "één keer.",
            )
        ],
    )


class BodyLimitMiddleware:
    """Refuses bodies above the limit before they are read whole (413 problem+json).

    On the JSON API it also refuses a body that is not JSON (415), JSON nested deeper than
    MAX_JSON_DEPTH (422) and JSON with a key twice in one object (422), checking each chunk
    as it arrives: a JSON body (at most max_body_bytes) is collected here once and handed on,
    uploads are checked in passing.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def _limit(self, path: str) -> int:
        if _is_upload(path):
            return self.settings.max_upload_bytes
        if path in signals.SIGNAL_PATHS:  # anyone may send one: a small body only
            return min(signals.MAX_BODY_BYTES, self.settings.max_body_bytes)
        return self.settings.max_body_bytes

    async def _refuse(self, error: DomainError, scope: Scope, receive: Receive, send: Send) -> None:
        await _problem_response(error.problem(scope["path"], request_id_var.get()))(
            scope, receive, send
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self._limit(path)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        too_large = PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(too_large, scope, receive, send)
            return
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        json_body = _is_json(content_type)
        if scope["method"] in _BODY_METHODS and path.startswith("/api/") and not _is_upload(path):
            has_body = (declared is not None and declared not in (b"", b"0")) or (
                b"transfer-encoding" in headers
            )
            if has_body and not json_body:
                await self._refuse(
                    UnsupportedMediaType("Send the body as application/json."),
                    scope,
                    receive,
                    send,
                )
                return
            if json_body:
                await self._collect_json(scope, receive, send, limit, too_large)
                return
        await self._guard_stream(scope, receive, send, limit, too_large, json_body)

    async def _guard_stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        limit: int,
        too_large: DomainError,
        json_body: bool,
    ) -> None:
        """Pass the body through chunk by chunk (uploads are streamed, never held whole).

        On a violation the app is told the client went away, and its answer, or the error it
        raises over the missing body, is replaced by ours: an exception raised into the app's
        receive would come back wrapped by the middleware in between, as a 500.
        """
        scanner = JsonDepthScanner() if json_body else None
        received = 0
        violation: list[DomainError] = []
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            if violation:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    violation.append(too_large)
                elif scanner is not None and not scanner.feed(chunk):
                    violation.append(_too_deep())
                if violation:
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if violation and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not violation or started:
                raise
        if violation and not started:
            await self._refuse(violation[0], scope, receive, send)

    async def _collect_json(
        self, scope: Scope, receive: Receive, send: Send, limit: int, too_large: DomainError
    ) -> None:
        body = bytearray()
        scanner = JsonDepthScanner()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            body += chunk
            if len(body) > limit:
                await self._refuse(too_large, scope, receive, send)
                return
            more = bool(message.get("more_body", False))
            if not scanner.feed(chunk, last=not more):
                await self._refuse(_too_deep(), scope, receive, send)
                return
            if not more:
                break
        # Two values for one key: refused, never "the last one wins" (a filter in front of
        # us may have read the first).
        if body and (key := duplicate_key(bytes(body))) is not None:
            await self._refuse(_duplicate(key), scope, receive, send)
            return
        handed_on = False

        async def replay() -> Message:
            nonlocal handed_on
            if handed_on:
                return await receive()
            handed_on = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


# Probes are called by address (a load balancer, an orchestrator); they carry no data and
# build no links, so they answer whatever the Host.
_ANY_HOST_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def host_of(raw: str) -> str:
    """The host name of a Host header, without the port, lower case ('' if malformed)."""
    raw = raw.strip().lower()
    if raw.startswith("["):
        end = raw.find("]")
        return raw[: end + 1] if end > 0 else ""
    return raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw


def host_allowed(host: str, allowed: list[str]) -> bool:
    host = host.rstrip(".")
    return bool(host) and any(
        host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
        for pattern in allowed
    )


class AllowedHostMiddleware:
    """Answers only to the configured host names (settings.hosts), like Starlette's
    TrustedHostMiddleware but with a problem+json 400: every URL the app builds from the
    request (the trailing-slash redirect, links) then names a host we chose, never a forged
    Host header."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.allowed = settings.hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in _ANY_HOST_PATHS:
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == b"host"), b"")
        if host_allowed(host_of(raw.decode("latin-1")), self.allowed):
            await self.app(scope, receive, send)
            return
        problem = Problem(
            title="Unknown host",
            status=400,
            detail="This service does not answer to that Host header.",
            instance=scope["path"],
            code="invalid_host",
            request_id=request_id_var.get(),
        )
        await _problem_response(problem)(scope, receive, send)


class RequestIdMiddleware:
    """Gives every request an id (the client's X-Request-ID if it is sensible, else a new
    one): in `request_id_var` while the request runs, and in the response's X-Request-ID.

    Plain ASGI (not BaseHTTPMiddleware, which runs the app in a task of its own and costs a
    noticeable share of a small request).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        # Kept in the scope too: the last-resort 500 handler runs after this middleware.
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        token = request_id_var.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from meldplicht.sweeps.scheduler import start_in_app

        # Only with MELDPLICHT_SCHEDULER_ENABLED (one machine); otherwise `meldplicht scheduler`.
        scheduler = start_in_app(app.state.settings, app.state.engine)
        if getattr(app.state, "freeze_startup_objects", False):
            _freeze_startup_objects()
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if engine is None:
            app.state.engine.dispose()

    # The API docs (/docs, /redoc) load Swagger UI and ReDoc from the assets fastapi-offline
    # ships, not from a CDN: they work offline and inside a closed network.
    app = FastAPIOffline(
        static_url="/static-offline-docs",
        favicon_url="/static/favicon.svg",
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
    # fastapi-offline builds a plain FastAPI; ours differs only in its outermost layer.
    app.__class__ = _App
    app.state.settings = settings
    app.state.engine = engine or create_db_engine(settings.database_url)
    if app.state.engine.dialect.name == "sqlite":
        app.state.sqlite_write_queue = threading.Lock()
    mount_ops(app)  # before the request-id middleware, so its access log sees the id

    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    # Outside the body limit (which collects a JSON body): the key before any of the body.
    app.add_middleware(ApiKeyGateMiddleware)
    _install_error_handlers(app)
    _include_routers(app)
    _mount_web(app)
    app.add_middleware(AllowedHostMiddleware, settings=settings)  # outermost: before all else
    return app


def _include_routers(app: FastAPI) -> None:
    from meldplicht.alerts.router import deliveries as alert_deliveries_router
    from meldplicht.alerts.router import router as actions_router
    from meldplicht.alerts.router import subscriptions as alert_subscriptions_router
    from meldplicht.inspection.case_router import router as case_router
    from meldplicht.inspection.router import router as inspection_router
    from meldplicht.notifications.router import bulk_router as notifications_bulk_router
    from meldplicht.notifications.router import router as notifications_router
    from meldplicht.payroll.router import router as payroll_router
    from meldplicht.privacy.router import router as privacy_router
    from meldplicht.public.router import router as public_router
    from meldplicht.public.signals import router as signals_router
    from meldplicht.sweeps.router import router as sweeps_router

    app.include_router(notifications_router)
    app.include_router(actions_router)
    app.include_router(alert_subscriptions_router)
    app.include_router(alert_deliveries_router)
    app.include_router(inspection_router)
    app.include_router(case_router)
    app.include_router(public_router)
    app.include_router(signals_router)
    app.include_router(sweeps_router)
    app.include_router(payroll_router)
    app.include_router(privacy_router)
    app.include_router(notifications_bulk_router)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        problem = exc.problem(request.url.path, request_id_var.get())
        lang = request_language(request.headers.get("accept-language", ""))
        problem.errors = [e.in_language(lang) for e in problem.errors]
        return _problem_response(problem, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors_from_pydantic(exc.errors())
        # A route may add the checks that span fields, on whatever parts of the body parse.
        route = request.scope.get("route")
        check = body_check_for(getattr(route, "endpoint", None))
        if check is not None:
            seen = {(e.field, e.code) for e in errors}
            errors += [e for e in check(exc.body) if (e.field, e.code) not in seen]
        lang = request_language(request.headers.get("accept-language", ""))
        errors = [e.in_language(lang) for e in errors]
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

    @app.exception_handler(IntegrityError)
    async def conflicting_write(request: Request, exc: IntegrityError) -> JSONResponse:
        # A race the service could not see coming (two requests with the same reference or
        # Idempotency-Key at once) is a unique-key clash: 409, nothing stored, retry. Any
        # other integrity error (a foreign key) is a bug and stays a 500.
        if not _is_unique_violation(exc):
            return await unexpected(request, exc)
        log.warning("unique-key clash", path=request.url.path)
        err = Conflict("A conflicting request was processed at the same time; retry it.")
        return _problem_response(err.problem(request.url.path, request_id_var.get()))

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
        # The request-id middleware has already finished here; the ops middleware kept the id.
        rid = request_id_var.get() or request.scope.get("state", {}).get("request_id")
        log.error("unhandled error", path=request.url.path, request_id=rid, exc_info=exc)
        problem = Problem(
            title="Internal error",
            status=500,
            instance=request.url.path,
            code="internal_error",
            detail="Something went wrong on our side; nothing was stored.",
            request_id=rid,
        )
        return _problem_response(problem, headers={"X-Request-ID": rid} if rid else None)


def _is_unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return "UNIQUE constraint failed" in str(orig)  # SQLite


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    methods: set[str] = set()
    # Included routers are wrapped (FastAPI's _IncludedRouter): walk their effective routes.
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.path_regex.match(path):
            methods |= route.methods or set()
    return sorted(methods)


NO_HOSTS = (
    "MELDPLICHT_ALLOWED_HOSTS is empty: in production set the host names the service answers "
    "to (e.g. meldplicht.example.nl)."
)


def create_checked_app(settings: Settings | None = None) -> FastAPI:
    """The app `serve` runs: refuses to start on a database behind the newest migration."""
    settings = settings or get_settings()
    if not settings.hosts:
        raise RuntimeError(NO_HOSTS)
    engine = create_db_engine(settings.database_url)
    ensure_schema_current(engine)
    app = create_app(settings, engine)
    app.state.freeze_startup_objects = True
    return app


def _freeze_startup_objects() -> None:
    """Leave what exists at start-up (modules, classes, schemas, the app: hundreds of thousands
    of objects that live as long as the process) out of the garbage collector's full passes.

    Each full pass otherwise walks all of them: a pause of tens of milliseconds every few
    hundred requests, which every request queued behind it waits out (the intake p99 on
    SQLite fell from about 2.5 to 1.7 times the median; benchmarks/README.md). Only for
    `serve`: a test process builds many apps and must not keep each one for good.
    """
    gc.collect()
    gc.freeze()
