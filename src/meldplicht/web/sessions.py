"""Page sessions that end: the signed cookie is checked against the account on every request.

The cookie (Starlette's SessionMiddleware, signed with settings.secret_key) holds the user's
id, the instant of sign-in, the instant of the last request, and the account's session
generation at sign-in. A session is live only while all of these hold:

- the account exists and is not disabled;
- its generation is still the account's (sign-out, a new password and disabling raise it,
  so every copy of every cookie issued before ends at once, on every device);
- it is younger than `session_max_hours` (absolute) and was used in the last
  `session_idle_minutes` (idle).

A cookie that fails is emptied whole, its CSRF token included: a copy kept from before
sign-out is sent to the sign-in page and cannot post a form either.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from sqlmodel import Session

from meldplicht.accounts.models import UserAccount
from meldplicht.core.clock import utcnow
from meldplicht.core.config import Settings

USER_KEY = "uid"
SIGNED_IN_KEY = "signed_in_at"
SEEN_KEY = "seen_at"
GENERATION_KEY = "gen"
LANGUAGE_KEY = "lang"
# The last-request instant is written at most this often, not on every request.
SEEN_RESOLUTION = timedelta(seconds=30)


def signed_in_data(account: UserAccount, now: datetime | None = None) -> dict[str, Any]:
    """What a session cookie holds for `account` right after sign-in."""
    stamp = (now or utcnow()).timestamp()
    return {
        USER_KEY: str(account.id),
        SIGNED_IN_KEY: stamp,
        SEEN_KEY: stamp,
        GENERATION_KEY: account.session_generation,
    }


def end_cookie_session(request: Request) -> None:
    """Empty the cookie (the language choice survives: it is no secret)."""
    lang = request.session.get(LANGUAGE_KEY)
    request.session.clear()
    if isinstance(lang, str):
        request.session[LANGUAGE_KEY] = lang


def _instant(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def live_account(request: Request, db: Session) -> UserAccount | None:
    """The signed-in account if the session is live; otherwise None, and a cookie that
    claimed a user is emptied."""
    if USER_KEY not in request.session:
        return None
    account = _check(request, db)
    if account is None:
        end_cookie_session(request)
        return None
    now = utcnow()
    seen = _instant(request.session.get(SEEN_KEY))
    if seen is None or now - seen >= SEEN_RESOLUTION:
        request.session[SEEN_KEY] = now.timestamp()
    return account


def _check(request: Request, db: Session) -> UserAccount | None:
    settings: Settings = request.app.state.settings
    data = request.session
    raw_id = data.get(USER_KEY)
    generation = data.get(GENERATION_KEY)
    signed_in = _instant(data.get(SIGNED_IN_KEY))
    seen = _instant(data.get(SEEN_KEY))
    if (
        not isinstance(raw_id, str)
        or isinstance(generation, bool)
        or not isinstance(generation, int)
        or signed_in is None
        or seen is None
    ):
        return None
    now = utcnow()
    if now - signed_in > timedelta(hours=settings.session_max_hours):
        return None
    if now - seen > timedelta(minutes=settings.session_idle_minutes):
        return None
    try:
        account_id = uuid.UUID(raw_id)
    except ValueError:
        return None
    # Read afresh, never from the identity map: the generation may have moved since.
    account = db.get(UserAccount, account_id, populate_existing=True)
    if account is None or account.disabled or account.session_generation != generation:
        return None
    return account
