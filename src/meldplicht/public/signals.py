"""POST /api/v1/signals: a partner organisation reports an employer, without an account.

The same check, matching and storing as the worker page's form (inspection/signals.py); the
answer says only that the report arrived, never which case or employer it joined.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from meldplicht.accounts.ratelimit import RateLimited, limiter_for
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import (
    FieldError,
    InvalidRequest,
    MalformedRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    problem_responses,
)
from meldplicht.core.validation import request_language
from meldplicht.inspection import signals
from meldplicht.inspection.models import SignalSource
from meldplicht.web import i18n

router = APIRouter(tags=["signals"])


def _text(name: str, description: str) -> Any:
    limit = signals.MAX_LENGTH[name]
    return Field(None, description=f"{description} At most {limit} characters.")


class SignalBody(BaseModel):
    """What a signal holds: nothing else is accepted (an unknown field is refused)."""

    model_config = ConfigDict(extra="forbid")

    employer_name: str | None = _text(
        "employer_name", "The employer's or agency's name (this or `kvk_number`)."
    )
    kvk_number: str | None = _text(
        "kvk_number", "The employer's KvK number, 8 digits (this or `employer_name`)."
    )
    place: str | None = _text("place", "Required: the town or city where the work is.")
    what_happened: str | None = _text(
        "what_happened", "Required: what happened, in any language, without personal numbers."
    )
    contact: str | None = _text(
        "contact", "Optional: how the inspector may reach the sender (phone or e-mail)."
    )
    language: str | None = Field(
        None,
        pattern=r"^[a-z]{2}$",
        description="Optional: the language the report is written in (ISO 639-1, e.g. uk).",
    )


class SignalReceived(BaseModel):
    status: str = Field(description="Always `received`: the report is unverified until checked.")
    received_at: datetime
    what_happens_next: str


def field_errors(problems: list[signals.SignalProblem]) -> list[FieldError]:
    """The problems of a signal with their Dutch and English texts (web/i18n)."""
    en, nl = i18n.Translator("en"), i18n.Translator("nl")
    out = []
    for p in problems:
        key = f"signal.error.{p.code}"
        out.append(
            FieldError(
                field=p.field,
                code=p.code,
                message=en(key, max=p.max),
                message_nl=nl(key, max=p.max),
                message_en=en(key, max=p.max),
            )
        )
    return out


def sender_address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post(
    signals.API_PATH,
    response_model=SignalReceived,
    status_code=202,
    responses=problem_responses(
        MalformedRequest, InvalidRequest, PayloadTooLarge, UnsupportedMediaType, RateLimited
    ),
    summary="Report an employer (partner organisations; no account, no personal numbers)",
    description=(
        "A signal about an employer for the Netherlands Labour Inspectorate: the employer's "
        "name and/or KvK number, the place, what happened, and optionally how to reach the "
        "sender. No account and no API key. A text containing a personal number (a BSN, a "
        "V-number, an IBAN) is refused with 422 rather than stored. Nothing else is kept: "
        "not the sender's address. The body may be at most "
        f"{signals.MAX_BODY_BYTES} bytes; at most a few signals per hour are taken from one "
        "connection (429 with Retry-After). The employer never sees the signal."
    ),
)
def send_signal(body: SignalBody, request: Request, session: SessionDep) -> SignalReceived:
    lang = request_language(request.headers.get("accept-language", ""))
    checked, problems = signals.check(body.model_dump(exclude={"language"}))
    if checked is None:
        raise InvalidRequest(
            f"{len(problems)} field(s) need attention; see errors.",
            errors=[e.in_language(lang) for e in field_errors(problems)],
        )
    limiter_for(request.app.state).check_signal(sender_address(request))
    row = signals.receive(session, checked, source=SignalSource.PARTNER, language=body.language)
    return SignalReceived(
        status="received",
        received_at=row.received_at,
        what_happens_next=i18n.Translator(lang)("signal.thanks.next"),
    )
