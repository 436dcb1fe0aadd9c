"""Browser tests: the app served by uvicorn in a thread, driven by the system Chromium.

Each test module gets its own migrated SQLite database and server on a free local port.
Without /usr/bin/chromium the tests are skipped loudly, except under CI=true where they fail.
Playwright's own browser download is never used (`playwright install` is not needed).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from meldplicht.app import create_app
from meldplicht.core.config import Environment, Settings
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import upgrade
from tests.web.conftest import PASSWORD, Accounts, seed_accounts

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    if IN_CI:
        pytest.fail("CI=true but /usr/bin/chromium is missing: browser tests are mandatory.")
    pytest.skip(
        "!!! /usr/bin/chromium not found: browser tests SKIPPED (mandatory under CI=true)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    base_url: str
    accounts: Accounts
    database_url: str = ""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    accounts = seed_accounts(engine)
    settings = Settings(
        environment=Environment.TEST,
        database_url=url,
        _env_file=None,  # type: ignore[call-arg]
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield Server(base_url=f"http://127.0.0.1:{port}", accounts=accounts, database_url=url)
    uv.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        base_url=server.base_url,
        accept_downloads=True,
        viewport={"width": 1200, "height": 900},
        locale="nl-NL",
    )
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    p = context.new_page()
    p.set_default_timeout(15_000)
    return p


def sign_in(page: Page, username: str = "tuin", password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit] >> text=/Inloggen|Sign in/")


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
