"""Only configured host names are answered: the trailing-slash redirect (and every link the app
builds) can no longer name a host taken from a forged Host header (both databases)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine
from typer.testing import CliRunner

from meldplicht.app import create_app, create_checked_app
from meldplicht.core.config import Environment, Settings

OWN = "meldplicht.example.nl"


@pytest.fixture
def own_host(settings: Settings, engine: Engine) -> TestClient:
    configured = settings.model_copy(update={"allowed_hosts": [OWN, "*.intern.example.nl"]})
    return TestClient(create_app(configured, engine), base_url=f"https://{OWN}")


def test_the_trailing_slash_redirect_never_names_a_forged_host(own_host: TestClient) -> None:
    forged = own_host.get(
        "/api/v1/rules/", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert forged.status_code == 400
    assert "location" not in forged.headers
    assert forged.headers["content-type"] == "application/problem+json"
    assert forged.json()["code"] == "invalid_host"

    own = own_host.get("/api/v1/rules/", follow_redirects=False)
    assert own.status_code in (307, 308)
    assert own.headers["location"] == f"https://{OWN}/api/v1/rules"


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        f"{OWN}.evil.example",
        f"evil{OWN}",
        "intern.example.nl",  # the wildcard covers subdomains only
        "",
        "[::1]:8000",
        f"{OWN}:443:1",
    ],
)
def test_pages_and_api_refuse_other_hosts(own_host: TestClient, host: str) -> None:
    for path in ("/login", "/api/v1/notifications", "/employer/"):
        response = own_host.get(path, headers={"Host": host}, follow_redirects=False)
        assert response.status_code == 400, (host, path)


@pytest.mark.parametrize(
    "host", [OWN, f"{OWN}:8443", "MELDPLICHT.example.NL", "a.intern.example.nl"]
)
def test_own_hosts_with_a_port_or_another_case_are_answered(
    own_host: TestClient, host: str
) -> None:
    assert own_host.get("/login", headers={"Host": host}).status_code == 200


def test_probes_answer_whatever_the_host(own_host: TestClient) -> None:
    assert own_host.get("/healthz", headers={"Host": "10.0.0.7:8000"}).status_code == 200


def test_outside_production_the_local_names_are_the_default(settings: Settings) -> None:
    assert settings.allowed_hosts == []
    assert "testserver" in settings.hosts
    assert "localhost" in settings.hosts


@pytest.mark.parametrize("value", ["*", "evil.*", "http://x.nl", "a b.nl", "*.*.nl"])
def test_a_wildcard_for_everything_or_a_non_name_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="ALLOWED_HOSTS"):
        Settings(allowed_hosts=value, _env_file=None)  # type: ignore[call-arg]


def test_production_refuses_to_start_without_host_names(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    production = Settings(
        environment=Environment.PRODUCTION,
        database_url=database_url,
        secret_key=SecretStr("a-long-random-production-secret-0123456789"),
        _env_file=None,  # type: ignore[call-arg]
    )
    assert production.hosts == []
    with pytest.raises(RuntimeError, match="MELDPLICHT_ALLOWED_HOSTS"):
        create_checked_app(production)

    from meldplicht.cli import app
    from meldplicht.core.config import get_settings

    monkeypatch.setenv("MELDPLICHT_ENVIRONMENT", "production")
    monkeypatch.setenv("MELDPLICHT_SECRET_KEY", "a-long-random-production-secret-0123456789")
    monkeypatch.setenv("MELDPLICHT_DATABASE_URL", database_url)
    monkeypatch.delenv("MELDPLICHT_ALLOWED_HOSTS", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "MELDPLICHT_ALLOWED_HOSTS" in result.output
