"""Sign-in and sign-out for user accounts, the signed-in user, and role checks for pages.

Sessions are checked against the account on every request (web/sessions.py): sign-out, a new
password and disabling end every copy of the cookie; idle and absolute timeouts apply.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from meldplicht.accounts.models import Role
from meldplicht.accounts.ratelimit import RateLimited, limiter_for
from meldplicht.accounts.service import (  # noqa: F401 - the lock-out lives in the service
    LOCKOUT,
    MAX_FAILED_LOGINS,
    authenticate,
    end_sessions,
)
from meldplicht.core.db import SessionDep
from meldplicht.core.security import Principal
from meldplicht.web import csrf
from meldplicht.web.csrf import VerifiedForm
from meldplicht.web.pages import render
from meldplicht.web.sessions import (  # noqa: F401 - the cookie's keys, for tests and tools
    GENERATION_KEY,
    SIGNED_IN_KEY,
    USER_KEY,
    end_cookie_session,
    live_account,
    signed_in_data,
)

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """No (valid) session: the page handler redirects to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Exception):
    """Signed in, but this role may not see the page."""


@dataclass(frozen=True, slots=True)
class PageUser:
    id: uuid.UUID
    username: str
    display_name: str
    role: str
    employer_id: uuid.UUID | None

    @property
    def principal(self) -> Principal:
        return Principal(
            role=self.role,
            actor_id=f"user:{self.id}",
            employer_id=self.employer_id,
            display_name=self.display_name,
        )


def _session_user(request: Request, session: Session) -> PageUser | None:
    account = live_account(request, session)
    if account is None:
        return None
    return PageUser(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        employer_id=account.employer_id,
    )


def optional_user(request: Request, session: SessionDep) -> PageUser | None:
    return _session_user(request, session)


def current_user(request: Request, session: SessionDep) -> PageUser:
    user = _session_user(request, session)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


OptionalUser = Annotated[PageUser | None, Depends(optional_user)]
CurrentUser = Annotated[PageUser, Depends(current_user)]


def require_page_roles(*roles: Role) -> Callable[..., PageUser]:
    """A dependency: the signed-in user if their role is one of `roles`, else a 403 page.

    Use as `user: Annotated[PageUser, Depends(require_page_roles(Role.INSPECTOR))]`.
    """
    allowed = frozenset(r.value for r in roles)

    def dependency(user: CurrentUser) -> PageUser:
        if user.role not in allowed:
            raise PageForbidden()
        return user

    return dependency


def _employer_user(user: CurrentUser) -> PageUser:
    if user.role != Role.EMPLOYER or user.employer_id is None:
        raise PageForbidden()
    return user


EmployerUser = Annotated[PageUser, Depends(_employer_user)]


def home_for(user: PageUser) -> str:
    return "/employer/" if user.role == Role.EMPLOYER else "/inspector/"


def _safe_next(value: Any) -> str | None:
    # Only a path on this site: never //host or a scheme (an open redirect).
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and not any(ch in value for ch in "\\\r\n")
    ):
        return value
    return None


@router.get("/login", name="login_form")
def login_form(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next) or home_for(user), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next) or "", "username": ""})


@router.post("/login", name="login")
def login(request: Request, session: SessionDep, form: VerifiedForm) -> Response:
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    next_path = _safe_next(form.get("next"))
    failed = {"next": next_path or "", "username": username, "login_failed": True}
    try:
        account = (
            authenticate(
                session,
                username,
                password,
                limiter=limiter_for(request.app.state),
                client_address=request.client.host if request.client else None,
            )
            if username and password
            else None
        )
    except RateLimited as exc:
        throttled = render(request, "login.html", failed, status_code=429)
        throttled.headers.update(exc.headers)
        return throttled
    if account is None:
        return render(request, "login.html", failed, status_code=401)
    # A fresh session on sign-in (no fixation); the language choice survives.
    end_cookie_session(request)
    request.session.update(signed_in_data(account))
    csrf.rotate(request)
    user = PageUser(account.id, account.username, account.display_name, account.role, None)
    return RedirectResponse(next_path or home_for(user), status_code=303)


@router.post("/logout", name="logout")
def logout(request: Request, session: SessionDep, _form: VerifiedForm) -> Response:
    # Ends this session and every other copy of the account's sessions (all devices): the
    # generation they carry is no longer the account's.
    account = live_account(request, session)
    if account is not None:
        end_sessions(session, account.id)
    end_cookie_session(request)
    csrf.rotate(request)
    return RedirectResponse("/login?signed_out=1", status_code=303)


def login_redirect(next_path: str) -> Response:
    return RedirectResponse(f"/login?next={quote(next_path, safe='/')}", status_code=303)
