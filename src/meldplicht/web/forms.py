"""From posted form fields to the service's payloads and back, and the findings preview.

The notification form names its inputs after the bulk CSV columns (worker_bsn, wage_amount,
location_postcode, ...), so one mapping (notifications.csv_format) turns a form or a CSV row
into a NotificationCreate, and every FieldError names the input it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError

from meldplicht.core.clock import legal_date
from meldplicht.core.errors import FieldError
from meldplicht.core.validation import field_errors_from_pydantic
from meldplicht.notifications import csv_format, intake
from meldplicht.notifications.schemas import (
    NotificationCreate,
    TerminationIn,
    WithdrawalIn,
)
from meldplicht.rules.facts import Finding

# The form's inputs: the employer's CSV columns without the bulk-only external reference.
NOTIFICATION_FIELDS: tuple[str, ...] = tuple(csv_format.COLUMN_PATHS)
BOOLEAN_FIELDS = frozenset(
    {
        "wage_includes_holiday_allowance",
        "housing_provided",
        "housing_written_consent",
        "housing_certified",
        "bbl_student",
        "paid_in_cash",
        "declaration_truthful",
    }
)


@dataclass(slots=True)
class Parsed:
    payload: NotificationCreate | None
    errors: list[FieldError]


_DATE_PARTS = ("day", "month", "year")
# Typed as one text in Dutch order: 14-03-1995, 14/3/1995, 14.03.1995, 14 03 1995 or 14031995.
_DUTCH_TYPED = re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$")
_DUTCH_DIGITS = re.compile(r"^(\d{2})(\d{2})(\d{4})$")


def typed_date(text: str) -> str:
    """A date typed in Dutch order (day, month, year) as YYYY-MM-DD; ISO text stays as it is.

    "14031995" is 14 March 1995 (never 1995-12-03); what cannot be read is returned as typed,
    so the form shows the error beside what the person wrote.
    """
    text = text.strip()
    match = _DUTCH_TYPED.match(text) or _DUTCH_DIGITS.match(text)
    if not match:
        return text
    day, month, year = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def with_dates(fields: dict[str, str]) -> dict[str, str]:
    """Join each date entered as three inputs (name-day, name-month, name-year: the NL Design
    System / GOV.UK pattern) into one YYYY-MM-DD value under its name."""
    out = {k: v for k, v in fields.items() if not k.endswith(tuple(f"-{p}" for p in _DATE_PARTS))}
    names = {k.rsplit("-", 1)[0] for k in fields if k.endswith("-day")}
    for name in names:
        day, month, year = (fields.get(f"{name}-{part}", "").strip() for part in _DATE_PARTS)
        if not (day or month or year):
            out[name] = ""
        elif not (month or year):
            out[name] = typed_date(day)  # the whole date typed or pasted into the first box
        elif day.isdigit() and month.isdigit() and year.isdigit():
            out[name] = f"{year}-{int(month):02d}-{int(day):02d}"
        else:
            out[name] = f"{year}-{month}-{day}"
    for name in DATE_FIELDS | {"effective_date"}:
        if name in out and name not in names:
            out[name] = typed_date(out[name])
    return out


def date_parts(value: str | None) -> tuple[str, str, str]:
    """(day, month, year) of a YYYY-MM-DD value, for the three inputs; as typed if partial."""
    parts = (value or "").split("-")
    if len(parts) == 3:
        year, month, day = parts
        return day, month, year
    return (value or ""), "", ""


def notification_values(fields: dict[str, str]) -> dict[str, str]:
    """Only the notification's own inputs, trimmed: what the form shows again."""
    return {name: fields[name].strip() for name in NOTIFICATION_FIELDS if name in fields}


def parse_notification(values: dict[str, str], received_at: datetime) -> Parsed:
    """Every problem at once: field errors, the checks that span fields, eligibility."""
    result = csv_format.parse_row(values, legal_date(received_at))
    if isinstance(result, list):
        return Parsed(None, result)
    return Parsed(result, [])


def preview_findings(payload: NotificationCreate, received_at: datetime) -> list[Finding]:
    """The findings the service will record if the notice is sent now (`intake.check`, the
    service behind the API's check endpoint: nothing is stored)."""
    return intake.check(payload, received_at)


# --- termination, withdrawal (a change is read by notifications.changes.change_from_form) -----


def parse_termination(values: dict[str, str]) -> tuple[TerminationIn | None, list[FieldError]]:
    body = {k: values[k].strip() for k in ("end_date", "reason") if values.get(k, "").strip()}
    return _validate(TerminationIn, body)


def parse_withdrawal(values: dict[str, str]) -> tuple[WithdrawalIn | None, list[FieldError]]:
    body = {"reason": values["reason"].strip()} if values.get("reason", "").strip() else {}
    return _validate(WithdrawalIn, body)


M = TypeVar("M", TerminationIn, WithdrawalIn)


def _validate(model: type[M], body: dict[str, Any]) -> tuple[M | None, list[FieldError]]:
    try:
        return model.model_validate(body), []
    except ValidationError as exc:
        return None, field_errors_from_pydantic(exc.errors())


def field_id(name: str) -> str:
    """The HTML id of an input (dots are legal, but awkward in CSS selectors and fragments)."""
    return name.replace(".", "-") or "form"


# --- what the form shows, in order ---------------------------------------------------------

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "worker",
        (
            "worker_given_names",
            "worker_surname",
            "worker_given_names_original",
            "worker_surname_original",
            "worker_birth_date",
            "worker_sex",
            "worker_nationality",
            "worker_bsn",
            "worker_v_number",
            "worker_document_type",
            "worker_document_number",
            "worker_document_valid_until",
        ),
    ),
    (
        "work",
        (
            "contract_type",
            "start_date",
            "end_date",
            "job_title",
            "job_description",
            "cao",
            "hirer_kvk_number",
            "hirer_name",
        ),
    ),
    (
        "wage",
        (
            "wage_amount",
            "wage_period",
            "wage_includes_holiday_allowance",
            "bbl_student",
            "paid_in_cash",
        ),
    ),
    ("hours", ("hours_per_week", "fulltime_hours_per_week")),
    (
        "locations",
        tuple(
            f"{prefix}_{part}"
            for prefix in ("location", "location2")
            for part in ("street", "house_number", "postcode", "city")
        ),
    ),
    (
        "housing",
        (
            "housing_provided",
            "housing_street",
            "housing_house_number",
            "housing_postcode",
            "housing_city",
            "housing_monthly_deduction",
            "housing_written_consent",
            "housing_certified",
        ),
    ),
    ("declaration", ("signatory_name", "declaration_truthful")),
)

# Select inputs: the field, the i18n group of its option labels, and the options.
OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "worker_sex": ("sex", ("F", "M", "X")),
    "worker_document_type": ("document", ("sticker", "o_document", "passport", "other")),
    "contract_type": (
        "contract",
        (
            "fixed_term",
            "open_ended",
            "on_call",
            "temporary_agency",
            "payroll",
            "self_employed",
            "assignment",
        ),
    ),
    "wage_period": ("period", ("hour", "week", "four_weeks", "month")),
    "wage.period": ("period", ("hour", "week", "four_weeks", "month")),
}
_TRUE_TEXT = frozenset({"true", "ja", "yes", "on", "1"})


def is_checked(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE_TEXT


DATE_FIELDS = frozenset(
    {"worker_birth_date", "worker_document_valid_until", "start_date", "end_date"}
)
MONEY_FIELDS = frozenset({"wage_amount", "housing_monthly_deduction"})


def _shown(name: str, value: str, t: Any) -> str:
    """One typed value as the confirm page shows it (dates and money the reader's way)."""
    if name in OPTIONS:
        return str(t.enum(OPTIONS[name][0], value))
    try:
        if name in DATE_FIELDS:
            return str(t.date(date.fromisoformat(value)))
        if name in MONEY_FIELDS:
            return str(t.money(Decimal(value.replace(",", "."))))
    except (ValueError, ArithmeticError):
        pass  # parse_notification accepted it, so this is a spelling we keep as typed
    return value


shown = _shown  # the change notice's check step shows values the same way


def summary(values: dict[str, str], t: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """The declared values by section, as the confirm page shows them (labels translated)."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for section, names in SECTIONS:
        rows: list[tuple[str, str]] = []
        for name in names:
            value = values.get(name, "").strip()
            if name in BOOLEAN_FIELDS:
                if name == "housing_provided" or value:
                    rows.append((t(f"field.{name}"), t.yes_no(is_checked(value))))
                continue
            if not value:
                continue
            rows.append((t(f"field.{name}"), _shown(name, value, t)))
        out.append((section, rows))
    return out
