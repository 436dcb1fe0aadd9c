"""API keys checked a moment ago are trusted for a few seconds (KeyCache), never longer, and a
revocation in the same process ends that at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, update
from sqlmodel import Session, col, select

from meldplicht.accounts.models import ApiKey
from meldplicht.accounts.service import KeyCache, forget_checked_keys, revoke_key
from meldplicht.core.clock import utcnow
from meldplicht.core.config import Settings
from meldplicht.core.security import Principal, split_api_key
from tests.conftest import EmployerWithKey

URL = "/api/v1/notifications"
PRINCIPAL = Principal(role="employer", actor_id="key:abc")


@pytest.fixture
def key_reads(engine: Engine) -> Iterator[list[str]]:
    """The statements that read the api_key table, as the database receives them."""
    seen: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM api_key" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    yield seen
    event.remove(engine, "before_cursor_execute", watch)


def _prefix(employer: EmployerWithKey) -> str:
    parts = split_api_key(employer.token)
    assert parts is not None
    return parts[0]


def test_the_cache_lives_as_long_as_the_setting_says(
    client: TestClient, employer: EmployerWithKey, settings: Settings
) -> None:
    assert client.get(URL, headers=employer.headers).status_code == 200
    cache = client.app.state.key_cache  # type: ignore[attr-defined]
    assert cache.ttl == settings.api_key_cache_seconds == 5.0


def test_a_burst_with_one_key_reads_it_once(
    client: TestClient, employer: EmployerWithKey, key_reads: list[str]
) -> None:
    for _ in range(5):
        assert client.get(URL, headers=employer.headers).status_code == 200
    assert len(key_reads) == 1


def test_a_wrong_secret_is_never_answered_from_the_cache(
    client: TestClient, employer: EmployerWithKey
) -> None:
    assert client.get(URL, headers=employer.headers).status_code == 200
    forged = employer.token[:-4] + ("aaaa" if not employer.token.endswith("aaaa") else "bbbb")
    response = client.get(URL, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_a_revocation_in_this_process_takes_effect_at_once(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    assert client.get(URL, headers=employer.headers).status_code == 200
    revoke_key(session, _prefix(employer))
    assert client.get(URL, headers=employer.headers).status_code == 401


def test_a_revocation_elsewhere_takes_effect_when_the_entry_expires(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    client.app.state.key_cache = KeyCache(ttl=0.3)  # type: ignore[attr-defined]
    assert client.get(URL, headers=employer.headers).status_code == 200
    # Another process revokes the key: only the database knows.
    session.exec(
        update(ApiKey).where(col(ApiKey.prefix) == _prefix(employer)).values(revoked_at=utcnow())
    )
    session.flush()
    assert client.get(URL, headers=employer.headers).status_code == 200  # still trusted
    time.sleep(0.35)
    assert client.get(URL, headers=employer.headers).status_code == 401


def test_zero_seconds_asks_the_database_every_time(
    client: TestClient, employer: EmployerWithKey, key_reads: list[str]
) -> None:
    client.app.state.key_cache = KeyCache(ttl=0)  # type: ignore[attr-defined]
    for _ in range(3):
        assert client.get(URL, headers=employer.headers).status_code == 200
    assert len(key_reads) == 3


def test_last_used_is_still_written(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    prefix = _prefix(employer)
    long_ago = utcnow() - timedelta(hours=1)
    session.exec(update(ApiKey).where(col(ApiKey.prefix) == prefix).values(last_used_at=long_ago))
    session.flush()
    assert client.get(URL, headers=employer.headers).status_code == 200
    session.expire_all()
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).one()
    assert key.last_used_at is not None
    assert key.last_used_at > long_ago + timedelta(minutes=59)


def test_entries_expire_and_are_kept_by_digest_only() -> None:
    cache = KeyCache(ttl=0.05)
    cache.put("mpk_abc_secret", PRINCIPAL)
    assert cache.get("mpk_abc_secret") == PRINCIPAL
    assert cache.get("mpk_abc_other") is None
    assert all("secret" not in repr(k) for k in cache._entries)
    time.sleep(0.06)
    assert cache.get("mpk_abc_secret") is None


def test_a_full_cache_drops_expired_entries_first() -> None:
    cache = KeyCache(ttl=60, size=3)
    for n in range(3):
        cache.put(f"token-{n}", PRINCIPAL)
    cache.put("token-3", PRINCIPAL)  # nothing expired: it starts again
    assert cache.get("token-3") == PRINCIPAL
    assert len(cache._entries) <= 3


def test_forget_checked_keys_empties_every_cache() -> None:
    first, second = KeyCache(ttl=60), KeyCache(ttl=60)
    first.put("a", PRINCIPAL)
    second.put("b", PRINCIPAL)
    forget_checked_keys()
    assert first.get("a") is None
    assert second.get("b") is None
