"""A property fuzz of the queue's and the lists' parameters: whatever the dates, cursors and
integers, the answer is 200 or a 4xx problem+json, never a 5xx (issue 16, both databases)."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meldplicht.core.config import Settings
from meldplicht.inspection import queue
from tests.conftest import EmployerWithKey
from tests.security.conftest import Actor, client_as

FLAGS = "/api/v1/inspection/flags"
EXAMPLES = settings(
    max_examples=60,  # x 3 tests x 2 databases: a few hundred, about a minute
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

days = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01", "2000-01-01"]),
    st.text(max_size=12),
)
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda m: timezone(timedelta(minutes=m))
)
instants = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), offsets)).map(datetime.isoformat),
    st.text(max_size=30),
)
integers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


def _cursor(sort: str, key: Any, digest: str) -> str:
    raw = json.dumps(
        {"s": sort, "f": digest, "k": key, "i": "00000000-0000-4000-8000-000000000000"}
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _no_5xx(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")


@EXAMPLES
@given(
    first_from=st.one_of(st.none(), days),
    first_to=st.one_of(st.none(), days),
    limit=st.one_of(st.none(), integers.map(str)),
    sort=st.sampled_from(["risk", "age"]),
)
def test_queue_filters(
    api: TestClient,
    settings: Settings,
    actors: dict[str, Actor],
    first_from: str | None,
    first_to: str | None,
    limit: str | None,
    sort: str,
) -> None:
    client = client_as(api, settings, actors["inspector"])
    params = {"first_seen_from": first_from, "first_seen_to": first_to, "limit": limit}
    params = {k: v for k, v in params.items() if v is not None} | {"sort": sort}
    _no_5xx(client.get(FLAGS, params=params))


@EXAMPLES
@given(risk_key=integers, age_key=instants)
def test_queue_cursors(
    api: TestClient,
    settings: Settings,
    actors: dict[str, Actor],
    risk_key: object,
    age_key: str,
) -> None:
    client = client_as(api, settings, actors["inspector"])
    digest = queue.QueueFilter().digest()
    for sort, key in (("risk", risk_key), ("age", age_key)):
        cursor = _cursor(sort, key, digest)
        _no_5xx(client.get(FLAGS, params={"sort": sort, "cursor": cursor}))
        page = client.get("/inspector/", params={"sort": sort, "cursor": cursor})
        assert page.status_code < 500, page.text


@EXAMPLES
@given(cursor=st.text(max_size=60), limit=integers.map(str))
def test_notification_list(
    client: TestClient, employer: EmployerWithKey, cursor: str, limit: str
) -> None:
    params = {"cursor": cursor, "limit": limit}
    _no_5xx(client.get("/api/v1/notifications", params=params, headers=employer.headers))
