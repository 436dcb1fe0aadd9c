"""Sign-out in a real browser ends the session a second browser copied (both databases)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import uvicorn
from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from meldplicht.accounts.models import Role, UserAccount
from meldplicht.app import create_app
from meldplicht.core.config import Settings
from meldplicht.web import SESSION_COOKIE
from tests.e2e.conftest import CHROMIUM, LAUNCH_ARGS, free_port
from tests.security.conftest import PASSWORD, make_user

from playwright.sync_api import Browser, sync_playwright  # isort: skip


@pytest.fixture
def served(settings: Settings, engine: Engine) -> Iterator[tuple[str, str]]:
    """The app on a free local port over the test database, and a committed inspector."""
    username = f"browser_{uuid.uuid4().hex[:8]}"
    with Session(engine) as session, session.begin():
        user_id = make_user(session, username, Role.INSPECTOR).id
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", username
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        with Session(engine) as session, session.begin():
            session.exec(delete(UserAccount).where(col(UserAccount.id) == user_id))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


def test_sign_out_in_the_browser_ends_a_copied_session(
    browser: Browser, served: tuple[str, str]
) -> None:
    base_url, username = served
    own = browser.new_context(base_url=base_url, locale="nl-NL")
    thief = browser.new_context(base_url=base_url, locale="nl-NL")
    try:
        page = own.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit] >> text=/Inloggen|Sign in/")
        page.wait_for_url("**/inspector/")

        # Someone copies the cookie (a shared computer, a stolen backup) before sign-out.
        copied = [c for c in own.cookies() if c["name"] == SESSION_COOKIE]
        assert copied
        thief.add_cookies(copied)  # type: ignore[arg-type]
        other = thief.new_page()
        other.goto("/inspector/")
        assert other.url.endswith("/inspector/")

        page.click("form.signout button")
        page.wait_for_url("**/login?signed_out=1")

        other.goto("/inspector/")
        assert "/login" in other.url
        page.goto("/inspector/")
        assert "/login" in page.url
    finally:
        own.close()
        thief.close()
