"""Turning pydantic's validation errors into field-level problems, in English and Dutch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from meldplicht.core.errors import FieldError

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
    "control_characters": "Bevat niet-toegestane tekens.",
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
        message = str(err.get("msg", "is invalid"))
        if kind == "literal_error" and tuple(err.get("loc", ()))[-1:] == ("truthful",):
            message = "The declaration must be made truthfully (true)."
        out.append(
            FieldError(
                field=field_path(err.get("loc", ())),
                code=kind,
                message=message[0].upper() + message[1:] if message else message,
                message_nl=_NL.get(kind),
            )
        )
    return out
