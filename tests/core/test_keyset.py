"""The one keyset cursor of every list: a round trip, and every cursor that is not the one the
list gave out for this sort and these filters refused with the same InvalidCursor."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from meldplicht.core import keyset
from meldplicht.core.keyset import InvalidCursor
from meldplicht.flags.models import FlagStatus
from meldplicht.inspection import case_queue, queue
from meldplicht.inspection.models import CaseStatus
from meldplicht.inspection.schemas import QueueSort

ID = uuid.UUID("0b7d3c1e-5a4f-4e8b-9c2d-1f0e3a5b7c9d")
FILTERS = keyset.digest("cases", {"statuses": ["open"], "sector": None})


def message(exc: pytest.ExceptionInfo[InvalidCursor]) -> str:
    assert exc.value.code == "invalid_cursor"
    assert exc.value.status == 422
    [error] = exc.value.errors
    assert (error.field, error.code) == ("cursor", "invalid_cursor")
    return error.message


def raw_cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("key", "parse"),
    [
        (250, keyset.int32_key),
        (-(2**31), keyset.int32_key),
        (datetime(2026, 12, 3, 14, 5, 6, 789, tzinfo=UTC), keyset.instant_key),
        (date(2026, 3, 4), keyset.day_key),
        (Decimal("12345.67"), keyset.decimal_key),
        (Decimal("0.00"), keyset.decimal_key),
    ],
)
def test_round_trip(key: Any, parse: Callable[[object], Any]) -> None:
    cursor = keyset.encode("risk", FILTERS, key, ID)
    assert cursor.isascii()
    assert "=" not in cursor
    assert "/" not in cursor
    assert "+" not in cursor
    assert keyset.decode(cursor, "risk", FILTERS, parse) == (key, ID)


def test_an_instant_in_another_offset_comes_back_in_utc() -> None:
    amsterdam = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    cursor = keyset.encode("age", FILTERS, amsterdam, ID)
    key, _ = keyset.decode(cursor, "age", FILTERS, keyset.instant_key)
    assert key == amsterdam
    assert key.tzinfo == UTC


def test_a_cursor_from_another_sort_is_refused() -> None:
    cursor = keyset.encode("risk", FILTERS, 10, ID)
    with pytest.raises(InvalidCursor) as exc:
        keyset.decode(cursor, "back_pay", FILTERS, keyset.decimal_key)
    assert message(exc) == keyset.OTHER_SORT


def test_a_cursor_from_other_filters_or_another_list_is_refused() -> None:
    cursor = keyset.encode("risk", FILTERS, 10, ID)
    other_filters = keyset.digest("cases", {"statuses": ["open"], "sector": "Schoonmaak"})
    other_list = keyset.digest("flags", {"statuses": ["open"], "sector": None})
    for filters in (other_filters, other_list):
        assert filters != FILTERS
        with pytest.raises(InvalidCursor) as exc:
            keyset.decode(cursor, "risk", filters, keyset.int32_key)
        assert message(exc) == keyset.OTHER_FILTERS


def test_the_digest_ignores_the_order_of_listed_values() -> None:
    one = keyset.digest("flags", {"rules": ["B", "A"], "statuses": ("open", "claimed")})
    two = keyset.digest("flags", {"statuses": ["claimed", "open"], "rules": ("A", "B")})
    assert one == two
    assert one != keyset.digest("flags", {"rules": ["A"], "statuses": ["claimed", "open"]})


def test_a_tampered_cursor_is_refused() -> None:
    cursor = keyset.encode("risk", FILTERS, 10, ID)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    tampered = [
        cursor[:-3],  # cut short
        cursor[:10] + "!" + cursor[11:],  # not base64url
        base64.urlsafe_b64encode(raw[:-1]).decode(),  # the JSON broken
        base64.urlsafe_b64encode(raw.replace(b'"i":"', b'"i":"x')).decode(),  # not an id
        "nonsense",
        "",
        "%%%garbage",
        raw_cursor(["risk", FILTERS, 10, str(ID)]),  # JSON, but not an object
        raw_cursor({"s": "risk", "f": FILTERS, "i": str(ID)}),  # no key
    ]
    for cursor in tampered:
        with pytest.raises(InvalidCursor) as exc:
            keyset.decode(cursor, "risk", FILTERS, keyset.int32_key)
        assert message(exc) == keyset.NOT_OURS, cursor


@pytest.mark.parametrize(
    ("key", "parse"),
    [
        (2**31, keyset.int32_key),  # overflows a 32-bit column
        (-(2**31) - 1, keyset.int32_key),
        (10**30, keyset.int32_key),
        (True, keyset.int32_key),
        (12.5, keyset.int32_key),
        ("12", keyset.int32_key),
        ("2026-01-01T00:00:00", keyset.instant_key),  # naive
        ("0001-01-01T00:00:00+23:59", keyset.instant_key),  # before year 1 in UTC
        ("2100-01-01T00:00:00+00:00", keyset.instant_key),  # outside the law's dates
        (1700000000, keyset.instant_key),
        ("1999-12-31", keyset.day_key),
        ("2026-02-30", keyset.day_key),
        ("NaN", keyset.decimal_key),
        ("Infinity", keyset.decimal_key),
        ("1e400", keyset.decimal_key),
        (12.5, keyset.decimal_key),  # money is never a float
    ],
)
def test_a_key_the_column_cannot_hold_is_refused(
    key: object, parse: Callable[[object], Any]
) -> None:
    cursor = raw_cursor({"s": "risk", "f": FILTERS, "k": key, "i": str(ID)})
    with pytest.raises(InvalidCursor) as exc:
        keyset.decode(cursor, "risk", FILTERS, parse)
    assert message(exc) == keyset.NOT_OURS


def test_the_flag_queue_and_the_case_queue_share_the_cursor() -> None:
    flt = queue.QueueFilter(statuses=(FlagStatus.OPEN,), rules=("LATE_NOTICE",))
    position = queue.Position(key=120, id=ID)
    cursor = queue.encode_cursor(QueueSort.RISK, flt, position)
    assert queue.decode_cursor(cursor, QueueSort.RISK, flt) == position
    with pytest.raises(queue.InvalidCursor) as exc:
        queue.decode_cursor(cursor, QueueSort.AGE, flt)
    assert message(exc) == keyset.OTHER_SORT
    with pytest.raises(InvalidCursor) as exc:
        queue.decode_cursor(cursor, QueueSort.RISK, queue.QueueFilter())
    assert message(exc) == keyset.OTHER_FILTERS

    cases = case_queue.CaseFilter(statuses=(CaseStatus.OPEN,))
    for sort, key in (("risk", 120), ("back_pay", Decimal("99.50")), ("age", date(2026, 5, 1))):
        cursor = case_queue.encode_cursor(sort, cases, key, ID)
        assert case_queue.decode_cursor(cursor, sort, cases) == (key, ID)
    # A flag cursor is no case cursor, even for the same sort.
    flag_cursor = queue.encode_cursor(QueueSort.RISK, queue.QueueFilter(), position)
    with pytest.raises(case_queue.InvalidCursor) as exc:
        case_queue.decode_cursor(flag_cursor, "risk", case_queue.CaseFilter())
    assert message(exc) == keyset.OTHER_FILTERS
    assert queue.InvalidCursor is case_queue.InvalidCursor is InvalidCursor
