"""A JSON body with one key twice in an object is refused (422), never read as "the last one
wins": a gateway or log that read the first value would disagree with what we stored (both
databases)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from meldplicht.app import duplicate_key
from meldplicht.notifications.models import Notification
from tests.conftest import EmployerWithKey
from tests.factories import notification_body


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Notification)).one())


def with_duplicate(path: str, first: str, second: str) -> bytes:
    """The valid notification body as text, with `path`'s key given twice (first, second)."""
    body = notification_body()
    text = json.dumps(body)
    *outer, key = path.split(".")
    target = body
    for name in outer:
        target = target[name]
    original = json.dumps({key: target[key]})[1:-1]  # '"key": value'
    twice = f'"{key}": {first}, "{key}": {second}'
    assert original in text
    return text.replace(original, twice, 1).encode()


@pytest.mark.parametrize(
    ("path", "first", "second"),
    [
        ("job_title", '"Productiemedewerker"', '"Iets anders"'),
        ("worker.bsn", '"111222333"', '"123456782"'),
        ("wage.amount", '"16.50"', '"1.00"'),
    ],
)
def test_a_key_twice_is_422_and_stores_nothing(
    client: TestClient,
    session: Session,
    employer: EmployerWithKey,
    path: str,
    first: str,
    second: str,
) -> None:
    before = count(session)
    response = client.post(
        "/api/v1/notifications",
        content=with_duplicate(path, first, second),
        headers=employer.headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["code"] == "json_duplicate_key"
    assert path.split(".")[-1] in problem["errors"][0]["message"]
    assert problem["errors"][0]["message_nl"]
    assert count(session) == before


def test_the_same_body_once_is_accepted(client: TestClient, employer: EmployerWithKey) -> None:
    response = client.post(
        "/api/v1/notifications", json=notification_body(), headers=employer.headers
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"a": 1, "b": {"c": 1, "c": 2}}', "c"),
        (b'[{"x": 1}, {"y": 1, "y": 1}]', "y"),
        (b'{"a": 1, "b": 2}', None),
        (b'{"a": {"a": 1}}', None),  # the same name in two objects is fine
        (b"not json", None),
        (b'{"\\u0061": 1, "a": 2}', "a"),  # an escape spelling the same key
    ],
)
def test_duplicate_key_finds_the_key(body: bytes, key: str | None) -> None:
    assert duplicate_key(body) == key
