"""Rendering a page: the Jinja2 environment, the reader's language and the shared context."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from meldplicht.rules.checks import catalogue
from meldplicht.web import countries, forms, i18n
from meldplicht.web.csrf import FIELD as CSRF_FIELD
from meldplicht.web.csrf import csrf_token

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
LANG_SESSION_KEY = "lang"

# Autoescaping is on for .html (Jinja2Templates' default); names in any script render as text.
templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


@cache
def _rule_titles() -> dict[str, tuple[str, str]]:
    return {rule.code: (rule.title_nl, rule.title_en) for rule in catalogue()}


def finding_title(code: str, lang: str) -> str:
    """A finding's short name from the rules catalogue (the rules own their wording)."""
    nl, en = _rule_titles().get(code, (code, code))
    return nl if lang == "nl" else en


templates.env.globals.update(
    options=forms.OPTIONS,
    is_checked=forms.is_checked,
    summary=forms.summary,
    finding_title=finding_title,
    countries=countries.choices,
    date_parts=forms.date_parts,
    country_name=countries.name,
)


def language(request: Request, allowed: tuple[str, ...] = i18n.PAGE_LANGUAGES) -> str:
    """The language for this page: ?lang= (remembered in the session), else the session's,
    else the browser's (Accept-Language), else Dutch."""
    requested = request.query_params.get("lang")
    current = request.session.get(LANG_SESSION_KEY)
    if not isinstance(current, str):  # no choice made yet: the browser's
        current = i18n.accepted(request.headers.get("accept-language", ""), allowed)
    chosen = i18n.choose(requested, current, allowed)
    if requested in i18n.LANGUAGES and requested == chosen:
        request.session[LANG_SESSION_KEY] = chosen
    return chosen


def switch_links(request: Request, lang: str, allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    """Links to this same page in each other language (plain links: no script needed)."""
    links = []
    for code in allowed:
        query = {k: v for k, v in request.query_params.items() if k != "lang"}
        query["lang"] = code
        links.append(
            {
                "code": code,
                "href": f"{request.url.path}?{urlencode(query)}",
                "current": code == lang,
            }
        )
    return links


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    languages: tuple[str, ...] = i18n.PAGE_LANGUAGES,
    user: Any = None,
    lang: str | None = None,
) -> Response:
    """A page in `lang` when given (a document in the reader's own language), else the
    language the reader chose (`language`)."""
    lang = lang if lang in languages else language(request, languages)
    t = i18n.Translator(lang)
    base: dict[str, Any] = {
        "t": t,
        "lang": lang,
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "language_links": switch_links(request, lang, languages),
        "errors": {},
        "error_list": [],
    }
    base.update(context or {})
    return templates.TemplateResponse(request, template, base, status_code=status_code)
