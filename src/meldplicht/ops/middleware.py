"""One ASGI middleware for every request: Prometheus counters, latency, and the access log.

It sits inside the request-id middleware, so each access line carries the request id. The
access line has the route template, the path (never the query string: ?worker_bsn=... is
personal data), status and duration; no client address (personal data too).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meldplicht.core import metrics
from meldplicht.core.context import request_id_var
from meldplicht.core.logging import ACCESS_LOGGER, get_logger

# Probes and scrapes arrive every few seconds: counted, but not logged unless they fail.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
TEST_DELAY_HEADER = b"x-test-delay"


def route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    # path_format drops the convertors: /notifications/{notification_id}, not {...:uuid}.
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return metrics.UNMATCHED_ROUTE


class OpsMiddleware:
    """Counts and times every HTTP request, and writes one access-log line for it.

    `test_delay_ms` (MELDPLICHT_TEST_REQUEST_DELAY_MS, test-only, never in production)
    holds back requests that carry the header `X-Test-Delay: 1`, so a test can have a
    request in flight while it stops the server.
    """

    def __init__(self, app: ASGIApp, test_delay_ms: int = 0) -> None:
        self.app = app
        self.test_delay_ms = test_delay_ms
        self.log = get_logger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        # Kept on the request for the 500 handler, which runs outside the request-id middleware.
        scope.setdefault("state", {})["request_id"] = request_id_var.get()

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            if self.test_delay_ms and dict(scope["headers"]).get(TEST_DELAY_HEADER) == b"1":
                await asyncio.sleep(self.test_delay_ms / 1000)
            await self.app(scope, receive, send_and_watch)
        except BaseException:
            status = 500
            raise
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = str(scope.get("method", ""))
        metrics.observe_request(method, route, status, seconds)
        path = str(scope.get("path", ""))
        if path in QUIET_PATHS and status < 500:
            return
        level = "error" if status >= 500 else "warning" if status in (401, 403, 429) else "info"
        getattr(self.log, level)(
            "request",
            method=method,
            route=route,
            path=path,
            status=status,
            duration_ms=round(seconds * 1000, 1),
        )
