"""The KvK client against a local server speaking the API, and with httpx.MockTransport."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from meldplicht.core.config import Environment, Settings
from meldplicht.registers.kvk import (
    KvkClient,
    LookupStatus,
    OfflineRegister,
    parse_basisprofiel,
    register_for,
)
from tests.registers import kvk_server as srv


@pytest.fixture
def server() -> Iterator[tuple[str, srv.Register]]:
    with srv.kvk_server() as running:
        yield running


def client(base: str, **options: object) -> KvkClient:
    defaults: dict[str, object] = {"timeout": 0.3, "backoff": 0.01, "api_key": "test-key"}
    defaults.update(options)
    return KvkClient(base, **defaults)  # type: ignore[arg-type]


def test_found_profile_is_parsed(server: tuple[str, srv.Register]) -> None:
    base, register = server
    with client(base) as kvk:
        lookup = kvk.basisprofiel("12345678")
    assert lookup.status is LookupStatus.FOUND
    assert lookup.profile is not None
    assert lookup.profile.registered_on == date(2019, 4, 15)
    assert lookup.profile.started_on == date(2019, 4, 1)
    assert lookup.profile.main_sbi_code == "78201"
    assert lookup.profile.trade_names == ("Voorbeeld Uitzendwerk",)
    assert register.api_keys == ["test-key"]
    assert register.requests == ["/v1/basisprofielen/12345678"]


def test_not_found_is_an_answer_and_not_retried(server: tuple[str, srv.Register]) -> None:
    base, register = server
    with client(base) as kvk:
        lookup = kvk.basisprofiel(srv.NOT_FOUND)
        assert lookup.status is LookupStatus.NOT_FOUND
        assert len(register.requests) == 1
        assert kvk.basisprofiel(srv.NOT_FOUND).from_cache
        assert kvk.counters.not_found == 2
        assert kvk.counters.http_requests == 1


def test_5xx_is_retried_then_reported(server: tuple[str, srv.Register]) -> None:
    base, register = server
    with client(base, attempts=3) as kvk:
        lookup = kvk.basisprofiel(srv.ALWAYS_500)
        assert lookup.status is LookupStatus.FAILED
        assert lookup.error == "HTTP 500"
        assert lookup.attempts == 3
        assert len(register.requests) == 3
        assert kvk.counters.as_dict()["failed"] == 1
        assert kvk.counters.retries == 2
        assert kvk.counters.server_errors == 3
        # Failures are not cached: the next look-up asks again.
        kvk.basisprofiel(srv.ALWAYS_500)
        assert len(register.requests) == 6


def test_flaky_register_succeeds_on_retry(server: tuple[str, srv.Register]) -> None:
    base, _ = server
    with client(base) as kvk:
        lookup = kvk.basisprofiel(srv.FLAKY)
    assert lookup.status is LookupStatus.FOUND
    assert lookup.attempts == 2


def test_timeout_is_counted_and_reported(server: tuple[str, srv.Register]) -> None:
    base, register = server
    register.slow_seconds = 1.0
    with client(base, timeout=0.2, attempts=2) as kvk:
        lookup = kvk.basisprofiel(srv.SLOW)
        assert lookup.status is LookupStatus.FAILED
        assert lookup.error is not None
        assert lookup.error.startswith("timeout")
        assert kvk.counters.timeouts == 2


def test_malformed_body_is_a_failure_not_a_crash(server: tuple[str, srv.Register]) -> None:
    base, _ = server
    with client(base) as kvk:
        lookup = kvk.basisprofiel(srv.MALFORMED)
        assert lookup.status is LookupStatus.FAILED
        assert lookup.error is not None
        assert lookup.error.startswith("malformed body")
        assert kvk.counters.malformed == 1
        wrong = kvk.basisprofiel(srv.WRONG_NUMBER)
        assert wrong.status is LookupStatus.FAILED
        assert "does not match" in (wrong.error or "")


def test_register_that_is_down(server: tuple[str, srv.Register]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free now, and nobody listens on it
    sleeps: list[float] = []
    with KvkClient(
        f"http://127.0.0.1:{port}", timeout=0.5, backoff=0.1, sleep=sleeps.append
    ) as kvk:
        lookup = kvk.basisprofiel("12345678")
        assert lookup.status is LookupStatus.FAILED
        assert lookup.error is not None
        assert lookup.error.startswith("connection error")
        assert kvk.counters.connection_errors == 3
    assert sleeps == [0.1, 0.2]  # exponential backoff


def test_cache_expires() -> None:
    now = [0.0]
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json=srv.profile("12345678"))

    kvk = KvkClient(
        "https://api.example/api",
        transport=httpx.MockTransport(handler),
        cache_seconds=60,
        clock=lambda: now[0],
    )
    assert kvk.basisprofiel("12345678").status is LookupStatus.FOUND
    now[0] = 59
    assert kvk.basisprofiel("12345678").from_cache
    now[0] = 61
    assert not kvk.basisprofiel("12345678").from_cache
    assert calls == ["/api/v1/basisprofielen/12345678"] * 2
    assert kvk.counters.cache_hits == 1


@pytest.mark.parametrize(
    ("status", "expected", "requests"),
    [(400, LookupStatus.FAILED, 1), (401, LookupStatus.FAILED, 1), (429, LookupStatus.FAILED, 3)],
)
def test_client_errors_are_not_retried_but_429_is(
    status: int, expected: LookupStatus, requests: int
) -> None:
    seen: list[int] = []

    def handler(_: httpx.Request) -> httpx.Response:
        seen.append(status)
        return httpx.Response(status, json={"fout": []})

    kvk = KvkClient("https://x", transport=httpx.MockTransport(handler), sleep=lambda _: None)
    assert kvk.basisprofiel("12345678").status is expected
    assert len(seen) == requests


def test_mock_transport_connect_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    kvk = KvkClient("https://x", transport=httpx.MockTransport(handler), sleep=lambda _: None)
    assert kvk.basisprofiel("12345678").status is LookupStatus.FAILED
    assert kvk.counters.connection_errors == 3


def test_parse_waadi_and_ended() -> None:
    data = srv.profile(
        "12345678",
        sbiActiviteiten=[
            {"sbiCode": "01131", "sbiOmschrijving": "Teelt", "indHoofdactiviteit": "Ja"},
            {
                "sbiCode": "7830",
                "sbiOmschrijving": "Terbeschikkingstelling van personeel (Waadi)",
                "indHoofdactiviteit": "Nee",
            },
        ],
        materieleRegistratie={"datumAanvang": "20190401", "datumEinde": "20240131"},
    )
    profile = parse_basisprofiel(data, "12345678")
    assert profile.waadi_indicator
    assert profile.main_sbi_code == "01131"
    assert profile.ended_on == date(2024, 1, 31)
    assert not profile.active_on(date(2024, 2, 1))


def test_offline_default_does_nothing() -> None:
    settings = Settings(environment=Environment.TEST, _env_file=None)  # type: ignore[call-arg]
    register = register_for(settings)
    assert isinstance(register, OfflineRegister)
    assert register.basisprofiel("12345678").status is LookupStatus.OFFLINE
    assert register.counters.offline == 1
    configured = Settings(
        environment=Environment.TEST,
        kvk_base_url="http://127.0.0.1:1",
        _env_file=None,  # type: ignore[call-arg]
    )
    assert isinstance(register_for(configured), KvkClient)
