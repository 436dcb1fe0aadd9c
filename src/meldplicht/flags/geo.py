"""Province from a Dutch postcode, by its first two digits.

Postcode areas do not follow province borders exactly: this table gives the province of most
addresses in each two-digit area (PostNL's numbering runs from Amsterdam (10) clockwise to
Groningen (99)). It is good enough to filter and chart a queue, never for a legal decision.
"""

from __future__ import annotations

_RANGES: tuple[tuple[int, int, str], ...] = (
    (10, 12, "Noord-Holland"),
    (13, 13, "Flevoland"),
    (14, 21, "Noord-Holland"),
    (22, 33, "Zuid-Holland"),
    (34, 39, "Utrecht"),
    (40, 41, "Gelderland"),
    (42, 42, "Zuid-Holland"),
    (43, 45, "Zeeland"),
    (46, 57, "Noord-Brabant"),
    (58, 64, "Limburg"),
    (65, 73, "Gelderland"),
    (74, 77, "Overijssel"),
    (78, 79, "Drenthe"),
    (80, 81, "Overijssel"),
    (82, 83, "Flevoland"),
    (84, 92, "Friesland"),
    (93, 94, "Drenthe"),
    (95, 99, "Groningen"),
)

PROVINCES: tuple[str, ...] = tuple(sorted({name for _, _, name in _RANGES}))


def province_for_postcode(postcode: str | None) -> str | None:
    if not postcode or len(postcode) < 2 or not postcode[:2].isdigit():
        return None
    area = int(postcode[:2])
    for low, high, name in _RANGES:
        if low <= area <= high:
            return name
    return None
