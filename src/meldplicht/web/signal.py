"""The worker page's signal form: /worker/signal, then /worker/signal/thanks (Post/Redirect/Get).

Public, in Ukrainian, English or Dutch (the browser's Accept-Language, or ?lang=). The form
asks what inspection/signals.py stores and nothing else; problems come back on the form with
a linked summary, a personal number is refused (asked to be left out), and a sender who
sends too many in an hour is told to wait. The address of the sender is not kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from meldplicht.accounts.ratelimit import RateLimited, limiter_for
from meldplicht.core.db import SessionDep
from meldplicht.inspection import signals
from meldplicht.inspection.models import SignalSource
from meldplicht.public.signals import sender_address
from meldplicht.web import i18n
from meldplicht.web.csrf import PublicForm, text_fields
from meldplicht.web.pages import language, render

router = APIRouter(prefix=signals.PAGE_PATH, include_in_schema=False)
LANGUAGES = i18n.WORKER_LANGUAGES


def _page(
    request: Request,
    values: dict[str, str],
    problems: list[signals.SignalProblem] | None = None,
    *,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    t = i18n.Translator(language(request, LANGUAGES))
    inline: dict[str, list[str]] = {}
    summary: list[dict[str, str]] = []
    for p in problems or []:
        message = t(f"signal.error.{p.code}", max=p.max)
        inline.setdefault(p.field, []).append(message)
        summary.append(
            {
                "href": f"#{p.field}",
                # "What happened?: ..." reads badly: the summary drops the question mark.
                "label": t(f"signal.field.{p.field}").rstrip("?"),
                "message": message,
            }
        )
    context: dict[str, Any] = {
        "values": values,
        "errors": inline,
        "error_list": summary,
        "notice": notice,
        "limits": signals.MAX_LENGTH,
    }
    return render(
        request, "worker_signal.html", context, status_code=status_code, languages=LANGUAGES
    )


@router.get("", name="worker_signal")
def signal_form(request: Request) -> Response:
    return _page(request, {})


@router.post("", name="worker_signal_send")
def send_signal(request: Request, session: SessionDep, form: PublicForm) -> Response:
    values = {k: v for k, v in text_fields(form).items() if k in signals.FIELDS}
    checked, problems = signals.check(dict(values))
    if checked is None:
        return _page(request, values, problems, status_code=422)
    lang = language(request, LANGUAGES)
    try:
        limiter_for(request.app.state).check_signal(sender_address(request))
    except RateLimited as exc:
        t = i18n.Translator(lang)
        response = _page(request, values, notice=t("signal.error.rate_limited"), status_code=429)
        response.headers.update(exc.headers)
        return response
    signals.receive(session, checked, source=SignalSource.WORKER_PAGE, language=lang)
    return RedirectResponse(f"{signals.PAGE_PATH}/thanks", status_code=303)


@router.get("/thanks", name="worker_signal_thanks")
def thanks(request: Request) -> Response:
    return render(request, "worker_signal_thanks.html", {}, languages=LANGUAGES)
