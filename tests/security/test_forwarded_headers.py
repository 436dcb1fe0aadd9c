"""X-Forwarded-For is believed only from configured proxies, so a client cannot pick a new
address for every sign-in attempt and slip under the per-address limit (both databases)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from sqlalchemy import Engine
from typer.testing import CliRunner

from meldplicht.accounts.ratelimit import RateLimiter, RateLimitSettings
from meldplicht.app import create_app
from meldplicht.core.config import Settings
from tests.e2e.conftest import free_port
from tests.web.conftest import csrf_from

PER_ADDRESS = 3


@contextmanager
def serving(settings: Settings, engine: Engine) -> Iterator[str]:
    """The app under uvicorn with the forwarded-header options `serve` uses."""
    app = create_app(settings, engine)
    app.state.rate_limiter = RateLimiter(
        RateLimitSettings(login_per_address=PER_ADDRESS, login_per_account=100)
    )
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **settings.proxy_header_options()
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def attempts(base_url: str, forwarded_for: list[str]) -> list[int]:
    """One failed sign-in per entry, each claiming to come from that address."""
    codes = []
    with httpx.Client(base_url=base_url) as client:
        token = csrf_from(client.get("/login").text)
        for address in forwarded_for:
            response = client.post(
                "/login",
                data={
                    "username": f"nobody_{uuid.uuid4().hex[:6]}",
                    "password": "a guess",
                    "csrf_token": token,
                },
                headers={"X-Forwarded-For": address},
            )
            codes.append(response.status_code)
    return codes


def spoofed(n: int) -> list[str]:
    return [f"203.0.113.{i}" for i in range(1, n + 1)]


def test_by_default_a_forged_forwarded_address_does_not_reset_the_limit(
    settings: Settings, engine: Engine
) -> None:
    assert settings.trusted_proxies == []
    with serving(settings, engine) as base_url:
        codes = attempts(base_url, spoofed(PER_ADDRESS + 2))
    assert codes == [401] * PER_ADDRESS + [429, 429]


def test_behind_a_configured_proxy_the_forwarded_client_is_counted(
    settings: Settings, engine: Engine
) -> None:
    behind_proxy = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    with serving(behind_proxy, engine) as base_url:
        # Each forwarded client has its own allowance; one of them runs out of it.
        assert attempts(base_url, spoofed(PER_ADDRESS + 2)) == [401] * (PER_ADDRESS + 2)
        same = attempts(base_url, ["198.51.100.7"] * (PER_ADDRESS + 1))
    assert same == [401] * PER_ADDRESS + [429]


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.0/33"])
def test_trusting_everyone_or_a_name_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings(trusted_proxies=value, _env_file=None)  # type: ignore[call-arg]


def test_serve_passes_the_setting_to_uvicorn(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn as uvicorn_module

    from meldplicht.cli import app
    from meldplicht.core.config import get_settings

    calls: list[dict[str, Any]] = []

    def record(*_: object, **kw: Any) -> None:
        calls.append(kw)

    monkeypatch.setattr(uvicorn_module, "run", record)
    monkeypatch.setenv("MELDPLICHT_DATABASE_URL", database_url)
    try:
        for env, expected in (
            ("", {"proxy_headers": False}),
            ("10.1.0.0/16,10.2.0.5", {"proxy_headers": True}),
        ):
            monkeypatch.setenv("MELDPLICHT_TRUSTED_PROXIES", env)
            get_settings.cache_clear()
            result = CliRunner().invoke(app, ["serve"])
            assert result.exit_code == 0, result.output
            assert calls[-1].items() >= expected.items()
        assert calls[-1]["forwarded_allow_ips"] == ["10.1.0.0/16", "10.2.0.5"]
    finally:
        get_settings.cache_clear()
