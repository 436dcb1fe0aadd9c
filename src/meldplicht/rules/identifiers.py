"""Dutch identifier formats and checksums (DECISIONS.md §6), on top of python-stdnum.

python-stdnum covers the BSN 11-test and postcodes; RSIN uses the same 11-test, the
loonheffingennummer is an RSIN/BSN plus "L" and a two-digit subnumber, and the KvK number is
eight digits with no published checksum.
"""

from __future__ import annotations

import re

from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import postcode as stdnum_postcode

_DIGITS9 = re.compile(r"^\d{9}$")
_KVK = re.compile(r"^\d{8}$")
_LHN = re.compile(r"^(\d{9})L(\d{2})$")
_V_NUMBER = re.compile(r"^\d{10}$")
_POSTCODE = re.compile(r"^([1-9]\d{3}) ?([A-Z]{2})$")


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value)


def is_valid_bsn(value: str) -> bool:
    """Nine digits passing the 11-test with weights 9..2 and -1 (not all zeros)."""
    value = _compact(value)
    return bool(_DIGITS9.match(value)) and bool(stdnum_bsn.is_valid(value))


def is_valid_rsin(value: str) -> bool:
    return is_valid_bsn(value)


def is_valid_loonheffingennummer(value: str) -> bool:
    """RSIN or BSN (11-test) + "L" + two digits, e.g. 123456782L01."""
    match = _LHN.match(_compact(value).upper())
    return match is not None and is_valid_bsn(match.group(1))


def is_valid_kvk(value: str) -> bool:
    return bool(_KVK.match(_compact(value)))


def is_valid_v_number(value: str) -> bool:
    """The vreemdelingennummer: ten digits (legal-research.md §6; no public checksum)."""
    return bool(_V_NUMBER.match(_compact(value)))


def normalise_postcode(value: str) -> str | None:
    """`1234 AB` for a valid Dutch postcode (SA, SD and SS never issued), otherwise None."""
    candidate = value.strip().upper()
    match = _POSTCODE.match(candidate)
    if not match:
        return None
    formatted = f"{match.group(1)} {match.group(2)}"
    return formatted if stdnum_postcode.is_valid(formatted) else None


def compact_bsn(value: str) -> str:
    return _compact(value)


def compact_loonheffingennummer(value: str) -> str:
    return _compact(value).upper()


# ICAO Doc 9303 codes for a person without a nationality of a state: stateless (XXA),
# refugee under the 1951 Convention (XXB), refugee otherwise (XXC), unspecified (XXX).
ICAO_NON_STATE_NATIONALITIES = frozenset({"XXA", "XXB", "XXC", "XXX"})


def is_valid_nationality(code: str) -> bool:
    """An ISO 3166-1 alpha-3 country code (pycountry's list), or an ICAO non-state code."""
    import pycountry  # loaded on first use: the list is read from its JSON data

    upper = code.strip().upper()
    if upper in ICAO_NON_STATE_NATIONALITIES:
        return True
    return len(upper) == 3 and pycountry.countries.get(alpha_3=upper) is not None


# Personal numbers in free text (a signal from outside must not carry them): a BSN (nine
# digits passing the 11-test, in groups or not), a V-number (ten digits, named as such: ten
# digits alone are as often a phone number), and an IBAN (its own check digits).
# A run of digits longer than nine (a phone number in groups: +31 6 1234 5678) is none.
_NINE_DIGITS = re.compile(r"(?<!\d)(?<!\d[ .\-])\d(?:[ .\-]?\d){8}(?![ .\-]?\d)")
_V_NUMBER_NAMED = re.compile(
    r"(?:v[ .\-]?(?:nummer|number|nr|no|номер)|vreemdelingennummer|номер\s*v)"
    r"\W{0,5}\d(?:[ .\-]?\d){9}(?![\d])",
    re.IGNORECASE,
)
_IBAN_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}")


def personal_numbers(text: str) -> list[str]:
    """The kinds of personal number found in `text`: "bsn", "v_number", "iban" (in order)."""
    found: list[str] = []
    if any(is_valid_bsn(m.group()) for m in _NINE_DIGITS.finditer(text)):
        found.append("bsn")
    if _V_NUMBER_NAMED.search(text):
        found.append("v_number")
    for match in _IBAN_LIKE.finditer(text):
        candidate = match.group().replace(" ", "").upper()
        # The longest run may have taken a following word; try every length from the end.
        if any(stdnum_iban.is_valid(candidate[:n]) for n in range(len(candidate), 14, -1)):
            found.append("iban")
            break
    return found
