"""Keyset pagination cursors, one format for every list (notifications, flags, cases).

A cursor is where the previous page ended: the last row's sort key and id. It is opaque to
the client (base64url of compact JSON) and bound to what it was made for: the list (`scope`),
the sort order and a digest of the filters. A cursor from another list, sort or filter, or
one edited by hand, is refused with one error, `InvalidCursor` (422 problem+json, field
`cursor`), never a 500: each list's `parse_key` checks the key fits its column.

The cursor is not signed: it carries no authority. A forged one can only choose where a page
of rows the caller may read anyway begins, and its key is checked like any other input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from meldplicht.core.errors import FieldError, InvalidRequest
from meldplicht.core.validation import LAW_DATES

K = TypeVar("K")

NOT_OURS = "Not a cursor from this API."
OTHER_SORT = "This cursor belongs to another sort order."
OTHER_FILTERS = "This cursor belongs to other filters: start again without a cursor."

# Limits of a key, so that a forged cursor cannot overflow a query parameter.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"
    title = "The cursor is not one this API gave out for these filters"


def invalid(message: str = NOT_OURS) -> InvalidCursor:
    """The error for a cursor that cannot be used, on the `cursor` field."""
    return InvalidCursor(
        errors=[FieldError(field="cursor", code="invalid_cursor", message=message)]
    )


def digest(scope: str, filters: Mapping[str, Any]) -> str:
    """A short fingerprint of a list and its filters (JSON-safe values; lists are sorted)."""
    normal = {k: sorted(v) if isinstance(v, list | tuple | set) else v for k, v in filters.items()}
    raw = json.dumps({"scope": scope, **normal}, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _json_key(key: Any) -> Any:
    if isinstance(key, bool):
        raise TypeError("a cursor key is not a boolean")
    if isinstance(key, datetime | date):
        return key.isoformat()
    if isinstance(key, Decimal):
        return str(key)
    return key


def encode(sort: str, filters: str, key: Any, ident: uuid.UUID) -> str:
    """The cursor after the row (`key`, `ident`) in `sort` order under the `filters` digest."""
    payload = {"s": sort, "f": filters, "k": _json_key(key), "i": str(ident)}
    raw = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(
    cursor: str, sort: str, filters: str, parse_key: Callable[[object], K]
) -> tuple[K, uuid.UUID]:
    """The (key, id) a cursor from `encode(sort, filters, ...)` holds; InvalidCursor otherwise.

    `parse_key` turns the JSON key back into the column's type and raises ValueError (or
    InvalidCursor) for a value the column cannot hold.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, dict):
            raise invalid()
        ident = uuid.UUID(str(raw["i"]))
        if raw["s"] != sort:
            raise invalid(OTHER_SORT)
        if raw["f"] != filters:
            raise invalid(OTHER_FILTERS)
        key = parse_key(raw["k"])
    except InvalidCursor:
        raise
    except (ValueError, KeyError, TypeError, ArithmeticError, UnicodeError, RecursionError) as exc:
        raise invalid() from exc
    return key, ident


# --- key parsers ------------------------------------------------------------------------------


def int32_key(value: object) -> int:
    """An integer that fits a 32-bit column (a risk score)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    if not INT32_MIN <= value <= INT32_MAX:
        raise ValueError("out of range")
    return value


def instant_key(value: object) -> datetime:
    """A timezone-aware instant within the law's dates, in UTC."""
    if not isinstance(value, str):
        raise ValueError("not a text")
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError("naive instant")
    # An extreme offset can put the instant outside the calendar once in UTC.
    instant = instant.astimezone(UTC)
    if instant.date() not in LAW_DATES:
        raise ValueError("outside the law's dates")
    return instant


def day_key(value: object) -> date:
    """A calendar day within the law's dates."""
    if not isinstance(value, str):
        raise ValueError("not a text")
    day = date.fromisoformat(value)
    if day not in LAW_DATES:
        raise ValueError("outside the law's dates")
    return day


def decimal_key(value: object) -> Decimal:
    """A finite decimal amount (money as text, never a float)."""
    if not isinstance(value, str):
        raise ValueError("not a text")
    amount = Decimal(value)
    if not amount.is_finite() or abs(amount) >= Decimal(10) ** 15:
        raise ValueError("not a finite amount")
    return amount
