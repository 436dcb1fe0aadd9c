"""Verifying a receipt by its code: what a third party may learn, and nothing personal.

Anyone shown a receipt (a hirer, a housing provider, a municipality, the worker) can follow
its QR link and see that the receipt exists, when it was received, by which employer, and
whether it still stands. The worker's name, BSN, wage and work places are never part of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from meldplicht.employers.models import Employer
from meldplicht.notifications.models import (
    VERIFICATION_ALPHABET,
    VERIFICATION_LENGTH,
    Notification,
)

_SEPARATORS = re.compile(r"[\s\-.]+")
# Crockford base32 reads the letters people confuse with digits as those digits.
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    receipt_number: str
    received_at: datetime
    notice_date: date
    status: str
    version: int
    updated_at: datetime
    employer_name: str
    employer_kvk_number: str


def normalise_code(text: str) -> str | None:
    """The code as stored, from what a person typed or scanned; None if it cannot be one."""
    code = _SEPARATORS.sub("", text).upper().translate(_CONFUSABLE)
    if len(code) != VERIFICATION_LENGTH or any(c not in VERIFICATION_ALPHABET for c in code):
        return None
    return code


def display_code(code: str) -> str:
    """The code in groups of five, as printed on the receipt: ABCDE-FGHJK-MNPQR-STVWX."""
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


def verify(session: Session, text: str) -> VerifiedReceipt | None:
    """The receipt behind a verification code, or None (unknown and malformed alike)."""
    code = normalise_code(text)
    if code is None:
        return None
    row = session.exec(
        select(Notification, Employer)
        .join(Employer, Employer.id == Notification.employer_id)  # type: ignore[arg-type]
        .where(Notification.verification_code == code)
    ).first()
    if row is None:
        return None
    notification, employer = row
    return VerifiedReceipt(
        receipt_number=notification.receipt_number,
        received_at=notification.received_at,
        notice_date=notification.notice_date,
        status=notification.status,
        version=notification.version,
        updated_at=notification.updated_at,
        employer_name=employer.name,
        employer_kvk_number=employer.kvk_number,
    )
