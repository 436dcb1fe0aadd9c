"""The one place that reads the wall clock; everything else receives `now` or `as_of`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LEGAL_TZ = ZoneInfo("Europe/Amsterdam")


def utcnow() -> datetime:
    return datetime.now(UTC)


def legal_date(instant: datetime) -> date:
    """The calendar date of an instant in Europe/Amsterdam (DECISIONS.md §1)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(LEGAL_TZ).date()


def today() -> date:
    return legal_date(utcnow())
