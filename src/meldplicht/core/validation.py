"""Turning pydantic's validation errors into field-level problems, in English and Dutch."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic_core import PydanticCustomError

from meldplicht.core.errors import FieldError


@dataclass(frozen=True, slots=True)
class DateRange:
    """The plausible dates of one kind of field; anything outside is refused at the door.

    Far from the calendar's ends on purpose: the rules and the sweep add days, weeks and
    years to these dates, and every such sum must stay a valid date (year 10000 is not).
    """

    earliest: date
    latest: date

    def __contains__(self, day: date) -> bool:
        return self.earliest <= day <= self.latest

    def refuse(self) -> PydanticCustomError:
        """The field error for a date outside the range (pydantic's error type)."""
        return PydanticCustomError(
            "date_out_of_range",
            "must lie between {earliest} and {latest}",
            {"earliest": self.earliest.isoformat(), "latest": self.latest.isoformat()},
        )

    def validator(self) -> Callable[[date], date]:
        """An AfterValidator that lets a date through only when it lies in the range."""

        def check(day: date) -> date:
            if day not in self:
                raise self.refuse()
            return day

        return check

    def field_error(self, name: str) -> FieldError:
        """The same refusal, for code that validates outside pydantic (forms, queries)."""
        first, last = self.earliest.isoformat(), self.latest.isoformat()
        return FieldError(
            field=name,
            code="date_out_of_range",
            message=f"Must lie between {first} and {last}.",
            message_nl=f"Moet liggen tussen {first} en {last}.",
        )


# Dates of employment, changes, payroll periods, snoozes and queue filters. The notification
# duty began on 4 March 2022 and no law data here is older than 2014; 2000 leaves room for a
# worker's history without letting year 1 in. 2099 is further than any contract runs.
LAW_DATES = DateRange(date(2000, 1, 1), date(2099, 12, 31))
# Birth dates: nobody working now was born before 1900; the rules judge too young an age.
BIRTH_DATES = DateRange(date(1900, 1, 1), date(2099, 12, 31))
# The end of a residence or identity document's validity (an expired one is a finding).
DOCUMENT_DATES = DateRange(date(2000, 1, 1), date(2099, 12, 31))

# Dutch for the error types a form user meets most; others fall back to the English text.
_NL: dict[str, str] = {
    "missing": "Dit veld is verplicht.",
    "string_too_short": "Dit veld mag niet leeg zijn.",
    "string_too_long": "Deze tekst is te lang.",
    "date_parsing": "Geen geldige datum (gebruik JJJJ-MM-DD).",
    "date_from_datetime_parsing": "Geen geldige datum (gebruik JJJJ-MM-DD).",
    "date_type": "Geen geldige datum (gebruik JJJJ-MM-DD).",
    "date_format": "Geen geldige datum (gebruik JJJJ-MM-DD).",
    "decimal_parsing": "Geen geldig bedrag of getal.",
    "decimal_type": "Geen geldig bedrag of getal.",
    "decimal_max_places": "Gebruik ten hoogste 2 decimalen.",
    "decimal_max_digits": "Dit getal is te groot.",
    "greater_than": "Dit getal moet groter zijn.",
    "greater_than_equal": "Dit getal moet groter zijn.",
    "less_than_equal": "Dit getal is te groot.",
    "enum": "Kies een van de toegestane waarden.",
    "literal_error": "Kies een van de toegestane waarden.",
    "bool_parsing": "Geef ja (true) of nee (false).",
    "bool_type": "Geef ja (true) of nee (false).",
    "string_type": "Geef hier tekst.",
    "string_pattern_mismatch": "Dit heeft niet de juiste vorm.",
    "extra_forbidden": "Dit veld bestaat niet.",
    "list_type": "Geef hier een lijst.",
    "too_short": "Geef er minstens één.",
    "too_long": "Dit zijn er te veel.",
    "model_type": "Geef hier een object.",
    "model_attributes_type": "Geef hier een object.",
    "dict_type": "Geef hier een object.",
    "json_invalid": "De JSON is ongeldig.",
    "invalid_bsn": "Geen geldig BSN (9 cijfers die voldoen aan de elfproef).",
    "invalid_kvk": "Geen geldig KvK-nummer (8 cijfers).",
    "invalid_loonheffingennummer": "Geen geldig loonheffingennummer (9 cijfers, L, 2 cijfers).",
    "invalid_postcode": "Geen geldige postcode (1234 AB; nooit SA, SD of SS).",
    "invalid_v_number": "Geen geldig V-nummer (10 cijfers).",
    "invalid_nationality": "Geen landcode uit ISO 3166-1 (drie letters, bijvoorbeeld UKR).",
    "invalid_name": "Een naam moet minstens één letter bevatten.",
    "control_characters": "Bevat niet-toegestane tekens (stuurtekens).",
    "invisible_characters": (
        "Bevat onzichtbare of richtingveranderende tekens (zero-width of bidi-override)."
    ),
    "no_visible_content": "Moet zichtbare tekst bevatten.",
    "date_out_of_range": "Moet liggen tussen {earliest} en {latest}.",
}


def field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if parts[0] == "body" else parts
    return ".".join(parts)


def field_errors_from_pydantic(errors: Sequence[Any]) -> list[FieldError]:
    out: list[FieldError] = []
    for err in errors:
        kind = str(err.get("type", "invalid"))
        dutch = _NL.get(kind)
        if dutch is not None and err.get("ctx"):
            dutch = dutch.format_map({k: str(v) for k, v in err["ctx"].items()})
        message = str(err.get("msg", "is invalid"))
        if kind == "literal_error" and tuple(err.get("loc", ()))[-1:] == ("truthful",):
            message = "The declaration must be made truthfully (true)."
        out.append(
            FieldError(
                field=field_path(err.get("loc", ())),
                code=kind,
                message=message[0].upper() + message[1:] if message else message,
                message_nl=dutch,
            )
        )
    return out


# Checks a route runs on a body that failed validation, so that its 422 holds every problem at
# once (the structural errors and those that span fields), keyed by the route's endpoint.
BodyCheck = Callable[[Any], list[FieldError]]
_BODY_CHECKS: dict[Callable[..., Any], BodyCheck] = {}


def register_body_check(endpoint: Callable[..., Any], check: BodyCheck) -> None:
    _BODY_CHECKS[endpoint] = check


def body_check_for(endpoint: Callable[..., Any] | None) -> BodyCheck | None:
    return _BODY_CHECKS.get(endpoint) if endpoint is not None else None


def request_language(accept_language: str) -> str:
    """nl when the caller asks for Dutch first, else en."""
    return "nl" if accept_language.strip().lower().startswith("nl") else "en"


# --- free text --------------------------------------------------------------------------------
# Control characters (C0 but tab and line ends, DEL, C1) and the invisible formatting characters
# that can disguise text: bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069,
# the "RLO" spoof), zero-width space, joiners and marks (U+200B-200F), word joiner and invisible
# operators (U+2060-2064) and the byte-order mark (U+FEFF).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# What a reader sees: letters, digits, punctuation, symbols (not spaces, marks alone, fillers).
_VISIBLE_CATEGORIES = frozenset("LNPS")
_FILLERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def text_problem(value: str) -> tuple[str, str, str] | None:
    """Why `value` is not acceptable free text (code, English, Dutch), or None when it is."""
    if _CONTROL.search(value):
        return (
            "control_characters",
            "must not contain control characters",
            "Bevat niet-toegestane tekens (stuurtekens).",
        )
    if _INVISIBLE.search(value):
        return (
            "invisible_characters",
            "must not contain invisible or direction-changing characters "
            "(zero-width or bidi override)",
            "Bevat onzichtbare of richtingveranderende tekens (zero-width of bidi-override).",
        )
    if not any(
        unicodedata.category(ch)[0] in _VISIBLE_CATEGORIES and ch not in _FILLERS for ch in value
    ):
        return ("no_visible_content", "must contain visible text", "Moet zichtbare tekst bevatten.")
    return None


def clean_text(value: str) -> str:
    """Free text in NFC (so one name typed on two keyboards is stored once), refused when it
    holds control or invisible characters or nothing visible; otherwise byte-exact."""
    value = unicodedata.normalize("NFC", value)
    problem = text_problem(value)
    if problem is not None:
        raise PydanticCustomError(problem[0], problem[1])
    return value


def text_field_error(name: str, value: str) -> FieldError | None:
    """The same check for forms read outside pydantic."""
    problem = text_problem(unicodedata.normalize("NFC", value))
    if problem is None:
        return None
    code, en, nl = problem
    return FieldError(field=name, code=code, message=en[0].upper() + en[1:] + ".", message_nl=nl)
