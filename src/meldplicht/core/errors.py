"""Domain errors that carry their HTTP status, rendered as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    """One thing wrong with one field of the request."""

    field: str = Field(
        description="Dotted path of the field, e.g. worker.bsn or rows.3.start_date."
    )
    code: str = Field(description="Stable machine-readable code, e.g. invalid_bsn.")
    message: str = Field(
        description="What is wrong, in the language the request asked for (Accept-Language: "
        "nl or en; English where no Dutch text exists)."
    )
    message_nl: str | None = Field(None, description="What is wrong, in Dutch.")
    message_en: str | None = Field(None, description="What is wrong, in English.")

    def in_language(self, lang: str) -> FieldError:
        """This error with `message` in `lang` (nl or en) and both texts named."""
        english = self.message_en or self.message
        shown = self.message_nl if lang == "nl" and self.message_nl else english
        return self.model_copy(update={"message": shown, "message_en": english})


class Problem(BaseModel):
    """RFC 9457 problem details, with field errors where the request was at fault."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str = Field(description="Stable machine-readable error code.")
    request_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class DomainError(Exception):
    """Base of every error the service raises on purpose."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}

    def problem(self, instance: str | None = None, request_id: str | None = None) -> Problem:
        return Problem(
            type=f"https://meldplicht.example/problems/{self.code}",
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            code=self.code,
            request_id=request_id,
            errors=self.errors,
        )


class MalformedRequest(DomainError):
    status = 400
    code = "malformed_request"
    title = "The request body could not be read (not UTF-8 or not JSON)"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with a different request"


class InvalidRequest(DomainError):
    status = 422
    code = "validation_failed"
    title = "The request has invalid fields"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported content type"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    title = "Service temporarily unavailable"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"


def problem_responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry a route declares for the errors it may raise."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        out[err.status] = {
            "model": Problem,
            "description": err.title,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out
