"""One implementation of replay-once, behind the API's Idempotency-Key and the pages' Send."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from meldplicht.core import idempotency
from meldplicht.core.errors import FieldError, IdempotencyConflict, InvalidRequest
from meldplicht.core.idempotency import IdempotencyRecord, Replayed, run_once


def _names() -> tuple[str, str]:
    return f"test:{uuid.uuid4().hex[:12]}", f"key-{uuid.uuid4().hex}"


def test_a_key_answered_before_is_replayed_without_producing_again(session: Session) -> None:
    owner, key = _names()
    calls: list[int] = []

    def produce() -> tuple[str, int, dict[str, Any]]:
        calls.append(1)
        return "stored", 201, {"id": "n-1"}

    fingerprint = idempotency.request_fingerprint("POST", "/x", {"a": 1})
    assert run_once(session, owner, key, fingerprint, produce) == "stored"
    again = run_once(session, owner, key, fingerprint, produce)
    assert again == Replayed(201, {"id": "n-1"})
    assert calls == [1]
    # Another caller's same key is a key of its own.
    other, _ = _names()
    assert run_once(session, other, key, fingerprint, produce) == "stored"
    assert calls == [1, 1]


def test_the_same_key_for_another_request_is_refused(session: Session) -> None:
    owner, key = _names()
    first = idempotency.request_fingerprint("POST", "form", {"job_title": "Teler"})
    run_once(session, owner, key, first, lambda: (None, 303, {"id": "n-1"}))
    other = idempotency.request_fingerprint("POST", "form", {"job_title": "Anders"})

    def never() -> tuple[None, int, dict[str, Any]]:
        raise AssertionError("a refused key must not produce")

    with pytest.raises(IdempotencyConflict):
        run_once(session, owner, key, other, never)


def test_a_refusal_inside_a_savepoint_leaves_no_claim_behind(session: Session) -> None:
    """What the pages rely on: a notice refused with errors can be corrected and sent with
    the same confirm page, because the claim of its key went with the refused writes."""
    owner, key = _names()
    fingerprint = idempotency.request_fingerprint("POST", "form", {"x": "1"})

    def refused() -> tuple[None, int, dict[str, Any]]:
        raise InvalidRequest(errors=[FieldError(field="x", code="bad", message="Bad.")])

    with pytest.raises(InvalidRequest), session.begin_nested():
        run_once(session, owner, key, fingerprint, refused)
    assert idempotency.find(session, owner, key, fingerprint) is None
    assert run_once(session, owner, key, fingerprint, lambda: ("ok", 303, {"id": "n"})) == "ok"


def test_a_request_racing_another_with_the_same_key_replays_the_winners_answer(
    engine: Engine,
) -> None:
    """Two transactions with one key: the second waits for the first's commit and answers
    what the first answered, without producing a second time (SQLite queues the writers;
    PostgreSQL blocks the second claim on the unique key until the first commits)."""
    owner, key = _names()
    fingerprint = idempotency.request_fingerprint("POST", "/x", {"a": 1})
    claimed = threading.Event()
    results: list[object] = []
    errors: list[BaseException] = []

    def loser() -> None:
        try:
            with Session(engine) as session, session.begin():

                def produce() -> tuple[str, int, dict[str, Any]]:
                    return "second", 201, {"id": "n-2"}

                results.append(run_once(session, owner, key, fingerprint, produce))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=loser)
    try:
        with Session(engine) as winner, winner.begin():

            def produce() -> tuple[str, int, dict[str, Any]]:
                claimed.set()
                thread.start()
                time.sleep(0.5)  # the loser arrives while the claim is not committed
                return "first", 201, {"id": "n-1"}

            assert run_once(winner, owner, key, fingerprint, produce) == "first"
        thread.join(timeout=30)
        assert claimed.is_set()
        assert not errors, errors
        assert results == [Replayed(201, {"id": "n-1"})]
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.owner) == owner))
