"""What a receipt shows beyond the notification itself: the employer, and the verification
code with its QR link to the public check page (/verify/<code>).

The QR code is drawn with segno (pure Python): as inline SVG on the page and as squares in
the PDF, so the printed receipt needs no image files and no network.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import segno
from fastapi import Request
from markupsafe import Markup
from sqlmodel import Session

from meldplicht.core.config import Settings
from meldplicht.employers import service as employers
from meldplicht.notifications.models import Notification
from meldplicht.public.receipts import display_code

# Error correction M (15%): survives a crease or a stain on a printed receipt.
QR_ERROR = "m"


@dataclass(frozen=True, slots=True)
class ReceiptParty:
    """The employer that made the notification, and how a third party checks the receipt."""

    employer_name: str
    employer_kvk_number: str
    verification_code: str
    verify_url: str

    @property
    def code_display(self) -> str:
        return display_code(self.verification_code)

    def qr_svg(self, title: str) -> Markup:
        """The QR code as inline SVG (no request for an image, allowed by the page's CSP)."""
        qr = segno.make(self.verify_url, error=QR_ERROR)
        svg = qr.svg_inline(scale=4, title=title, svgclass="qr", lineclass=None)
        return Markup(svg)  # noqa: S704 - segno's own markup; the URL is ours, title escaped

    def qr_modules(self) -> list[tuple[int, ...]]:
        """The QR matrix (1 = dark), with its quiet zone, for drawing in the PDF."""
        qr = segno.make(self.verify_url, error=QR_ERROR)
        return [tuple(int(bool(v)) for v in row) for row in qr.matrix_iter(border=4)]


def public_base(request: Request, settings: Settings) -> str:
    """Where the public reaches us: the configured address, else this request's."""
    base = settings.public_url or str(request.base_url)
    return base.rstrip("/")


def receipt_party(
    request: Request, session: Session, settings: Settings, notification: Notification
) -> ReceiptParty:
    employer = employers.get(session, uuid.UUID(str(notification.employer_id)))
    code = notification.verification_code
    return ReceiptParty(
        employer_name=employer.name,
        employer_kvk_number=employer.kvk_number,
        verification_code=code,
        verify_url=f"{public_base(request, settings)}/verify/{code}",
    )
