"""CSRF protection for the pages: one random token per session, echoed by every form.

The token is kept in the signed session cookie and put in a hidden field of each form; every
POST to a page must send it back unchanged (compared in constant time). SameSite=Lax on the
cookie already stops most cross-site posts; the token also covers older browsers and
same-site subdomains. A cross-origin `Origin` header is refused outright.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from meldplicht.core.db import SessionDep
from meldplicht.web.sessions import live_account

SESSION_KEY = "csrf"
FIELD = "csrf_token"


class CsrfFailed(Exception):
    """The form's token is missing or wrong, or the post came from another origin."""


def csrf_token(request: Request) -> str:
    """The session's token, created on first use (also before sign-in: the login form)."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def rotate(request: Request) -> None:
    """A new token after sign-in and sign-out, so a token seen before cannot be reused."""
    request.session[SESSION_KEY] = secrets.token_urlsafe(32)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Browsers omit Origin on some same-origin posts; the token still has to match.
        return origin is None
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin == own


def live_session(request: Request, session: SessionDep) -> None:
    """Empties a cookie whose sign-in has ended (sign-out elsewhere, timeout, new password),
    its token with it, before the token is compared: such a copy cannot post a form."""
    live_account(request, session)


async def verified_form(
    request: Request, _live: Annotated[None, Depends(live_session)]
) -> FormData:
    """The posted form, after checking its CSRF token against the session's."""
    return await verified_public_form(request)


async def verified_public_form(request: Request) -> FormData:
    """The same check for a form anyone may send (the worker page's signal form): the token
    must match, but no sign-in needs to be live, since posting it gives no one any right."""
    form = await request.form()
    sent = form.get(FIELD)
    expected = request.session.get(SESSION_KEY)
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not expected
        or not hmac.compare_digest(sent.encode(), expected.encode())
        or not _same_origin(request)
    ):
        raise CsrfFailed()
    return form


VerifiedForm = Annotated[FormData, Depends(verified_form)]
PublicForm = Annotated[FormData, Depends(verified_public_form)]


def text_fields(form: FormData, *, skip: tuple[str, ...] = (FIELD,)) -> dict[str, str]:
    """The form's text values (files and the listed control fields left out)."""
    out: dict[str, str] = {}
    for key, value in form.multi_items():
        if key in skip or not isinstance(value, str):
            continue
        out[key] = value
    return out
