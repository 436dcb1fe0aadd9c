"""Temporary protection for displaced persons from Ukraine: when it began, and its end as known.

Directive 2001/55/EC with Council Implementing Decision (EU) 2022/382: protection, and the
Dutch exemption from the work permit for it (Besluit uitvoering Wav 2022 art. 6.5), apply from
4 March 2022 (parameter `temporary_protection_start`). Its end is extended by later decisions,
each dated from the act (parameter `temporary_protection_end`).
"""

from __future__ import annotations

from datetime import date

from meldplicht.rules.params import Parameters, ParameterValue, get_parameters


def protection_start(params: Parameters | None = None) -> date:
    """The first day of temporary protection: work before it cannot be notified.

    The start is a fact of the past, not a value that changes with the date asked about, so it
    is read from the newest entry whatever the date (a record dated before it is refused by
    the caller, never an error of the lookup)."""
    p = params if params is not None else get_parameters()
    start: date = p.entries("temporary_protection_start")[-1].value
    return start


def protection_end_known_on(on: date, params: Parameters | None = None) -> ParameterValue:
    """The end of temporary protection as known on `on`.

    Before protection began (a migrated record received earlier) nothing later was known than
    the first decision: its end is used."""
    p = params if params is not None else get_parameters()
    first = p.entries("temporary_protection_end")[0].effective_from
    return p.at("temporary_protection_end", max(on, first))
