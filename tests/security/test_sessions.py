"""Page sessions end on the server: sign-out, a new password and disabling end every copy of
the cookie, and idle and absolute timeouts apply (both databases)."""

from __future__ import annotations

import json
import uuid
from base64 import b64decode, b64encode
from datetime import timedelta
from typing import Any

import itsdangerous
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlmodel import Session, col
from typer.testing import CliRunner

from meldplicht.accounts.models import Role, UserAccount
from meldplicht.accounts.service import set_disabled, set_password
from meldplicht.core.clock import utcnow
from meldplicht.core.config import Settings
from meldplicht.web import SESSION_COOKIE
from meldplicht.web.sessions import SEEN_KEY, signed_in_data
from tests.conftest import EmployerWithKey
from tests.security.conftest import PASSWORD, make_user
from tests.web.conftest import csrf_from

HOME = "/employer/"


@pytest.fixture
def user(session: Session, employer: EmployerWithKey) -> UserAccount:
    return make_user(session, f"sess_{uuid.uuid4().hex[:8]}", Role.EMPLOYER, employer.employer.id)


def sign_in(api: TestClient, user: UserAccount, password: str = PASSWORD) -> str:
    """Sign in through the form; the session cookie it set."""
    api.cookies.clear()
    token = csrf_from(api.get("/login").text)
    response = api.post(
        "/login",
        data={"username": user.username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    cookie = api.cookies.get(SESSION_COOKIE)
    assert cookie
    return cookie


def with_cookie(api: TestClient, cookie: str) -> TestClient:
    api.cookies.clear()
    api.cookies.set(SESSION_COOKIE, cookie)
    return api


def is_signed_in(api: TestClient, cookie: str) -> bool:
    response = with_cookie(api, cookie).get(HOME, follow_redirects=False)
    if response.status_code == 200:
        return True
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    return False


def cookie_data(cookie: str) -> dict[str, Any]:
    payload = cookie.split(".")[0]
    data: dict[str, Any] = json.loads(b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def signed_cookie(settings: Settings, data: dict[str, Any]) -> str:
    signer = itsdangerous.TimestampSigner(settings.secret_key.get_secret_value())
    return signer.sign(b64encode(json.dumps(data).encode())).decode()


class TestSignOutEndsEveryCopy:
    def test_a_cookie_copied_before_sign_out_is_refused_afterwards(
        self, api: TestClient, user: UserAccount
    ) -> None:
        cookie = sign_in(api, user)
        page = with_cookie(api, cookie).get(HOME)
        assert page.status_code == 200
        token = csrf_from(page.text)

        out = api.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert out.status_code == 303

        # The copy kept from before sign-out: no page, and its CSRF token posts nothing.
        assert not is_signed_in(api, cookie)
        replay = with_cookie(api, cookie).post(
            "/logout", data={"csrf_token": token}, follow_redirects=False
        )
        assert replay.status_code == 403
        emptied = replay.cookies.get(SESSION_COOKIE)
        assert emptied is None or "uid" not in cookie_data(emptied)

    def test_sign_out_ends_the_sessions_on_other_devices(
        self, api: TestClient, user: UserAccount
    ) -> None:
        laptop = sign_in(api, user)
        phone = sign_in(api, user)
        assert is_signed_in(api, laptop)
        assert is_signed_in(api, phone)
        token = csrf_from(with_cookie(api, phone).get(HOME).text)
        api.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert not is_signed_in(api, laptop)
        assert not is_signed_in(api, phone)
        # Signing in again works as before.
        assert is_signed_in(api, sign_in(api, user))


class TestAccountChangesEndSessions:
    def test_a_new_password_ends_every_session(
        self, api: TestClient, session: Session, user: UserAccount
    ) -> None:
        cookie = sign_in(api, user)
        set_password(session, user, "a brand new passphrase")
        assert not is_signed_in(api, cookie)
        assert is_signed_in(api, sign_in(api, user, "a brand new passphrase"))

    def test_disabling_ends_every_session_and_enabling_does_not_revive_it(
        self, api: TestClient, session: Session, user: UserAccount
    ) -> None:
        cookie = sign_in(api, user)
        set_disabled(session, user)
        assert not is_signed_in(api, cookie)
        set_disabled(session, user, False)
        assert not is_signed_in(api, cookie)


class TestTimeouts:
    def test_a_session_idle_longer_than_the_limit_ends(
        self, api: TestClient, settings: Settings, user: UserAccount
    ) -> None:
        now = utcnow()
        data = signed_in_data(user, now - timedelta(minutes=5))
        assert is_signed_in(api, signed_cookie(settings, data))
        idle = timedelta(minutes=settings.session_idle_minutes, seconds=5)
        data[SEEN_KEY] = (now - idle).timestamp()
        assert not is_signed_in(api, signed_cookie(settings, data))

    def test_a_session_older_than_the_absolute_limit_ends_even_if_used(
        self, api: TestClient, settings: Settings, user: UserAccount
    ) -> None:
        now = utcnow()
        data = signed_in_data(user, now - timedelta(hours=settings.session_max_hours, minutes=1))
        data[SEEN_KEY] = now.timestamp()
        assert not is_signed_in(api, signed_cookie(settings, data))

    def test_each_request_moves_the_idle_clock(
        self, api: TestClient, settings: Settings, user: UserAccount
    ) -> None:
        data = signed_in_data(user, utcnow() - timedelta(minutes=10))
        response = with_cookie(api, signed_cookie(settings, data)).get(HOME)
        assert response.status_code == 200
        refreshed = cookie_data(response.cookies[SESSION_COOKIE])
        assert refreshed[SEEN_KEY] > data[SEEN_KEY] + 9 * 60

    @pytest.mark.parametrize(
        "broken",
        [
            {"gen": None},
            {"gen": "0"},
            {"gen": True},
            {"signed_in_at": 1e300},
            {"seen_at": "yesterday"},
            {"uid": "not-a-uuid"},
        ],
    )
    def test_a_cookie_without_a_valid_generation_or_instants_is_refused(
        self, api: TestClient, settings: Settings, user: UserAccount, broken: dict[str, Any]
    ) -> None:
        data = signed_in_data(user) | broken
        data = {k: v for k, v in data.items() if v is not None}
        assert not is_signed_in(api, signed_cookie(settings, data))


def test_the_cli_ends_sessions_on_a_new_password_and_on_disabling(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meldplicht.cli import app
    from meldplicht.core.config import get_settings

    username = f"cli_{uuid.uuid4().hex[:8]}"
    with Session(engine) as session, session.begin():
        user_id = make_user(session, username, Role.INSPECTOR).id

    def generation() -> tuple[int, bool]:
        with Session(engine) as session:
            user = session.get(UserAccount, user_id)
            assert user is not None
            return user.session_generation, user.disabled

    monkeypatch.setenv("MELDPLICHT_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        new = "another long passphrase"
        changed = runner.invoke(
            app, ["users", "set-password", "--username", username], input=f"{new}\n{new}\n"
        )
        assert changed.exit_code == 0, changed.output
        assert generation() == (1, False)
        assert runner.invoke(app, ["users", "disable", "--username", username]).exit_code == 0
        assert generation() == (2, True)
        assert runner.invoke(app, ["users", "enable", "--username", username]).exit_code == 0
        assert generation() == (2, False)
        missing = runner.invoke(app, ["users", "disable", "--username", "nobody-here"])
        assert missing.exit_code == 1
    finally:
        get_settings.cache_clear()
        with Session(engine) as session, session.begin():
            session.exec(delete(UserAccount).where(col(UserAccount.id) == user_id))
