"""The public check page behind a receipt's QR code: /verify and /verify/<code>.

No login, no personal data: only what `public.receipts.verify` returns (receipt number, date,
employer, status). The language follows the reader's browser (Accept-Language) or ?lang=.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from meldplicht.core.db import SessionDep
from meldplicht.public import receipts
from meldplicht.web import i18n
from meldplicht.web.pages import render

router = APIRouter(prefix="/verify", include_in_schema=False)


@router.get("", name="verify_form")
def verify_form(request: Request, code: str | None = None) -> Response:
    """The form to type a code; a typed code goes to its own address (/verify/<code>)."""
    if code:
        normal = receipts.normalise_code(code) or code.strip()[:40]
        return RedirectResponse(f"/verify/{normal}", status_code=303)
    return render(
        request,
        "verify.html",
        {"code": "", "result": None, "checked": False},
        languages=i18n.WORKER_LANGUAGES,
    )


@router.get("/{code}", name="verify_receipt")
def verify_page(request: Request, session: SessionDep, code: str) -> Response:
    found = receipts.verify(session, code)
    normal = receipts.normalise_code(code)
    context = {
        "code": receipts.display_code(normal) if normal else code[:40],
        "result": found,
        "checked": True,
    }
    return render(
        request,
        "verify.html",
        context,
        status_code=200 if found else 404,
        languages=i18n.WORKER_LANGUAGES,
    )
