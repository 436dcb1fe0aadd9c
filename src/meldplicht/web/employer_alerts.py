"""The employer's alert subscriptions: add a webhook or an e-mail address, see what was sent
to each, and remove one.

HTTP only: subscribing, checking an address, removing and the delivery log are
alerts.outbox (the same calls the API's /api/v1/alert-subscriptions makes). Every POST
redirects (Post/Redirect/Get); a webhook's signing secret is shown once, on the page the
redirect leads to, and is then gone from the session.
"""

from __future__ import annotations

import uuid

from cryptography.fernet import InvalidToken
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from meldplicht.alerts import outbox
from meldplicht.alerts.models import AlertChannel
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import FieldError, InvalidRequest
from meldplicht.web import i18n
from meldplicht.web.auth import EmployerUser, PageUser
from meldplicht.web.csrf import VerifiedForm, text_fields
from meldplicht.web.employer import _employer_id, _settings, error_view
from meldplicht.web.pages import language, render

router = APIRouter(prefix="/employer", include_in_schema=False)

# The input of each channel's form; the service names the address `target`.
INPUTS = {AlertChannel.WEBHOOK: "webhook_url", AlertChannel.EMAIL: "email_address"}
# A new webhook's secret, between the POST and the page that shows it once (encrypted).
SHOWN_ONCE = "alert_secret"
DONE = ("added", "removed")


def _page(
    request: Request,
    session: Session,
    user: PageUser,
    values: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
    secret: str | None = None,
) -> Response:
    employer_id = _employer_id(user)
    t = i18n.Translator(language(request))
    inline, summary = error_view(errors or [], t)
    done = request.query_params.get("done", "")
    return render(
        request,
        "employer/alerts.html",
        {
            "subscriptions": outbox.subscriptions_of(session, employer_id, active_only=True),
            "summaries": outbox.delivery_summaries(session, employer_id),
            "deliveries": outbox.delivery_log(session, employer_id),
            "email_enabled": _settings(request).alerts_email_enabled,
            "values": values or {},
            "errors": inline,
            "error_list": summary,
            "done": done if done in DONE else "",
            "secret": secret,
        },
        status_code=status_code,
        user=user,
    )


def _shown_once(request: Request) -> str | None:
    kept = request.session.pop(SHOWN_ONCE, None)
    if not isinstance(kept, str):
        return None
    try:
        return cipher_for(_settings(request)).decrypt(kept)
    except (ValueError, InvalidToken):
        return None


@router.get("/alerts", name="employer_alerts")
def alerts_page(request: Request, session: SessionDep, user: EmployerUser) -> Response:
    """The subscriptions with what was sent to each, the forms to add one, and the log."""
    return _page(request, session, user, secret=_shown_once(request))


@router.post("/alerts/subscriptions", name="add_alert_subscription")
def add_subscription(
    request: Request, session: SessionDep, user: EmployerUser, form: VerifiedForm
) -> Response:
    fields = text_fields(form)
    try:
        channel = AlertChannel(fields.get("channel", ""))
    except ValueError:
        channel = AlertChannel.WEBHOOK if "webhook_url" in fields else AlertChannel.EMAIL
    name = INPUTS[channel]
    target = fields.get(name, "").strip()
    try:
        with session.begin_nested():
            _, secret = outbox.subscribe(
                session, _settings(request), _employer_id(user), channel, target
            )
    except InvalidRequest as exc:
        errors = [e.model_copy(update={"field": name}) for e in exc.errors]
        return _page(request, session, user, {name: target}, errors, status_code=422)
    if secret is not None:
        request.session[SHOWN_ONCE] = cipher_for(_settings(request)).encrypt(secret)
    return RedirectResponse("/employer/alerts?done=added", status_code=303)


@router.post("/alerts/subscriptions/{subscription_id}/delete", name="delete_alert_subscription")
def delete_subscription(
    session: SessionDep, user: EmployerUser, subscription_id: uuid.UUID, _form: VerifiedForm
) -> Response:
    outbox.unsubscribe(session, _employer_id(user), subscription_id)
    return RedirectResponse("/employer/alerts?done=removed", status_code=303)
