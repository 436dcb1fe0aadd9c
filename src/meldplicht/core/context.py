"""Per-request context (the request id) that logs, errors and audit entries pick up."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
