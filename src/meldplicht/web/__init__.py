"""The HTML pages: sessions, CSRF, security headers, static files and the page routers.

`_mount_web(app)` is the one hook the application factory calls. Pages are rendered on the
server over the same services the JSON API uses, and every core flow works without script.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meldplicht.core.clock import today
from meldplicht.core.config import Environment, Settings
from meldplicht.core.errors import DomainError
from meldplicht.web import auth, i18n
from meldplicht.web.auth import OptionalUser, PageForbidden
from meldplicht.web.csrf import CsrfFailed
from meldplicht.web.pages import STATIC_DIR, render
from meldplicht.web.worker_copy import rights_facts

log = logging.getLogger("meldplicht.web")

SESSION_COOKIE = "meldplicht_session"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
# The API docs may run Swagger UI's inline set-up script and ReDoc's injected styles, but
# load nothing from elsewhere (ReDoc's attribution logo would come from its CDN).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# The interactive API docs run an inline script (Swagger UI's set-up): they keep FastAPI's own
# headers. Their assets come from this server (fastapi-offline), never from a CDN.
_NO_PAGE_HEADERS = ("/docs", "/redoc", "/openapi.json", "/static-offline-docs")
# Answers that never carry personal data (public law data, API docs, probes, static files);
# every other answer, page or API, error or not, is `Cache-Control: no-store`.
CACHEABLE_PREFIXES = (
    "/api/v1/parameters",
    "/api/v1/rules",
    "/static/",
    "/static-offline-docs",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
)


def may_be_cached(path: str) -> bool:
    return path == "/" or path.startswith(CACHEABLE_PREFIXES)


def is_page(path: str) -> bool:
    return not path.startswith("/api/") and not path.startswith(_NO_PAGE_HEADERS)


class SecurityHeadersMiddleware:
    """nosniff and a referrer policy on every response; CSP and no framing on the pages;
    `Cache-Control: no-store` on every answer that may carry personal data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = is_page(scope["path"])
        cacheable = may_be_cached(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if scope["path"] in ("/docs", "/redoc"):
                    extra.append((b"content-security-policy", DOCS_CSP.encode()))
                if page:
                    extra += [
                        (b"content-security-policy", CSP.encode()),
                        (b"x-frame-options", b"DENY"),
                        (b"cross-origin-opener-policy", b"same-origin"),
                        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                    ]
                if not cacheable:
                    # Pages and API answers carry personal data: never kept in any cache.
                    extra.append((b"cache-control", b"no-store"))
                headers += [(k, v) for k, v in extra if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class PageSessionMiddleware(SessionMiddleware):
    """The signed session cookie, for everything but the API: API calls authenticate with a
    key and never read a session, so they skip decoding one (and its response hook)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


# --- pages every role shares ----------------------------------------------------------------

shared_router = APIRouter(include_in_schema=False)


@shared_router.get("/", name="home")
def home(user: OptionalUser) -> Response:
    return RedirectResponse(auth.home_for(user) if user else "/login", status_code=303)


@shared_router.get("/favicon.ico", name="favicon")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says; the icon is an SVG."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@shared_router.get("/worker", name="worker_info")
def worker_info(request: Request, user: OptionalUser) -> Response:
    """Public: what a notification means for the worker, their rights, where to get help."""
    facts = rights_facts(today())
    return render(
        request, "worker.html", {"facts": facts}, languages=i18n.WORKER_LANGUAGES, user=user
    )


# --- errors on pages --------------------------------------------------------------------------


def _error_page(request: Request, status: int, key: str) -> Response:
    try:
        return render(request, "error.html", {"status": status, "key": key}, status_code=status)
    except AssertionError:  # pragma: no cover - no session (middleware missing): plain text
        return Response(key, status_code=status)


async def _call(handler: Any, request: Request, exc: Exception) -> Response:
    """Run the API's own handler (the JSON problem) for a path that is not a page."""
    result = handler(request, exc)
    response: Response = await result if inspect.isawaitable(result) else result
    return response


def _install_page_errors(app: FastAPI) -> None:
    api_domain_handler = app.exception_handlers[DomainError]
    api_http_handler = app.exception_handlers[StarletteHTTPException]

    async def login_required(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, auth.LoginRequired)
        return auth.login_redirect(exc.next_path)

    async def forbidden(request: Request, _exc: Exception) -> Response:
        return _error_page(request, 403, "forbidden")

    async def csrf_failed(request: Request, _exc: Exception) -> Response:
        return _error_page(request, 403, "csrf")

    async def domain_error(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path):
            return await _call(api_domain_handler, request, exc)
        assert isinstance(exc, DomainError)
        key = {404: "not_found", 403: "forbidden", 409: "conflict", 413: "too_large"}.get(
            exc.status, "bad_request"
        )
        return _error_page(request, exc.status, key)

    async def http_error(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path) or request.url.path.startswith("/static/"):
            return await _call(api_http_handler, request, exc)
        assert isinstance(exc, StarletteHTTPException)
        key = {404: "not_found", 405: "bad_request"}.get(exc.status_code, "bad_request")
        return _error_page(request, exc.status_code, key)

    app.add_exception_handler(auth.LoginRequired, login_required)
    app.add_exception_handler(PageForbidden, forbidden)
    app.add_exception_handler(CsrfFailed, csrf_failed)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _mount_web(app: FastAPI) -> None:
    """Static files, sessions, security headers, page errors and the page routers."""
    from meldplicht.web.cases import router as case_pages_router
    from meldplicht.web.employer import router as employer_router
    from meldplicht.web.employer_alerts import router as employer_alerts_router
    from meldplicht.web.employer_changes import router as employer_changes_router
    from meldplicht.web.inspector import router as inspector_pages_router
    from meldplicht.web.signal import router as signal_router
    from meldplicht.web.verify import router as verify_router

    settings: Settings = app.state.settings
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(
        PageSessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.session_max_hours * 3600),
        same_site="lax",
        https_only=settings.environment not in (Environment.DEVELOPMENT, Environment.TEST),
    )
    app.add_middleware(SecurityHeadersMiddleware)
    _install_page_errors(app)
    app.include_router(auth.router)
    app.include_router(shared_router)
    app.include_router(employer_router)
    app.include_router(case_pages_router)
    app.include_router(employer_changes_router)
    app.include_router(employer_alerts_router)
    app.include_router(inspector_pages_router)
    app.include_router(verify_router)
    app.include_router(signal_router)
