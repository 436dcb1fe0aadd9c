"""Nationalities for the form: the ISO 3166-1 list with names in Dutch, English or Ukrainian,
from pycountry's data and its translations (the iso-codes project), never a hand list."""

from __future__ import annotations

import gettext
import unicodedata
from functools import cache

import pycountry

from meldplicht.rules.identifiers import ICAO_NON_STATE_NATIONALITIES

# The non-state codes are not in ISO 3166-1; their names are ours (ICAO Doc 9303).
_NON_STATE: dict[str, dict[str, str]] = {
    "XXA": {"nl": "Staatloos", "en": "Stateless", "uk": "Особа без громадянства"},
    "XXB": {
        "nl": "Vluchteling (Vluchtelingenverdrag)",
        "en": "Refugee (1951 Convention)",
        "uk": "Біженець (Конвенція 1951 року)",
    },
    "XXC": {"nl": "Vluchteling (overig)", "en": "Refugee (other)", "uk": "Біженець (інше)"},
    "XXX": {"nl": "Onbekend", "en": "Unspecified", "uk": "Не визначено"},
}
assert set(_NON_STATE) == ICAO_NON_STATE_NATIONALITIES


@cache
def _translate(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def _sort_key(text: str) -> str:
    # Åland sorts with A: compare the letters without their accents.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def choices(lang: str) -> tuple[tuple[str, str], ...]:
    """(alpha-3 code, name) for every country, sorted by name in `lang`; non-state codes last."""
    translate = _translate(lang).gettext
    names = [(c.alpha_3, translate(c.name)) for c in pycountry.countries]
    names.sort(key=lambda item: _sort_key(item[1]))
    return (*names, *((code, texts[lang]) for code, texts in _NON_STATE.items()))


def name(code: str, lang: str) -> str:
    """The name of a nationality code in `lang`; the code itself when unknown."""
    return dict(choices(lang)).get(code, code)
