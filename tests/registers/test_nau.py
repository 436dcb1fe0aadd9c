"""The admission-register client (Wtta) against a local server speaking its contract."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from meldplicht.core.config import Environment, Settings
from meldplicht.registers.kvk import LookupStatus
from meldplicht.registers.nau import (
    NauClient,
    OfflineAdmissionRegister,
    admission_register_for,
    parse_admission,
)
from meldplicht.rules.checks.lender import AdmissionStatus, LenderWork, check_lender_admission
from tests.registers import nau_server as srv


@pytest.fixture
def server() -> Iterator[tuple[str, srv.Register]]:
    with srv.nau_server() as running:
        yield running


def client(base: str, **options: object) -> NauClient:
    defaults: dict[str, object] = {"timeout": 0.3, "backoff": 0.01}
    defaults.update(options)
    return NauClient(base, **defaults)  # type: ignore[arg-type]


def test_admitted_lender_is_parsed(server: tuple[str, srv.Register]) -> None:
    base, register = server
    with client(base) as nau:
        lookup = nau.lender("12345678")
    assert lookup.status is LookupStatus.FOUND
    assert lookup.admission is not None
    assert lookup.admission.status is AdmissionStatus.ADMITTED
    assert lookup.admission.register_number == "NAU-000123"
    assert lookup.admission.valid_from == date(2027, 7, 1)
    assert lookup.admission.valid_until is None
    assert register.requests == ["/v1/uitleners/12345678"]
    facts = lookup.as_facts(date(2027, 8, 2))
    assert facts is not None
    assert facts.may_lend_on(date(2028, 1, 1))


def test_not_found_is_an_answer_cached_and_not_retried(server: tuple[str, srv.Register]) -> None:
    base, register = server
    with client(base) as nau:
        lookup = nau.lender(srv.NOT_FOUND)
        assert lookup.status is LookupStatus.NOT_FOUND
        again = nau.lender(srv.NOT_FOUND)
        assert again.from_cache
        assert nau.counters.not_found == 2
        assert nau.counters.http_requests == 1
    assert len(register.requests) == 1
    facts = lookup.as_facts(date(2028, 1, 3))
    assert facts is not None
    assert facts.status is AdmissionStatus.NOT_FOUND


def test_5xx_is_retried_then_reported(server: tuple[str, srv.Register]) -> None:
    base, register = server
    with client(base) as nau:
        lookup = nau.lender(srv.ALWAYS_500)
        assert lookup.status is LookupStatus.FAILED
        assert lookup.error == "HTTP 500"
        assert lookup.attempts == 3
        assert nau.counters.retries == 2
        assert nau.counters.server_errors == 3
    assert len(register.requests) == 3
    assert lookup.as_facts(date(2028, 1, 3)) is None  # no answer: no verdict


def test_flaky_register_succeeds_on_retry(server: tuple[str, srv.Register]) -> None:
    base, _ = server
    with client(base) as nau:
        lookup = nau.lender(srv.FLAKY)
    assert lookup.status is LookupStatus.FOUND
    assert lookup.attempts == 2


def test_timeout_is_counted_and_reported(server: tuple[str, srv.Register]) -> None:
    base, register = server
    register.slow_seconds = 1.0
    with client(base, timeout=0.2, attempts=2) as nau:
        lookup = nau.lender(srv.SLOW)
        assert lookup.status is LookupStatus.FAILED
        assert (lookup.error or "").startswith("timeout")
        assert nau.counters.timeouts == 2


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (srv.MALFORMED, "malformed body"),
        (srv.UNKNOWN_STATUS, "unknown status"),
        (srv.WRONG_NUMBER, "does not match"),
    ],
)
def test_malformed_answers_are_failures_not_crashes(
    server: tuple[str, srv.Register], number: str, message: str
) -> None:
    base, _ = server
    with client(base) as nau:
        lookup = nau.lender(number)
        assert lookup.status is LookupStatus.FAILED
        assert message in (lookup.error or "")
        assert nau.counters.malformed == 1


def test_register_that_is_down() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list[float] = []
    with NauClient(
        f"http://127.0.0.1:{port}", timeout=0.5, backoff=0.1, sleep=sleeps.append
    ) as nau:
        lookup = nau.lender("12345678")
    assert lookup.status is LookupStatus.FAILED
    assert (lookup.error or "").startswith("connection error")
    assert sleeps == [0.1, 0.2]


def test_cache_expires() -> None:
    now = [0.0]
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json=srv.admission("12345678"))

    with NauClient(
        "http://nau.test",
        transport=httpx.MockTransport(answer),
        cache_seconds=10,
        clock=lambda: now[0],
    ) as nau:
        nau.lender("12345678")
        assert nau.lender("12345678").from_cache
        now[0] = 11.0
        assert not nau.lender("12345678").from_cache
    assert len(calls) == 2


def test_revoked_and_transitional_through_the_check(server: tuple[str, srv.Register]) -> None:
    base, _ = server
    work = LenderWork(lender_kvk_number=srv.REVOKED, hirer_kvk_number="87654321")
    with client(base) as nau:
        revoked = nau.lender(srv.REVOKED).as_facts(date(2028, 3, 1))
        transitional = nau.lender(srv.TRANSITIONAL).as_facts(date(2028, 3, 1))
    findings = check_lender_admission(revoked, work, judged_on=date(2028, 3, 1))
    assert [f.code for f in findings] == ["LENDER_NOT_ADMITTED"]
    assert findings[0].severity == "high"
    assert "87654321" in findings[0].message_en
    assert check_lender_admission(transitional, work, judged_on=date(2028, 3, 1)) == []


def test_parse_accepts_english_status_words() -> None:
    parsed = parse_admission(srv.admission("12345678", status="exempt"), "12345678")
    assert parsed.status is AdmissionStatus.EXEMPT
    with pytest.raises(ValueError, match="before geldigVanaf"):
        parse_admission(
            srv.admission("12345678", geldigVanaf="2028-01-01", geldigTot="2027-12-31"),
            "12345678",
        )


def test_offline_default_does_nothing() -> None:
    settings = Settings(environment=Environment.TEST, _env_file=None)  # type: ignore[call-arg]
    register = admission_register_for(settings)
    assert isinstance(register, OfflineAdmissionRegister)
    lookup = register.lender("12345678")
    assert lookup.status is LookupStatus.OFFLINE
    assert lookup.as_facts(date(2028, 1, 3)) is None
    assert register.counters.offline == 1
    configured = Settings(
        environment=Environment.TEST,
        nau_base_url="http://127.0.0.1:1",
        _env_file=None,  # type: ignore[call-arg]
    )
    assert isinstance(admission_register_for(configured), NauClient)
