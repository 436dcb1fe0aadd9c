"""The layout of a payroll delivery (CSV or JSON lines), row validation, and the import report.

One row is one worker paid by one employer for one period. Columns / keys:
`loonheffingennummer`, `bsn`, `period_start`, `period_end` (YYYY-MM-DD), `hours_paid`,
`gross_wage` (euros, at most 2 decimals), and optionally `includes_holiday_allowance`
(true/false, default false), `birth_date`, `nationality` (ISO 3166 alpha-3),
`document_type`, `reference` (the source's own row id).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import IO, Annotated, Any, Literal, TextIO

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from meldplicht.core.errors import FieldError
from meldplicht.core.validation import field_errors_from_pydantic
from meldplicht.notifications.schemas import IsoDate, Nationality
from meldplicht.rules import identifiers

PayrollFormat = Literal["csv", "ndjson"]
COLUMNS = (
    "loonheffingennummer",
    "bsn",
    "period_start",
    "period_end",
    "hours_paid",
    "gross_wage",
    "includes_holiday_allowance",
    "birth_date",
    "nationality",
    "document_type",
    "reference",
)
# The exemption (and so the notification duty) applies to work from 4 March 2022.
PROTECTION_START = date(2022, 3, 4)
# A payroll period is a week, four weeks or a month; a longer one cannot be reconciled.
MAX_PERIOD_DAYS = 31


@functools.lru_cache(maxsize=1 << 16)
def _bsn(value: str) -> str:
    # A delivery repeats each worker's BSN once per period and the employer's number on every
    # row: the checksums are cached (the cache holds validity only, keyed by the value).
    compact = identifiers.compact_bsn(value)
    if not identifiers.is_valid_bsn(compact):
        raise PydanticCustomError(
            "invalid_bsn", "is not a valid BSN (9 digits passing the 11-test)"
        )
    return compact


@functools.lru_cache(maxsize=1024)
def _lhn(value: str) -> str:
    if not identifiers.is_valid_loonheffingennummer(value):
        raise PydanticCustomError(
            "invalid_loonheffingennummer",
            "is not a valid loonheffingennummer (9 digits passing the 11-test, L, 2 digits)",
        )
    return identifiers.compact_loonheffingennummer(value)


Bsn = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=20),
    AfterValidator(_bsn),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{9}$"}),
]
Loonheffingennummer = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=20),
    AfterValidator(_lhn),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{9}L[0-9]{2}$"}),
]


def _decimal_text(value: Any) -> Any:
    # Dutch spreadsheets write 1234,56: one comma and no dot is a decimal comma.
    if isinstance(value, str):
        text = value.strip()
        if text.count(",") == 1 and "." not in text:
            return text.replace(",", ".")
        return text
    if isinstance(value, float):
        return str(value)  # JSON numbers: keep the digits as written, never binary float
    return value


def _yes_no(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        return {"ja": "true", "nee": "false", "j": "true", "n": "false"}.get(lowered, lowered)
    return value


Hours = Annotated[
    Decimal, BeforeValidator(_decimal_text), Field(ge=0, max_digits=7, decimal_places=2)
]
Money = Annotated[
    Decimal, BeforeValidator(_decimal_text), Field(ge=0, max_digits=12, decimal_places=2)
]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]


class PayrollRow(BaseModel):
    """One payroll row as delivered (structure and checksums only)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    loonheffingennummer: Loonheffingennummer
    bsn: Bsn
    period_start: IsoDate
    period_end: IsoDate
    hours_paid: Hours
    gross_wage: Money
    includes_holiday_allowance: YesNo = False
    birth_date: IsoDate | None = None
    nationality: Nationality | None = None
    document_type: str | None = Field(None, max_length=20)
    reference: str | None = Field(None, max_length=64)


def _error(field: str, code: str, en: str, nl: str) -> FieldError:
    return FieldError(field=field, code=code, message=en, message_nl=nl)


def cross_field_errors(row: PayrollRow, today: date) -> list[FieldError]:
    """Checks that need two fields (or the import date); every one is reported."""
    errors: list[FieldError] = []
    days = (row.period_end - row.period_start).days + 1
    if row.period_end < row.period_start:
        errors.append(
            _error(
                "period_end",
                "end_before_start",
                "The period ends before it starts.",
                "De periode eindigt voordat zij begint.",
            )
        )
    elif days > MAX_PERIOD_DAYS:
        errors.append(
            _error(
                "period_end",
                "period_too_long",
                f"A payroll period is at most {MAX_PERIOD_DAYS} days (a week, four weeks or a "
                f"month); this one has {days}.",
                f"Een loontijdvak is ten hoogste {MAX_PERIOD_DAYS} dagen; dit heeft er {days}.",
            )
        )
    elif row.hours_paid > Decimal(24 * days):
        errors.append(
            _error(
                "hours_paid",
                "hours_implausible",
                f"{row.hours_paid} hours cannot be paid for a period of {days} days.",
                f"{row.hours_paid} uur kan niet worden betaald over {days} dagen.",
            )
        )
    if row.period_end < PROTECTION_START:
        errors.append(
            _error(
                "period_end",
                "before_protection_start",
                "The period ends before 4 March 2022, when the notification duty began.",
                "De periode eindigt vóór 4 maart 2022, het begin van de meldplicht.",
            )
        )
    if row.period_start > today:
        errors.append(
            _error(
                "period_start",
                "period_in_future",
                "The period has not started yet: deliver pay that was made.",
                "De periode is nog niet begonnen: lever alleen gedane betalingen aan.",
            )
        )
    if row.birth_date is not None and not (
        row.period_start - timedelta(days=100 * 366) < row.birth_date
        and row.birth_date <= row.period_start - timedelta(days=12 * 365)
    ):
        errors.append(
            _error(
                "birth_date",
                "birth_date_implausible",
                "The birth date makes the worker younger than 12 or 100 or older in the period.",
                "Volgens de geboortedatum is de werknemer jonger dan 12 of 100 of ouder.",
            )
        )
    return errors


@dataclass(slots=True)
class RawRow:
    """One line of the delivery: its parsed cells, or why it could not be read."""

    line: int
    data: dict[str, Any] | None
    errors: list[FieldError]

    @property
    def reference(self) -> str | None:
        if self.data is None:
            return None
        value = self.data.get("reference")
        return str(value)[:64] if value not in (None, "") else None


def validate(raw: RawRow, today: date) -> tuple[PayrollRow | None, list[FieldError]]:
    if raw.data is None:
        return None, raw.errors
    try:
        row = PayrollRow.model_validate(raw.data)
    except ValidationError as exc:
        return None, field_errors_from_pydantic(exc.errors())
    errors = cross_field_errors(row, today)
    return (None, errors) if errors else (row, [])


def iter_csv(stream: TextIO) -> Iterator[RawRow]:
    """The rows of a CSV delivery, read one at a time (`,` or `;` separated, header first)."""
    header_line = stream.readline()
    if not header_line.strip():
        return
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    header = [h.strip().lower() for h in next(csv.reader([header_line], delimiter=delimiter))]
    reader = csv.reader(stream, delimiter=delimiter)
    line = 1
    for cells in reader:
        line = reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield RawRow(
                line,
                None,
                [
                    _error(
                        "",
                        "wrong_cell_count",
                        f"{len(cells)} cells where the header has {len(header)}.",
                        f"{len(cells)} cellen terwijl de kopregel er {len(header)} heeft.",
                    )
                ],
            )
            continue
        yield RawRow(line, {k: v for k, v in zip(header, cells, strict=True) if v.strip()}, [])


def iter_ndjson(stream: TextIO) -> Iterator[RawRow]:
    """The rows of a JSON-lines delivery: one JSON object per line."""
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError:
            yield RawRow(
                number,
                None,
                [_error("", "json_invalid", "Not a JSON object.", "Geen geldig JSON-object.")],
            )
            continue
        if not isinstance(data, dict):
            yield RawRow(
                number,
                None,
                [_error("", "model_type", "Not a JSON object.", "Geen JSON-object.")],
            )
            continue
        yield RawRow(number, {k: v for k, v in data.items() if v is not None and v != ""}, [])


def iter_rows(binary: IO[bytes], fmt: PayrollFormat) -> Iterator[RawRow]:
    """Rows from a binary stream (UTF-8, with or without BOM), never read whole."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield from iter_csv(text) if fmt == "csv" else iter_ndjson(text)
    finally:
        text.detach()


def format_for_filename(name: str) -> PayrollFormat | None:
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson")):
        return "ndjson"
    return None


RowStatus = Literal["imported", "updated", "already_present", "rejected"]


class RowReport(BaseModel):
    line: int = Field(description="Line number in the delivery (a CSV header is line 1).")
    reference: str | None = None
    status: RowStatus
    errors: list[FieldError] = Field(default_factory=list)


class PayrollImportReport(BaseModel):
    import_id: uuid.UUID
    total: int
    imported: int = Field(description="New records.")
    updated: int = Field(description="Records delivered before with other figures: corrected.")
    already_present: int = Field(description="Records delivered before, unchanged.")
    rejected: int
    seconds: float
    rows_per_second: float | None
    rejected_rows: list[RowReport] = Field(
        default_factory=list,
        description="Every rejected row with its errors (at most 1000; see truncated).",
    )
    truncated: bool = False
    error: str | None = Field(None, description="Why reading stopped early, if it did.")
