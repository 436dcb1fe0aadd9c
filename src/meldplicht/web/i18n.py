"""Every visible text of the pages, in Dutch (default), English and (worker page) Ukrainian.

The texts live in i18n/{nl,en,uk}.json as flat dotted keys. A language that lacks a key
falls back along `FALLBACK` (Ukrainian to English to Dutch), so the Ukrainian worker page can
share the layout without every employer page being translated.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from meldplicht.core.clock import LEGAL_TZ
from meldplicht.rules import wages

log = logging.getLogger("meldplicht.web")

DEFAULT_LANGUAGE = "nl"
LANGUAGES = ("nl", "en", "uk")
# The employer pages are Dutch and English; only the public worker page is also Ukrainian.
PAGE_LANGUAGES = ("nl", "en")
WORKER_LANGUAGES = ("uk", "en", "nl")
FALLBACK: dict[str, tuple[str, ...]] = {"nl": ("nl",), "en": ("en", "nl"), "uk": ("uk", "en")}


@cache
def catalogue(lang: str) -> dict[str, str]:
    text = resources.files("meldplicht.web").joinpath(f"i18n/{lang}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def plural_form(lang: str, n: int) -> str:
    """The CLDR plural category of a whole number: Dutch and English say one or other;
    Ukrainian one (1, 21, 31 ...), few (2-4, 22-24 ...) or many (0, 5-20, 25-30 ...)."""
    n = abs(n)
    if lang == "uk":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


@dataclass(frozen=True, slots=True)
class Translator:
    """`t(key, **values)` for one language; also formats dates, instants and money."""

    lang: str

    def __call__(self, key: str, **values: Any) -> str:
        for lang in FALLBACK[self.lang]:
            text = catalogue(lang).get(key)
            if text is not None:
                return text.format(**values) if values else text
        log.warning("missing text %s (%s)", key, self.lang)
        return key

    def plural(self, key: str, n: int) -> str:
        """`key.one`, `key.few`, `key.many` or `key.other` for the count `n` in this
        language's plural rules (Ukrainian has four forms), falling back to `key.other`."""
        form = plural_form(self.lang, n)
        if self.has(f"{key}.{form}"):
            return self(f"{key}.{form}", n=n)
        return self(f"{key}.other", n=n)

    def has(self, key: str) -> bool:
        return any(key in catalogue(lang) for lang in FALLBACK[self.lang])

    def date(self, value: date | None) -> str:
        if value is None:
            return self("common.none")
        return f"{value.day} {self(f'month.{value.month}')} {value.year}"

    def day_of(self, value: datetime | None) -> str:
        """The day of an instant in the legal time zone, e.g. 5 januari 2026."""
        return self.date(value.astimezone(LEGAL_TZ).date() if value is not None else None)

    def instant(self, value: datetime) -> str:
        """An instant in the legal time zone, e.g. 5 januari 2026 14:03 (Europe/Amsterdam)."""
        local = value.astimezone(LEGAL_TZ)
        return f"{self.date(local.date())} {local:%H:%M} ({self('common.timezone')})"

    def money(self, value: Decimal | None) -> str:
        if value is None:
            return self("common.none")
        # The rules' own spelling, so a finding and the page around it agree.
        return wages.eur_nl(value) if self.lang == "nl" else wages.eur(value)

    def number(self, value: Decimal | None) -> str:
        if value is None:
            return self("common.none")
        text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:.2f}"
        return text.replace(".", ",") if self.lang == "nl" else text

    def enum(self, group: str, value: str | None) -> str:
        if value is None or value == "":
            return self("common.none")
        key = f"{group}.{value}"
        return self(key) if self.has(key) else value

    def yes_no(self, value: bool | None) -> str:
        return self("common.yes") if value else self("common.no")

    def value(self, value: Any) -> str:
        """A declared value from the version history (text, number, flag, group) as text."""
        if value is None or value == "":
            return self("common.none")
        if isinstance(value, bool):
            return self.yes_no(value)
        if isinstance(value, dict):
            return ", ".join(f"{k}: {self.value(v)}" for k, v in value.items())
        if isinstance(value, list):
            return "; ".join(self.value(v) for v in value)
        return str(value)

    def error(self, message_en: str, message_nl: str | None) -> str:
        """A service's field error or finding in the reader's language (Dutch or English)."""
        if self.lang == "nl" and message_nl:
            return message_nl
        return message_en


def accepted(header: str, allowed: tuple[str, ...]) -> str | None:
    """The reader's most preferred language among `allowed`, from an Accept-Language header
    (RFC 9110 §12.5.4): `uk-UA,uk;q=0.9,en;q=0.5` gives "uk"; None when none is allowed."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in allowed:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        candidate = (-quality, position, primary)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None


def choose(requested: str | None, current: str | None, allowed: tuple[str, ...]) -> str:
    for candidate in (requested, current):
        if candidate in allowed:
            return candidate
    if current == "uk" and "en" in allowed:
        return "en"
    return allowed[0] if DEFAULT_LANGUAGE not in allowed else DEFAULT_LANGUAGE
