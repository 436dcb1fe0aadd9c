"""The layout of a payroll delivery (CSV or JSON lines), row validation, and the import report.

One row is one worker paid by one employer for one period. Columns / keys:
`loonheffingennummer`, `bsn`, `period_start`, `period_end` (YYYY-MM-DD), `hours_paid`,
`gross_wage` (euros, at most 2 decimals), and optionally `includes_holiday_allowance`
(true/false, default false), `birth_date`, `nationality` (ISO 3166 alpha-3),
`document_type`, `reference` (the source's own row id), `paid_in_cash` (true/false: the wage
was paid in cash, not into the worker's own account, WML art. 7a; not stated when absent).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
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
from meldplicht.core.validation import BIRTH_DATES, LAW_DATES, DateRange, field_errors_from_pydantic
from meldplicht.notifications.schemas import BirthDate, LawDate, Nationality
from meldplicht.rules import identifiers
from meldplicht.rules.checks.base import date_en, date_nl
from meldplicht.rules.protection import protection_start

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
    "paid_in_cash",
)
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


# A delivery names each of its employers on many rows; a national one names tens of thousands
# (a smaller cache would cycle and miss on every row).
_LHN_CACHE = 1 << 16


@functools.lru_cache(maxsize=_LHN_CACHE)
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
    period_start: LawDate
    period_end: LawDate
    hours_paid: Hours
    gross_wage: Money
    includes_holiday_allowance: YesNo = False
    birth_date: BirthDate | None = None
    nationality: Nationality | None = None
    document_type: str | None = Field(None, max_length=20)
    reference: str | None = Field(None, max_length=64)
    paid_in_cash: YesNo | None = None


def _error(field: str, code: str, en: str, nl: str) -> FieldError:
    return FieldError(field=field, code=code, message=en, message_nl=nl)


@dataclass(slots=True)
class ValidRow:
    """A row that passed `PayrollRow` (the same fields and values, without pydantic's weight)."""

    loonheffingennummer: str
    bsn: str
    period_start: date
    period_end: date
    hours_paid: Decimal
    gross_wage: Decimal
    includes_holiday_allowance: bool = False
    birth_date: date | None = None
    nationality: str | None = None
    document_type: str | None = None
    reference: str | None = None
    paid_in_cash: bool | None = None

    @classmethod
    def of(cls, row: PayrollRow) -> ValidRow:
        return cls(
            row.loonheffingennummer,
            row.bsn,
            row.period_start,
            row.period_end,
            row.hours_paid,
            row.gross_wage,
            row.includes_holiday_allowance,
            row.birth_date,
            row.nationality,
            row.document_type,
            row.reference,
            row.paid_in_cash,
        )


def cross_field_errors(row: PayrollRow | ValidRow, today: date) -> list[FieldError]:
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
    # The exemption, and so the notification duty, applies from the start of protection.
    start = protection_start()
    if row.period_end < start:
        errors.append(
            _error(
                "period_end",
                "before_protection_start",
                f"The period ends before {date_en(start)}, when the notification duty began "
                f"(Besluit uitvoering Wav 2022 art. 6.5).",
                f"De periode eindigt vóór {date_nl(start)}, het begin van de meldplicht "
                f"(art. 6.5 Besluit uitvoering Wav 2022).",
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


# --- the lean path ---------------------------------------------------------------------------
# Almost every row of a delivery is plain text in the canonical spelling. Such a row is read
# here without pydantic (about ten times faster); anything else (a missing, unknown or odd
# cell, a failed checksum, a value of another type) goes through `PayrollRow`, which gives the
# field errors. The lean path only accepts what `PayrollRow` accepts, with the same values
# (tests/payroll/test_import_paths.py compares the two).
_NINE_DIGITS = re.compile(r"[0-9]{9}")
_LHN_TEXT = re.compile(r"[0-9]{9}L[0-9]{2}")
_DATE_TEXT = re.compile(r"(?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}")
_HOURS_TEXT = re.compile(r"[0-9]{1,5}(?:[.,][0-9]{1,2})?")
_MONEY_TEXT = re.compile(r"[0-9]{1,10}(?:[.,][0-9]{1,2})?")
_ALPHA3 = re.compile(r"[A-Za-z]{3}")
# What pydantic reads as a bool from text (after `_yes_no`), lowercased.
_BOOL_TEXT = {
    **dict.fromkeys(("true", "1", "yes", "on", "t", "y", "ja", "j"), True),
    **dict.fromkeys(("false", "0", "no", "off", "f", "n", "nee"), False),
}
_REQUIRED = frozenset(COLUMNS[:6])
_KNOWN = frozenset(COLUMNS)
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def _eleven_test(digits: str) -> bool:
    """The BSN 11-test on nine ASCII digits (as `identifiers.is_valid_bsn`, not all zeros)."""
    total = 0
    for weight, digit in zip(_WEIGHTS, digits, strict=True):
        total += weight * (ord(digit) - 48)
    return total % 11 == 0 and digits != "000000000"


@functools.lru_cache(maxsize=_LHN_CACHE)
def _lean_lhn(text: str) -> bool:
    return _LHN_TEXT.fullmatch(text) is not None and _eleven_test(text[:9])


def _text(value: Any) -> str | None:
    """A text cell without its surrounding spaces and tabs; None (let pydantic decide) for
    anything else, or when other whitespace remains at either end (Python and pydantic do
    not agree on every exotic space)."""
    if type(value) is not str:
        return None
    text = value.strip(" \t")
    return text if text == text.strip() else None


def _lean_date(value: Any, bounds: DateRange) -> date | None:
    text = _text(value)
    if text is None or _DATE_TEXT.fullmatch(text) is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if day in bounds else None


def _lean_amount(value: Any, pattern: re.Pattern[str]) -> Decimal | None:
    text = _text(value)
    if text is None or pattern.fullmatch(text) is None:
        return None
    return Decimal(text.replace(",", "."))


def _lean(data: dict[str, Any]) -> ValidRow | None:
    """`data` as `PayrollRow` would read it, or None to let pydantic decide."""
    if not _REQUIRED.issubset(data) or not _KNOWN.issuperset(data):
        return None
    lhn = _text(data["loonheffingennummer"])
    bsn = _text(data["bsn"])
    if lhn is None or bsn is None or not _lean_lhn(lhn):
        return None
    if _NINE_DIGITS.fullmatch(bsn) is None or not _eleven_test(bsn):
        return None
    start = _lean_date(data["period_start"], LAW_DATES)
    end = _lean_date(data["period_end"], LAW_DATES)
    hours = _lean_amount(data["hours_paid"], _HOURS_TEXT)
    gross = _lean_amount(data["gross_wage"], _MONEY_TEXT)
    if start is None or end is None or hours is None or gross is None:
        return None
    row = ValidRow(lhn, bsn, start, end, hours, gross)
    if len(data) == len(_REQUIRED):
        return row
    if "includes_holiday_allowance" in data:
        value = data["includes_holiday_allowance"]
        if type(value) is bool:
            row.includes_holiday_allowance = value
        else:
            text = _text(value)
            flag = _BOOL_TEXT.get(text.lower()) if text is not None else None
            if flag is None:
                return None
            row.includes_holiday_allowance = flag
    if "birth_date" in data:
        if (born := _lean_date(data["birth_date"], BIRTH_DATES)) is None:
            return None
        row.birth_date = born
    if "nationality" in data:
        text = _text(data["nationality"])
        if text is None or _ALPHA3.fullmatch(text) is None:
            return None
        row.nationality = text.upper()
    if "document_type" in data:
        if (text := _text(data["document_type"])) is None or len(text) > 20:
            return None
        row.document_type = text
    if "reference" in data:
        if (text := _text(data["reference"])) is None or len(text) > 64:
            return None
        row.reference = text
    if "paid_in_cash" in data:
        value = data["paid_in_cash"]
        if value is None or type(value) is bool:
            row.paid_in_cash = value
        else:
            text = _text(value)
            if text is None:
                return None  # an empty cell: the full validation decides
            flag = _BOOL_TEXT.get(text.lower())
            if flag is None:
                return None
            row.paid_in_cash = flag
    return row


def validate(raw: RawRow, today: date) -> tuple[ValidRow | None, list[FieldError]]:
    if raw.data is None:
        return None, raw.errors
    row = _lean(raw.data)
    if row is None:
        try:
            row = ValidRow.of(PayrollRow.model_validate(raw.data))
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


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _duplicate_key_error(key: str) -> FieldError:
    shown = key if len(key) <= 80 else key[:80] + "…"
    return _error(
        "",
        "json_duplicate_key",
        f"The key {shown!r} appears twice in one object; send it once.",
        f"De sleutel {shown!r} staat twee keer in één object; stuur hem één keer.",
    )


def iter_ndjson(stream: TextIO) -> Iterator[RawRow]:
    """The rows of a JSON-lines delivery: one JSON object per line. A line with a key twice
    in one object is a row error: which of the two values was meant is not ours to guess."""
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text, parse_float=Decimal, object_pairs_hook=_refuse_duplicates)
        except _DuplicateKey as exc:
            yield RawRow(number, None, [_duplicate_key_error(exc.key)])
            continue
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
