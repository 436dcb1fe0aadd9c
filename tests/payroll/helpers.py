"""Building a small world for payroll tests: notifications made through the service with a
realistic past receipt instant, and payroll deliveries read through the real parser."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from meldplicht.core.clock import LEGAL_TZ
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.security import Principal
from meldplicht.employers.models import Employer
from meldplicht.notifications import changes, intake
from meldplicht.notifications.context import Context
from meldplicht.notifications.models import Channel, Notification
from meldplicht.notifications.schemas import NotificationCreate, TerminationIn
from meldplicht.payroll import service
from meldplicht.payroll.schemas import COLUMNS, iter_rows
from tests.factories import notification_body, with_worker

LHN = "123456782L01"  # the loonheffingennummer of tests.conftest.make_employer


def instant(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LEGAL_TZ).astimezone(UTC)


def ctx(settings: Settings, employer: Employer, received: date) -> Context:
    return Context(
        actor=Principal(role="employer", actor_id=f"test:{employer.id}", employer_id=employer.id),
        cipher=cipher_for(settings),
        channel=Channel.API,
        received_at=instant(received),
    )


def notify(
    session: Session,
    settings: Settings,
    employer: Employer,
    *,
    bsn: str,
    received: date,
    start: date,
    end: date | None = None,
    wage: str = "16.50",
    birth_date: str = "1995-03-14",
) -> Notification:
    body = with_worker(notification_body(), bsn=bsn, birth_date=birth_date)
    body["start_date"] = start.isoformat()
    body["end_date"] = end.isoformat() if end else None
    body["wage"] = {"amount": wage, "period": "hour", "includes_holiday_allowance": False}
    payload = NotificationCreate.model_validate(body)
    notification, _ = intake.create(
        session, employer.id, payload, ctx(settings, employer, received)
    )
    return notification


def terminate(
    session: Session,
    settings: Settings,
    employer: Employer,
    notification: Notification,
    *,
    end: date,
    received: date,
) -> None:
    changes.terminate(
        session,
        employer.id,
        notification.id,
        TerminationIn(end_date=end, reason="Contract ended"),
        ctx(settings, employer, received),
    )


def row(
    bsn: str,
    start: date,
    end: date,
    hours: str,
    gross: str,
    *,
    lhn: str = LHN,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "loonheffingennummer": lhn,
        "bsn": bsn,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "hours_paid": hours,
        "gross_wage": gross,
        **extra,
    }


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    lines = [",".join(COLUMNS)]
    for r in rows:
        lines.append(",".join(str(r.get(c, "")) for c in COLUMNS))
    return ("\n".join(lines) + "\n").encode()


def as_ndjson(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def deliver(
    session: Session, settings: Settings, rows: list[dict[str, Any]], today: date | None = None
) -> service.ImportResult:
    return service.import_rows(
        session,
        iter_rows(io.BytesIO(as_csv(rows)), "csv"),
        cipher=cipher_for(settings),
        today=today or date(2026, 1, 1),
        actor_id="test",
        source="test",
        batch_size=2,
    )


def month(year: int, m: int) -> tuple[date, date]:
    first = date(year, m, 1)
    nxt = date(year + (m == 12), m % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)


def pay(hours: int, hourly: str) -> str:
    return str((Decimal(hours) * Decimal(hourly)).quantize(Decimal("0.01")))
